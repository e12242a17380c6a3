"""Admin lists in the database (blocked authors, macros, desk members) and App Home preferences.

``/desk block``, ``/desk macro add|remove`` and ``/desk agents add|remove`` change these
tables, so no restart is needed; plugins.toml stays the starting point. Each agent's App
Home filters, and when they last opened it, live in ``home_preferences``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('blocked_authors',
    sa.Column('id', BigId, nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('who', sa.String(length=200), nullable=False),
    sa.Column('added_by', sa.String(length=32), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blocked_authors')),
    sa.UniqueConstraint('platform', 'who', name='uq_blocked_authors_platform_who')
    )
    op.create_table('desk_macros',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('changed_by', sa.String(length=32), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_desk_macros'))
    )
    op.create_table('desk_members',
    sa.Column('subject', sa.String(length=32), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('removed', sa.Boolean(), nullable=False),
    sa.Column('changed_by', sa.String(length=32), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('subject', 'role', name=op.f('pk_desk_members'))
    )
    op.create_table('home_preferences',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_home_preferences'))
    )
    op.create_index('ix_home_preferences_opened_at', 'home_preferences', ['opened_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_home_preferences_opened_at', table_name='home_preferences')
    op.drop_table('home_preferences')
    op.drop_table('desk_members')
    op.drop_table('desk_macros')
    op.drop_table('blocked_authors')
