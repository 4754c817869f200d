"""When the citizen sees a lab report: the one definition of the release rule, used by every reader and the job.

CLINICAL.md v1.1 "Lab release": the category's delay counts from when the report reached Helsekort, or from
`issuedAt` if that is later, so the requester always has the whole window to hold it; a preliminary report is
shown only when its final version is. Pathology and genetics (no delay) are shown only by the requester.

Two pieces, each written once:
- `release_due_at` decides when a version becomes due on its own. A preliminary version is never due, and a
  final or corrected version that arrives while she does not yet see the report starts a new window from its
  arrival (`store_lab_report` stores the result in `lab_report.release_due_at`);
- `citizen_sees` is the SQL predicate over the stored state. Her list, her single result, her trend, the
  release job's selection, its exactly-once announcement and the clinician's `release` view all use it, so a
  reader and the job cannot disagree about a report.

A requester's explicit release of a preliminary report is refused (409, `PreliminaryNotReleasable`): the rule says
"only when its final version is", and a release recorded now for content nobody has read yet would show the final
version the moment it arrives, with no window to hold it. The requester may hold a preliminary report; the hold
stays on when the final version arrives.
"""

from __future__ import annotations

from datetime import datetime, timedelta

PRELIMINARY = "preliminary"


def release_due_at(
    *, status: str, issued_at: datetime, received_at: datetime, delay: timedelta | None
) -> datetime | None:
    """When a version is shown on its own: its category's delay after arrival or `issuedAt`, whichever is later.

    None when only the requester's release shows it: a category without a delay, or a preliminary version.
    """
    if delay is None or status == PRELIMINARY:
        return None
    return max(received_at, issued_at) + delay


def citizen_sees(report: str, now: str) -> str:
    """SQL: true while the citizen sees the `lab_report` row aliased `report` at the timestamptz `now`.

    NULL, not false, when neither time is set: negate it with `IS NOT TRUE`. Kept a plain OR so the release
    job's selection can use the partial indexes on `release_due_at` and `released_at`.
    """
    return f"(NOT {report}.held AND ({report}.released_at <= {now} OR {report}.release_due_at <= {now}))"


def citizen_sees_since(report: str, now: str) -> str:
    """SQL: since when she sees it (the earliest moment passed); while hidden, when she will; NULL while held."""
    return (
        f"(CASE WHEN {report}.held THEN NULL"
        f" WHEN {citizen_sees(report, now)} THEN LEAST("
        f"CASE WHEN {report}.released_at <= {now} THEN {report}.released_at END,"
        f" CASE WHEN {report}.release_due_at <= {now} THEN {report}.release_due_at END)"
        f" ELSE LEAST({report}.released_at, {report}.release_due_at) END)"
    )


def next_change(
    *, held: bool, released_at: datetime | None, release_due_at: datetime | None, now: datetime
) -> datetime | None:
    """When time alone next changes what `release_columns` say of a report at `now` (None: never, as stored).

    `citizen_sees` and `citizen_sees_since` read the clock only through `released_at <= now` and
    `release_due_at <= now`, and a held report is hidden whatever the time (its `since` is NULL): so the answer
    read at `now` holds until the earlier of those two times still ahead, for a report not held.
    """
    if held:
        return None
    ahead = [moment for moment in (released_at, release_due_at) if moment is not None and moment > now]
    return min(ahead, default=None)


def release_columns(report: str, now: str) -> str:
    """SQL select-list items `citizen_sees` and `citizen_sees_since`, for rows whose release state is shown."""
    return f"{citizen_sees(report, now)} AS citizen_sees, {citizen_sees_since(report, now)} AS citizen_sees_since"
