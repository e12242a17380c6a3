"""Push platforms: the deliveries accepted from webhook sources (replay refusal).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('push_deliveries',
    sa.Column('id', BigId, nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('delivery_id', sa.String(length=200), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_deliveries')),
    sa.UniqueConstraint('source', 'delivery_id', name='uq_push_deliveries_source_delivery_id')
    )
    op.create_index('ix_push_deliveries_received_at', 'push_deliveries', ['received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_push_deliveries_received_at', table_name='push_deliveries')
    op.drop_table('push_deliveries')
