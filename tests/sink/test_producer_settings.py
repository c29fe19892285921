"""The transactional producer keeps one produce request in flight per broker, whatever the user's overrides say.

Why (chaos run "606 rate limit", 1 in ~16, reproduced with librdkafka's ``eos`` debug): the first batch a
producer id sends to a partition failed with a retriable error while the next batch of that partition, already
sent behind it, was appended; the broker, holding no state for the producer there, took its sequence number as
a first one, and librdkafka logged "3 message(s) implicitly acked by subsequent batch success" and committed the
transaction without them. With one request in flight the retry goes before any later batch.
"""

from __future__ import annotations

from marketo_stream.sink import SinkConfig

IN_FLIGHT = "max.in.flight.requests.per.connection"


def _config(**overrides: object) -> SinkConfig:
    return SinkConfig(
        bootstrap_servers="127.0.0.1:9",
        registry_url="http://127.0.0.1:9",
        transactional_id="settings-test",
        **overrides,  # type: ignore[arg-type]
    )


def test_the_producer_keeps_one_request_in_flight_so_a_retried_first_batch_goes_before_the_next() -> None:
    settings = _config().producer_settings()

    assert settings[IN_FLIGHT] == 1
    assert settings["enable.idempotence"] is True


def test_a_user_override_cannot_put_more_requests_in_flight_but_other_overrides_apply() -> None:
    settings = _config(producer_config={IN_FLIGHT: 5, "linger.ms": 5}).producer_settings()

    assert settings[IN_FLIGHT] == 1
    assert settings["linger.ms"] == 5
