"""The migrated schema can be distributed by patient (issue 13, docs/scaling.md): read from the live catalogue.

A patient table is any table with a `patient_id` column, except the global lookups below. Each must have
`patient_id NOT NULL`; its primary key and every unique constraint or unique index must include `patient_id`
(a shard can only enforce uniqueness within itself); every foreign key to another patient table must pair
`patient_id` with `patient_id` (so both rows live on one shard); a foreign key to `patient` must be
`(patient_id) → patient (id)` (patient is distributed by its id, co-located with the patient tables).
"""

from __future__ import annotations

import asyncpg

# Tables that hold a patient id but are keyed by something else, each distributed by its own key (or, for the
# small ones, replicated): docs/scaling.md. Each answers one lookup that cannot start from a patient.
GLOBAL_TABLES = {
    "patient_identity": "fødselsnummer digest → patient, at sign-in and lookup (distributed by fnr_digest)",
    "push_device_token": "APNs device token → its one owner (distributed by token)",
    "lab_report_key": "the sender's report id → whose report it is, one id per report (distributed by id)",
    "care_relation_by_org": "organisation → its patients, a clinician's alert list (distributed by org_number)",
    "renewal_request_key": "a renewal request id → its patient, for the GP's approve/decline (distributed by id)",
    "topic_follower": "CMS topic → followers, for the push worker (distributed by topic)",
    "representation_by_representative": "representative → whom she represents, for GET /me/represented and her "
    "pushes (distributed by representative_id)",
}

_TABLES = """
SELECT c.oid, c.relname,
       (SELECT a.attnum FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attname = 'patient_id' AND NOT a.attisdropped) AS patient_attnum,
       (SELECT a.attnotnull FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attname = 'patient_id' AND NOT a.attisdropped) AS patient_not_null
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
"""

# Primary keys, unique constraints and unique indexes alike (a unique index is a unique constraint to a shard).
_UNIQUE = """
SELECT i.indrelid AS table_oid, ic.relname AS name, i.indisprimary AS is_primary, i.indkey::int2[] AS columns
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE i.indisunique AND i.indrelid = ANY($1::oid[])
"""

_FOREIGN = """
SELECT conrelid AS table_oid, conname AS name, confrelid AS target_oid, conkey AS columns, confkey AS target_columns
FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY($1::oid[])
"""


async def catalogue_violations(connection: asyncpg.Connection) -> list[str]:
    """Every way the live schema breaks the distribution rules, one line naming the table and constraint each."""
    tables = {row["oid"]: row for row in await connection.fetch(_TABLES)}
    names = {oid: row["relname"] for oid, row in tables.items()}
    patient_tables = {
        oid: row
        for oid, row in tables.items()
        if row["patient_attnum"] is not None and row["relname"] not in GLOBAL_TABLES
    }
    patient_oid = next(oid for oid, name in names.items() if name == "patient")
    problems: list[str] = []
    for row in patient_tables.values():
        if not row["patient_not_null"]:
            problems.append(f"{row['relname']}: patient_id is nullable")
    unique = await connection.fetch(_UNIQUE, list(patient_tables))
    for oid, row in patient_tables.items():
        if not any(index["table_oid"] == oid and index["is_primary"] for index in unique):
            problems.append(f"{row['relname']}: no primary key")
    for index in unique:
        table = patient_tables[index["table_oid"]]
        if table["patient_attnum"] not in index["columns"]:
            kind = "primary key" if index["is_primary"] else "unique"
            problems.append(f"{table['relname']}: {kind} {index['name']} does not include patient_id")
    for key in await connection.fetch(_FOREIGN, list(patient_tables)):
        table = patient_tables[key["table_oid"]]
        pairs = list(zip(key["columns"], key["target_columns"], strict=True))
        where = f"{table['relname']}: foreign key {key['name']} to {names[key['target_oid']]}"
        if key["target_oid"] == patient_oid:
            id_attnum = await connection.fetchval(
                "SELECT attnum FROM pg_attribute WHERE attrelid = $1 AND attname = 'id'", patient_oid
            )
            if pairs != [(table["patient_attnum"], id_attnum)]:
                problems.append(f"{where} is not (patient_id) → patient (id)")
        elif key["target_oid"] in patient_tables:
            target = patient_tables[key["target_oid"]]
            if (table["patient_attnum"], target["patient_attnum"]) not in pairs:
                problems.append(f"{where} does not pair patient_id with patient_id")
        else:
            problems.append(f"{where}: a patient table may refer only to patient tables and patient")
    return sorted(problems)


async def test_every_patient_table_is_keyed_by_its_patient(db: asyncpg.Connection) -> None:
    assert await catalogue_violations(db) == []


async def test_the_global_lookups_exist_and_nothing_else_is_exempt(db: asyncpg.Connection) -> None:
    """The allow-list names real tables: a renamed lookup must not leave a stale exemption behind."""
    present = {
        row["relname"]
        for row in await db.fetch(
            "SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
            " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attname = 'patient_id'"
        )
    }
    assert set(GLOBAL_TABLES) <= present


async def test_the_check_names_what_breaks_the_rules(db: asyncpg.Connection) -> None:
    """The check itself can fail: a patient table as the schema had it before issue 13 is named, rule by rule."""
    transaction = db.transaction()  # rolled back: the shared test database stays as it was
    await transaction.start()
    try:
        await db.execute(
            """
            CREATE TABLE old_style (id uuid PRIMARY KEY, patient_id uuid REFERENCES patient (id), version int,
                                    card uuid, UNIQUE (card, version));
            ALTER TABLE old_style ADD CONSTRAINT old_style_card_fkey
                FOREIGN KEY (patient_id, card) REFERENCES pregnancy_card (patient_id, id);
            CREATE TABLE old_child (id uuid, patient_id uuid NOT NULL, parent uuid REFERENCES old_style (id),
                                    PRIMARY KEY (patient_id, id));
            """
        )
        problems = await catalogue_violations(db)
    finally:
        await transaction.rollback()
    assert problems == [
        "old_child: foreign key old_child_parent_fkey to old_style does not pair patient_id with patient_id",
        "old_style: patient_id is nullable",
        "old_style: primary key old_style_pkey does not include patient_id",
        "old_style: unique old_style_card_version_key does not include patient_id",
    ]


# The CMS page's full-text `search` column is added by its hand-written migration, which Piccolo cannot declare.
_NOT_DECLARED = {("cms_page", "search")}


async def test_the_piccolo_tables_declare_the_columns_the_database_has(db: asyncpg.Connection) -> None:
    """tables.py agrees with the migrated database on every column and its nullability (keys: see the module)."""
    from backend.db.piccolo_conf import APP_REGISTRY

    differences: list[str] = []
    for config in APP_REGISTRY.app_configs.values():
        for table in config.table_classes:
            name = table._meta.tablename
            rows = await db.fetch(
                "SELECT column_name, is_nullable = 'YES' AS nullable FROM information_schema.columns"
                " WHERE table_schema = 'public' AND table_name = $1",
                name,
            )
            in_database = {
                row["column_name"]: row["nullable"] for row in rows if (name, row["column_name"]) not in _NOT_DECLARED
            }
            declared = {column._meta.db_column_name: column._meta.null for column in table._meta.columns}
            differences += [f"{name}.{column}: only in the database" for column in in_database.keys() - declared.keys()]
            differences += [f"{name}.{column}: only in tables.py" for column in declared.keys() - in_database.keys()]
            differences += [
                f"{name}.{column}: nullable {in_database[column]} in the database"
                for column in declared.keys() & in_database.keys()
                if column != "id" and declared[column] != in_database[column]
            ]
    assert sorted(differences) == []
