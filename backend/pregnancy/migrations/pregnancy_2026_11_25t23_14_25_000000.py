"""Pregnancy constraints Piccolo cannot express, and the basic antenatal programme (as of when it was frozen)."""

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


# The basic programme as seeded here; frozen in the migration (issue 13: no migration imports live code, whose
# `default_schedule()` keeps changing). These are the rows a fresh database has always received from this
# migration at the time it was frozen; the later migration 2026-11-30T23:30 adjusts only rows still at older
# defaults, so leaves these as they are.
SEED_SQL = """
INSERT INTO pregnancy_schedule_item (id, key, position, label_nb, label_en, window_start_day, window_end_day, condition) VALUES
(gen_random_uuid(), 'first-consultation', 0, 'Første konsultasjon', 'First consultation', 42, 90, NULL),
(gen_random_uuid(), 'early-ultrasound', 1, 'Tidlig ultralyd', 'Early ultrasound', 77, 97, NULL),
(gen_random_uuid(), 'routine-ultrasound', 2, 'Rutineultralyd', 'Routine ultrasound', 119, 139, NULL),
(gen_random_uuid(), 'consultation-24', 3, 'Konsultasjon uke 24', 'Consultation week 24', 168, 174, NULL),
(gen_random_uuid(), 'fetal-rhd-and-antibody-test', 4, 'Føtal RhD-typing og antistoffscreening', 'Fetal RhD typing and antibody screening', 168, 174, 'rhd-negative'),
(gen_random_uuid(), 'whooping-cough-vaccine', 5, 'Kikhostevaksine', 'Whooping cough vaccine', 168, 300, NULL),
(gen_random_uuid(), 'glucose-tolerance-test', 6, 'Glukosebelastning', 'Oral glucose tolerance test', 168, 202, 'gdm-risk'),
(gen_random_uuid(), 'consultation-28', 7, 'Konsultasjon uke 28', 'Consultation week 28', 196, 202, NULL),
(gen_random_uuid(), 'anti-d-prophylaxis', 8, 'Anti-D-profylakse', 'Anti-D prophylaxis', 196, 202, 'anti-d-indicated'),
(gen_random_uuid(), 'consultation-32', 9, 'Konsultasjon uke 32', 'Consultation week 32', 224, 230, NULL),
(gen_random_uuid(), 'consultation-36', 10, 'Konsultasjon uke 36', 'Consultation week 36', 252, 258, NULL),
(gen_random_uuid(), 'consultation-38', 11, 'Konsultasjon uke 38', 'Consultation week 38', 266, 272, NULL),
(gen_random_uuid(), 'consultation-40', 12, 'Konsultasjon uke 40', 'Consultation week 40', 280, 286, NULL),
(gen_random_uuid(), 'consultation-41', 13, 'Konsultasjon uke 41', 'Consultation week 41', 287, 293, NULL),
(gen_random_uuid(), 'influenza-vaccine', 14, 'Influensavaksine', 'Influenza vaccine', 91, 300, 'influenza-season');
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="pregnancy", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)
        await execute_in_migration(SEED_SQL)

    manager.add_raw(run)
    return manager
