"""triage_models: desks' own triage models (learned from agents' corrections), for rollback too.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('triage_models',
    sa.Column('id', BigId, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('corrections', sa.Integer(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_models'))
    )
    with op.batch_alter_table('triage_models', schema=None) as batch_op:
        batch_op.create_index('ix_triage_models_status', ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('triage_models', schema=None) as batch_op:
        batch_op.drop_index('ix_triage_models_status')
    op.drop_table('triage_models')
