"""Notifications for every phone (issue 19): FCM tokens fit, an in-app inbox, and the citizen's preferences.

- `push_device.token` and `push_device_token.token`: up to 512 characters (an FCM registration token is longer
  than APNs's 64 hex characters, and case-sensitive); `platform` also `android`, `locale` also `se`.
  The downgrade removes Android devices and moves `se` devices to `nb`.
- `inbox_notification`: every notification for the citizen, (patient_id, id), one per (patient_id, event_id);
  `inbox_notification_recent` serves her newest-first list, `inbox_notification_by_age` the 12-month purge.
- `notification_preference`: one row per citizen, (patient_id, id) with UNIQUE (patient_id).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T06:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "push: FCM-sized tokens, the citizen's inbox and notification preferences"

SQL = """
ALTER TABLE push_device ALTER COLUMN token TYPE varchar(512);
ALTER TABLE push_device_token ALTER COLUMN token TYPE varchar(512);
ALTER TABLE push_device DROP CONSTRAINT push_device_token_hex, ADD CONSTRAINT push_device_token_shape CHECK (
    (platform = 'ios' AND token ~ '^[0-9a-f]{64}$') OR (platform = 'android' AND token ~ '^[A-Za-z0-9_:-]+$' AND length(token) >= 20)
);
ALTER TABLE push_device DROP CONSTRAINT push_device_platform_check,
    ADD CONSTRAINT push_device_platform_check CHECK (platform IN ('ios', 'android'));
ALTER TABLE push_device DROP CONSTRAINT push_device_locale_check,
    ADD CONSTRAINT push_device_locale_check CHECK (locale IN ('nb', 'nn', 'en', 'se'));

CREATE TABLE inbox_notification (
    id uuid NOT NULL,
    patient_id uuid NOT NULL REFERENCES patient (id) ON DELETE RESTRICT,
    event_id bigint NOT NULL,
    kind varchar(32) NOT NULL,
    resource_type varchar(64) NOT NULL,
    resource_id varchar(255) NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    read_at timestamptz,
    PRIMARY KEY (patient_id, id),
    CONSTRAINT inbox_notification_event_once UNIQUE (patient_id, event_id)
);
CREATE INDEX inbox_notification_recent ON inbox_notification (patient_id, at DESC, id DESC);
CREATE INDEX inbox_notification_unread ON inbox_notification (patient_id) WHERE read_at IS NULL;
CREATE INDEX inbox_notification_by_age ON inbox_notification (at);

CREATE TABLE notification_preference (
    id uuid NOT NULL,
    patient_id uuid NOT NULL REFERENCES patient (id) ON DELETE RESTRICT,
    disabled_kinds varchar(32)[] NOT NULL DEFAULT '{}',
    quiet_hours varchar(11),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (patient_id, id),
    CONSTRAINT notification_preference_one UNIQUE (patient_id)
);
"""

BACKWARDS_SQL = """
DROP TABLE notification_preference;
DROP TABLE inbox_notification;
DELETE FROM push_device_token t USING push_device d
WHERE d.patient_id = t.patient_id AND d.token = t.token AND d.platform <> 'ios';
DELETE FROM push_device WHERE platform <> 'ios';
UPDATE push_device SET locale = 'nb' WHERE locale = 'se';
ALTER TABLE push_device DROP CONSTRAINT push_device_locale_check,
    ADD CONSTRAINT push_device_locale_check CHECK (locale IN ('nb', 'nn', 'en'));
ALTER TABLE push_device DROP CONSTRAINT push_device_platform_check,
    ADD CONSTRAINT push_device_platform_check CHECK (platform IN ('ios'));
ALTER TABLE push_device DROP CONSTRAINT push_device_token_shape,
    ADD CONSTRAINT push_device_token_hex CHECK (token ~ '^[0-9a-f]{64}$');
ALTER TABLE push_device_token ALTER COLUMN token TYPE varchar(64);
ALTER TABLE push_device ALTER COLUMN token TYPE varchar(64);
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
