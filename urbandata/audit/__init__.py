"""Append-only audit log (L2): writes, reads of non-public data, logins, tokens."""
