"""Mastodon's own activities (tests/federation/fixtures/, from Mastodon's serializers and
documentation) posted to the blog's inboxes with the headers Mastodon sends: the inbox takes
each one, and each does what a Mastodon user expects. A real `fastblog serve` on SQLite and
PostgreSQL; the Mastodon account is the remote actor on 127.0.0.4."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.federation.remote import RemoteServer, remote_servers
from tests.federation.remote_fixtures import Mastodon
from tests.federation.remote_site import Blog, comments_on, id_of

REPLY_TEXT = "Thanks for writing this, it helped."


# `blog`: the live blog, shared with test_against_remote (tests/federation/conftest.py).


# For the package, as the blog: a delivery still going to it as the module ends arrives.
@pytest.fixture(scope="package")
def mastodon_server() -> Iterator[RemoteServer]:
    with remote_servers("127.0.0.4") as (server,):
        yield server


ACTIVITIES = [
    "follow",
    "reply",
    "update_reply",
    "like",
    "announce",
    "update_person",
    "delete_reply",
    "undo_follow",
]


@pytest.mark.parametrize("inbox", ["actor", "shared"])
@pytest.mark.parametrize("kind", ACTIVITIES)
def test_the_inbox_takes_each_mastodon_activity(
    blog: Blog, mastodon_server: RemoteServer, kind: str, inbox: str
) -> None:
    author = blog.sign_up()
    post = blog.publish(author, f"For a {kind}")
    mastodon = Mastodon(mastodon_server, author=blog.actor(author), author_acct=blog.acct(author))
    activity = {
        "follow": mastodon.follow,
        "undo_follow": mastodon.undo_follow,
        "reply": lambda: mastodon.reply(post.ap_id, 7, REPLY_TEXT),
        "update_reply": lambda: mastodon.update_reply(post.ap_id, 7, REPLY_TEXT),
        "delete_reply": lambda: mastodon.delete_reply(7),
        "like": lambda: mastodon.like(post.ap_id),
        "announce": lambda: mastodon.announce(post.ap_id),
        "update_person": mastodon.update_person,
    }[kind]()
    url = blog.inbox(author) if inbox == "actor" else blog.shared_inbox
    response = mastodon_server.post_as_mastodon(url, activity)
    assert response.status_code == 202, response.text


def test_a_mastodon_conversation(blog: Blog, mastodon_server: RemoteServer) -> None:
    author = blog.sign_up()
    mastodon = Mastodon(mastodon_server, author=blog.actor(author), author_acct=blog.acct(author))
    post = blog.publish(author, "Read on Mastodon")

    def send(activity: dict[str, Any]) -> None:
        response = mastodon_server.post_as_mastodon(blog.shared_inbox, activity)
        assert response.status_code == 202, response.text

    # A Mastodon user finds the author first: WebFinger, then the actor.
    found = mastodon_server.webfinger(blog.url, blog.acct(author))
    assert any(link.get("href") == blog.actor(author) for link in found["links"]), found
    assert mastodon_server.fetch(blog.actor(author)).status_code == 200
    follow = mastodon.follow()
    send(follow)
    (accept,) = mastodon_server.wait_for(
        lambda d: d.type == "Accept" and id_of(d.object) == follow["id"], what="the Accept"
    )
    assert accept.verified, accept.problem

    send(mastodon.reply(post.ap_id, 1, REPLY_TEXT))
    (comment,) = blog.eventually(
        lambda: comments_on(blog.page(post.url)),
        lambda comments: len(comments) == 1,
        what="the Mastodon reply as a comment",
    )
    assert REPLY_TEXT in comment.text
    assert mastodon_server.name in comment.text
    assert f"@{mastodon_server.username}@{mastodon_server.host}" in comment.text
    assert comment.scripted() == []
    # Mastodon's link spans: the text a reader sees is the address, shortened or not, once.
    assert any(href == "https://example.org/notes" for href, _ in comment.links)

    send(mastodon.update_reply(post.ap_id, 1, "Edited on Mastodon."))
    blog.eventually(
        lambda: comments_on(blog.page(post.url)),
        lambda comments: len(comments) == 1 and "Edited on Mastodon." in comments[0].text,
        what="the edit",
    )

    send(mastodon.like(post.ap_id))
    send(mastodon.announce(post.ap_id))
    blog.eventually(  # counted where the fediverse reads them: the Article's collections
        lambda: mastodon_server.fetch(post.ap_id).json(),
        lambda article: (article["likes"]["totalItems"], article["shares"]["totalItems"]) == (1, 1),
        what="the like and the boost counted",
    )

    # A profile edit: taken (what it should change on the page: test_against_remote.py).
    send(mastodon.update_person())

    send(mastodon.delete_reply(1))
    blog.eventually(
        lambda: comments_on(blog.page(post.url)), lambda comments: comments == [], what="the delete"
    )

    send(mastodon.undo_follow())
    blog.eventually(
        lambda: mastodon_server.fetch(blog.followers(author)).json()["totalItems"],
        lambda total: total == 0,
        what="the follow undone",
    )
