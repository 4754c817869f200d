"""Distribute by patient, step 2 (measurements): primary keys (patient_id, id), and a NEWS2 score links its
measurements and its SpO2 target through (patient_id, ...) (issue 13; docs/scaling.md).

`news2_score.spo2_target` stays nullable (a scale-1 score has no target); a composite foreign key with a NULL
column is not checked, as before.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T03:00:03:000000"
VERSION = "1.38.0"
DESCRIPTION = "measurements: (patient_id, id) keys, composite NEWS2 links"

SQL = """
ALTER TABLE news2_score DROP CONSTRAINT news2_score_respiration_rate_measurement_fkey;
ALTER TABLE news2_score DROP CONSTRAINT news2_score_spo2_measurement_fkey;
ALTER TABLE news2_score DROP CONSTRAINT news2_score_blood_pressure_measurement_fkey;
ALTER TABLE news2_score DROP CONSTRAINT news2_score_pulse_measurement_fkey;
ALTER TABLE news2_score DROP CONSTRAINT news2_score_temperature_measurement_fkey;
ALTER TABLE news2_score DROP CONSTRAINT news2_score_spo2_target_fkey;
ALTER TABLE measurement DROP CONSTRAINT measurement_pkey, ADD CONSTRAINT measurement_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE spo2_target DROP CONSTRAINT spo2_target_pkey, ADD CONSTRAINT spo2_target_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE news2_score DROP CONSTRAINT news2_score_pkey, ADD CONSTRAINT news2_score_pkey PRIMARY KEY (patient_id, id);
ALTER TABLE news2_score ADD CONSTRAINT news2_score_respiration_rate_measurement_fkey
    FOREIGN KEY (patient_id, respiration_rate_measurement) REFERENCES measurement (patient_id, id) ON DELETE RESTRICT;
ALTER TABLE news2_score ADD CONSTRAINT news2_score_spo2_measurement_fkey
    FOREIGN KEY (patient_id, spo2_measurement) REFERENCES measurement (patient_id, id) ON DELETE RESTRICT;
ALTER TABLE news2_score ADD CONSTRAINT news2_score_blood_pressure_measurement_fkey
    FOREIGN KEY (patient_id, blood_pressure_measurement) REFERENCES measurement (patient_id, id) ON DELETE RESTRICT;
ALTER TABLE news2_score ADD CONSTRAINT news2_score_pulse_measurement_fkey
    FOREIGN KEY (patient_id, pulse_measurement) REFERENCES measurement (patient_id, id) ON DELETE RESTRICT;
ALTER TABLE news2_score ADD CONSTRAINT news2_score_temperature_measurement_fkey
    FOREIGN KEY (patient_id, temperature_measurement) REFERENCES measurement (patient_id, id) ON DELETE RESTRICT;
ALTER TABLE news2_score ADD CONSTRAINT news2_score_spo2_target_fkey
    FOREIGN KEY (patient_id, spo2_target) REFERENCES spo2_target (patient_id, id) ON DELETE RESTRICT;
"""

BACKWARDS_SQL = """
ALTER TABLE news2_score DROP CONSTRAINT news2_score_respiration_rate_measurement_fkey;
ALTER TABLE news2_score DROP CONSTRAINT news2_score_spo2_measurement_fkey;
ALTER TABLE news2_score DROP CONSTRAINT news2_score_blood_pressure_measurement_fkey;
ALTER TABLE news2_score DROP CONSTRAINT news2_score_pulse_measurement_fkey;
ALTER TABLE news2_score DROP CONSTRAINT news2_score_temperature_measurement_fkey;
ALTER TABLE news2_score DROP CONSTRAINT news2_score_spo2_target_fkey;
ALTER TABLE news2_score DROP CONSTRAINT news2_score_pkey, ADD CONSTRAINT news2_score_pkey PRIMARY KEY (id);
ALTER TABLE spo2_target DROP CONSTRAINT spo2_target_pkey, ADD CONSTRAINT spo2_target_pkey PRIMARY KEY (id);
ALTER TABLE measurement DROP CONSTRAINT measurement_pkey, ADD CONSTRAINT measurement_pkey PRIMARY KEY (id);
ALTER TABLE news2_score ADD CONSTRAINT news2_score_respiration_rate_measurement_fkey
    FOREIGN KEY (respiration_rate_measurement) REFERENCES measurement (id) ON UPDATE CASCADE ON DELETE RESTRICT;
ALTER TABLE news2_score ADD CONSTRAINT news2_score_spo2_measurement_fkey
    FOREIGN KEY (spo2_measurement) REFERENCES measurement (id) ON UPDATE CASCADE ON DELETE RESTRICT;
ALTER TABLE news2_score ADD CONSTRAINT news2_score_blood_pressure_measurement_fkey
    FOREIGN KEY (blood_pressure_measurement) REFERENCES measurement (id) ON UPDATE CASCADE ON DELETE RESTRICT;
ALTER TABLE news2_score ADD CONSTRAINT news2_score_pulse_measurement_fkey
    FOREIGN KEY (pulse_measurement) REFERENCES measurement (id) ON UPDATE CASCADE ON DELETE RESTRICT;
ALTER TABLE news2_score ADD CONSTRAINT news2_score_temperature_measurement_fkey
    FOREIGN KEY (temperature_measurement) REFERENCES measurement (id) ON UPDATE CASCADE ON DELETE RESTRICT;
ALTER TABLE news2_score ADD CONSTRAINT news2_score_spo2_target_fkey
    FOREIGN KEY (spo2_target) REFERENCES spo2_target (id) ON UPDATE CASCADE ON DELETE RESTRICT;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="measurements", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    async def run_backwards() -> None:
        await execute_in_migration(BACKWARDS_SQL)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
