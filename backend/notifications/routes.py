"""Citizen routes for push: register and remove devices, follow and unfollow CMS topics."""

from __future__ import annotations

from litestar import Controller, delete, get, put
from litestar.params import FromPath, FromQuery, JSONBody

from backend.core.access import MeGrant
from backend.core.representation import act_for
from backend.notifications import service
from backend.notifications.schemas import DeviceIn, DeviceList, SubscriptionList


class CitizenDevicesController(Controller):
    path = "/me/devices"
    tags = ["citizen: push"]
    # Her devices and topics are her own: never registered by someone acting for her.
    opt = act_for("own")  # what someone acting for her (Helsekort-Act-For) needs

    @get("", operation_id="citizenListDevices", summary="My devices registered for push notifications, oldest first")
    async def list_devices(
        self, me: MeGrant, cursor: FromQuery[str | None] = None, limit: FromQuery[int | None] = None
    ) -> DeviceList:
        return await service.list_devices(me, cursor, limit)

    @put(
        "/{device_token:str}",
        operation_id="citizenRegisterDevice",
        status_code=204,
        summary="Register this device for push (a token another citizen registered moves to me)",
    )
    async def register(self, me: MeGrant, device_token: FromPath[str], data: JSONBody[DeviceIn]) -> None:
        await service.register_device(me, device_token, data)

    @delete("/{device_token:str}", operation_id="citizenRemoveDevice", summary="Stop push to this device")
    async def remove(self, me: MeGrant, device_token: FromPath[str]) -> None:
        await service.remove_device(me, device_token)


class CitizenSubscriptionsController(Controller):
    path = "/me/subscriptions"
    tags = ["citizen: push"]
    opt = act_for("own")  # what someone acting for her (Helsekort-Act-For) needs

    @get("", operation_id="citizenListSubscriptions", summary="CMS topics I follow")
    async def list_subscriptions(
        self, me: MeGrant, cursor: FromQuery[str | None] = None, limit: FromQuery[int | None] = None
    ) -> SubscriptionList:
        return await service.list_subscriptions(me, cursor, limit)

    @put("/{topic:str}", operation_id="citizenFollowTopic", status_code=204, summary="Follow a CMS topic")
    async def follow(self, me: MeGrant, topic: FromPath[str]) -> None:
        await service.subscribe(me, topic)

    @delete("/{topic:str}", operation_id="citizenUnfollowTopic", summary="Stop following a CMS topic")
    async def unfollow(self, me: MeGrant, topic: FromPath[str]) -> None:
        await service.unsubscribe(me, topic)
