"""Catalog (L3): organisations, datasets, resources, versions; search; loads and reads of tables."""
