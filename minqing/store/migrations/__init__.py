"""Alembic migrations of the schema in minqing/store/tables.py."""
