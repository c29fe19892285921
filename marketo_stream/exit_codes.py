"""Exit statuses, documented in the README, and the one mapping from an error to its status and message.

Scripts and schedulers branch on the status; the message says what happened and what to do next. Every
error the code raises on purpose maps to a status below 130 other than 1: status 1 is kept for what we did not
foresee (a bug of ours), so that an operator never has to guess whether the world or the tool failed.
"""

from __future__ import annotations

from enum import IntEnum

from marketo_stream.bulk.errors import BulkError, ExportFailed, ExportVerificationError, MalformedRowError
from marketo_stream.errors import ConfigError, MarketoStreamError, RowWorkerError, Terminated
from marketo_stream.marketo.errors import (
    AuthError,
    BadCredentials,
    ExportQueueFull,
    FileGone,
    MarketoError,
    MarketoProtocolError,
    QuotaError,
    RetryableError,
    TokenExpired,
)
from marketo_stream.redaction import redact
from marketo_stream.schema.convert import ValueConversionError
from marketo_stream.sink.errors import (
    KafkaCallError,
    KafkaUnavailableError,
    ProducerFencedError,
    RegistryUnavailableError,
    SchemaDriftError,
    SinkError,
)
from marketo_stream.sync_state import StateVersionError


class ExitStatus(IntEnum):
    OK = 0
    FAILED = 1
    """A bug of ours: an error nobody foresaw. The message says what to report."""
    CONFIG = 2
    """Bad configuration or command line; the message names the setting."""
    QUOTA = 3
    """Marketo's daily API quota or daily bulk export quota is exhausted; nothing was lost, run again after
    midnight US Central (the message says when)."""
    MARKETO = 4
    """Marketo refused: credentials, a permission (the message names the endpoint), a request it will not serve."""
    KAFKA = 5
    """Kafka or the Schema Registry: unreachable, authentication, authorisation, incompatible or lost schemas."""
    FENCED = 6
    """Another instance with the same transactional id took over; this one stopped without writing."""
    MARKETO_UNAVAILABLE = 7
    """Marketo unreachable or serving broken data after retries (network, TLS, persisting 5xx, an export that
    failed verification twice): transient, run again later."""
    INTERRUPTED = 130
    """SIGINT (Ctrl-C)."""
    TERMINATED = 143
    """SIGTERM (how schedulers stop a process)."""


RERUN = "Committed work is kept; the next run resumes where this one stopped."


def outcome(exc: BaseException) -> tuple[ExitStatus, str]:
    """The exit status for an error, and the message: what happened, then what to do next (secrets masked)."""
    status, advice = _classify(exc)
    try:
        text = str(exc) if status is not ExitStatus.FAILED else f"{type(exc).__name__}: {exc}"
    except Exception:  # an error whose own __str__ fails must still get its status out
        text = type(exc).__name__
    if isinstance(exc, MarketoError) and exc.endpoint and exc.endpoint not in text:  # refusals name the request
        text = f"{exc.endpoint}: {text}"
    if isinstance(exc, MarketoError) and exc.host and exc.host not in text:  # and what could not be reached, where
        text = f"{text} (Marketo host {exc.host})"
    return status, redact(f"{text}\n{advice}" if text else advice)


def _classify(exc: BaseException) -> tuple[ExitStatus, str]:
    if isinstance(exc, KeyboardInterrupt):
        return ExitStatus.INTERRUPTED, f"interrupted. {RERUN}"
    if isinstance(exc, Terminated):
        return ExitStatus.TERMINATED, RERUN
    if isinstance(exc, RowWorkerError):
        return ExitStatus.TERMINATED, (
            f"A row worker process ended before handing back its rows. {RERUN} If the out-of-memory killer ended "
            "it, set sync.row_workers lower (1 reads rows in the sync process)."
        )
    if isinstance(exc, ConfigError):
        return ExitStatus.CONFIG, "Fix the setting named above (`marketo-stream config validate` checks them all)."
    if isinstance(exc, QuotaError):
        return ExitStatus.QUOTA, "Nothing was lost. Run again after midnight US Central, when the quota resets."
    if isinstance(exc, ProducerFencedError):
        return ExitStatus.FENCED, "Another marketo-stream with the same transactional id is running; this one stopped."
    if isinstance(exc, KafkaUnavailableError):
        if getattr(exc, "authentication", False):
            return ExitStatus.KAFKA, (
                "Check kafka.security_protocol, kafka.sasl_mechanism and the credentials "
                "(`marketo-stream doctor` checks them). Nothing was written."
            )
        return ExitStatus.KAFKA, f"Check that the brokers are up and reachable from here. {RERUN}"
    if isinstance(exc, RegistryUnavailableError):
        if getattr(exc, "status", None) in (401, 403):
            return ExitStatus.KAFKA, "Check the schema_registry credentials (`marketo-stream doctor` checks them)."
        return ExitStatus.KAFKA, f"Check that the Schema Registry is up and reachable from here. {RERUN}"
    if isinstance(exc, SchemaDriftError) and getattr(exc, "after_run", False):
        return ExitStatus.KAFKA, (
            "The records in Kafka, this run's included, name these ids and cannot be decoded until the registry "
            "holds them again: restore its storage with the same ids (the local registry keeps it in the broker, "
            "topic kafkasql-journal) or point schema_registry.url at the registry that has them. Every run stops "
            "before producing until then."
        )
    if isinstance(exc, SchemaDriftError):
        return ExitStatus.KAFKA, (
            "Nothing was registered or produced. Records in Kafka name these ids, so a run against this registry "
            "would leave them undecodable: point schema_registry.url at the registry that holds them, or restore "
            "its storage with the same ids (the local registry keeps it in the broker, topic kafkasql-journal). To "
            "start over instead, publish under a new kafka.topic_prefix (new topics and state)."
        )
    if isinstance(exc, KafkaCallError) and "AUTHORIZATION" in (getattr(exc, "name", "") or ""):
        return (
            ExitStatus.KAFKA,
            "Grant the principal the Kafka ACLs the README lists (`marketo-stream doctor` checks them).",
        )
    if isinstance(exc, SinkError):
        return ExitStatus.KAFKA, f"Check the broker and the Schema Registry. {RERUN}"
    if isinstance(exc, BadCredentials):
        return ExitStatus.MARKETO, "Check marketo.client_id and marketo.client_secret (the custom service's)."
    if isinstance(exc, TokenExpired):
        return ExitStatus.MARKETO, (
            "Marketo rejected an access token it had just issued (601/602 again after a fresh token): a token "
            "revoked or the custom service reset while the run went on. Run again; if it persists, check the API "
            "user and its custom service in Marketo's admin."
        )
    if isinstance(exc, AuthError):
        return ExitStatus.MARKETO, (
            "The API user's role lacks the permission for the endpoint named above "
            "(`marketo-stream doctor` lists what is missing)."
        )
    if isinstance(exc, RetryableError | MarketoProtocolError | ExportQueueFull | FileGone):
        return ExitStatus.MARKETO_UNAVAILABLE, f"Marketo could not be used just now; run again later. {RERUN}"
    if isinstance(exc, MarketoError):
        return ExitStatus.MARKETO, "Marketo refused the request named above; its code and requestId say why."
    if isinstance(exc, ExportVerificationError):  # fetch_verified downloads afresh once before giving up
        return ExitStatus.MARKETO_UNAVAILABLE, f"Marketo served a corrupt file twice; rerun later. {RERUN}"
    if isinstance(exc, MalformedRowError):
        return ExitStatus.MARKETO_UNAVAILABLE, f"Marketo served a corrupt file; run again later. {RERUN}"
    if isinstance(exc, ExportFailed | BulkError):
        return ExitStatus.MARKETO_UNAVAILABLE, f"Marketo's export job did not complete; run again later. {RERUN}"
    if isinstance(exc, ValueConversionError):
        return ExitStatus.MARKETO_UNAVAILABLE, (
            "Marketo served a value that does not fit its column; if a rerun meets it again, block the column "
            "(block.columns) and report it."
        )
    if isinstance(exc, StateVersionError):
        return ExitStatus.KAFKA, "The state topic was written by a newer marketo-stream: upgrade this one."
    if isinstance(exc, MarketoStreamError):
        return ExitStatus.FAILED, "This is a bug (an error without a documented status): please report it with the log."
    return ExitStatus.FAILED, "This is a bug: please report it with the log."
