"""Scheduled imports: sources (URL, watched folder, other catalogs), schedules, runs and their history."""
