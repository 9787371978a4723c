"""Who may do what on the site: the roles, from the owner down to a reader."""

from enum import StrEnum
from typing import Final


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    EDITOR = "editor"
    AUTHOR = "author"
    CONTRIBUTOR = "contributor"
    READER = "reader"


RANK: Final = {
    Role.READER: 0,
    Role.CONTRIBUTOR: 1,
    Role.AUTHOR: 2,
    Role.EDITOR: 3,
    Role.ADMIN: 4,
    Role.OWNER: 5,
}


def at_least(role: str, minimum: Role) -> bool:  # role as stored on users.role
    return RANK[Role(role)] >= RANK[minimum]
