"""Running jobs: handlers by kind, the per-job runner, worker processes and supervision."""
