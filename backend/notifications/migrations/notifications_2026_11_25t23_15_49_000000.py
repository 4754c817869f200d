"""Push constraints Piccolo cannot express: allowed values, one subscription per topic, the retry ledger's index."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-11-25T23:15:49:000000"
VERSION = "1.38.0"
DESCRIPTION = "push constraints and indexes"

SQL = """
ALTER TABLE push_device ADD CONSTRAINT push_device_token_hex CHECK (token ~ '^[0-9a-f]{64}$');
ALTER TABLE push_device ADD CONSTRAINT push_device_platform_check CHECK (platform IN ('ios'));
ALTER TABLE push_device
    ADD CONSTRAINT push_device_environment_check CHECK (environment IN ('production', 'sandbox'));
ALTER TABLE push_device ADD CONSTRAINT push_device_locale_check CHECK (locale IN ('nb', 'nn', 'en'));
CREATE INDEX push_device_active ON push_device (patient) WHERE disabled_at IS NULL;

ALTER TABLE topic_subscription ADD CONSTRAINT topic_subscription_once UNIQUE (patient, topic);
CREATE INDEX topic_subscription_by_topic ON topic_subscription (topic, patient);

ALTER TABLE push_attempt
    ADD CONSTRAINT push_attempt_outcome_check
    CHECK (outcome IN ('delivered', 'retry', 'failed', 'disabled', 'expired'));
CREATE INDEX push_attempt_final ON push_attempt (event_id, device_id) WHERE outcome <> 'retry';
CREATE INDEX push_attempt_at ON push_attempt (at);
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    manager.add_raw(run)
    return manager
