"""Mechanisms every domain uses, one file each; the domains reach db and settings only through db.py and settings.py."""
