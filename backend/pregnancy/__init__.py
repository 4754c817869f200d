"""Helsekort for gravide: the digital pregnancy health card."""
