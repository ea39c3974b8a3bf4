"""The task ledger: extracted commitments stored through SQLAlchemy (SQLite by default).

Library entry points (the CLI commands are thin wrappers over these):
`pipeline.ledger.db.open_ledger`, `pipeline.ledger.ingest.ingest`,
`pipeline.ledger.queries.find_tasks`, `pipeline.ledger.status.set_status`,
`pipeline.ledger.trend.unit_trend` / `metric_trend`, and
`pipeline.ledger.api.load_speech_record`. Nothing heavy happens on import.
"""
