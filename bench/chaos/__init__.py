"""The chaos harness (``make chaos``): syncs stopped at random and under every scripted fault, then compared.

Each run starts a fresh sandbox world (its own server process, a pinned ``--start``, instant jobs, a frozen
clock) and syncs it into a fresh topic prefix with ``marketo-stream sync`` as a subprocess, on a broker and a
registry of the harness's own (alternate ports, their own data directory), so that stopping or restarting them
disturbs nobody else. A run is SIGKILLed at a point drawn across every phase of a sync, its reruns are killed
again at random, and a last rerun completes; or a Marketo fault is scripted, or the broker or the registry is
stopped mid-run. Then the topics, read back read_committed and decoded through the registry, are compared field
by field with an uninterrupted run of the same world and with the sandbox's ground truth.

One module per concern: ``services`` (the broker and registry), ``world`` (sandbox processes and the sync's
settings), ``kills`` (running a sync and killing it at a drawn point), ``readback`` (every topic of a prefix in
one pass), ``compare`` (against the uninterrupted run and the truth), ``scenarios`` (what a run does; the fault
list is data), ``table`` (the printed figures) and ``__main__`` (the command line).
"""
