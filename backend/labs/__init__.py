"""Pasientens prøvesvar: lab results released to citizens by policy."""
