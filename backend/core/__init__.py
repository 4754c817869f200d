"""Mechanisms every domain uses, one file each: errors, auth, access, audit, events, idempotency, concurrency."""
