"""The root of every error marketo-stream raises on purpose.

    BaseException
    └── Terminated                          SIGTERM arrived (KeyboardInterrupt is SIGINT's)
    MarketoStreamError
    ├── marketo.errors.MarketoError        the Marketo API said no (carries code, message, requestId)
    ├── bulk errors                         export jobs that failed, vanished or did not verify
    ├── sink.errors.SinkError               Kafka or the Schema Registry refused (fenced, incompatible schema)
    ├── ConfigError                         bad configuration; the message names the setting and the fix
    └── RowWorkerError                      a row worker process died (killed, out of memory)

Each subpackage declares its own subtree in its ``errors`` module; ``exit_codes.outcome`` maps every one of
them to an exit status and a message, in one place.
"""

from __future__ import annotations

import signal


class MarketoStreamError(Exception):
    """Base for every deliberate error; anything else is a bug."""


class ConfigError(MarketoStreamError):
    """A setting is missing or wrong; the message names the setting and how to fix it."""


class RowWorkerError(MarketoStreamError):
    """A row worker process (``sync.row_workers``) ended before handing back its rows: killed by a signal or the
    out-of-memory killer. The open transaction is aborted, nothing of it is visible, and the next run resumes
    after the rows committed."""


class Terminated(BaseException):
    """SIGTERM: like KeyboardInterrupt, not an ``Exception``, so that no ``except Exception`` swallows it. Raised with
    the signal's number; printed as its name (the bare number alone read as an error of its own)."""

    def __str__(self) -> str:
        number = self.args[0] if self.args and isinstance(self.args[0], int) else signal.SIGTERM
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"terminated by {name}"
