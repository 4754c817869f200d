"""Distribute by patient, step 2 (push): keys that include the patient; token and topic lookups in tables of their own.

Issue 13; docs/scaling.md has the distribution calls.

- `push_device`, `topic_subscription`, `push_attempt`: primary key (patient_id, id).
- A device token belongs to one citizen at a time. That rule was `UNIQUE (token)` on `push_device`, which cannot
  hold once devices are spread by patient: `push_device_token` (keyed by the token) names its owner and device,
  and `push_device` keeps `UNIQUE (patient_id, token)`.
- The worker finds a topic's followers in `topic_follower` (keyed by the topic) instead of an index over every
  patient's subscriptions.
- Every send is recorded under the patient who owns the device, topic sends included. Older topic sends had no
  patient: they are attributed to their device's owner; those whose device is gone since cannot be attributed and
  are kept, unchanged, in `push_attempt_global` (nothing writes there any more).

The downgrade puts every row back where it was.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T03:00:02:000000"
VERSION = "1.38.0"
DESCRIPTION = "push: (patient_id, id) keys; push_device_token and topic_follower lookups; every send has its patient"

SQL = """
CREATE TABLE push_device_token (
    token varchar(64) PRIMARY KEY,
    patient_id uuid NOT NULL,
    device_id uuid NOT NULL
);
INSERT INTO push_device_token (token, patient_id, device_id) SELECT token, patient_id, id FROM push_device;
ALTER TABLE push_device DROP CONSTRAINT push_device_token_key;
ALTER TABLE push_device ADD CONSTRAINT push_device_token_once UNIQUE (patient_id, token);
ALTER TABLE push_device DROP CONSTRAINT push_device_pkey, ADD CONSTRAINT push_device_pkey PRIMARY KEY (patient_id, id);

CREATE TABLE topic_follower (
    topic varchar(64) NOT NULL,
    patient_id uuid NOT NULL,
    PRIMARY KEY (topic, patient_id)
);
INSERT INTO topic_follower (topic, patient_id) SELECT DISTINCT topic, patient_id FROM topic_subscription;
DROP INDEX topic_subscription_by_topic;
ALTER TABLE topic_subscription
    DROP CONSTRAINT topic_subscription_pkey, ADD CONSTRAINT topic_subscription_pkey PRIMARY KEY (patient_id, id);

UPDATE push_attempt a SET patient_id = d.patient_id
FROM push_device d WHERE a.patient_id IS NULL AND d.id = a.device_id;
CREATE TABLE push_attempt_global (
    id bigint PRIMARY KEY,
    event_id bigint NOT NULL,
    device_id uuid NOT NULL,
    event_type varchar(64) NOT NULL,
    outcome varchar(16) NOT NULL,
    status integer NOT NULL,
    reason varchar(64),
    apns_id varchar(64),
    worker varchar(64) NOT NULL,
    at timestamptz NOT NULL
);
INSERT INTO push_attempt_global (id, event_id, device_id, event_type, outcome, status, reason, apns_id, worker, at)
SELECT id, event_id, device_id, event_type, outcome, status, reason, apns_id, worker, at
FROM push_attempt WHERE patient_id IS NULL;
DELETE FROM push_attempt WHERE patient_id IS NULL;
ALTER TABLE push_attempt ALTER COLUMN patient_id SET NOT NULL;
ALTER TABLE push_attempt DROP CONSTRAINT push_attempt_pkey, ADD CONSTRAINT push_attempt_pkey PRIMARY KEY (patient_id, id);
"""

BACKWARDS_SQL = """
ALTER TABLE push_attempt DROP CONSTRAINT push_attempt_pkey, ADD CONSTRAINT push_attempt_pkey PRIMARY KEY (id);
ALTER TABLE push_attempt ALTER COLUMN patient_id DROP NOT NULL;
INSERT INTO push_attempt (id, event_id, device_id, patient_id, event_type, outcome, status, reason, apns_id, worker, at)
SELECT id, event_id, device_id, NULL, event_type, outcome, status, reason, apns_id, worker, at
FROM push_attempt_global;
DROP TABLE push_attempt_global;

ALTER TABLE topic_subscription
    DROP CONSTRAINT topic_subscription_pkey, ADD CONSTRAINT topic_subscription_pkey PRIMARY KEY (id);
CREATE INDEX topic_subscription_by_topic ON topic_subscription (topic, patient_id);
DROP TABLE topic_follower;

ALTER TABLE push_device DROP CONSTRAINT push_device_pkey, ADD CONSTRAINT push_device_pkey PRIMARY KEY (id);
ALTER TABLE push_device DROP CONSTRAINT push_device_token_once;
ALTER TABLE push_device ADD CONSTRAINT push_device_token_key UNIQUE (token);
DROP TABLE push_device_token;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    async def run_backwards() -> None:
        await execute_in_migration(BACKWARDS_SQL)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
