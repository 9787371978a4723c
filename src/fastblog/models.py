"""Every model in one import, so the mapper registry and Alembic see them all."""

from fastblog.accounts.models import Follow, Invitation, PasswordResetToken, User
from fastblog.comments.models import Comment
from fastblog.db import Base
from fastblog.db.leases import TaskLease
from fastblog.federation.models import (
    ActorKey,
    BlockedDomain,
    Delivery,
    InboundActivity,
    Reaction,
    RemoteActor,
    RemoteFollower,
    RemoteNote,
    Tombstone,
)
from fastblog.media.models import Media
from fastblog.newsletter.models import NewsletterDelivery, NewsletterIssue, Subscription
from fastblog.notifications.models import Notification, NotificationDigest
from fastblog.outbox import OutboxMail
from fastblog.posts.models import (
    Post,
    PostCount,
    PostLike,
    PostTag,
    ScheduledPostCount,
    ScheduledTagPostCount,
    Tag,
    TagCountVersion,
    TagPostCount,
    UserPostCount,
)
from fastblog.site.models import Page, SiteSettingsRow

__all__ = [
    "ActorKey",
    "Base",
    "BlockedDomain",
    "Comment",
    "Delivery",
    "Follow",
    "InboundActivity",
    "Invitation",
    "Media",
    "NewsletterDelivery",
    "NewsletterIssue",
    "Notification",
    "NotificationDigest",
    "OutboxMail",
    "Page",
    "PasswordResetToken",
    "Post",
    "PostCount",
    "PostLike",
    "PostTag",
    "Reaction",
    "RemoteActor",
    "RemoteFollower",
    "RemoteNote",
    "ScheduledPostCount",
    "ScheduledTagPostCount",
    "SiteSettingsRow",
    "Subscription",
    "Tag",
    "TagCountVersion",
    "TagPostCount",
    "TaskLease",
    "Tombstone",
    "User",
    "UserPostCount",
]
