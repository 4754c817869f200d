"""Pregnancy constraints Piccolo cannot express, and the basic programme seeded from `default_schedule()`."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-11-25T23:14:25:000000"
VERSION = "1.38.0"
DESCRIPTION = "pregnancy constraints, indexes and the seeded antenatal schedule"

SQL = """
ALTER TABLE pregnancy_card
    ADD CONSTRAINT pregnancy_card_status_check
    CHECK (status IN ('ongoing', 'delivered', 'miscarriage', 'termination', 'stillbirth'));
ALTER TABLE pregnancy_card
    ADD CONSTRAINT pregnancy_card_outcome_check CHECK ((status = 'ongoing') = (outcome_date IS NULL));
-- One ongoing card per woman; closed cards stay as history.
CREATE UNIQUE INDEX pregnancy_card_one_ongoing ON pregnancy_card (patient) WHERE status = 'ongoing';

ALTER TABLE pregnancy_card_version ADD CONSTRAINT pregnancy_card_version_once UNIQUE (card, version);

-- Induced abortions are never kept on the card (partners may read it): the schema has no place for them.
ALTER TABLE pregnancy_earlier
    ADD CONSTRAINT pregnancy_earlier_kind_check CHECK (kind IN ('birth', 'miscarriage'));

ALTER TABLE pregnancy_consultation ADD CONSTRAINT pregnancy_consultation_version_once UNIQUE (entry_id, version);
CREATE UNIQUE INDEX pregnancy_consultation_one_current
    ON pregnancy_consultation (entry_id) WHERE superseded_at IS NULL;
CREATE INDEX pregnancy_consultation_by_card ON pregnancy_consultation (patient, card, date);
ALTER TABLE pregnancy_consultation
    ADD CONSTRAINT pregnancy_consultation_weight_check CHECK (weight_kg BETWEEN 30 AND 250),
    ADD CONSTRAINT pregnancy_consultation_systolic_check CHECK (systolic BETWEEN 50 AND 260),
    ADD CONSTRAINT pregnancy_consultation_diastolic_check CHECK (diastolic BETWEEN 30 AND 160),
    ADD CONSTRAINT pregnancy_consultation_pressure_check CHECK (systolic > diastolic),
    ADD CONSTRAINT pregnancy_consultation_hb_check CHECK (hb BETWEEN 5 AND 20),
    ADD CONSTRAINT pregnancy_consultation_sf_check CHECK (sf_cm BETWEEN 10 AND 50),
    ADD CONSTRAINT pregnancy_consultation_urine_protein_check
        CHECK (urine_protein IN ('neg', 'trace', '1+', '2+', '3+')),
    ADD CONSTRAINT pregnancy_consultation_urine_glucose_check
        CHECK (urine_glucose IN ('neg', 'trace', '1+', '2+', '3+'));

CREATE INDEX pregnancy_ultrasound_by_card ON pregnancy_ultrasound (patient, card, date);
CREATE INDEX pregnancy_vaccine_by_card ON pregnancy_vaccine (patient, card, given_on);
CREATE INDEX pregnancy_test_by_card ON pregnancy_test (patient, card, taken_on);
CREATE INDEX pregnancy_note_by_card ON pregnancy_note (patient, card, created_at);
CREATE INDEX pregnancy_earlier_by_card ON pregnancy_earlier (patient, card, year);

ALTER TABLE pregnancy_schedule_item
    ADD CONSTRAINT pregnancy_schedule_item_window_check CHECK (window_start_day <= window_end_day);
"""


def _literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _seed_sql() -> str:
    from backend.pregnancy.schedule import default_schedule

    rows = [
        "(gen_random_uuid(), "
        + ", ".join(
            _literal(value)
            for value in (
                item.key,
                position,
                item.label_nb,
                item.label_en,
                item.window_start_day,
                item.window_end_day,
                item.condition,
            )
        )
        + ")"
        for position, item in enumerate(default_schedule())
    ]
    return (
        "INSERT INTO pregnancy_schedule_item (id, key, position, label_nb, label_en, window_start_day, "
        "window_end_day, condition) VALUES\n" + ",\n".join(rows) + ";"
    )


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="pregnancy", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)
        await execute_in_migration(_seed_sql())

    manager.add_raw(run)
    return manager
