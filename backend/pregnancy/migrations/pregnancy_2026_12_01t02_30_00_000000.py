"""Distribute by patient, step 1: `patient_id` NOT NULL in the pregnancy card's tables, and every entry
belongs to a card, so `card` is NOT NULL too (issue 13). pregnancy_self_registration had both NOT NULL already.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T02:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "pregnancy tables: patient_id NOT NULL, card NOT NULL"

SQL = """
ALTER TABLE pregnancy_card RENAME COLUMN patient TO patient_id;
ALTER TABLE pregnancy_card ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE pregnancy_card RENAME CONSTRAINT pregnancy_card_patient_fkey TO pregnancy_card_patient_id_fkey;
ALTER INDEX pregnancy_card_patient RENAME TO pregnancy_card_patient_id;
ALTER TABLE pregnancy_card_version RENAME COLUMN patient TO patient_id;
ALTER TABLE pregnancy_card_version ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE pregnancy_card_version RENAME CONSTRAINT pregnancy_card_version_patient_fkey TO pregnancy_card_version_patient_id_fkey;
ALTER INDEX pregnancy_card_version_patient RENAME TO pregnancy_card_version_patient_id;
ALTER TABLE pregnancy_earlier RENAME COLUMN patient TO patient_id;
ALTER TABLE pregnancy_earlier ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE pregnancy_earlier RENAME CONSTRAINT pregnancy_earlier_patient_fkey TO pregnancy_earlier_patient_id_fkey;
ALTER INDEX pregnancy_earlier_patient RENAME TO pregnancy_earlier_patient_id;
ALTER TABLE pregnancy_test RENAME COLUMN patient TO patient_id;
ALTER TABLE pregnancy_test ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE pregnancy_test RENAME CONSTRAINT pregnancy_test_patient_fkey TO pregnancy_test_patient_id_fkey;
ALTER INDEX pregnancy_test_patient RENAME TO pregnancy_test_patient_id;
ALTER TABLE pregnancy_consultation RENAME COLUMN patient TO patient_id;
ALTER TABLE pregnancy_consultation ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE pregnancy_consultation RENAME CONSTRAINT pregnancy_consultation_patient_fkey TO pregnancy_consultation_patient_id_fkey;
ALTER INDEX pregnancy_consultation_patient RENAME TO pregnancy_consultation_patient_id;
ALTER TABLE pregnancy_ultrasound RENAME COLUMN patient TO patient_id;
ALTER TABLE pregnancy_ultrasound ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE pregnancy_ultrasound RENAME CONSTRAINT pregnancy_ultrasound_patient_fkey TO pregnancy_ultrasound_patient_id_fkey;
ALTER INDEX pregnancy_ultrasound_patient RENAME TO pregnancy_ultrasound_patient_id;
ALTER TABLE pregnancy_vaccine RENAME COLUMN patient TO patient_id;
ALTER TABLE pregnancy_vaccine ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE pregnancy_vaccine RENAME CONSTRAINT pregnancy_vaccine_patient_fkey TO pregnancy_vaccine_patient_id_fkey;
ALTER INDEX pregnancy_vaccine_patient RENAME TO pregnancy_vaccine_patient_id;
ALTER TABLE pregnancy_note RENAME COLUMN patient TO patient_id;
ALTER TABLE pregnancy_note ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE pregnancy_note RENAME CONSTRAINT pregnancy_note_patient_fkey TO pregnancy_note_patient_id_fkey;
ALTER INDEX pregnancy_note_patient RENAME TO pregnancy_note_patient_id;
ALTER TABLE pregnancy_self_registration RENAME COLUMN patient TO patient_id;
ALTER TABLE pregnancy_self_registration RENAME CONSTRAINT pregnancy_self_registration_patient_fkey TO pregnancy_self_registration_patient_id_fkey;
ALTER INDEX pregnancy_self_registration_patient RENAME TO pregnancy_self_registration_patient_id;
ALTER TABLE pregnancy_card_version ALTER COLUMN card SET NOT NULL;
ALTER TABLE pregnancy_earlier ALTER COLUMN card SET NOT NULL;
ALTER TABLE pregnancy_test ALTER COLUMN card SET NOT NULL;
ALTER TABLE pregnancy_consultation ALTER COLUMN card SET NOT NULL;
ALTER TABLE pregnancy_ultrasound ALTER COLUMN card SET NOT NULL;
ALTER TABLE pregnancy_vaccine ALTER COLUMN card SET NOT NULL;
ALTER TABLE pregnancy_note ALTER COLUMN card SET NOT NULL;
"""

BACKWARDS_SQL = """
ALTER TABLE pregnancy_note ALTER COLUMN card DROP NOT NULL;
ALTER TABLE pregnancy_vaccine ALTER COLUMN card DROP NOT NULL;
ALTER TABLE pregnancy_ultrasound ALTER COLUMN card DROP NOT NULL;
ALTER TABLE pregnancy_consultation ALTER COLUMN card DROP NOT NULL;
ALTER TABLE pregnancy_test ALTER COLUMN card DROP NOT NULL;
ALTER TABLE pregnancy_earlier ALTER COLUMN card DROP NOT NULL;
ALTER TABLE pregnancy_card_version ALTER COLUMN card DROP NOT NULL;
ALTER INDEX pregnancy_self_registration_patient_id RENAME TO pregnancy_self_registration_patient;
ALTER TABLE pregnancy_self_registration RENAME CONSTRAINT pregnancy_self_registration_patient_id_fkey TO pregnancy_self_registration_patient_fkey;
ALTER TABLE pregnancy_self_registration RENAME COLUMN patient_id TO patient;
ALTER INDEX pregnancy_note_patient_id RENAME TO pregnancy_note_patient;
ALTER TABLE pregnancy_note RENAME CONSTRAINT pregnancy_note_patient_id_fkey TO pregnancy_note_patient_fkey;
ALTER TABLE pregnancy_note ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE pregnancy_note RENAME COLUMN patient_id TO patient;
ALTER INDEX pregnancy_vaccine_patient_id RENAME TO pregnancy_vaccine_patient;
ALTER TABLE pregnancy_vaccine RENAME CONSTRAINT pregnancy_vaccine_patient_id_fkey TO pregnancy_vaccine_patient_fkey;
ALTER TABLE pregnancy_vaccine ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE pregnancy_vaccine RENAME COLUMN patient_id TO patient;
ALTER INDEX pregnancy_ultrasound_patient_id RENAME TO pregnancy_ultrasound_patient;
ALTER TABLE pregnancy_ultrasound RENAME CONSTRAINT pregnancy_ultrasound_patient_id_fkey TO pregnancy_ultrasound_patient_fkey;
ALTER TABLE pregnancy_ultrasound ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE pregnancy_ultrasound RENAME COLUMN patient_id TO patient;
ALTER INDEX pregnancy_consultation_patient_id RENAME TO pregnancy_consultation_patient;
ALTER TABLE pregnancy_consultation RENAME CONSTRAINT pregnancy_consultation_patient_id_fkey TO pregnancy_consultation_patient_fkey;
ALTER TABLE pregnancy_consultation ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE pregnancy_consultation RENAME COLUMN patient_id TO patient;
ALTER INDEX pregnancy_test_patient_id RENAME TO pregnancy_test_patient;
ALTER TABLE pregnancy_test RENAME CONSTRAINT pregnancy_test_patient_id_fkey TO pregnancy_test_patient_fkey;
ALTER TABLE pregnancy_test ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE pregnancy_test RENAME COLUMN patient_id TO patient;
ALTER INDEX pregnancy_earlier_patient_id RENAME TO pregnancy_earlier_patient;
ALTER TABLE pregnancy_earlier RENAME CONSTRAINT pregnancy_earlier_patient_id_fkey TO pregnancy_earlier_patient_fkey;
ALTER TABLE pregnancy_earlier ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE pregnancy_earlier RENAME COLUMN patient_id TO patient;
ALTER INDEX pregnancy_card_version_patient_id RENAME TO pregnancy_card_version_patient;
ALTER TABLE pregnancy_card_version RENAME CONSTRAINT pregnancy_card_version_patient_id_fkey TO pregnancy_card_version_patient_fkey;
ALTER TABLE pregnancy_card_version ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE pregnancy_card_version RENAME COLUMN patient_id TO patient;
ALTER INDEX pregnancy_card_patient_id RENAME TO pregnancy_card_patient;
ALTER TABLE pregnancy_card RENAME CONSTRAINT pregnancy_card_patient_id_fkey TO pregnancy_card_patient_fkey;
ALTER TABLE pregnancy_card ALTER COLUMN patient_id DROP NOT NULL;
ALTER TABLE pregnancy_card RENAME COLUMN patient_id TO patient;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="pregnancy", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    async def run_backwards() -> None:
        await execute_in_migration(BACKWARDS_SQL)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
