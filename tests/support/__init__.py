"""Helpers for tests and benchmarks, outside the runtime package: the mock APNs (`mock_apns.py`)."""
