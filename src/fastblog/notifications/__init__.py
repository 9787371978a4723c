"""Notifications for authors: a comment on their post (once approved), a new follower, a
like; an unread count in every page's header; a digest mail at most once an hour.

How a comment, a follow or a like becomes a notification: **database triggers** (migration
0016), on comments, post_likes and follows, write the notification row in the transaction
of the write itself, and triggers on notifications keep `users.unread_notifications`.

Why triggers, rather than a handler the lower services call, or a feed read from their tables:

- The package chain stays one-way with nothing to register: comments, posts and accounts
  sit below this package and must not import it, and with triggers they do not even know
  it exists. Their writes stay the single statements they are (a like is one INSERT …
  SELECT on the compiled road), and none of them can forget to notify.
- It is the project's way already: every count a page shows is kept by triggers in the
  write's transaction (docs/social.md), cascades included. Here too a deleted comment, post
  or user takes its notifications with it (ON DELETE CASCADE), and an unlike or unfollow
  removes its own, so nothing dangles.
- Read state (`read_at`) and the digest's `mailed_at` need rows of our own; a feed computed
  from the lower tables would have nowhere to keep them.

The header's count is a column of the user row every logged-in page already loads: it costs
no statement at all.

- `queries.py`  a page of notifications (id cursor, newest first), mark read, the count
- `api.py`      GET /api/notifications, POST /api/notifications/read
- `views.py`    /notifications and its "mark all as read" form
- `digest.py`   DigestSender: the hourly digest mail through the outbox

See docs/notifications.md.
"""
