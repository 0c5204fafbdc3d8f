"""static/css/theme.css: the dark theme is written twice (picked by the person, or asked for by the
system), and every colour of the other stylesheets comes from its tokens."""

from __future__ import annotations

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "static" / "css"
THEME = (STATIC / "theme.css").read_text()


def declarations(block_start: str) -> dict[str, str]:
    """The custom properties of the rule starting at `block_start`, up to its closing brace."""
    body = THEME[THEME.index(block_start) + len(block_start) :]
    body = body[: body.index("}")]
    return dict(re.findall(r"(--[\w-]+|color-scheme):\s*([^;]+);", body))


def test_both_copies_of_the_dark_theme_are_the_same():
    picked = declarations(':root[data-theme="dark"] {')
    system = declarations(':root:not([data-theme="light"]) {')

    assert picked == system
    assert picked["color-scheme"] == "dark"


def test_the_dark_theme_sets_every_colour_the_light_one_does():
    light = {name for name in declarations(":root {") if name.startswith("--")}
    dark = set(declarations(':root[data-theme="dark"] {'))
    # Not colours: the same in both themes.
    shared = {"--font", "--radius", "--radius-sm", "--topbar-height"}

    assert light - shared - dark == set()


def test_the_other_stylesheets_take_their_colours_from_the_theme():
    for name in ("app.css", "list.css"):
        css = re.sub(r"/\*.*?\*/", "", (STATIC / name).read_text(), flags=re.S)
        assert re.findall(r"#[0-9a-fA-F]{3,8}\b|rgba?\(|hsla?\(", css) == [], name
