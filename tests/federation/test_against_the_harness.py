"""The remote harness itself, with no blog: two remote servers on their own addresses, one
signing (apsig) and one verifying (apsig, with the key fetched from the signer's actor). If the
harness let a bad signature through, the suite's checks of the app's signatures would prove
nothing; so each way Mastodon refuses a request is refused here too."""

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.federation.remote import RemoteServer, new_key, remote_servers
from tests.federation.remote_fixtures import Mastodon


@pytest.fixture(scope="module")
def pair() -> Iterator[list[RemoteServer]]:
    with remote_servers("127.0.0.2", "127.0.0.3") as servers:
        yield servers


def follow_of(bob: RemoteServer, carol: RemoteServer) -> dict[str, object]:
    return Mastodon(bob, author=carol.actor_id, author_acct=carol.acct).follow()


def test_a_signed_follow_is_verified_with_the_key_of_the_signers_actor(
    pair: list[RemoteServer],
) -> None:
    bob, carol = pair
    follow = follow_of(bob, carol)
    response = bob.post(carol.inbox, follow)
    assert response.status_code == 202, response.text
    (delivery,) = carol.received(lambda d: d.activity == follow)
    assert delivery.verified, delivery.problem
    assert delivery.key_id == bob.key_id
    assert "/users/bob" in bob.fetches  # carol fetched bob's actor for the key


def test_the_headers_mastodon_sends_are_verified(pair: list[RemoteServer]) -> None:
    bob, carol = pair
    like = Mastodon(bob, author=carol.actor_id, author_acct=carol.acct).like(carol.actor_id)
    response = bob.post_as_mastodon(carol.shared_inbox, like)
    assert response.status_code == 202, response.text
    (delivery,) = carol.received(lambda d: d.activity == like)
    assert delivery.headers["user-agent"].startswith("http.rb/")
    signed = delivery.headers["signature"].split('headers="')[1].split('"')[0]
    assert signed == "(request-target) host date digest content-type"


@pytest.mark.parametrize(
    ("how", "problem"),
    [
        ("unsigned", "no Signature header"),
        ("another key", "signature refused"),
        ("body changed after signing", "Digest mismatch"),
    ],
)
def test_what_mastodon_refuses_is_refused(pair: list[RemoteServer], how: str, problem: str) -> None:
    bob, carol = pair
    follow = follow_of(bob, carol)
    before = len(carol.deliveries)
    if how == "unsigned":
        response = bob.post(carol.inbox, follow, signed=False)
    elif how == "another key":
        response = bob.post(carol.inbox, follow, key=new_key())
    else:
        changed = json.dumps({**follow, "object": f"{carol.base}/users/someone-else"})
        response = bob.post(carol.inbox, follow, body_after_signing=changed.encode())
    assert response.status_code == 401
    (delivery,) = carol.deliveries[before:]
    assert not delivery.verified
    assert problem in delivery.problem


def test_a_signature_by_someone_else_than_the_actor_is_refused(pair: list[RemoteServer]) -> None:
    bob, carol = pair
    # Signed with bob's key, but claiming to be carol's own follow of herself.
    forged = {**follow_of(bob, carol), "actor": carol.actor_id, "id": f"{bob.base}/forged"}
    response = bob.post(carol.inbox, forged)
    assert response.status_code == 401
    (delivery,) = carol.received(lambda d: d.activity == forged)
    assert "someone else" in delivery.problem


def test_a_signature_without_an_algorithm_is_verified_as_mastodon_does(
    pair: list[RemoteServer],
) -> None:
    """Mastodon takes a Signature with no algorithm (or "hs2019"); so does the remote, or an
    app that leaves it out would look broken here and work with Mastodon."""
    bob, carol = pair
    follow = follow_of(bob, carol)
    body = json.dumps(follow).encode()
    headers = bob.signed_headers(carol.inbox, body)
    headers["Signature"] = headers["Signature"].replace('algorithm="rsa-sha256",', "")
    assert "algorithm" not in headers["Signature"]
    before = len(carol.deliveries)
    response = httpx.post(carol.inbox, content=body, headers=headers, trust_env=False)
    assert response.status_code == 202, response.text
    (delivery,) = carol.deliveries[before:]
    assert delivery.verified, delivery.problem
    assert delivery.key_id == bob.key_id
