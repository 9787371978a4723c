"""Validation errors in plain words: what a 422 (JSON or a form) says for each kind of bad input.

pydantic's own messages name its internals ("Input should be a valid integer, unable to parse
string as an integer") or quote a regular expression ("String should match pattern '^[^\\x00]*$'").
A person reads the message, a program reads `type` and `loc`, which stay pydantic's."""

from collections.abc import Sequence
from typing import Any

from fastblog.params import NO_NUL, NOT_BLANK

# Patterns shared by many fields; a field with a rule of its own checks it in a validator
# that raises ValueError with its own message.
# A picture uploaded here (fastblog.media), by its /media URL, with or without the site's address.
PICTURE_URL_PATTERN = r"^(https?://[^/\s]+)?/media/pictures/[0-9a-f]{20}\.(jpg|png|webp)$"

PATTERNS = {
    PICTURE_URL_PATTERN: "Must be the /media/pictures/... address of a picture uploaded here.",
    NO_NUL: "Must not contain the NUL character.",
    NOT_BLANK: "Must contain something besides blanks, and no NUL character.",
    "^password$": "Must be “password”, or left out.",
}


def _characters(count: int) -> str:
    return f"{count:,} character{'' if count == 1 else 's'}"


def _items(count: int) -> str:
    return f"{count:,} item{'' if count == 1 else 's'}"


def plain_message(error: Any) -> str:  # a pydantic ErrorDetails, or a dict shaped like one
    kind: str = error["type"]
    context: dict[str, Any] = error.get("ctx") or {}
    if kind == "missing":
        return "This field is required." if len(error.get("loc", ())) > 1 else "A body is required."
    if kind == "string_too_short":
        if context["min_length"] == 1:
            return "Must not be empty."
        return f"Must be at least {_characters(context['min_length'])} long."
    if kind == "string_too_long":
        return f"Must be at most {_characters(context['max_length'])} long."
    if kind == "too_short":
        return f"Must have at least {_items(context['min_length'])}."
    if kind == "too_long":
        return f"Must have at most {_items(context['max_length'])}."
    if kind == "string_pattern_mismatch":
        return PATTERNS.get(context.get("pattern", ""), "Contains a character not allowed here.")
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return "Must be a whole number."
    if kind in {"float_parsing", "float_type", "finite_number"}:
        return "Must be a number."
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        bound = next(iter(context.values()))
        words = {
            "greater_than_equal": "at least",
            "greater_than": "more than",
            "less_than_equal": "at most",
            "less_than": "less than",
        }
        return f"Must be {words[kind]} {bound:,}."
    if kind in {"string_type", "string_unicode", "str_type"}:
        return "Must be text."
    if kind in {"bool_parsing", "bool_type"}:
        return "Must be true or false."
    if kind in {"list_type", "tuple_type", "set_type"}:
        return "Must be a list."
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return "Must be a JSON object with the fields described in the API documentation."
    if kind in {"literal_error", "enum"}:
        return f"Must be one of: {context.get('expected', '')}."
    if kind in {"datetime_parsing", "datetime_type", "datetime_from_date_parsing"}:
        return "Must be a date and time such as 2026-12-24T09:00:00Z."
    if kind == "timezone_aware":
        return "Must say its time zone, such as Z or +01:00 at the end."
    if kind == "json_invalid":
        return "The body is not valid JSON."
    if kind == "extra_forbidden":
        return "Is not a field this accepts."
    if kind in {"url_parsing", "url_type", "url_scheme", "url_syntax_violation"}:
        return "Must be a web address starting with http:// or https://."
    # Our own: ValueError in a validator, PydanticCustomError, or an error built by hand.
    message = str(error.get("msg", ""))
    if kind in {"value_error", "assertion_error"}:
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        # email-validator's reasons follow pydantic's prefix; the reason alone is plain.
        prefix = "value is not a valid email address: "
        if message.startswith(prefix):
            return f"Not an email address: {message.removeprefix(prefix)}"
    return message[:1].upper() + message[1:]


# What a reader calls each input of a page, for the HTML 422 page: the label of the form field
# that sends it, or, for what travels in the address, what it is. JSON errors keep `loc`.
FIELD_LABELS = {
    # Form fields, as the forms label them.
    "email": "Email",
    "password": "Password",
    "current_password": "Current password",
    "new_password": "New password",
    "username": "Username",
    "body": "Your comment",
    "picture": "Upload a new picture",
    "role": "Role",
    "q": "Search posts",
    # Hidden fields and the address.
    "next": "The page to go back to",
    "token": "The link from the mail",
    "page": "The page number",
    "cursor": "The link to the next page",  # "Older posts", "More comments", ...
    "before": "The link to the page before",
    "tag": "The tag",
    "author": "The author",
    "post_id": "The post number in the address",
    "user_id": "The account number in the address",
    "comment_id": "The comment number in the address",
    "invitation_id": "The invitation number in the address",
    "number": "The number in the address",
    "slug": "The address",
}
# Where a form labels a field its own way: the address the form is sent to, then the field.
FORM_LABELS = {
    "/login": {"email": "Email or username"},
    "/account/delete": {"password": "Your password, to confirm"},
}
# What a link's cursor that is not the site's own means to the person who followed it.
STALE_LINK = "it is not a link this list gave out; start again from its first page."


def field_label(name: str, path: str = "") -> str:
    """The field `name` as the form sent to `path` labels it (or the address names it)."""
    own = FORM_LABELS.get(path, {})
    return own.get(name) or FIELD_LABELS.get(name) or name.replace("_", " ").capitalize()


def page_message(errors: Sequence[Any], path: str) -> str:
    """Plain words for a page's 422: each invalid field by its label, with what is wrong."""
    lines = []
    for error in errors:
        loc = error.get("loc", ())
        if len(loc) < 2 or error["type"] == "body_unreadable":  # the body as a whole
            lines.append("The form could not be read: please send it again.")
            continue
        name = str(loc[-1])
        message = plain_message(error)
        if name in {"cursor", "before"}:  # whatever is wrong with it, the reader followed it
            message = STALE_LINK
        lines.append(f"{field_label(name, path)}: {message[:1].lower()}{message[1:]}")
    return " ".join(dict.fromkeys(lines))  # a field wrong twice is said once
