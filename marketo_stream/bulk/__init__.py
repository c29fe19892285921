"""Bulk Extract jobs: create, enqueue, poll, download, verify, read. Knows nothing of Kafka."""
