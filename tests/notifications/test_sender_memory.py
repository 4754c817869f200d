"""A long-lived APNs connection keeps no per-notification state once answered (flat memory over a backlog)."""

from __future__ import annotations

import asyncio

from backend.notifications.apns import ApnsSender
from backend.settings import ApnsSettings
from tests.notifications.conftest import device_token
from tests.support.mock_apns import MockApns

PAYLOAD = {"aps": {"alert": {"title": "Helsekort", "body": "A new test result is ready"}}}


async def test_answered_notifications_leave_nothing_behind_on_the_connection(
    apns_settings: ApnsSettings, apns_mock: MockApns
) -> None:
    failing = device_token()
    apns_mock.respond(failing, 410)
    async with ApnsSender(apns_settings) as sender:
        results = await asyncio.gather(
            *(sender.send(failing if i % 10 == 0 else device_token(), "production", PAYLOAD) for i in range(300))
        )
        connections = [connection for pool in sender._pools.values() for connection in pool.connections]

        assert sorted({result.status for result in results}) == [200, 410]
        assert connections
        for connection in connections:
            assert connection.requests == {}
            assert connection.request_streams == {}
            assert connection.request_statuses == {}
