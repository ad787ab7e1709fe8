"""HTTP API (L4): /api/v1 routers; thin: parse -> service -> render."""
