"""Validation errors in plain words: what a 422 (JSON or a form) says for each kind of bad input.

pydantic's own messages name its internals ("Input should be a valid integer, unable to parse
string as an integer") or quote a regular expression ("String should match pattern '^[^\\x00]*$'").
A person reads the message, a program reads `type` and `loc`, which stay pydantic's."""

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
