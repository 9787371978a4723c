"""Annotated aliases that routes declare to get what they need."""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.config import Settings
from fastblog.database import get_session, get_write_session


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[AsyncSession, Depends(get_session)]
WriteSessionDep = Annotated[AsyncSession, Depends(get_write_session)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
