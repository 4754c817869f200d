"""Distribute by patient, step 2 (pregnancy card): primary keys (patient_id, id), every entry links its card through
(patient_id, card), and the version and one-current constraints include the patient (issue 13; docs/scaling.md).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T03:00:05:000000"
VERSION = "1.38.0"
DESCRIPTION = "pregnancy: (patient_id, id) keys, composite card links, unique constraints with the patient"

SQL = """
ALTER TABLE pregnancy_card_version DROP CONSTRAINT pregnancy_card_version_card_fkey;
ALTER TABLE pregnancy_earlier DROP CONSTRAINT pregnancy_earlier_card_fkey;
ALTER TABLE pregnancy_test DROP CONSTRAINT pregnancy_test_card_fkey;
ALTER TABLE pregnancy_consultation DROP CONSTRAINT pregnancy_consultation_card_fkey;
ALTER TABLE pregnancy_ultrasound DROP CONSTRAINT pregnancy_ultrasound_card_fkey;
ALTER TABLE pregnancy_vaccine DROP CONSTRAINT pregnancy_vaccine_card_fkey;
ALTER TABLE pregnancy_note DROP CONSTRAINT pregnancy_note_card_fkey;
ALTER TABLE pregnancy_self_registration DROP CONSTRAINT pregnancy_self_registration_card_fkey;
ALTER TABLE pregnancy_card DROP CONSTRAINT pregnancy_card_pkey, ADD CONSTRAINT pregnancy_card_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE pregnancy_card_version DROP CONSTRAINT pregnancy_card_version_pkey, ADD CONSTRAINT pregnancy_card_version_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE pregnancy_earlier DROP CONSTRAINT pregnancy_earlier_pkey, ADD CONSTRAINT pregnancy_earlier_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE pregnancy_test DROP CONSTRAINT pregnancy_test_pkey, ADD CONSTRAINT pregnancy_test_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE pregnancy_consultation DROP CONSTRAINT pregnancy_consultation_pkey, ADD CONSTRAINT pregnancy_consultation_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE pregnancy_ultrasound DROP CONSTRAINT pregnancy_ultrasound_pkey, ADD CONSTRAINT pregnancy_ultrasound_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE pregnancy_vaccine DROP CONSTRAINT pregnancy_vaccine_pkey, ADD CONSTRAINT pregnancy_vaccine_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE pregnancy_note DROP CONSTRAINT pregnancy_note_pkey, ADD CONSTRAINT pregnancy_note_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE pregnancy_self_registration DROP CONSTRAINT pregnancy_self_registration_pkey, ADD CONSTRAINT pregnancy_self_registration_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE pregnancy_card_version DROP CONSTRAINT pregnancy_card_version_once;
ALTER TABLE pregnancy_card_version ADD CONSTRAINT pregnancy_card_version_once UNIQUE (patient_id, card, version);
ALTER TABLE pregnancy_consultation DROP CONSTRAINT pregnancy_consultation_version_once;
ALTER TABLE pregnancy_consultation
    ADD CONSTRAINT pregnancy_consultation_version_once UNIQUE (patient_id, entry_id, version);
DROP INDEX pregnancy_consultation_one_current;
CREATE UNIQUE INDEX pregnancy_consultation_one_current ON pregnancy_consultation (patient_id, entry_id)
    WHERE superseded_at IS NULL;
ALTER TABLE pregnancy_card_version ADD CONSTRAINT pregnancy_card_version_card_fkey
    FOREIGN KEY (patient_id, card) REFERENCES pregnancy_card (patient_id, id) ON DELETE RESTRICT;
ALTER TABLE pregnancy_earlier ADD CONSTRAINT pregnancy_earlier_card_fkey
    FOREIGN KEY (patient_id, card) REFERENCES pregnancy_card (patient_id, id) ON DELETE RESTRICT;
ALTER TABLE pregnancy_test ADD CONSTRAINT pregnancy_test_card_fkey
    FOREIGN KEY (patient_id, card) REFERENCES pregnancy_card (patient_id, id) ON DELETE RESTRICT;
ALTER TABLE pregnancy_consultation ADD CONSTRAINT pregnancy_consultation_card_fkey
    FOREIGN KEY (patient_id, card) REFERENCES pregnancy_card (patient_id, id) ON DELETE RESTRICT;
ALTER TABLE pregnancy_ultrasound ADD CONSTRAINT pregnancy_ultrasound_card_fkey
    FOREIGN KEY (patient_id, card) REFERENCES pregnancy_card (patient_id, id) ON DELETE RESTRICT;
ALTER TABLE pregnancy_vaccine ADD CONSTRAINT pregnancy_vaccine_card_fkey
    FOREIGN KEY (patient_id, card) REFERENCES pregnancy_card (patient_id, id) ON DELETE RESTRICT;
ALTER TABLE pregnancy_note ADD CONSTRAINT pregnancy_note_card_fkey
    FOREIGN KEY (patient_id, card) REFERENCES pregnancy_card (patient_id, id) ON DELETE RESTRICT;
ALTER TABLE pregnancy_self_registration ADD CONSTRAINT pregnancy_self_registration_card_fkey
    FOREIGN KEY (patient_id, card) REFERENCES pregnancy_card (patient_id, id) ON DELETE RESTRICT;
"""

BACKWARDS_SQL = """
ALTER TABLE pregnancy_card_version DROP CONSTRAINT pregnancy_card_version_card_fkey;
ALTER TABLE pregnancy_earlier DROP CONSTRAINT pregnancy_earlier_card_fkey;
ALTER TABLE pregnancy_test DROP CONSTRAINT pregnancy_test_card_fkey;
ALTER TABLE pregnancy_consultation DROP CONSTRAINT pregnancy_consultation_card_fkey;
ALTER TABLE pregnancy_ultrasound DROP CONSTRAINT pregnancy_ultrasound_card_fkey;
ALTER TABLE pregnancy_vaccine DROP CONSTRAINT pregnancy_vaccine_card_fkey;
ALTER TABLE pregnancy_note DROP CONSTRAINT pregnancy_note_card_fkey;
ALTER TABLE pregnancy_self_registration DROP CONSTRAINT pregnancy_self_registration_card_fkey;
DROP INDEX pregnancy_consultation_one_current;
CREATE UNIQUE INDEX pregnancy_consultation_one_current ON pregnancy_consultation (entry_id) WHERE superseded_at IS NULL;
ALTER TABLE pregnancy_consultation DROP CONSTRAINT pregnancy_consultation_version_once;
ALTER TABLE pregnancy_consultation ADD CONSTRAINT pregnancy_consultation_version_once UNIQUE (entry_id, version);
ALTER TABLE pregnancy_card_version DROP CONSTRAINT pregnancy_card_version_once;
ALTER TABLE pregnancy_card_version ADD CONSTRAINT pregnancy_card_version_once UNIQUE (card, version);
ALTER TABLE pregnancy_self_registration DROP CONSTRAINT pregnancy_self_registration_pkey, ADD CONSTRAINT pregnancy_self_registration_pkey PRIMARY KEY (id);
ALTER TABLE pregnancy_note DROP CONSTRAINT pregnancy_note_pkey, ADD CONSTRAINT pregnancy_note_pkey PRIMARY KEY (id);
ALTER TABLE pregnancy_vaccine DROP CONSTRAINT pregnancy_vaccine_pkey, ADD CONSTRAINT pregnancy_vaccine_pkey PRIMARY KEY (id);
ALTER TABLE pregnancy_ultrasound DROP CONSTRAINT pregnancy_ultrasound_pkey, ADD CONSTRAINT pregnancy_ultrasound_pkey PRIMARY KEY (id);
ALTER TABLE pregnancy_consultation DROP CONSTRAINT pregnancy_consultation_pkey, ADD CONSTRAINT pregnancy_consultation_pkey PRIMARY KEY (id);
ALTER TABLE pregnancy_test DROP CONSTRAINT pregnancy_test_pkey, ADD CONSTRAINT pregnancy_test_pkey PRIMARY KEY (id);
ALTER TABLE pregnancy_earlier DROP CONSTRAINT pregnancy_earlier_pkey, ADD CONSTRAINT pregnancy_earlier_pkey PRIMARY KEY (id);
ALTER TABLE pregnancy_card_version DROP CONSTRAINT pregnancy_card_version_pkey, ADD CONSTRAINT pregnancy_card_version_pkey PRIMARY KEY (id);
ALTER TABLE pregnancy_card DROP CONSTRAINT pregnancy_card_pkey, ADD CONSTRAINT pregnancy_card_pkey PRIMARY KEY (id);
ALTER TABLE pregnancy_card_version ADD CONSTRAINT pregnancy_card_version_card_fkey
    FOREIGN KEY (card) REFERENCES pregnancy_card (id) ON UPDATE CASCADE ON DELETE RESTRICT;
ALTER TABLE pregnancy_earlier ADD CONSTRAINT pregnancy_earlier_card_fkey
    FOREIGN KEY (card) REFERENCES pregnancy_card (id) ON UPDATE CASCADE ON DELETE RESTRICT;
ALTER TABLE pregnancy_test ADD CONSTRAINT pregnancy_test_card_fkey
    FOREIGN KEY (card) REFERENCES pregnancy_card (id) ON UPDATE CASCADE ON DELETE RESTRICT;
ALTER TABLE pregnancy_consultation ADD CONSTRAINT pregnancy_consultation_card_fkey
    FOREIGN KEY (card) REFERENCES pregnancy_card (id) ON UPDATE CASCADE ON DELETE RESTRICT;
ALTER TABLE pregnancy_ultrasound ADD CONSTRAINT pregnancy_ultrasound_card_fkey
    FOREIGN KEY (card) REFERENCES pregnancy_card (id) ON UPDATE CASCADE ON DELETE RESTRICT;
ALTER TABLE pregnancy_vaccine ADD CONSTRAINT pregnancy_vaccine_card_fkey
    FOREIGN KEY (card) REFERENCES pregnancy_card (id) ON UPDATE CASCADE ON DELETE RESTRICT;
ALTER TABLE pregnancy_note ADD CONSTRAINT pregnancy_note_card_fkey
    FOREIGN KEY (card) REFERENCES pregnancy_card (id) ON UPDATE CASCADE ON DELETE RESTRICT;
ALTER TABLE pregnancy_self_registration ADD CONSTRAINT pregnancy_self_registration_card_fkey
    FOREIGN KEY (card) REFERENCES pregnancy_card (id) ON DELETE RESTRICT;
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
