"""Patients as seen through the core mechanisms: identity lookup, care relations, blocks, consents, access log, change feed."""
