"""The drug catalogue (FEST, Forskrivnings- og ekspedisjonsstøtte) and the warnings it gives on a prescription.

`helsekort catalogue load FILE` replaces the whole catalogue from a JSON file (`{source, items: [{atc, name,
pregnancyWarning?, interactsWith?}]}`, one row per ATC code or group) in one transaction; a converter from
FEST's XML would write this shape. `catalogue_sample.json` is a small bundled sample for development and the
demo, not FEST's texts.

A prescription whose ATC code lies in a catalogue row with a pregnancy warning is flagged for a woman with an
ongoing pregnancy, and only to a clinician who may see the pregnancy (her `pregnancy-card` consent, or emergency
access): the warning would otherwise tell that she is pregnant. A prescription that the catalogue says interacts
with another current entry of her list is flagged to clinicians with access. The citizen and a pharmacy (which may
not read the list) get no warnings.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import msgspec

from backend.core.access import Grant, grant_passes_consent
from backend.core.context import PREGNANCY_CONSENT, has_ongoing_pregnancy
from backend.core.db import DB
from backend.medications import queries_prescriptions
from backend.medications.atc import InvalidAtcCode, atc_level
from backend.medications.entries import today
from backend.medications.schemas import CatalogueFile, PrescriptionOut

SAMPLE = Path(__file__).with_name("catalogue_sample.json")


class CatalogueFileError(ValueError):
    """The file is not a catalogue; the message says where."""


def read_catalogue(path: Path) -> CatalogueFile:
    try:
        catalogue = msgspec.json.decode(path.read_bytes(), type=CatalogueFile)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise CatalogueFileError(f"{path}: {exc}") from exc
    seen: set[str] = set()
    for index, item in enumerate(catalogue.items):
        for code in (item.atc, *item.interacts_with):
            try:
                atc_level(code)
            except InvalidAtcCode as exc:
                raise CatalogueFileError(f"{path}: items[{index}]: {code}: {exc}") from exc
        if item.atc in seen:
            raise CatalogueFileError(f"{path}: items[{index}]: {item.atc} appears twice")
        seen.add(item.atc)
    return catalogue


async def load_catalogue(path: Path) -> str:
    """Replace the catalogue with the file's rows (all or nothing)."""
    catalogue = read_catalogue(path)
    async with DB.transaction(), DB.connection() as connection:
        count = await queries_prescriptions.replace_catalogue(connection, catalogue.items, catalogue.source)
    return f"drug catalogue: {count} rows from {catalogue.source}"


async def with_warnings(grant: Grant, items: Sequence[PrescriptionOut]) -> list[PrescriptionOut]:
    """The prescriptions with the catalogue's warnings, for a clinician with a care relation or emergency access:
    interactions with the other current entries of the list, and, when she may see that the woman is pregnant and
    she is, pregnancy warnings. The citizen and a pharmacy (which may not read the list) get none."""
    if not items or grant.basis not in ("care-relation", "emergency"):
        return list(items)
    on = today()
    pregnant = await grant_passes_consent(grant, PREGNANCY_CONSENT) and await has_ongoing_pregnancy(grant.patient_id)
    async with DB.connection() as connection:
        interactions = await queries_prescriptions.interaction_warnings(
            connection, grant.patient_id, on, [(item.medication.atc, item.entry_id) for item in items]
        )
        pregnancy = (
            await queries_prescriptions.pregnancy_warnings(connection, [item.medication.atc for item in items])
            if pregnant
            else {}
        )
    return [
        msgspec.structs.replace(
            item,
            warnings=[*pregnancy.get(item.medication.atc, []), *interactions.get(item.medication.atc, [])],
        )
        for item in items
    ]
