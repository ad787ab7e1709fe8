"""The one module-level app, for ASGI servers: `uvicorn urbandata.asgi:app` (settings from URBANDATA_*)."""

from urbandata.app import create_app

app = create_app()
