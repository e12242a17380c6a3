"""Handled Slack requests (replays answered without acting).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('handled_slack_requests',
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('signature', name=op.f('pk_handled_slack_requests'))
    )
    op.create_index('ix_handled_slack_requests_expires_at', 'handled_slack_requests', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_handled_slack_requests_expires_at', table_name='handled_slack_requests')
    op.drop_table('handled_slack_requests')
