"""The woman's own structured registrations, and the schedule rules of CLINICAL.md v1.1 (issue 14).

- `pregnancy_self_registration`: weight, home blood pressure and fetal movements she records herself.
- `pregnancy_schedule_item.kind`: vaccines are listed beside `nextDue`, never instead of it, and are offered
  until birth (whooping cough from week 24, influenza in season from 13+0).
- Anti-D at week 28 depends on the fetus's RhD type and on immunisation, not on her RhD type alone.
A schedule row an administrator has edited away from the old default is left as she made it.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-11-30T23:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "pregnancy self-registrations; schedule item kinds, vaccine windows and the anti-D condition"

FORWARDS = """
CREATE TABLE pregnancy_self_registration (
    id uuid PRIMARY KEY,
    patient uuid NOT NULL REFERENCES patient (id) ON DELETE RESTRICT,
    card uuid NOT NULL REFERENCES pregnancy_card (id) ON DELETE RESTRICT,
    effective_at timestamptz NOT NULL,
    weight_kg double precision,
    systolic smallint,
    diastolic smallint,
    fetal_movements boolean,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- The plausible ranges of home measurements (CLINICAL.md), and at least one value.
    CONSTRAINT pregnancy_self_registration_weight_check CHECK (weight_kg BETWEEN 1 AND 400),
    CONSTRAINT pregnancy_self_registration_systolic_check CHECK (systolic BETWEEN 40 AND 300),
    CONSTRAINT pregnancy_self_registration_diastolic_check CHECK (diastolic BETWEEN 20 AND 200),
    CONSTRAINT pregnancy_self_registration_pressure_check
        CHECK ((systolic IS NULL) = (diastolic IS NULL) AND (systolic IS NULL OR systolic > diastolic)),
    CONSTRAINT pregnancy_self_registration_something_check
        CHECK (weight_kg IS NOT NULL OR systolic IS NOT NULL OR fetal_movements IS NOT NULL)
);
CREATE INDEX pregnancy_self_registration_patient ON pregnancy_self_registration (patient);
CREATE INDEX pregnancy_self_registration_by_card ON pregnancy_self_registration (card, effective_at);

ALTER TABLE pregnancy_schedule_item
    ADD COLUMN kind varchar(16) NOT NULL DEFAULT 'programme',
    ADD CONSTRAINT pregnancy_schedule_item_kind_check CHECK (kind IN ('programme', 'vaccine'));
UPDATE pregnancy_schedule_item SET kind = 'vaccine' WHERE key IN ('whooping-cough-vaccine', 'influenza-vaccine');
-- Until birth (42+6 is the last schedulable day); old defaults were 24+6 and 41+6.
UPDATE pregnancy_schedule_item SET window_end_day = 300
    WHERE (key = 'whooping-cough-vaccine' AND window_end_day = 174)
       OR (key = 'influenza-vaccine' AND window_end_day = 293);
UPDATE pregnancy_schedule_item SET condition = 'anti-d-indicated'
    WHERE key = 'anti-d-prophylaxis' AND condition = 'rhd-negative';
"""

# The self-registrations are dropped with their table: a downgrade loses what women recorded since.
BACKWARDS = """
UPDATE pregnancy_schedule_item SET condition = 'rhd-negative'
    WHERE key = 'anti-d-prophylaxis' AND condition = 'anti-d-indicated';
UPDATE pregnancy_schedule_item SET window_end_day = 174 WHERE key = 'whooping-cough-vaccine' AND window_end_day = 300;
UPDATE pregnancy_schedule_item SET window_end_day = 293 WHERE key = 'influenza-vaccine' AND window_end_day = 300;
ALTER TABLE pregnancy_schedule_item DROP CONSTRAINT pregnancy_schedule_item_kind_check, DROP COLUMN kind;
DROP TABLE pregnancy_self_registration;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="pregnancy", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(FORWARDS)

    async def undo() -> None:
        await execute_in_migration(BACKWARDS)

    manager.add_raw(run)
    manager.add_raw_backwards(undo)
    return manager
