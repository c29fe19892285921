"""The root of every error marketo-stream raises on purpose.

    MarketoStreamError
    ├── marketo.errors.MarketoError        the Marketo API said no (carries code, message, requestId)
    ├── bulk errors                         export jobs that failed, vanished or did not verify
    ├── sink.errors.SinkError               Kafka or the Schema Registry refused (fenced, incompatible schema)
    └── ConfigError                         bad configuration; the message names the setting and the fix

Each subpackage declares its own subtree in its ``errors`` module; the CLI maps them to exit statuses.
"""

from __future__ import annotations


class MarketoStreamError(Exception):
    """Base for every deliberate error; anything else is a bug."""


class ConfigError(MarketoStreamError):
    """A setting is missing or wrong; the message names the setting and how to fix it."""
