"""Server-rendered portal (L4), German first; each page uses the same service call as its JSON twin."""
