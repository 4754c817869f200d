"""Pasientens måledata: home measurements, vital signs and NEWS2."""
