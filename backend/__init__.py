"""Helsekort: municipal e-health API (headless CMS and the citizens' and clinicians' backend)."""
