"""Annotated aliases that routes declare to get what they need."""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.config import Settings
from fastblog.database import get_session, get_write_session
from fastblog.direct import DirectDatabase
from fastblog.posts.queries import PostQueries


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_direct(request: Request) -> DirectDatabase:
    direct: DirectDatabase = request.app.state.direct
    return direct


async def get_post_queries(request: Request) -> PostQueries:
    queries: PostQueries = request.app.state.post_queries
    return queries


SessionDep = Annotated[AsyncSession, Depends(get_session)]
DirectDep = Annotated[DirectDatabase, Depends(get_direct)]
PostQueriesDep = Annotated[PostQueries, Depends(get_post_queries)]
WriteSessionDep = Annotated[AsyncSession, Depends(get_write_session)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
