"""The blocked domains as a site setting: admins list, add and remove them through the API
(the same list as `fastblog federation block DOMAIN`)."""

from fastapi import Path, status
from pydantic import BaseModel

from fastblog.admin.permissions import ApiAdminDep
from fastblog.dependencies import DatabaseDep
from fastblog.federation import blocks
from fastblog.routing import api_router

router = api_router(prefix="/api/site/blocked-domains", tags=["site"])

Domain = Path(max_length=255, description="A domain, e.g. spam.example; its subdomains too")


class BlockedDomains(BaseModel):
    domains: list[str]


@router.get("", response_model=BlockedDomains)
async def list_blocked(admin: ApiAdminDep, db: DatabaseDep) -> BlockedDomains:
    """The domains whose activities are refused and which get nothing (admins)."""
    return BlockedDomains(domains=await blocks.blocked_domains(db))


@router.put("/{domain}", status_code=status.HTTP_204_NO_CONTENT)
async def block(admin: ApiAdminDep, db: DatabaseDep, domain: str = Domain) -> None:
    """Block a domain (admins): its followers are forgotten, nothing is sent there."""
    await blocks.block_domain(db, domain)


@router.delete("/{domain}", status_code=status.HTTP_204_NO_CONTENT)
async def unblock(admin: ApiAdminDep, db: DatabaseDep, domain: str = Domain) -> None:
    """Take a domain off the list (admins)."""
    await blocks.unblock_domain(db, domain)
