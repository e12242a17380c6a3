"""Attachments on messages, and corrections (edit, delete) of sent replies.

``messages.media``: what a customer attached (images, files), as the platform described
it, shown on the card. ``reply_changes``: one row per edit or delete an agent asked for;
its outbox job performs it exactly once.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('media', sa.JSON(), nullable=True))
    op.create_table('reply_changes',
    sa.Column('id', BigId, nullable=False),
    sa.Column('reply_id', BigId, nullable=False),
    sa.Column('ticket_id', BigId, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('replacement_reply_id', BigId, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['reply_id'], ['replies.id'], name=op.f('fk_reply_changes_reply_id_replies')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_reply_changes_ticket_id_tickets')),
    sa.ForeignKeyConstraint(['replacement_reply_id'], ['replies.id'],
                            name=op.f('fk_reply_changes_replacement_reply_id_replies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reply_changes'))
    )
    op.create_index('ix_reply_changes_reply_id', 'reply_changes', ['reply_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_reply_changes_reply_id', table_name='reply_changes')
    op.drop_table('reply_changes')
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('media')
