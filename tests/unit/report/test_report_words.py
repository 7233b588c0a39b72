"""Plain words for numbers: rounding, percentages, chance words, money, labels."""

from __future__ import annotations

import pytest

from trialkit.report import words


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-0.614, "0.6"),
        (0.61, "0.6"),
        (24.26, "24.3"),
        (1234.5, "1,234"),
        (0.0432, "0.043"),
        (0.0, "0"),
        (6.0, "6"),
        (float("nan"), "not available"),
    ],
)
def test_number_rounds_for_reading(value, expected):
    assert words.number(value) == expected


def test_number_keeps_sign_only_when_asked():
    assert words.number(-3.0, signed=True) == "-3"
    assert words.number(-0.01, signed=False) == "0.01"


@pytest.mark.parametrize(
    ("p", "places", "expected"),
    [
        (0.9312, 0, "93%"),
        (0.014, 1, "1.4%"),
        (0.9991, 0, "more than 99%"),
        (0.002, 0, "less than 1%"),
        (1.0, 0, "100%"),
        (0.0, 0, "0%"),
    ],
)
def test_percent_never_rounds_to_certainty(p, places, expected):
    assert words.percent(p, places=places) == expected


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.99, "almost certain"),
        (0.93, "highly likely"),
        (0.6, "likely"),
        (0.45, "a realistic possibility"),
        (0.3, "unlikely"),
        (0.1, "highly unlikely"),
        (0.01, "a remote chance"),
    ],
)
def test_chance_words_follow_the_yardstick(p, expected):
    assert words.chance_words(p) == expected


def test_natural_frequency():
    assert words.natural_frequency(0.061) == "about 6 in 100"
    assert words.natural_frequency(0.002) == "fewer than 1 in 100"
    assert words.natural_frequency(0.25, base=1000) == "about 250 in 1000"


def test_money_and_quantity_units():
    assert words.money(9200, "GBP") == "£9,200"
    assert words.money(-3781.4, "GBP", signed=True) == "-£3,781"
    assert words.money(12, "NOK") == "12 NOK"
    assert words.quantity(-110, "GBP") == "£110"
    assert words.quantity(0.61, "points") == "0.6 points"
    assert words.quantity(1, "days") == "1 day"


def test_plural_and_short_label():
    assert [words.plural(n) for n in ("team", "staff", "family", "client")] == [
        "teams",
        "staff",
        "families",
        "clients",
    ]
    assert words.short_label("Loneliness (UCLA 3-item scale)") == "loneliness"
    assert words.short_label("SWEMWBS score") == "SWEMWBS score"


@pytest.mark.parametrize(
    ("estimate", "lower_is_better", "expected"),
    [
        (-0.6, True, ("lower", True)),
        (0.6, True, ("higher", False)),
        (0.6, False, ("higher", True)),
        (-0.6, False, ("lower", False)),
    ],
)
def test_comparison_direction_of_benefit(estimate, lower_is_better, expected):
    assert words.comparison(estimate, lower_is_better=lower_is_better) == expected
