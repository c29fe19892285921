"""Where log lines go: stderr, secrets masked, one line per record. Every command sets it up the same way."""

from __future__ import annotations

import logging
import sys

from marketo_stream.redaction import RedactingFilter

_HANDLER_NAME = "marketo-stream"


def configure_logging(level: int | str = logging.WARNING) -> None:
    """One stderr handler on the root logger, carrying the redacting filter (a handler's filter sees every
    record that reaches it, whichever library logged it). Calling it again only changes the level."""
    root = logging.getLogger()
    root.setLevel(level)
    if any(h.get_name() == _HANDLER_NAME for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
