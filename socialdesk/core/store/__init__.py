"""The store: tables, engines, migrations and the reads and writes shared by the core.

* ``models``          the tables (SQLAlchemy 2 declarative)
* ``lossless_text``   column types that store any str (NUL, lone surrogates) on both databases
* ``database``        engines and transactions for SQLite (default) and PostgreSQL
* ``migrate``         Alembic driven from code; ``migrations/`` holds the revisions
* ``tickets``         reading tickets and writing their audit trail (ingest, state machine)
* ``ticket_queries``  read models for the Slack side: card, queue, history, stats
* ``cursors``         polling cursors, advanced in the transaction of the data they cover
* ``credentials``     rotating platform user tokens (X OAuth 2.0), refreshed once across replicas
"""
