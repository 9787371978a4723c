"""The blog against a remote ActivityPub server it did not write (tests/federation/remote.py:
apsig signs and verifies there), end to end: a real `fastblog serve` on SQLite and PostgreSQL,
remote servers on 127.0.0.2 and up. The remote finds an author by WebFinger, follows (and
verifies the signed Accept), receives the author's new post once, replies, likes, edits and
deletes its reply, and unfollows; a bad signature is 401 and a blocked domain 403."""

import json
from collections.abc import Callable, Iterator

import pytest

from tests.federation.remote import (
    ACTIVITY_JSON,
    Delivery,
    RemoteServer,
    new_key,
    remote_servers,
)
from tests.federation.remote_fixtures import PUBLIC, Mastodon
from tests.federation.remote_site import (
    Author,
    Blog,
    Post,
    accept_of,
    comments_on,
    create_of,
    follow,
    followers_count,
)

# `blog`: the live blog, shared with test_against_mastodon (tests/federation/conftest.py).


@pytest.fixture(scope="package")
def remotes() -> Iterator[list[RemoteServer]]:
    """bob on 127.0.0.2 and carol on 127.0.0.3: two servers, two shared inboxes. For the
    package, as the blog: a delivery still going to them as the module ends arrives."""
    with remote_servers("127.0.0.2", "127.0.0.3") as servers:
        yield servers


def test_a_remote_finds_the_author_by_webfinger_and_reads_the_actor(
    blog: Blog, remotes: list[RemoteServer]
) -> None:
    bob = remotes[0]
    author = blog.sign_up()

    found = bob.webfinger(blog.url, blog.acct(author))
    assert found["subject"] == f"acct:{blog.acct(author)}"
    (self_link,) = [link for link in found["links"] if link.get("rel") == "self"]
    assert self_link["type"] == ACTIVITY_JSON
    assert self_link["href"] == blog.actor(author)

    response = bob.fetch(blog.actor(author))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        ("application/activity+json", "application/ld+json")
    )
    person = response.json()
    assert person["type"] == "Person"
    assert person["id"] == blog.actor(author)
    assert person["preferredUsername"] == author.username
    assert person["inbox"] == blog.inbox(author)
    assert person["followers"] == blog.followers(author)
    assert person["endpoints"]["sharedInbox"] == blog.shared_inbox
    assert person["publicKey"]["id"] == f"{blog.actor(author)}#main-key"
    assert person["publicKey"]["owner"] == blog.actor(author)
    assert "BEGIN PUBLIC KEY" in person["publicKey"]["publicKeyPem"]

    assert bob.webfinger_status(blog.url, f"nobody-{author.username}@{blog.host}") == 404
    with blog.client() as browser:  # a browser asking for the same address still gets the page
        page = browser.get(blog.actor(author), headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")


def test_follow_publish_reply_like_edit_delete_and_unfollow(
    blog: Blog, remotes: list[RemoteServer]
) -> None:
    bob, carol = remotes
    author = blog.sign_up()
    mastodon = follow(blog, bob, author)
    follow(blog, carol, author)
    assert followers_count(blog, bob, author) == 2

    post = blog.publish(author, "Hello, fediverse", "The first words that travel.")
    for remote in (bob, carol):
        (create,) = remote.wait_for(
            create_of(post), what=f"the Create of the post at {remote.username}"
        )
        assert create.verified, create.problem
        assert create.path == "/inbox"  # the follower's shared inbox
        article = create.object
        assert article["type"] == "Article"
        assert article["name"] == "Hello, fediverse"
        assert article["attributedTo"] == blog.actor(author)
        assert PUBLIC in article["to"]
        assert blog.followers(author) in article["cc"]
        assert article["url"] == post.url  # the page a Mastodon user's click opens
    fetched = bob.fetch(post.ap_id)  # the id answers with the Article itself
    assert fetched.status_code == 200
    assert fetched.json()["type"] == "Article"
    assert fetched.json()["id"] == post.ap_id

    hostile = (
        'Lovely post! <script>alert("s")</script><img src="x" onerror="alert(1)">'
        '<a href="javascript:alert(2)">click</a>'
    )
    reply = mastodon.reply(post.ap_id, 1, hostile)
    assert bob.post(blog.inbox(author), reply).status_code == 202
    (comment,) = blog.eventually(
        lambda: comments_on(blog.page(post.url)),
        lambda comments: len(comments) == 1,
        what="the reply as a comment",
    )
    assert "Lovely post!" in comment.text
    assert comment.scripted() == []
    assert 'alert("s")' not in comment.text  # the script's text is gone, not shown as words
    assert f"bob@{bob.host}" in comment.text  # whose it is (the full display: below)

    assert bob.post(blog.inbox(author), mastodon.like(post.ap_id)).status_code == 202
    carol_says = Mastodon(carol, author=blog.actor(author), author_acct=blog.acct(author))
    assert carol.post(blog.shared_inbox, carol_says.announce(post.ap_id)).status_code == 202
    blog.eventually(  # counted where the fediverse reads them: the Article's collections
        lambda: reactions_on(bob, post),
        lambda counts: counts == (1, 1),
        what="the like and the boost counted",
    )

    edit = mastodon.update_reply(post.ap_id, 1, "Edited: an even better post.")
    assert bob.post(blog.inbox(author), edit).status_code == 202
    (edited,) = blog.eventually(
        lambda: comments_on(blog.page(post.url)),
        lambda comments: len(comments) == 1 and "even better" in comments[0].text,
        what="the reply edited",
    )
    assert "Lovely post" not in edited.text

    assert bob.post(blog.inbox(author), mastodon.delete_reply(1)).status_code == 202
    blog.eventually(
        lambda: comments_on(blog.page(post.url)),
        lambda comments: comments == [],
        what="the reply deleted",
    )

    assert bob.post(blog.inbox(author), mastodon.undo_follow()).status_code == 202
    blog.eventually(
        lambda: followers_count(blog, bob, author), lambda n: n == 1, what="bob's follow undone"
    )
    second = blog.publish(author, "After bob left")
    carol.wait_for(create_of(second), what="the second post at carol's")
    blog.settle()  # the blog would have sent bob's copy with carol's
    assert bob.received(create_of(second)) == []
    # And every Create went out once, retries and two senders notwithstanding.
    assert len(bob.received(create_of(post))) == 1
    assert len(carol.received(create_of(post))) == 1
    assert len(carol.received(create_of(second))) == 1


def reactions_on(remote: RemoteServer, post: Post) -> tuple[int, int]:
    """(likes, boosts) of `post`, as its Article tells the fediverse."""
    article = remote.fetch(post.ap_id).json()
    return article["likes"]["totalItems"], article["shares"]["totalItems"]


def remote_reply(blog: Blog, bob: RemoteServer, title: str) -> tuple[Mastodon, Post, Author]:
    """bob follows a new author, who publishes; bob replies: the comment is on the page."""
    author = blog.sign_up()
    mastodon = follow(blog, bob, author)
    post = blog.publish(author, title)
    assert bob.post(blog.inbox(author), mastodon.reply(post.ap_id, 2, "Me!")).status_code == 202
    blog.eventually(
        lambda: comments_on(blog.page(post.url)),
        lambda comments: len(comments) == 1,
        what="the reply as a comment",
    )
    return mastodon, post, author


def test_a_remote_reply_shows_its_authors_name_handle_and_profile(
    blog: Blog, remotes: list[RemoteServer]
) -> None:
    bob = remotes[0]
    _, post, _ = remote_reply(blog, bob, "Who wrote that?")
    (comment,) = comments_on(blog.page(post.url))
    assert bob.name in comment.text  # "Bob", the actor's name
    assert f"@bob@{bob.host}" in comment.text
    assert any(href in (bob.profile_url, bob.actor_id) for href, _ in comment.links)


def test_update_person_renames_the_remote_author_on_the_page(
    blog: Blog, remotes: list[RemoteServer]
) -> None:
    bob = remotes[0]
    mastodon, post, author = remote_reply(blog, bob, "Renamed since")
    bob.name = "Robert the Renamed"  # a profile edit on the remote, then its Update{Person}
    try:
        assert bob.post(blog.inbox(author), mastodon.update_person()).status_code == 202
        blog.eventually(
            lambda: comments_on(blog.page(post.url)),
            lambda comments: "Robert the Renamed" in comments[0].text,
            what="the cached actor refreshed by Update{Person}",
        )
    finally:
        bob.name = "Bob"


def test_a_follow_without_discovery_first_gets_its_accept(
    blog: Blog, remotes: list[RemoteServer]
) -> None:
    """Not every server fetches the actor before it follows: the author's key is made on
    first use, and signing the Accept is a use."""
    author = blog.sign_up()
    follow(blog, remotes[0], author, discover=False)


@pytest.mark.parametrize(
    "how", ["unsigned", "signed by another key", "body changed after signing", "actor not signer"]
)
def test_a_bad_signature_is_refused_with_401(
    blog: Blog, remotes: list[RemoteServer], how: str
) -> None:
    bob, carol = remotes
    author = blog.sign_up()
    mastodon = Mastodon(bob, author=blog.actor(author), author_acct=blog.acct(author))
    activity = mastodon.follow()
    if how == "unsigned":
        response = bob.post(blog.inbox(author), activity, signed=False)
    elif how == "signed by another key":
        response = bob.post(blog.inbox(author), activity, key=new_key())
    elif how == "body changed after signing":
        changed = {**activity, "actor": carol.actor_id}
        response = bob.post(
            blog.inbox(author), activity, body_after_signing=json.dumps(changed).encode()
        )
    else:  # bob's valid signature on an activity that claims to be carol's
        response = bob.post(blog.inbox(author), {**activity, "actor": carol.actor_id})
    assert response.status_code == 401, response.text
    blog.settle()  # had anything been queued, its Accept would have come by now
    assert bob.received(accept_of(activity)) == []
    assert carol.received(accept_of(activity)) == []
    assert followers_count(blog, bob, author) == 0


def test_what_is_not_an_activity_or_too_big_is_refused(
    blog: Blog, remotes: list[RemoteServer]
) -> None:
    bob = remotes[0]
    author = blog.sign_up()
    inbox = blog.inbox(author)
    not_activity = bob.post_body(inbox, b'["a list, not an activity"]')
    assert not_activity.status_code == 400, not_activity.text
    too_big = bob.post_body(
        inbox, json.dumps({"type": "Note", "content": "x" * 1_100_000}).encode()
    )
    assert too_big.status_code == 413, too_big.text


def test_a_blocked_domain_gets_403(blog: Blog) -> None:
    with remote_servers("127.0.0.9") as (dave,):
        author = blog.sign_up()
        status, _, err = blog.federation_cli("block", dave.host)
        assert status == 0, err
        mastodon = Mastodon(dave, author=blog.actor(author), author_acct=blog.acct(author))
        activity = mastodon.follow()
        response = dave.post(blog.inbox(author), activity)
        assert response.status_code == 403, response.text
        shared = dave.post(blog.shared_inbox, mastodon.like(blog.actor(author)))
        assert shared.status_code == 403, shared.text
        blog.settle()
        assert dave.received(accept_of(activity)) == []


def delete_of_actor(blog: Blog, author: Author) -> Callable[[Delivery], bool]:
    return lambda d: d.type == "Delete" and d.object_id == blog.actor(author)


def test_a_deleted_account_sends_its_followers_a_delete_of_the_actor(
    blog: Blog, remotes: list[RemoteServer]
) -> None:
    bob, carol = remotes
    blog.sign_up("first")  # the site's first account owns it, and an owner cannot leave
    author = blog.sign_up("leaving")
    follow(blog, bob, author)
    follow(blog, carol, author)
    post = blog.publish(author, "Soon gone")
    for remote in (bob, carol):
        remote.wait_for(create_of(post), what=f"the Create of the post at {remote.username}")
    with blog.client() as client:
        draft = client.post(
            "/api/posts",
            json={"title": "Never shown", "content": "Words.", "status": "draft"},
            headers=author.headers,
        )
    assert draft.status_code == 201, draft.text

    with blog.client() as client:
        response = client.delete(f"/api/users/{author.id}", headers=author.headers)
    assert response.status_code == 204, response.text

    for remote in (bob, carol):
        # Signed with the author's key, which the remote fetched from the actor's address:
        # the account is gone, the key is still served there.
        (delete,) = remote.wait_for(
            delete_of_actor(blog, author), what=f"the Delete of the author at {remote.username}"
        )
        assert delete.verified, delete.problem
        assert delete.path == "/inbox"
        assert delete.activity["actor"] == blog.actor(author)
    gone = bob.fetch(blog.actor(author)).json()
    assert gone["suspended"] is True
    # Its posts are gone, not unknown: 410 with a Tombstone, as a post deleted alone; the
    # draft no one saw stays unknown.
    gone_post = bob.fetch(post.ap_id)
    assert gone_post.status_code == 410, gone_post.text
    assert gone_post.json()["type"] == "Tombstone"
    assert bob.fetch(f"{blog.url}/posts/{draft.json()['id']}").status_code == 404
    assert "preferredUsername" not in gone  # nothing of the profile is left
    assert bob.webfinger_status(blog.url, blog.acct(author)) == 404
    blog.settle()  # sent once, not again
    assert len(bob.received(delete_of_actor(blog, author))) == 1
