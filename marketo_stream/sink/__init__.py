"""Kafka: Avro with registered schemas, topics, tombstones and state in one transaction. Knows nothing of Marketo."""
