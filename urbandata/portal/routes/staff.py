"""Pages for signed-in staff: sign-in, the steward workspace and the admin pages."""

from __future__ import annotations

from fastapi import APIRouter

from urbandata.portal.routes import (
    admin,
    signin,
    workspace,
    workspace_imports,
    workspace_inbox,
    workspace_people,
    workspace_uploads,
)

router = APIRouter(include_in_schema=False)
for _module in (signin, workspace, workspace_uploads, workspace_people, workspace_inbox, workspace_imports, admin):
    router.include_router(_module.router)
