import sqlalchemy as sa


def test_every_test_gets_its_own_migrated_database(engine):
    with engine.connect() as conn:
        tables = set(
            conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
        )
    assert {"events", "event_keys", "quarantine", "ingest_batches", "schema_migrations"} <= tables
