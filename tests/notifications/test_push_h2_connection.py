"""The h2 connection both push transports send on: what it saves must not change what the server gets or allows."""

from __future__ import annotations

import pytest
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import RequestReceived
from h2.exceptions import TooManyStreamsError
from h2.settings import SettingCodes
from hpack import NeverIndexedHeaderTuple

from backend.notifications.h2client import PushH2Connection

TOKEN = "a" * 64


def _connected(*, max_streams: int = 100) -> tuple[PushH2Connection, H2Connection]:
    client = PushH2Connection()
    server = H2Connection(H2Configuration(client_side=False))
    client.initiate_connection()
    server.initiate_connection()
    server.update_settings({SettingCodes.MAX_CONCURRENT_STREAMS: max_streams})
    _exchange(client, server)
    return client, server


def _exchange(client: H2Connection, server: H2Connection) -> list[object]:
    """Move bytes both ways until quiet; the server's events."""
    events: list[object] = []
    while True:
        to_server, to_client = client.data_to_send(), server.data_to_send()
        if not to_server and not to_client:
            return events
        if to_server:
            events += server.receive_data(to_server)
        if to_client:
            events += client.receive_data(to_client)


def _request(notification: int, path_token: str = TOKEN) -> list[tuple[str, str]]:
    return [
        (":method", "POST"),
        (":scheme", "https"),
        (":path", f"/3/device/{path_token}"),
        ("host", "api.push.apple.com"),
        ("apns-id", f"00000000-0000-0000-0000-{notification:012d}"),
        ("apns-topic", "no.helsekort.app"),
        ("apns-priority", "10"),
        ("authorization", "bearer eyJhbGciOiJFUzI1NiJ9.secret.signature"),
    ]


def _answer(server: H2Connection, stream_id: int) -> None:
    server.send_headers(stream_id, [(":status", "200")], end_stream=True)


def test_the_server_gets_every_header_as_sent_and_the_per_notification_ones_never_indexed() -> None:
    client, server = _connected()
    received: list[RequestReceived] = []
    for notification in range(3):
        stream_id = client.get_next_available_stream_id()
        client.send_headers(stream_id, _request(notification, path_token=f"{notification}" * 64), end_stream=True)
        received += [event for event in _exchange(client, server) if isinstance(event, RequestReceived)]

    assert [[(bytes(n).decode(), bytes(v).decode()) for n, v in event.headers] for event in received] == [
        _request(notification, path_token=f"{notification}" * 64) for notification in range(3)
    ]
    for event in received:
        never_indexed = {bytes(h[0]) for h in event.headers if isinstance(h, NeverIndexedHeaderTuple)}
        assert never_indexed == {b":path", b"apns-id", b"authorization"}
    # POST and https are in HPACK's static table; the rest that repeats is indexed once.
    assert {name for name, _ in client.encoder.header_table.dynamic_entries} == {
        b"host",
        b"apns-topic",
        b"apns-priority",
    }


def test_no_stream_is_refused_below_the_servers_limit_and_none_opened_above_it() -> None:
    client, server = _connected(max_streams=40)
    open_ids: list[int] = []
    for round_ in range(5):
        # Fill up to the limit: every stream below it is allowed, the next one refused.
        while len(open_ids) < 40:
            stream_id = client.get_next_available_stream_id()
            client.send_headers(stream_id, _request(stream_id), end_stream=True)
            open_ids.append(stream_id)
        with pytest.raises(TooManyStreamsError):
            client.send_headers(client.get_next_available_stream_id(), _request(0), end_stream=True)
        _exchange(client, server)
        # The server answers a different number each round; exactly that many may be opened again.
        for stream_id in open_ids[: 7 + round_ * 5]:
            _answer(server, stream_id)
        del open_ids[: 7 + round_ * 5]
        _exchange(client, server)
        assert client.open_outbound_streams == len(open_ids) == client._open_streams(1)


def test_answered_streams_are_forgotten() -> None:
    client, server = _connected()
    for notification in range(3000):
        stream_id = client.get_next_available_stream_id()
        client.send_headers(stream_id, _request(notification), end_stream=True)
        _exchange(client, server)
        _answer(server, stream_id)
        _exchange(client, server)

    assert len(client.streams) <= PushH2Connection._COUNT_EVERY + 1
    assert len(client._closed_streams) <= PushH2Connection.MAX_CLOSED_STREAMS
