"""The durable job queue: jobs as rows in SQLite or PostgreSQL."""
