"""Colours people can read: every colour pair of the stylesheet and of the code highlighting
at 4.5:1 or more (WCAG 2.x AA for body text), computed from main.css and the Pygments style
themselves with WCAG's relative luminance. The site has one colour scheme (main.css has no
prefers-color-scheme rule; a test below keeps it so until a dark one is checked here too).
The browser tests run axe-core on the rendered pages as well (tests/browser/test_validators.py).
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pygments.styles import get_style_by_name
from pygments.token import Whitespace

from fastblog.posts.markdown import CODE_STYLE, stylesheet

STATIC = Path(__file__).resolve().parents[2] / "src" / "fastblog" / "static"
CSS = (STATIC / "css" / "main.css").read_text()
CODE_CSS = (STATIC / "css" / "code.css").read_text()
AA = 4.5


def luminance(hex_colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def rules(css: str = CSS) -> Iterator[tuple[str, dict[str, str]]]:
    """Each rule's selector and declarations, those inside @media blocks too."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = dict(
            (name.strip(), value.strip())
            for name, _, value in (part.partition(":") for part in body.split(";"))
            if value.strip()
        )
        yield " ".join(selector.split()), declarations


def variables() -> dict[str, str]:
    return {
        name: value
        for selector, declarations in rules()
        if selector == ":root"
        for name, value in declarations.items()
        if name.startswith("--")
    }


def rule(selector: str) -> dict[str, str]:
    found = [declarations for name, declarations in rules() if name == selector]
    assert found, selector
    return found[0]


def colour(value: str) -> str | None:
    """A solid colour as #rrggbb; None for inherit, none, transparent and the like."""
    value = value.strip().split()[0] if value.strip().startswith("#") else value.strip()
    if value.startswith("var("):
        name, _, fallback = value[4:-1].partition(",")
        value = variables().get(name.strip(), fallback.strip())
    if value == "inherit":
        return variables()["--fg"]
    if re.fullmatch(r"#[0-9a-fA-F]{3}", value):
        value = "#" + "".join(digit * 2 for digit in value[1:])
    return value.lower() if re.fullmatch(r"#[0-9a-fA-F]{6}", value) else None


def declared(selector: str, name: str) -> str:
    value = colour(rule(selector)[name])
    assert value, (selector, name)
    return value


def ground(declarations: dict[str, str]) -> str | None:
    return colour(declarations.get("background-color", declarations.get("background", "none")))


HEADER = ".site-header"
ON_THE_HEADER = (".nav", ".brand", ".search-box")


def test_contrast_formula() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#2f6fdf", "#f5f7fa") == pytest.approx(4.39, abs=0.01)  # the old link colour


def test_one_colour_scheme() -> None:
    assert "prefers-color-scheme" not in CSS + CODE_CSS


def test_every_rule_with_its_own_colours_is_readable() -> None:
    """A rule that sets both the text colour and the ground (a button, a flash, a tag)."""
    checked = []
    for selector, declarations in rules():
        text = colour(declarations.get("color", "none"))
        under = ground(declarations)
        if text and under:
            checked.append(selector)
            assert contrast(text, under) >= AA, f"{selector}: {contrast(text, under):.2f}:1"
    assert len(checked) >= 8, checked


def test_every_text_colour_is_readable_on_the_grounds_it_sits_on() -> None:
    """A rule that sets a text colour only sits on the page, a card or a code block's ground
    (or, in the header, on the header's)."""
    page_grounds = {
        "the page": declared(":root", "background"),
        "a card": colour(variables()["--card"]),
        "a code block": declared(".prose pre", "background"),
        "inline code": declared(".prose code", "background"),
    }
    header = declared(HEADER, "background")
    checked = 0
    for selector, declarations in rules():
        text = colour(declarations.get("color", "none"))
        if not text or ground(declarations):
            continue
        grounds = (
            {"the header": header}
            if selector.startswith(ON_THE_HEADER)
            else {name: value for name, value in page_grounds.items() if value}
        )
        for name, value in grounds.items():
            checked += 1
            ratio = contrast(text, value)
            assert ratio >= AA, f"{selector} on {name}: {ratio:.2f}:1"
    assert checked >= 20


@pytest.mark.parametrize(
    ("what", "foreground", "background"),
    [
        (
            "a button's text when pointed at",
            (".button, button", "color"),
            (".button:hover, button:hover", "background"),
        ),
        ("a danger button's text", (".button, button", "color"), (".button-danger", "background")),
        ("a link in inline code", ("a", "color"), (".prose code", "background")),
        ("a table heading", (":root", "color"), (".prose th", "background")),
        ("a header link pointed at", (".nav-links a:hover", "color"), (HEADER, "background")),
        ("the search field's text", (":root", "color"), (".search-box input", "background")),
    ],
)
def test_text_inherited_from_elsewhere_is_readable(
    what: str, foreground: tuple[str, str], background: tuple[str, str]
) -> None:
    ratio = contrast(declared(*foreground), declared(*background))
    assert ratio >= AA, f"{what}: {ratio:.2f}:1"


def test_the_code_stylesheet_is_the_styles_own() -> None:
    """static/css/code.css is generated: `python -m fastblog.posts.markdown > ...`."""
    assert stylesheet() in CODE_CSS


def test_every_highlighted_token_is_readable_on_the_code_blocks_ground() -> None:
    """The 2.75:1 comments of the old style were what a validator found first."""
    style = get_style_by_name(CODE_STYLE)
    grounds = {
        "the style's": colour(style.background_color),
        ".prose pre": declared(".prose pre", "background"),
        ".markdown pre": declared(".markdown pre", "background"),
    }
    checked = 0
    for token, definition in style:
        # Whitespace tokens have no glyphs to read.
        if not definition["color"] or token in Whitespace:
            continue
        text = "#" + definition["color"].lower()
        for name, value in grounds.items():
            under = "#" + definition["bgcolor"].lower() if definition["bgcolor"] else value
            assert under
            checked += 1
            ratio = contrast(text, under)
            assert ratio >= AA, f"{token} on {name} ground: {ratio:.2f}:1"
    assert checked > 50
