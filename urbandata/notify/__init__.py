"""Notifications to stewards: in the workspace and by e-mail (SMTP)."""
