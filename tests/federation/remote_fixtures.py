"""Mastodon's activities as JSON fixtures (tests/federation/fixtures/, sources in its README),
filled in to point at the test's own actors, posts and notes."""

import itertools
import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from tests.federation.remote import RemoteServer

FIXTURES = Path(__file__).parent / "fixtures"
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def fill(value: Any, values: dict[str, Any]) -> Any:
    """`value` with each {{name}} replaced; a string that is one placeholder alone becomes the
    value itself (an object, a list), any other string gets the value's text. An unknown
    name raises KeyError: a fixture never goes out half filled in."""
    if isinstance(value, dict):
        return {key: fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, values) for item in value]
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            return values[whole.group(1)]
        return PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), value)
    return value


def load(fixture: str, /, **values: Any) -> dict[str, Any]:
    """The fixture named so (without .json), filled in with `values`."""
    raw = json.loads((FIXTURES / f"{fixture}.json").read_text())
    filled: dict[str, Any] = fill(raw, values)
    return filled


def actor_values(remote: "RemoteServer") -> dict[str, Any]:
    return {
        "actor": remote.actor_id,
        "remote": remote.base,
        "remote_host": remote.host,
        "username": remote.username,
        "name": remote.name,
        "profile_url": remote.profile_url,
        "public_key_pem": remote.public_pem,
    }


def mastodon_person(remote: "RemoteServer") -> dict[str, Any]:
    return load("mastodon_person", **actor_values(remote))


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Mastodon:
    """The activities a Mastodon account (`remote`'s actor) sends about one author and post.

    Each instance is one relationship: its ids (the follow's UUID, the likes', the notes')
    are its own, as Mastodon's are, so a test never sends an id an earlier test sent."""

    _serials = itertools.count(1)

    def __init__(self, remote: "RemoteServer", *, author: str, author_acct: str) -> None:
        self.remote, self.author, self.author_acct = remote, author, author_acct
        self.serial = next(self._serials)
        self.follow_uuid = str(uuid.uuid4())

    def _values(self, **more: Any) -> dict[str, Any]:
        return {
            **actor_values(self.remote),
            "author": self.author,
            "author_acct": self.author_acct,
            "author_username": self.author_acct.split("@")[0],
            "serial": self.serial,
            "follow_uuid": self.follow_uuid,
            **more,
        }

    def status_id(self, number: int) -> str:
        """The note the test calls `number`, under an id of this relationship's own."""
        return self.remote.status_id(self.serial * 1000 + number)

    def follow(self) -> dict[str, Any]:
        return load("mastodon_follow", **self._values())

    def undo_follow(self) -> dict[str, Any]:
        return load("mastodon_undo_follow", **self._values())

    def reply(self, post: str, number: int, text: str) -> dict[str, Any]:
        """Create{Note} in reply to `post`; the note is also served by the remote."""
        activity = load("mastodon_create_note_reply", **self._note_values(post, number, text))
        self.remote.objects[activity["object"]["id"]] = activity["object"]
        return activity

    def update_reply(self, post: str, number: int, text: str) -> dict[str, Any]:
        activity = load(
            "mastodon_update_note", **self._note_values(post, number, text), updated=now_iso()
        )
        self.remote.objects[activity["object"]["id"]] = activity["object"]
        return activity

    def delete_reply(self, number: int) -> dict[str, Any]:
        status = self.status_id(number)
        self.remote.objects.pop(status, None)
        return load("mastodon_delete_tombstone", **self._values(status=status))

    def like(self, post: str) -> dict[str, Any]:
        return load("mastodon_like", **self._values(post=post))

    def announce(self, post: str) -> dict[str, Any]:
        return load("mastodon_announce", **self._values(post=post, published=now_iso()))

    def update_person(self) -> dict[str, Any]:
        return load("mastodon_update_person", **self._values(person=mastodon_person(self.remote)))

    def _note_values(self, post: str, number: int, text: str) -> dict[str, Any]:
        return self._values(
            post=post,
            status=self.status_id(number),
            status_number=self.serial * 1000 + number,
            text=text,
            published=now_iso(),
        )


def mastodon_headers(remote: "RemoteServer", url: str, body: bytes) -> dict[str, str]:
    """The headers of a POST as Mastodon sends them (fixtures/mastodon_signed_request.json:
    the same names, the same signed list), with this request's date, digest and signature."""
    parts = urlsplit(url)
    template = load(
        "mastodon_signed_request",
        inbox_path=parts.path,
        inbox_host=parts.netloc,
        **actor_values(remote),
    )
    headers: dict[str, str] = template["headers"]
    signed = re.search(r'headers="([^"]+)"', headers["Signature"])
    assert signed, headers["Signature"]
    extra = {
        name: value
        for name, value in headers.items()
        if name.lower() not in {"host", "date", "digest", "signature"}
    }
    return remote.signed_headers(url, body, signed=signed.group(1).split(), extra=extra)
