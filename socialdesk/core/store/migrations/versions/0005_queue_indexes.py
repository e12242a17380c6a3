"""Indexes the queue, `mine` and history read through.

Partial indexes on active tickets (the WHERE written with literal statuses, as the
queries write it, so SQLite can use them), and handles in lower case.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

ACTIVE = sa.text("status IN ('open', 'waiting', 'snoozed')")


def upgrade() -> None:
    op.create_index('ix_tickets_active_queue', 'tickets', ['priority', 'created_at', 'id'], unique=False,
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    op.create_index('ix_tickets_active_assignee', 'tickets', ['assignee', 'priority', 'created_at', 'id'],
                    unique=False, sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    op.create_index('ix_tickets_author_created', 'tickets', ['author_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_authors_handle_lower', 'authors', [sa.text('lower(handle)')], unique=False)


def downgrade() -> None:
    op.drop_index('ix_authors_handle_lower', table_name='authors')
    op.drop_index('ix_tickets_author_created', table_name='tickets')
    op.drop_index('ix_tickets_active_assignee', table_name='tickets')
    op.drop_index('ix_tickets_active_queue', table_name='tickets')
