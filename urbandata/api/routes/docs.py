"""Interactive API docs (Swagger UI) at /api/v1/docs, every asset served by the platform itself (no CDN).

The Swagger UI files come from the `fastapi-offline` package (a dependency), not from copies in this
repository; the page and its start script are ours. The page reads /api/v1/openapi.json.
"""

from __future__ import annotations

import html
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from urbandata.errors import NotFound

router = APIRouter(prefix="/api/v1", include_in_schema=False)

ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
}
_CACHE = "public, max-age=86400"

INIT_JS = """\
"use strict";
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    showExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    layout: "BaseLayout"
  });
});
"""

PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – API documentation</title>
<link rel="stylesheet" href="{base}/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="{base}/docs/assets/favicon.png">
</head>
<body>
<noscript>The interactive documentation needs JavaScript. The API description is at
<a href="{base}/openapi.json">{base}/openapi.json</a>.</noscript>
<div id="swagger-ui" data-openapi-url="{base}/openapi.json"></div>
<script src="{base}/docs/assets/swagger-ui-bundle.js"></script>
<script src="{base}/docs/init.js"></script>
</body>
</html>
"""


def asset_dir() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


@router.get("/docs")
def docs_page(request: Request) -> HTMLResponse:
    base = html.escape(str(request.scope.get("root_path", "")).rstrip("/") + "/api/v1")
    title = html.escape(request.app.title)
    return HTMLResponse(PAGE.format(base=base, title=title))


@router.get("/docs/init.js")
def docs_init() -> Response:
    return Response(INIT_JS, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": _CACHE})


@router.get("/docs/assets/{name}")
def docs_asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise NotFound(f"No documentation asset {name!r}", parameter="name")
    return FileResponse(asset_dir() / name, media_type=ASSETS[name], headers={"Cache-Control": _CACHE})
