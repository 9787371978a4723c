"""The JSON documents we serve and send: addresses, Person, Article, activities, collections.

Addresses (kept stable: remote servers store them):
- an author (Person) is their author page, `{base}/users/{id}/posts`; their key `#main-key`;
- a post (Article) is `{base}/posts/{id}`: the slug is left out, since a new title changes
  it and the Article must keep its id; its `url` is the canonical page with the slug.
"""

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from fastblog.media.store import picture_url
from fastblog.posts.meta import author_path, post_path

CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AP_CONTENT_TYPE = "application/activity+json"
PAGE_SIZE = 20

_POST = re.compile(r"^/posts/(\d+)(?:/[^/]*)?/?$")
_ACTOR = re.compile(r"^/users/(\d+)/posts/?$")


def actor_id(base: str, user_id: int) -> str:
    return f"{base}{author_path(user_id)}"


def key_id(base: str, user_id: int) -> str:
    return f"{actor_id(base, user_id)}#main-key"


def ap_path(base: str, user_id: int, what: str) -> str:
    return f"{base}/ap/users/{user_id}/{what}"


def post_id(base: str, post: int) -> str:
    return f"{base}/posts/{post}"


def host_of(base: str) -> str:
    return urlsplit(base).netloc


def _ours(base: str, uri: object, pattern: re.Pattern[str]) -> int | None:
    if not isinstance(uri, str) or not uri.startswith(base + "/"):
        return None
    match = pattern.match(urlsplit(uri).path)
    return int(match.group(1)) if match else None


def our_post(base: str, uri: object) -> int | None:
    """The id of our post that `uri` names (its id, or its page with a slug), else None."""
    return _ours(base, uri, _POST)


def our_actor(base: str, uri: object) -> int | None:
    return _ours(base, uri, _ACTOR)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def person(base: str, user: Any, public_pem: str) -> dict[str, Any]:
    """`user`: id, username, bio_html, image_file."""
    actor = actor_id(base, user.id)
    icon = picture_url(user.image_file)
    return {
        "@context": CONTEXT,
        "id": actor,
        "type": "Person",
        "preferredUsername": user.username,
        "name": user.username,
        "summary": user.bio_html or "",
        "url": actor,
        "icon": {"type": "Image", "url": icon if "://" in icon else f"{base}{icon}"},
        "inbox": ap_path(base, user.id, "inbox"),
        "outbox": ap_path(base, user.id, "outbox"),
        "followers": ap_path(base, user.id, "followers"),
        "following": ap_path(base, user.id, "following"),
        "endpoints": {"sharedInbox": f"{base}/ap/inbox"},
        "manuallyApprovesFollowers": False,
        "discoverable": True,
        "publicKey": {"id": key_id(base, user.id), "owner": actor, "publicKeyPem": public_pem},
    }


def gone_person(base: str, user: int, public_pem: str) -> dict[str, Any]:
    """A deleted author, as Mastodon serves a removed account: nothing of the profile, the
    key kept (a server that receives the account's Delete fetches it to verify the
    signature)."""
    actor = actor_id(base, user)
    return {
        "@context": CONTEXT,
        "id": actor,
        "type": "Person",
        "inbox": ap_path(base, user, "inbox"),
        "suspended": True,
        "publicKey": {"id": key_id(base, user), "owner": actor, "publicKeyPem": public_pem},
    }


def article(base: str, post: Any, *, likes: int = 0, shares: int = 0) -> dict[str, Any]:
    """`post`: id, slug, title, content_html, excerpt, published_at, updated_at, user_id,
    tag_names (space-separated), feature_image, feature_image_alt."""
    followers = ap_path(base, post.user_id, "followers")
    document: dict[str, Any] = {
        "id": post_id(base, post.id),
        "type": "Article",
        "name": post.title,
        "content": post.content_html,
        "mediaType": "text/html",
        "summary": post.excerpt,
        "url": f"{base}{post_path({'id': post.id, 'slug': post.slug})}",
        "published": iso(post.published_at),
        "updated": iso(post.updated_at),
        "attributedTo": actor_id(base, post.user_id),
        "to": [PUBLIC],
        "cc": [followers],
        "tag": [
            {"type": "Hashtag", "name": f"#{name}", "href": f"{base}/tags/{name}"}
            for name in (post.tag_names or "").split()
        ],
        "attachment": [],
        "likes": {"type": "Collection", "totalItems": likes},
        "shares": {"type": "Collection", "totalItems": shares},
    }
    if post.feature_image:
        image = post.feature_image
        document["attachment"].append(
            {
                "type": "Image",
                "url": image if "://" in image else f"{base}{image}",
                "name": post.feature_image_alt or "",
            }
        )
    return document


def wrap(kind: str, activity_id: str, actor: str, obj: Any, **extra: Any) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "id": activity_id,
        "type": kind,
        "actor": actor,
        "object": obj,
        **extra,
    }


def create(base: str, document: dict[str, Any]) -> dict[str, Any]:
    return wrap(
        "Create",
        f"{document['id']}#create-{document['published']}",
        document["attributedTo"],
        document,
        published=document["published"],
        to=document["to"],
        cc=document["cc"],
    )


def update(base: str, document: dict[str, Any]) -> dict[str, Any]:
    return wrap(
        "Update",
        f"{document['id']}#update-{document['updated']}",
        document["attributedTo"],
        document,
        to=document["to"],
        cc=document["cc"],
    )


def tombstone(base: str, post: int, *, deleted_at: datetime) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "id": post_id(base, post),
        "type": "Tombstone",
        "formerType": "Article",
        "deleted": iso(deleted_at),
    }


def delete(base: str, post: int, author: int, *, deleted_at: datetime) -> dict[str, Any]:
    stone = tombstone(base, post, deleted_at=deleted_at)
    del stone["@context"]
    return wrap(
        "Delete",
        f"{post_id(base, post)}#delete-{iso(deleted_at)}",
        actor_id(base, author),
        stone,
        to=[PUBLIC],
        cc=[ap_path(base, author, "followers")],
    )


def delete_actor(base: str, user: int, *, deleted_at: datetime) -> dict[str, Any]:
    """The author's account is deleted: a server that knows it removes it and its posts."""
    actor = actor_id(base, user)
    return wrap("Delete", f"{actor}#delete-{iso(deleted_at)}", actor, actor, to=[PUBLIC])


def collection(uri: str, total: int, *, first: str | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": uri,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if first is not None:
        document["first"] = first
    return document


def collection_page(uri: str, page: int, items: list[Any], *, has_next: bool) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": f"{uri}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": uri,
        "orderedItems": items,
    }
    if has_next:
        document["next"] = f"{uri}?page={page + 1}"
    if page > 1:
        document["prev"] = f"{uri}?page={page - 1}"
    return document


def webfinger(base: str, username: str, user_id: int) -> dict[str, Any]:
    actor = actor_id(base, user_id)
    return {
        "subject": f"acct:{username}@{host_of(base)}",
        "aliases": [actor],
        "links": [
            {"rel": "self", "type": AP_CONTENT_TYPE, "href": actor},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": actor},
        ],
    }


def nodeinfo(*, users: int, posts: int, open_registrations: bool, name: str) -> dict[str, Any]:
    return {
        "version": "2.1",
        "software": {
            "name": "fastblog",
            "version": "0.1.0",
            "homepage": "https://github.com/fastblog/fastblog",
        },
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0"]},
        "openRegistrations": open_registrations,
        "usage": {"users": {"total": users}, "localPosts": posts},
        "metadata": {"nodeName": name},
    }
