"""Metadata database (L1): engine, tables, migrations."""
