"""Load benchmarks: the real server under wrk, every scenario measured against a raw-asyncpg baseline."""
