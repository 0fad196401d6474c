"""The SVG bar charts: accessible names, every value written out, patterns, safe text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from webapp.charts import Series, bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def chart(**overrides: object) -> str:
    values: dict[str, object] = {
        "chart_id": "essai",
        "title": "Séances par volet",
        "description": "Séances tenues et annulées.",
        "categories": ["Axe 1", "Axe 2 – Lutte contre l'isolement des personnes"],
        "series": [Series("Tenues", (4, 0)), Series("Annulées", (1, 2.5))],
    }
    values.update(overrides)
    return str(bar_chart(**values))  # type: ignore[arg-type]


def test_the_chart_is_a_named_described_image() -> None:
    root = ET.fromstring(chart())
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "essai-titre"
    assert root.get("aria-describedby") == "essai-description"
    assert root.find(f"{SVG}title").text == "Séances par volet"  # type: ignore[union-attr]
    desc = root.find(f"{SVG}desc").text  # type: ignore[union-attr]
    assert desc == (
        "Séances tenues et annulées. Axe 1 : tenues 4, annulées 1 ; "
        "Axe 2 – Lutte contre l'isolement des personnes : tenues 0, annulées 2,5."
    )


def test_every_value_is_written_and_zero_draws_no_bar() -> None:
    root = ET.fromstring(chart())
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert [t for t in texts if re.fullmatch(r"[\d,]+", t)] == ["4", "1", "0", "2,5"]
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("height") == "22"]
    assert len(bars) == 3  # 4, 1 and 2.5; the zero has its number but no bar
    widths = sorted(float(b.get("width", 0)) for b in bars)
    assert widths[-1] == pytest.approx(640 - 250 - 70)  # the largest value fills the room
    assert widths[0] == pytest.approx(320 / 4)


def test_series_differ_by_pattern_not_only_colour() -> None:
    svg = chart()
    root = ET.fromstring(svg)
    fills = {r.get("fill") for r in root.iter(f"{SVG}rect") if r.get("height") == "22"}
    assert fills == {"#0b4f8a", "url(#essai-hatched)"}
    assert '<pattern id="essai-hatched"' in svg
    legend = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "Tenues" in legend and "Annulées" in legend


def test_long_labels_go_on_two_lines_and_text_is_escaped() -> None:
    root = ET.fromstring(
        chart(categories=["<b>Axe</b> & co", "Axe 2 – Lutte contre l'isolement des personnes"])
    )
    labels = [t for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert "".join(labels[0].itertext()) == "<b>Axe</b> & co"
    assert [s.text for s in labels[1]] == ["Axe 2 – Lutte contre", "l'isolement des personnes"]


def test_a_single_series_has_no_legend_and_ids_are_per_chart() -> None:
    one = chart(chart_id="a", series=[Series("Personnes", (3, 1))])
    other = chart(chart_id="b", series=[Series("Personnes", (3, 1))])
    assert "Personnes" not in re.sub(r"<(title|desc)[^>]*>.*?</\1>", "", one)
    assert 'id="a-titre"' in one and 'id="b-titre"' in other


def test_values_must_match_the_categories() -> None:
    with pytest.raises(ValueError, match="une valeur par catégorie"):
        chart(series=[Series("Tenues", (1,))])
