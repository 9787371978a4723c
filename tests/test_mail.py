"""Building a mail: the same message as the email package's default policy makes, without
leaving classes behind for the garbage collector at every mail (fastblog.mail)."""

import email.policy
import gc
from collections.abc import Iterator
from email import message_from_bytes

import pytest
from aiosmtplib.email import flatten_message

from fastblog.mail import build_message

MAILS = 50

FIELDS = {
    "sender": "Blög <blog@example.com>",
    "to": "reader@example.com",
    "subject": "Ünïcode and a subject long enough to be folded over more than one line " * 2,
    "body": "Hello, readers.\nA line with ü and a link: https://blog.example/posts/1\n",
    "html": "<p>Hello, <a href='https://blog.example/posts/1'>readers</a> ü</p>",
    "headers": {
        "Message-ID": "<post-1.0123456789abcdef@blog.example>",
        "List-Id": '"Blog" <newsletter.blog.example>',
        "List-Unsubscribe": "<https://blog.example/unsubscribe/abc>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
}


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def flattened(policy: email.policy.EmailPolicy | None) -> bytes:
    message = build_message(**FIELDS)  # type: ignore[arg-type]
    if policy is not None:
        message.policy = policy
        for name in list(message.keys()):  # headers parsed again by the given policy
            values = message.get_all(name)
            del message[name]
            for value in values or ():
                message[name] = str(value)
    message.set_boundary("boundary")
    return flatten_message(message)


def test_the_message_is_what_the_default_policy_makes() -> None:
    ours = flattened(None)
    assert ours == flattened(email.policy.default)
    parsed = message_from_bytes(ours, policy=email.policy.default)
    assert str(parsed["Subject"]) == FIELDS["subject"]
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = parsed.iter_parts()
    assert text.get_content().replace("\r\n", "\n") == FIELDS["body"]
    assert html.get_content().strip() == FIELDS["html"]


@pytest.mark.usefixtures("collector_off")
def test_building_mails_leaves_no_cycles_for_the_collector() -> None:
    for _ in range(MAILS):
        flatten_message(build_message(**FIELDS))  # type: ignore[arg-type]
    # The email package's own registry left ~90 objects a mail (a new class per header).
    assert gc.collect() == 0
