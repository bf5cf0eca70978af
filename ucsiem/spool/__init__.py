"""The durable on-disk spool between the pipeline and the outputs (SQLite in WAL mode)."""
