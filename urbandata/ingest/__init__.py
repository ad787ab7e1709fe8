"""Ingestion engine (L2): a department's file in, a typed, checked, staged table out."""
