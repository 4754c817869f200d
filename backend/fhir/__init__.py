"""FHIR R4 read routes for record systems, and the citizen's "download my data" (the domains map, core reads)."""
