from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from fastblog.accounts import invitations
from fastblog.accounts.dependencies import TokenViewerDep
from fastblog.accounts.roles import Role
from fastblog.accounts.schemas import known_role
from fastblog.db import utcnow
from fastblog.dependencies import DatabaseDep, ResourcesDep
from fastblog.params import MAX_ID, TOO_LARGE, UNAVAILABLE, Responses, error
from fastblog.routing import api_router
from fastblog.web.urls import site_url

router = api_router(prefix="/api/invitations", tags=["invitations"], responses=UNAVAILABLE)

E401: Responses = {status.HTTP_401_UNAUTHORIZED: error("Missing, invalid or expired token")}
E403: Responses = {
    status.HTTP_403_FORBIDDEN: error(
        "Only an admin or the owner invites, and only with a role below their own"
    )
}


class InvitationCreate(BaseModel):
    email: Annotated[EmailStr, Field(max_length=120, examples=["sam@example.com"])]
    role: Annotated[
        str,
        Field(
            max_length=20,
            description="The role they join with: below yours (an admin invites editors and "
            "below; the owner, admins too).",
            json_schema_extra={"enum": [role.value for role in Role if role != Role.OWNER]},
            examples=["contributor"],
        ),
    ]

    _known_role = field_validator("role")(known_role)


class InvitationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    role: str
    invited_by_id: int = Field(description="The admin (or owner) who sent it.")
    created_at: datetime
    expires_at: datetime = Field(description="Its link stops working then.")


class InvitationList(BaseModel):
    invitations: list[InvitationPublic]


InvitationId = Annotated[int, Path(ge=1, le=MAX_ID, description="The invitation's id.")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationPublic,
    responses=E401
    | E403
    | TOO_LARGE
    | {status.HTTP_400_BAD_REQUEST: error("This address already has an account")},
)
async def create_invitation(
    request: Request, viewer: TokenViewerDep, data: InvitationCreate, resources: ResourcesDep
) -> Any:
    """Invite someone by email with a role (an admin or the owner): the mail's link works once,
    for INVITATION_DAYS (7 by default). A new invitation to the same address replaces the last."""
    return await invitations.invite(
        resources,
        by_id=viewer.id,
        email=data.email,
        role=Role(data.role),
        base_url=site_url(request, resources.settings),
    )


@router.get("", response_model=InvitationList, responses=E401 | E403)
async def list_invitations(viewer: TokenViewerDep, db: DatabaseDep) -> dict[str, Any]:
    """Invitations not yet used and not expired, newest first (an admin or the owner)."""
    return {"invitations": await invitations.pending(db, by_id=viewer.id, now=utcnow())}


@router.delete(
    "/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=E401 | E403 | {status.HTTP_404_NOT_FOUND: error("No pending invitation")},
)
async def revoke_invitation(
    invitation_id: InvitationId, viewer: TokenViewerDep, db: DatabaseDep
) -> Response:
    """Revoke a pending invitation: its link stops working."""
    await invitations.revoke(db, by_id=viewer.id, invitation_id=invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
