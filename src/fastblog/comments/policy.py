"""Who may comment, and whose comments wait for an editor's approval.

The site's `comments` mode (open, approve_first, approve_all, closed) and each post's
`comments_enabled` decide; authors and up never wait. A reader (or contributor) waits under
approve_all; under approve_first until one of their comments has been approved; and under
open too, while they have none approved, when the comment carries more than MAX_LINKS
links (the spam that gets past a honeypot is mostly links).
"""

from enum import StrEnum

from fastblog.accounts.roles import Role, at_least
from fastblog.exceptions import ForbiddenError
from fastblog.resources import Resources


class CommentPolicy(StrEnum):
    OPEN = "open"
    APPROVE_FIRST = "approve_first"
    APPROVE_ALL = "approve_all"
    CLOSED = "closed"


# More links than this from someone with no approved comment: the comment waits.
MAX_LINKS = 2
CLOSED_SITE = "Comments are closed on this site."
CLOSED_POST = "Comments are closed on this post."


async def comment_policy(resources: Resources) -> CommentPolicy:
    """The site's comment mode: the site settings' (fastblog.site), which admins change on
    /admin/settings; COMMENTS only seeds a new database's. Async, as its callers await it,
    although the live settings are already in memory."""
    return CommentPolicy(resources.site.current.comments)


def ensure_open(policy: CommentPolicy, *, post_open: bool = True) -> None:
    """ForbiddenError, in plain words, when the site or the post takes no new comments."""
    if policy is CommentPolicy.CLOSED:
        raise ForbiddenError(CLOSED_SITE)
    if not post_open:
        raise ForbiddenError(CLOSED_POST)


def must_wait(policy: CommentPolicy, *, role: str, has_approved: bool, links: int) -> bool:
    """Whether a new comment waits for approval (the site open for comments)."""
    if at_least(role, Role.AUTHOR):
        return False
    if policy is CommentPolicy.APPROVE_ALL:
        return True
    if has_approved:
        return False
    return policy is CommentPolicy.APPROVE_FIRST or links > MAX_LINKS


def moderates(role: str) -> bool:
    """Editors and up approve and reject comments, and see the waiting ones."""
    return at_least(role, Role.EDITOR)
