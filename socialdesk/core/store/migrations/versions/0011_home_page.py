"""The page each agent's App Home shows, kept with their filters.

A Home refreshed by another replica (after a ticket changed there) used to start again
at page 1, since the page lived in the memory of the replica that took the click.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('home_preferences') as batch:
        batch.add_column(sa.Column('page', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('home_preferences') as batch:
        batch.drop_column('page')
