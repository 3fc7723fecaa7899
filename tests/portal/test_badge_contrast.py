"""Badges meet WCAG AA contrast (4.5:1 for their small text): "Closed now" (badge-muted) was
Pico's muted grey on its muted border, 4.4:1 light and 4.0:1 dark; the unread count in the
navigation (badge-alert) had its colours only in page sheets, so elsewhere it was link blue on grey.

The stylesheets are parsed: each badge rule must give a fixed text and background colour, and the
pair's contrast ratio is computed as WCAG 2.x defines it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

SHEETS = Path(settings.BASE_DIR) / "static" / "portal"
RULE = re.compile(r"([^{}]+)\{([^}]*)\}")
HEX = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")


def luminance(hex_colour: str) -> float:
    digits = hex_colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = []
    for i in (0, 2, 4):
        v = int(digits[i : i + 2], 16) / 255
        channels.append(v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def declarations(body: str) -> dict[str, str]:
    pairs = (part.split(":", 1) for part in body.split(";") if ":" in part)
    return {name.strip(): value.strip() for name, value in pairs}


def badge_rules() -> list[tuple[str, str, dict[str, str]]]:
    rules = []
    for sheet in sorted(SHEETS.glob("*.css")):
        text = re.sub(r"/\*.*?\*/", "", sheet.read_text(), flags=re.DOTALL)
        for selector, body in RULE.findall(text):
            if re.search(r"\.(state-)?badge-[a-z]|\.state-badge\b", selector):
                props = declarations(body)
                if "color" in props or "background" in props:
                    rules.append((sheet.name, selector.strip(), props))
    return rules


def test_the_formula_matches_known_ratios():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#646b79", "#e7eaf0") < 4.5  # Pico's muted pair, the old "Closed now"


def test_the_parser_finds_the_badges():
    selectors = {selector for _sheet, selector, _props in badge_rules()}
    assert {".badge-muted", ".badge-alert", ".badge-ok", ".badge-warn"} <= selectors


@pytest.mark.parametrize(("sheet", "selector", "props"), badge_rules())
def test_every_badge_has_fixed_colours_with_aa_contrast(sheet, selector, props):
    colour, background = props.get("color", ""), props.get("background", "")
    assert HEX.fullmatch(colour) and HEX.fullmatch(background), (
        f"{sheet} {selector}: a theme variable cannot be checked (and Pico's muted pair fails)"
    )
    assert contrast(colour, background) >= 4.5, (sheet, selector, contrast(colour, background))


def test_the_badges_on_every_page_are_in_the_global_sheet():
    """The unread count sits in the navigation of every page: its colours must not depend on a
    page loading engagements.css."""
    text = (SHEETS / "portal.css").read_text()
    assert re.search(r"^\.badge-alert\s*\{", text, flags=re.MULTILINE)
    assert re.search(r"^\.badge-muted\s*\{", text, flags=re.MULTILINE)
