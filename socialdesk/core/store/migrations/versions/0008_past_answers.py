"""Similar past answers: the per-answer term vectors the suggestions plugin indexes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('past_answer_vectors',
    sa.Column('id', BigId, nullable=False),
    sa.Column('reply_id', BigId, nullable=False),
    sa.Column('ticket_id', BigId, nullable=False),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('terms', sa.JSON(), nullable=False),
    sa.Column('indexed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['reply_id'], ['replies.id'], name=op.f('fk_past_answer_vectors_reply_id_replies')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_past_answer_vectors_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_past_answer_vectors')),
    sa.UniqueConstraint('reply_id', name='uq_past_answer_vectors_reply_id')
    )
    op.create_index('ix_past_answer_vectors_ticket_id', 'past_answer_vectors', ['ticket_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_past_answer_vectors_ticket_id', table_name='past_answer_vectors')
    op.drop_table('past_answer_vectors')
