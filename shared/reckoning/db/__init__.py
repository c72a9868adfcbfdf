"""Data access: connections, named SQL and repositories. Only this package imports psycopg."""

from psycopg import OperationalError as DatabaseUnreachable

from reckoning.db.connection import Connection, Database, database, reset_database

__all__ = ["Connection", "Database", "DatabaseUnreachable", "database", "reset_database"]
