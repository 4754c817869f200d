"""The APNs sender talks HTTP/2 over TLS through the real aioapns client to the local mock APNs."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backend.notifications.apns import ApnsConfig, ApnsSender
from backend.settings import ApnsSettings, SettingsError
from tests.support.mock_apns import MockApns

KEY_ID = "KEY1234567"
TEAM_ID = "TEAM123456"
TOPIC = "no.helsekort.app"
TOKEN = "a1b2c3d4" * 8
OTHER_TOKEN = "0f" * 32
PAYLOAD = {"aps": {"alert": {"title-loc-key": "NEW_RESULT"}, "sound": "default"}, "kind": "lab-result"}


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ec.EllipticCurvePrivateKey]:
    """A fresh APNs-style .p8 key: EC P-256 in PKCS#8 PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path_factory.mktemp("apns") / f"AuthKey_{KEY_ID}.p8"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path, key


@pytest.fixture
async def mock(signing_key: tuple[Path, ec.EllipticCurvePrivateKey]) -> AsyncIterator[MockApns]:
    async with MockApns(public_key=signing_key[1].public_key(), key_id=KEY_ID, team_id=TEAM_ID, topic=TOPIC) as server:
        yield server


@pytest.fixture
def settings(mock: MockApns, signing_key: tuple[Path, ec.EllipticCurvePrivateKey]) -> ApnsSettings:
    return ApnsSettings(
        endpoint=mock.endpoint,
        ca_file=str(mock.ca_file),
        key_file=str(signing_key[0]),
        key_id=KEY_ID,
        team_id=TEAM_ID,
        topic=TOPIC,
    )


@pytest.fixture
async def sender(settings: ApnsSettings) -> AsyncIterator[ApnsSender]:
    async with ApnsSender(settings) as apns:
        yield apns


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_delivered_notification_is_recorded_with_its_headers(sender: ApnsSender, mock: MockApns) -> None:
    expiration = datetime.now(UTC) + timedelta(hours=6)

    result = await sender.send(
        TOKEN, "production", PAYLOAD, collapse_id="lab-result:42", priority=5, expiration=expiration
    )

    assert result.status == 200
    assert result.reason is None
    assert result.delivered
    [received] = mock.received
    assert received.device_token == TOKEN
    assert received.apns_id == result.apns_id
    assert received.payload == PAYLOAD
    assert received.collapse_id == "lab-result:42"
    assert received.headers["apns-topic"] == TOPIC
    assert received.headers["apns-push-type"] == "alert"
    assert received.headers["apns-priority"] == "5"
    assert received.headers["apns-id"] == result.apns_id
    assert abs(int(received.headers["apns-expiration"]) - int(expiration.timestamp())) <= 1


async def test_sandbox_goes_to_the_same_configured_endpoint(sender: ApnsSender, mock: MockApns) -> None:
    result = await sender.send(TOKEN, "sandbox", PAYLOAD, push_type="background", priority=5)

    assert result.status == 200
    assert mock.received[-1].headers["apns-push-type"] == "background"
    assert "apns-collapse-id" not in mock.received[-1].headers


async def test_unregistered_token_answers_410_with_a_timestamp(sender: ApnsSender, mock: MockApns) -> None:
    mock.respond(TOKEN, 410, timestamp_ms=1_700_000_000_123)

    result = await sender.send(TOKEN, "production", PAYLOAD)

    assert (result.status, result.reason, result.timestamp) == (410, "Unregistered", 1_700_000_000_123)
    assert not result.retryable


@pytest.mark.parametrize("token", ["abc123", "a1b2c3d4" * 8 + "ff"])
async def test_malformed_token_is_a_bad_device_token(sender: ApnsSender, mock: MockApns, token: str) -> None:
    result = await sender.send(token, "production", PAYLOAD)

    assert (result.status, result.reason) == (400, "BadDeviceToken")
    assert mock.received[-1].device_token == token


async def test_token_that_cannot_form_a_path_is_answered_without_sending(sender: ApnsSender, mock: MockApns) -> None:
    result = await sender.send("../../3/device x", "production", PAYLOAD)

    assert (result.status, result.reason) == (400, "BadDeviceToken")
    assert not mock.received


@pytest.mark.parametrize("server_limit", [10, 1000])
async def test_a_burst_on_a_new_connection_keeps_to_the_servers_stream_limit(
    settings: ApnsSettings, mock: MockApns, server_limit: int
) -> None:
    # The server holds to h2's default of 100 streams until its own SETTINGS are acknowledged, so a burst sent
    # before they arrive was refused as a protocol error, and its delivered notifications were sent again.
    mock.act_distant(max_concurrent_streams=server_limit)
    tokens = [f"{index:064x}" for index in range(300)]
    async with ApnsSender(settings, max_connections=1) as apns:
        results = await asyncio.gather(*(apns.send(token, "production", PAYLOAD) for token in tokens))

    assert [result.status for result in results] == [200] * len(tokens)
    assert mock.protocol_errors == 0
    assert sorted(item.device_token for item in mock.delivered) == tokens, "each notification was sent once"
    assert mock.connections_accepted == 1
    # Within the server's limit, and many at once: not one stream at a time.
    assert min(server_limit, 10) <= mock.peak_open_streams <= server_limit


async def test_too_many_requests_once_then_delivered(sender: ApnsSender, mock: MockApns) -> None:
    mock.respond(TOKEN, 429, times=1)

    first = await sender.send(TOKEN, "production", PAYLOAD)
    second = await sender.send(TOKEN, "production", PAYLOAD)

    assert (first.status, first.reason, first.retryable) == (429, "TooManyRequests", True)
    assert second.status == 200
    # Only the programmed token is throttled.
    assert (await sender.send(OTHER_TOKEN, "production", PAYLOAD)).status == 200


@pytest.mark.parametrize(("status", "reason"), [(500, "InternalServerError"), (503, "ServiceUnavailable")])
async def test_server_errors_are_retryable(sender: ApnsSender, mock: MockApns, status: int, reason: str) -> None:
    mock.respond(TOKEN, status)

    results = [await sender.send(TOKEN, "production", PAYLOAD) for _ in range(2)]

    assert [(result.status, result.reason) for result in results] == [(status, reason)] * 2
    assert all(result.retryable for result in results)


async def test_wrong_team_id_is_an_invalid_provider_token(settings: ApnsSettings, mock: MockApns) -> None:
    async with ApnsSender(replace(settings, team_id="OTHERTEAM1")) as apns:
        result = await apns.send(TOKEN, "production", PAYLOAD)

    assert (result.status, result.reason) == (403, "InvalidProviderToken")
    assert not mock.delivered


async def test_wrong_topic_and_oversized_payload_are_refused(settings: ApnsSettings, mock: MockApns) -> None:
    async with ApnsSender(replace(settings, topic="no.example.other")) as apns:
        wrong_topic = await apns.send(TOKEN, "production", PAYLOAD)
    async with ApnsSender(settings) as apns:
        too_large = await apns.send(TOKEN, "production", {"aps": {"alert": "x" * 4100}})

    assert (wrong_topic.status, wrong_topic.reason) == (400, "BadTopic")
    assert (too_large.status, too_large.reason) == (413, "PayloadTooLarge")


def test_mock_refuses_old_and_foreign_provider_tokens(
    mock: MockApns, signing_key: tuple[Path, ec.EllipticCurvePrivateKey]
) -> None:
    key = signing_key[1]
    now = int(datetime.now(UTC).timestamp())
    fresh = jwt.encode({"iss": TEAM_ID, "iat": now}, key, algorithm="ES256", headers={"kid": KEY_ID})
    old = jwt.encode({"iss": TEAM_ID, "iat": now - 3700}, key, algorithm="ES256", headers={"kid": KEY_ID})
    other_kid = jwt.encode({"iss": TEAM_ID, "iat": now}, key, algorithm="ES256", headers={"kid": "OTHERKEY01"})
    stranger = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode({"iss": TEAM_ID, "iat": now}, stranger, algorithm="ES256", headers={"kid": KEY_ID})

    assert mock.verify_provider_token(fresh) is None
    assert mock.verify_provider_token(old) == "ExpiredProviderToken"
    assert mock.verify_provider_token(other_kid) == "InvalidProviderToken"
    assert mock.verify_provider_token(forged) == "InvalidProviderToken"


async def test_provider_token_is_reused_across_sends_connections_and_environments(
    sender: ApnsSender, mock: MockApns
) -> None:
    first = await sender.send(TOKEN, "production", PAYLOAD)
    # APNs closes connections too: the next send must not be handed the dead connection, and the new
    # connection must present the same provider token, not a freshly signed one.
    await mock.disconnect_all()
    after = await sender.send(TOKEN, "production", PAYLOAD)
    burst = await asyncio.gather(
        *(sender.send(TOKEN, "production" if i % 2 else "sandbox", PAYLOAD) for i in range(40))
    )

    assert [result.status for result in [first, after, *burst]] == [200] * 42
    assert mock.connections_accepted == 2
    assert mock.distinct_provider_tokens == 1
    assert sum(mock.provider_tokens.values()) == 42


async def test_closed_port_is_a_retryable_connection_error(settings: ApnsSettings) -> None:
    async with ApnsSender(replace(settings, endpoint=f"https://127.0.0.1:{_free_port()}")) as apns:
        result = await apns.send(TOKEN, "production", PAYLOAD)

    assert (result.status, result.reason, result.timestamp) == (0, "connection-error", None)
    assert result.retryable


async def test_silent_server_is_a_connection_error_after_the_timeout(settings: ApnsSettings) -> None:
    # Accepts TCP but never speaks TLS, like a black-holed APNs host.
    accepted: list[asyncio.StreamWriter] = []
    silent = await asyncio.start_server(lambda _reader, writer: accepted.append(writer), "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        async with ApnsSender(replace(settings, endpoint=f"https://127.0.0.1:{port}"), timeout=0.2) as apns:
            result = await apns.send(TOKEN, "production", PAYLOAD)
    finally:
        for writer in accepted:
            writer.close()
        silent.close()
        await silent.wait_closed()

    assert (result.status, result.reason) == (0, "connection-error")


def test_configuration_needs_the_credentials_and_a_base_url(settings: ApnsSettings) -> None:
    with pytest.raises(SettingsError, match="HELSEKORT_APNS_KEY_ID"):
        ApnsSender(replace(settings, key_id=None))
    with pytest.raises(SettingsError, match="HELSEKORT_APNS_ENDPOINT"):
        ApnsSender(replace(settings, endpoint="http://127.0.0.1:8443"))
    assert ApnsSender(ApnsConfig.from_settings(settings)).config.topic == TOPIC
