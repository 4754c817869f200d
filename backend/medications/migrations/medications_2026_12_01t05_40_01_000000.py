"""Prescriptions (SFM, issue 17): prescriptions of list entries, their dispensings, the citizen's renewal requests.

Patient tables keyed (patient_id, id) with composite links (docs/scaling.md); `renewal_request_key` is the global
lookup from a request id to its patient, for the GP's approve and decline routes, which name the request only.
The database holds the last line against over-dispensing: `dispensed` never exceeds `dispensings`. The drug
catalogue (FEST) is a reference table without a patient.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.db.migrate import execute_in_migration

ID = "2026-12-01T05:40:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "medications: prescription, prescription_dispensing, renewal_request, renewal_request_key, drug_catalogue"

SQL = """
CREATE TABLE prescription (
    id uuid NOT NULL,
    patient_id uuid NOT NULL REFERENCES patient (id) ON DELETE RESTRICT,
    entry_id uuid NOT NULL,
    name varchar(200) NOT NULL,
    atc varchar(7) NOT NULL,
    form varchar(100),
    strength varchar(100),
    dosage_text text NOT NULL,
    quantity_amount double precision NOT NULL CHECK (quantity_amount > 0),
    quantity_unit varchar(32) NOT NULL,
    dispensings integer NOT NULL CHECK (dispensings BETWEEN 1 AND 99),
    dispensed integer NOT NULL DEFAULT 0,
    valid_until date NOT NULL,
    reimbursement_code varchar(16),
    note text,
    prescriber_hpr varchar(12) NOT NULL,
    prescriber_name varchar(200),
    prescriber_authorization varchar(8) NOT NULL,
    prescriber_org varchar(9) NOT NULL,
    prescriber_org_kind varchar(32) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    cancelled_at timestamptz,
    cancel_reason text,
    cancelled_by_hpr varchar(12),
    replaces uuid,
    replaced_by uuid,
    reminded_at timestamptz,
    PRIMARY KEY (patient_id, id),
    CONSTRAINT prescription_dispensed_within CHECK (dispensed BETWEEN 0 AND dispensings),
    CONSTRAINT prescription_cancelled_with_reason CHECK ((cancelled_at IS NULL) = (cancel_reason IS NULL)),
    CONSTRAINT prescription_replaces FOREIGN KEY (patient_id, replaces) REFERENCES prescription (patient_id, id)
        ON DELETE RESTRICT,
    CONSTRAINT prescription_replaced_by FOREIGN KEY (patient_id, replaced_by) REFERENCES prescription (patient_id, id)
        ON DELETE RESTRICT
);
-- The entry's current prescription (the newest), and her list newest first.
CREATE INDEX prescription_by_entry ON prescription (patient_id, entry_id, created_at DESC);
CREATE INDEX prescription_newest ON prescription (patient_id, created_at DESC, id DESC);
-- The reminder job's selection: prescriptions not yet reminded of and not cancelled, by expiry.
CREATE INDEX prescription_to_remind ON prescription (valid_until) WHERE reminded_at IS NULL AND cancelled_at IS NULL;

CREATE TABLE prescription_dispensing (
    id uuid NOT NULL,
    patient_id uuid NOT NULL REFERENCES patient (id) ON DELETE RESTRICT,
    prescription_id uuid NOT NULL,
    quantity_amount double precision NOT NULL CHECK (quantity_amount > 0),
    quantity_unit varchar(32) NOT NULL,
    dispensed_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    pharmacy_org varchar(9) NOT NULL,
    pharmacist_hpr varchar(12) NOT NULL,
    pharmacist_name varchar(200),
    PRIMARY KEY (patient_id, id),
    CONSTRAINT prescription_dispensing_of FOREIGN KEY (patient_id, prescription_id)
        REFERENCES prescription (patient_id, id) ON DELETE RESTRICT
);
CREATE INDEX prescription_dispensing_by_prescription ON prescription_dispensing (patient_id, prescription_id);

CREATE TABLE renewal_request (
    id uuid NOT NULL,
    patient_id uuid NOT NULL REFERENCES patient (id) ON DELETE RESTRICT,
    prescription_id uuid NOT NULL,
    note text,
    status varchar(16) NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
    requested_at timestamptz NOT NULL DEFAULT now(),
    answered_at timestamptz,
    answered_by_hpr varchar(12),
    answered_by_name varchar(200),
    decline_reason text,
    new_prescription_id uuid,
    PRIMARY KEY (patient_id, id),
    CONSTRAINT renewal_request_of FOREIGN KEY (patient_id, prescription_id)
        REFERENCES prescription (patient_id, id) ON DELETE RESTRICT,
    CONSTRAINT renewal_request_new_prescription FOREIGN KEY (patient_id, new_prescription_id)
        REFERENCES prescription (patient_id, id) ON DELETE RESTRICT,
    CONSTRAINT renewal_request_answered CHECK ((status = 'pending') = (answered_at IS NULL))
);
-- One pending request per prescription: the second is a 409, even when two arrive at once.
CREATE UNIQUE INDEX renewal_request_one_pending ON renewal_request (patient_id, prescription_id)
    WHERE status = 'pending';
CREATE INDEX renewal_request_newest ON renewal_request (patient_id, requested_at DESC, id DESC);

CREATE TABLE renewal_request_key (
    id uuid PRIMARY KEY,
    patient_id uuid NOT NULL
);

-- The drug catalogue (FEST) as `helsekort catalogue load FILE` replaces it: no patient, a reference table.
CREATE TABLE drug_catalogue (
    atc varchar(7) PRIMARY KEY,
    name varchar(200) NOT NULL,
    pregnancy_warning text,
    interacts_with varchar(7)[] NOT NULL DEFAULT '{}',
    source text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now()
);
"""

BACKWARDS_SQL = """
DROP TABLE drug_catalogue;
DROP TABLE renewal_request_key;
DROP TABLE renewal_request;
DROP TABLE prescription_dispensing;
DROP TABLE prescription;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="medications", description=DESCRIPTION)

    async def run() -> None:
        await execute_in_migration(SQL)

    async def run_backwards() -> None:
        await execute_in_migration(BACKWARDS_SQL)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
