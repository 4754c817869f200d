"""Citizen routes for push: devices, CMS topics, the in-app inbox and notification preferences."""

from __future__ import annotations

from litestar import Controller, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from backend.core.access import MeGrant
from backend.core.representation import act_for
from backend.notifications import service
from backend.notifications.schemas import DeviceIn, DeviceList, NotificationList, Preferences, ReadAll, SubscriptionList


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


class CitizenNotificationsController(Controller):
    path = "/me/notifications"
    tags = ["citizen: push"]
    opt = act_for("own")  # her inbox follows her devices: a representative gets her own "there is news"

    @get("", operation_id="citizenListNotifications", summary="My notifications, newest first, with my unread count")
    async def list_notifications(
        self,
        me: MeGrant,
        cursor: FromQuery[str | None] = None,
        limit: FromQuery[int | None] = None,
        locale: FromQuery[str | None] = None,
    ) -> NotificationList:
        return await service.list_notifications(me, cursor, limit, locale)

    @post(
        "/{notification_id:str}/read",
        operation_id="citizenReadNotification",
        status_code=204,
        summary="Mark one notification read",
    )
    async def read(self, me: MeGrant, notification_id: FromPath[str]) -> None:
        await service.mark_read(me, notification_id)

    @post("/read-all", operation_id="citizenReadAllNotifications", status_code=200, summary="Mark all read")
    async def read_all(self, me: MeGrant) -> ReadAll:
        return await service.mark_all_read(me)


class CitizenNotificationPreferencesController(Controller):
    path = "/me/notification-preferences"
    tags = ["citizen: push"]
    opt = act_for("own")  # what someone acting for her (Helsekort-Act-For) needs

    @get("", operation_id="citizenGetNotificationPreferences", summary="Which kinds push, and my quiet hours")
    async def get_preferences(self, me: MeGrant) -> Preferences:
        return await service.get_preferences(me)

    @put("", operation_id="citizenPutNotificationPreferences", summary="Choose which kinds push, and my quiet hours")
    async def put_preferences(self, me: MeGrant, data: JSONBody[Preferences]) -> Preferences:
        return await service.put_preferences(me, data)
