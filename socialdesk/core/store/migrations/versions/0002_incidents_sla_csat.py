"""Incidents (storms), SLA timers, CSAT surveys; tickets.incident_id and sla_breached_at.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('incidents',
    sa.Column('id', BigId, nullable=False),
    sa.Column('storm_key', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('card_channel', sa.String(length=32), nullable=True),
    sa.Column('card_ts', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('storm_key', name='uq_incidents_storm_key')
    )
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('incident_id', BigId, nullable=True))
        batch.add_column(sa.Column('sla_breached_at', sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(op.f('fk_tickets_incident_id_incidents'), 'incidents', ['incident_id'], ['id'])
        batch.create_index('ix_tickets_incident_id', ['incident_id'], unique=False)
    op.create_table('sla_timers',
    sa.Column('id', BigId, nullable=False),
    sa.Column('ticket_id', BigId, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('target_seconds', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('remind_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('breached_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('met_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_sla_timers_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_timers')),
    sa.UniqueConstraint('ticket_id', 'kind', name='uq_sla_timers_ticket_id_kind')
    )
    op.create_index('ix_sla_timers_due_at', 'sla_timers', ['due_at'], unique=False)
    op.create_index('ix_sla_timers_remind_at', 'sla_timers', ['remind_at'], unique=False)
    op.create_table('csat_surveys',
    sa.Column('id', BigId, nullable=False),
    sa.Column('ticket_id', BigId, nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('conversation_id', sa.String(length=200), nullable=False),
    sa.Column('author_external_id', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('platform_message_id', sa.String(length=200), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('answer_message_id', BigId, nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['answer_message_id'], ['messages.id'], name=op.f('fk_csat_surveys_answer_message_id_messages')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_csat_surveys_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_csat_surveys')),
    sa.UniqueConstraint('ticket_id', name='uq_csat_surveys_ticket_id')
    )
    op.create_index('ix_csat_surveys_conversation', 'csat_surveys', ['platform', 'conversation_id'], unique=False)
    op.create_index('ix_csat_surveys_status', 'csat_surveys', ['status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_csat_surveys_status', table_name='csat_surveys')
    op.drop_index('ix_csat_surveys_conversation', table_name='csat_surveys')
    op.drop_table('csat_surveys')
    op.drop_index('ix_sla_timers_remind_at', table_name='sla_timers')
    op.drop_index('ix_sla_timers_due_at', table_name='sla_timers')
    op.drop_table('sla_timers')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_index('ix_tickets_incident_id')
        batch.drop_constraint(op.f('fk_tickets_incident_id_incidents'), type_='foreignkey')
        batch.drop_column('sla_breached_at')
        batch.drop_column('incident_id')
    op.drop_table('incidents')
