"""Data access: connections, named SQL and repositories. Only this package imports psycopg."""

from reckoning.db.connection import Connection, Database, database, reset_database

__all__ = ["Connection", "Database", "database", "reset_database"]
