"""Plain words for numbers: rounding, money, probabilities and comparisons.

Pure functions used by the report's plain-language summary. They follow GOV.UK style:
short sentences, numbers as digits, natural units and natural frequencies, and the UK
intelligence community's probability yardstick for words about chance.

Examples
--------
>>> number(-0.614)
'0.6'
>>> percent(0.9312)
'93%'
>>> chance_words(0.93)
'highly likely'
>>> money(9200, "GBP")
'£9,200'
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}

#: Lower bounds of the Professional Head of Intelligence Assessment probability yardstick,
#: with the gaps between its bands closed at their midpoints.
_YARDSTICK: tuple[tuple[float, str], ...] = (
    (0.95, "almost certain"),
    (0.775, "highly likely"),
    (0.525, "likely"),
    (0.375, "a realistic possibility"),
    (0.225, "unlikely"),
    (0.05, "highly unlikely"),
    (0.0, "a remote chance"),
)


def number(value: float, *, signed: bool = False) -> str:
    """Round a magnitude for reading: commas above 1,000, one decimal from 0.1, else 2 sf.

    Parameters
    ----------
    value
        The number.
    signed
        Keep a leading minus sign (otherwise the magnitude is shown).

    Returns
    -------
    str
        The rounded number as text.

    Examples
    --------
    >>> number(1234.5), number(24.26), number(0.0432), number(-3, signed=True)
    ('1,234', '24.3', '0.043', '-3')
    """
    if not math.isfinite(value):
        return "not available"
    shown = value if signed else abs(value)
    size = abs(shown)
    if size >= 100:
        text = f"{shown:,.0f}"
    elif size >= 0.1 or size == 0:
        text = f"{shown:.1f}"
        text = text[:-2] if text.endswith(".0") else text
    else:
        text = f"{shown:.2g}"
    return "0" if text in ("-0", "-0.0") else text


def percent(probability: float, *, places: int = 0) -> str:
    """A probability or share as a percentage, never "0%" or "100%" unless exact.

    Examples
    --------
    >>> percent(0.014, places=1), percent(0.9991), percent(0.002), percent(1.0)
    ('1.4%', 'more than 99%', 'less than 1%', '100%')
    """
    if not math.isfinite(probability):
        return "not available"
    if probability in (0.0, 1.0):
        return f"{probability * 100:.0f}%"
    scaled = probability * 100
    low, high = 10.0**-places, 100 - 10.0**-places
    if round(scaled, places) < low:
        return f"less than {low:g}%"
    if round(scaled, places) > high:
        return f"more than {high:g}%"
    return f"{scaled:.{places}f}%"


def chance(probability: float) -> str:
    """A probability estimated from posterior draws: never "0%" or "100%".

    A share of draws of exactly 0 or 1 means below or above what the draws can resolve,
    not certainty.

    Examples
    --------
    >>> chance(0.0), chance(0.957), chance(1.0), chance(0.0004)
    ('less than 1%', '96%', 'more than 99%', 'less than 1%')
    """
    if not math.isfinite(probability):
        return "not available"
    return percent(min(max(probability, 1e-9), 1 - 1e-9))


def fixed(value: float, digits: int) -> str:
    """A magnitude with ``digits`` decimals and thousands separators: the report's one rule.

    Tables and sentences show the same quantity with the same decimals, chosen once per
    outcome by :func:`trialkit.report.tables.digits_for`.

    Examples
    --------
    >>> fixed(-0.6123, 2), fixed(1234.5, 0), fixed(0.0, 2)
    ('0.61', '1,234', '0.00')
    """
    if not math.isfinite(value):
        return "not available"
    return f"{abs(value):,.{digits}f}"


def amount(value: float, unit: str, digits: int) -> str:
    """A magnitude in its unit with fixed decimals: "0.61 points", "£127", "1 day".

    Examples
    --------
    >>> amount(-0.61, "points", 2), amount(126.7, "GBP", 0), amount(1.0, "days", 0)
    ('0.61 points', '£127', '1 day')
    """
    if re.fullmatch(r"[A-Z]{3}", unit or ""):
        symbol = _SYMBOLS.get(unit)
        text = fixed(value, digits)
        return f"{symbol}{text}" if symbol else f"{text} {unit}"
    text = fixed(value, digits)
    if not unit:
        return text
    if text == "1" and unit.endswith("s"):
        unit = unit[:-1]
    return f"{text} {unit}"


def estimated_share(value: float, *, places: int = 0) -> str:
    """An estimated share (a rate with an interval): never "0%" or "100%".

    Examples
    --------
    >>> estimated_share(0.0), estimated_share(0.012, places=1), estimated_share(1.0)
    ('less than 1%', '1.2%', 'more than 99%')
    """
    if not math.isfinite(value):
        return "not available"
    return percent(min(max(value, 1e-9), 1 - 1e-9), places=places)


#: Counts of people below this are published as "fewer than 5" (small-cell suppression).
SMALL_CELL = 5


def few(count: int) -> str:
    """A count of people for publication: 1 to 4 read "fewer than 5", so no one is picked out.

    Examples
    --------
    >>> few(0), few(3), few(18), few(1250)
    ('0', 'fewer than 5', '18', '1,250')
    """
    return f"fewer than {SMALL_CELL}" if 0 < count < SMALL_CELL else f"{count:,}"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def period_label(period: str) -> str:
    """A budget period's label for reading: "2027-03" → "Mar 2027", "2027-Q2" → "Q2 2027".

    Examples
    --------
    >>> period_label("2027-03"), period_label("2027-Q2"), period_label("2027-W09")
    ('Mar 2027', 'Q2 2027', 'week 9 of 2027')
    >>> period_label("2027")
    '2027'
    """
    if m := re.fullmatch(r"(\d{4})-(\d{2})", period):
        return f"{_MONTHS[int(m[2]) - 1]} {m[1]}" if 1 <= int(m[2]) <= 12 else period
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", period):
        return f"Q{m[2]} {m[1]}"
    if m := re.fullmatch(r"(\d{4})-W(\d{2})", period):
        return f"week {int(m[2])} of {m[1]}"
    return period


def lower_first(text: str) -> str:
    """Lower-case the first word unless it is an acronym, for use mid-sentence.

    Examples
    --------
    >>> lower_first("A peer panel"), lower_first("Prior approval"), lower_first("NHS funds")
    ('a peer panel', 'prior approval', 'NHS funds')
    """
    first = text.split(" ", 1)[0]
    keep = len(first) > 1 and not first[1:].islower()
    return text if keep or first == "I" else text[:1].lower() + text[1:]


def chance_words(probability: float) -> str:
    """Words for a probability on the UK intelligence probability yardstick.

    Examples
    --------
    >>> chance_words(0.99), chance_words(0.6), chance_words(0.02)
    ('almost certain', 'likely', 'a remote chance')
    """
    for bound, words in _YARDSTICK:
        if probability >= bound:
            return words
    return _YARDSTICK[-1][1]


def natural_frequency(share: float, *, base: int = 100) -> str:
    """A share as "about N in BASE".

    Examples
    --------
    >>> natural_frequency(0.061)
    'about 6 in 100'
    >>> natural_frequency(0.0021, base=100)
    'fewer than 1 in 100'
    """
    count = share * base
    if 0 < count < 0.5:
        return f"fewer than 1 in {base}"
    return f"about {round(count):d} in {base}"


def money(amount: float, currency: str = "GBP", *, signed: bool = False) -> str:
    """An amount with its currency symbol, whole units above 10.

    Examples
    --------
    >>> money(-3781.4, signed=True), money(4.5, "EUR"), money(12, "NOK")
    ('-£3,781', '€4.50', '12 NOK')
    """
    sign = "-" if signed and amount < 0 else ""
    size = abs(amount)
    digits = f"{size:,.0f}" if size >= 10 or size == int(size) else f"{size:,.2f}"
    symbol = _SYMBOLS.get(currency)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{digits} {currency}"


def quantity(value: float, unit: str, currency: str | None = None) -> str:
    """A magnitude with its unit: money for a currency code, else "0.6 points".

    Examples
    --------
    >>> quantity(-110, "GBP"), quantity(0.61, "points"), quantity(1, "days")
    ('£110', '0.6 points', '1 day')
    """
    if re.fullmatch(r"[A-Z]{3}", unit or ""):
        return money(abs(value), unit)
    text = number(value)
    if not unit:
        return text
    if text == "1" and unit.endswith("s"):
        unit = unit[:-1]
    return f"{text} {unit}"


def plural(noun: str) -> str:
    """A simple English plural for unit names ("team" → "teams", "staff" → "staff").

    Examples
    --------
    >>> plural("team"), plural("staff"), plural("family"), plural("clients")
    ('teams', 'staff', 'families', 'clients')
    """
    noun = noun.replace("_", " ")
    if noun.endswith(("staff", "s", "people", "data")):
        return noun
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def listed(items: Sequence[str]) -> str:
    """Items as a sentence lists them: ``a``, ``a and b``, ``a, b and c``.

    Examples
    --------
    >>> listed(["loneliness"]), listed(["loneliness", "wellbeing", "control"])
    ('loneliness', 'loneliness, wellbeing and control')
    """
    return " and ".join([", ".join(items[:-1]), items[-1]] if len(items) > 1 else items)


def short_label(label: str) -> str:
    """An outcome label for use mid-sentence: drop brackets, lower-case the first word.

    Acronyms and proper words in capitals are kept.

    Examples
    --------
    >>> short_label("Loneliness (UCLA 3-item scale)"), short_label("SWEMWBS score")
    ('loneliness', 'SWEMWBS score')
    """
    text = re.sub(r"\s*\([^)]*\)", "", label).strip()
    first, _, rest = text.partition(" ")
    if first[1:2].islower():
        first = first[0].lower() + first[1:]
    return f"{first} {rest}".strip()


def comparison(estimate: float, *, lower_is_better: bool) -> tuple[str, bool]:
    """ "lower" or "higher" for an estimate, and whether that direction is a benefit.

    Examples
    --------
    >>> comparison(-0.6, lower_is_better=True)
    ('lower', True)
    >>> comparison(0.2, lower_is_better=True)
    ('higher', False)
    """
    word = "lower" if estimate < 0 else "higher"
    return word, (estimate < 0) == lower_is_better


def capitalise(text: str) -> str:
    """Upper-case the first character only."""
    return text[:1].upper() + text[1:]
