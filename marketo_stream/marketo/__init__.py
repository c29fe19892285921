"""Marketo's HTTP API: auth, limits, the code table, retries and paging. Knows nothing of Kafka."""
