"""A honeypot field for the forms strangers can send (a comment, a sign-up).

People never see it (off-screen, out of the tab order, autocomplete off); a screen reader
reads its label, "Leave this field empty". Robots that fill in every field fill it too.

Filled, the submission is refused, not silently dropped: the form comes back (422) with
what was written and a plain message saying why. A person whose browser or screen reader
filled it by mistake keeps their text and can send again; a silent drop (what WordPress
plugins tend to do) would lose a real comment without a word. Drupal's Honeypot module
refuses the same way. Robots do not read the answer, so it teaches them nothing they act on.
"""

from typing import Any

# A plain field name that no browser autofills (not "url", "website", "fax", "nickname").
HONEYPOT = "subject"
CAUGHT = (
    "This was not sent: the hidden field “Leave this field empty” was filled in, as spam "
    "robots do. Leave it empty and send again."
)


def caught(form: Any) -> bool:
    """Whether the submitted form filled in the honeypot."""
    return bool(str(form.get(HONEYPOT, "")).strip())
