"""A prescription's status, computed at read time: the one definition every reader, writer and job uses.

Nothing stores the status, so expiry needs no job to be right: a prescription is
- `cancelled` once cancelled (by its prescriber or an LE, by stopping its list entry, or replaced by an approved
  renewal: `cancelReason` "replaced" and `replacedBy`);
- otherwise `completed` when every dispensing has been made;
- otherwise `expired` after its `validUntil` (a Norwegian date: valid through that day);
- otherwise `active`.

`status_sql` is the SQL expression over a `prescription` row; the statements select it, and the dispensing's
conditional UPDATE and the reminder job filter on `is_active_sql`, so a reader and a writer cannot disagree.
`today` is a SQL date parameter the caller passes (`entries.today()`, the date in Norway).
"""

from __future__ import annotations

ACTIVE = "active"


def status_sql(row: str, today: str) -> str:
    """SQL: the status of the `prescription` row aliased `row` on the date `today`."""
    return (
        f"(CASE WHEN {row}.cancelled_at IS NOT NULL THEN 'cancelled'"
        f" WHEN {row}.dispensed >= {row}.dispensings THEN 'completed'"
        f" WHEN {row}.valid_until < {today} THEN 'expired'"
        f" ELSE 'active' END)"
    )


def is_active_sql(row: str, today: str) -> str:
    """SQL: true while the prescription is active (the same rule as `status_sql`, as a plain predicate)."""
    return f"({status_sql(row, today)} = '{ACTIVE}')"
