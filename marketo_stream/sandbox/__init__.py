"""A local Marketo: a real HTTP server that behaves as Marketo's REST, Asset and Bulk Extract APIs do.

It imports nothing from the rest of marketo_stream (an import contract checks this), so the client
cannot quietly share code with the thing it is tested against.
"""
