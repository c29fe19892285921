"""The sync engine: Marketo (client, bulk) → column policies → a sink, with the state that makes it resumable.

``runner.SyncRunner`` runs one pass. Each phase (``leads``, ``activities``, ``entity_phase``) is given frozen
``context.RunInputs``, its own typed state from ``marketo_stream.sync_state`` and a ``context.Tally``, hands its
state back, and writes through ``writer.Writer``, which commits records and the state documents that say they
are done in one transaction of a ``marketo_stream.sink.protocol.Sink`` (Kafka, or ``MemorySink`` in tests).
The entity phase reads every table the way the catalog (``marketo_stream.tables``) declares: one function per
``Reader`` in ``entity_readers``.
"""
