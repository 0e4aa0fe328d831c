"""Persistence: the database engine, tables, repositories and migrations."""
