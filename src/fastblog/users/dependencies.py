from typing import Annotated

from fastapi import Depends, HTTPException, Path, status
from sqlalchemy.ext.asyncio import AsyncSession

from fastblog.database import FOR_UPDATE, RowLock
from fastblog.dependencies import SessionDep, WriteSessionDep
from fastblog.params import MAX_ID
from fastblog.users import service
from fastblog.users.models import User

UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="The user's id.")]


async def _user_or_404(session: AsyncSession, user_id: int, lock: RowLock = None) -> User:
    user = await service.get_user(session, user_id, lock=lock)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="User not found")
    return user


async def get_user_or_404(session: SessionDep, user_id: UserId) -> User:
    return await _user_or_404(session, user_id)


async def get_user_for_write(session: WriteSessionDep, user_id: UserId) -> User:
    """The same user, loaded (and locked) in the write transaction that will change it."""
    return await _user_or_404(session, user_id, FOR_UPDATE)


UserDep = Annotated[User, Depends(get_user_or_404)]
UserForWriteDep = Annotated[User, Depends(get_user_for_write)]
