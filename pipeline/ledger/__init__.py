"""The task ledger: extracted commitments stored through SQLAlchemy (SQLite by default).

Library entry points (the CLI commands are thin wrappers over these):
`speechledger.ledger.db.open_ledger`, `speechledger.ledger.ingest.store_file` (files and
folders are ingested by `speechledger.batch.ingest`),
`speechledger.ledger.queries.find_tasks`, `speechledger.ledger.status.set_status`,
`speechledger.ledger.trend.unit_trend` / `metric_trend`, and
`speechledger.ledger.api.load_speech_record`. Nothing heavy happens on import.
"""
