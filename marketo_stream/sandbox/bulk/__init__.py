"""Bulk Extract: export requests, the shared job queue, and the files Marketo writes."""
