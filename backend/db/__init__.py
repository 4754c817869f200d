"""Database access: the Piccolo engine on asyncpg, the embedded PostgreSQL and migrations."""
