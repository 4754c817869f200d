"""Every SQL statement of the pregnancy card: functions of a connection and plain values, with typed results."""

from __future__ import annotations

import uuid
from typing import Any


async def has_card(connection: Any, patient_id: uuid.UUID) -> bool:
    """Whether the patient has any card (the demo loader's idempotency check)."""
    found = await connection.fetchval("SELECT 1 FROM pregnancy_card WHERE patient_id = $1 LIMIT 1", patient_id)
    return found is not None
