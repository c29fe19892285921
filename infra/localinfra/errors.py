"""The one exception of the local infrastructure: a step failed and the operator must act."""

from __future__ import annotations


class InfraError(Exception):
    """A step failed in a way the operator must act on; the message says how."""
