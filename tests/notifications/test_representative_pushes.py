"""Issue 18: someone who represents her is told "there is news in Helsekort" when a change her scopes cover is pushed
— a real write through the API, the real worker, the mock APNs — with no name, no resource id and no kind of data."""

from __future__ import annotations

import httpx
from litestar import Litestar

from backend.jobs import Job
from backend.settings import Settings
from tests.factories import new_clinician, relate
from tests.labs.reports import lab_report, released
from tests.medications.factories import entry, write
from tests.notifications.test_end_to_end_pushes import phone_of, push_job
from tests.representation.helpers import give_power, person_aged, register_guardian
from tests.support.mock_apns import MockApns

__all__ = ["push_job"]  # the worker job fixture, shared with the end-to-end push tests

NEWS = {
    "aps": {"alert": {"title": "Helsekort", "body": "Det er nytt i Helsekort"}, "sound": "default",
            "thread-id": "represented"},
    "kind": "represented",
    "resourceId": "",
}  # fmt: skip


async def test_a_guardian_and_an_attorney_are_told_there_is_news_within_their_scopes(
    client: httpx.AsyncClient, app: Litestar, apns_mock: MockApns, push_job: Job, settings: Settings
) -> None:
    mother = await person_aged(client, app, 42)
    child = await person_aged(client, app, 14)  # medications and prescriptions only
    await register_guardian(client, app, mother, child)
    elder = await person_aged(client, app, 84)
    son = await person_aged(client, app, 55)
    await give_power(client, elder, son, ["lab-results"])
    gp = new_clinician(app)
    for patient in (child, elder):
        await relate(client, gp, patient.patient_id)
    mothers_phone = await phone_of(client, mother, apns_mock, push_job, settings)
    sons_phone = await phone_of(client, son, apns_mock, push_job, settings)

    await write(client, gp, child.patient_id, [entry()], version=0)
    await released(client, gp, child.patient_id, lab_report(requester=gp))
    await push_job(settings)
    received = mothers_phone.new()
    assert [item.payload for item in received] == [NEWS]  # the list change; not the result she may not see
    assert [item.status for item in received] == [200]

    await write(client, gp, elder.patient_id, [entry()], version=0)
    await push_job(settings)
    assert sons_phone.new() == []  # his power of attorney is for lab results only
    await released(client, gp, elder.patient_id, lab_report(requester=gp))
    await push_job(settings)
    assert [item.payload for item in sons_phone.new()] == [NEWS]
    assert mothers_phone.new() == []
