"""Actors, request context and the one visibility policy (L1)."""
