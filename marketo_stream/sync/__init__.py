"""The sync engine: Marketo (client, bulk) → column policies → Kafka sink, with the state that makes it resumable.

``runner.SyncRunner`` runs one pass; each phase lives in its own module and writes through ``writer.Writer``,
which commits records and the state that says they are done in one Kafka transaction.
"""
