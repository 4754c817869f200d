"""Pasientens journaldokumenter: journal documents shared across organisations, read under tjenstlig behov."""
