"""Check what a rendered report claims against the results document it was rendered from.

Each check reads the HTML as a reader would (text, tables, figures) and compares it with
typed fields of :class:`~trialkit.analyse.ResultsDocument`, re-deriving the registered
verdicts independently of :mod:`trialkit.estimate.verdicts`.
"""

from __future__ import annotations

import html as htmllib
import math
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

from trialkit.analyse import ResultsDocument

NUMBER = re.compile(r"(?<![\w.])[−-]?[£€$]?\d[\d,]*(?:\.\d+)?")


def text_of(fragment: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed."""
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def section(page: str, start_id: str, end_id: str) -> str:
    """The HTML between two element ids."""
    return page[page.index(f'id="{start_id}"') : page.index(f'id="{end_id}"')]


def _numbers(value: Any) -> Iterator[float]:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        if math.isfinite(value):
            yield float(value)
    elif isinstance(value, str):
        for token in NUMBER.findall(value):
            yield _parse(token)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in ("draws_sample", "null_sample"):
                yield from _numbers(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _numbers(item)


def _parse(token: str) -> float:
    return abs(float(re.sub(r"[−£€$,-]", "", token)))


def _decimals(token: str) -> int:
    return len(token.split(".")[1]) if "." in token else 0


def allowed(doc: ResultsDocument) -> list[float]:
    """Every magnitude the document holds, as shares and as percentages, plus counts."""
    values = {abs(v) for v in _numbers(doc.model_dump(mode="json"))}
    values |= {100 * v for v in values if v <= 1}
    values |= {1.0, 99.0, 0.001}  # "less than 1%", "more than 99%", "p < 0.001": display floors
    return sorted(values)


def unexplained_numbers(text: str, doc: ResultsDocument) -> list[str]:
    """Numbers in ``text`` that no field of the document rounds to."""
    pool = allowed(doc)
    bad = []
    for token in NUMBER.findall(text):
        value, half = _parse(token), 0.5 * 10 ** -_decimals(token) + 1e-9
        if not any(abs(v - value) <= half for v in pool):
            bad.append(token)
    return bad


class _Blocks(HTMLParser):
    """The summary's headline blocks: their data attributes and claim paragraphs."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[dict[str, Any]] = []
        self._claim: str | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "div" and "data-verdict" in a:
            self.blocks.append({**a, "claims": {}})
        if tag == "p" and a.get("data-claim") and self.blocks:
            self._claim = a["data-claim"]
            self.blocks[-1]["claims"][self._claim] = ""
        if self._claim and tag == "p":
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "p" and self._claim:
            self._depth -= 1
            if self._depth == 0:
                self._claim = None

    def handle_data(self, data: str) -> None:
        if self._claim and self.blocks:
            self.blocks[-1]["claims"][self._claim] += data


def headline_blocks(page: str) -> list[dict[str, Any]]:
    """Each headline block of the summary with its verdict and claim texts."""
    parser = _Blocks()
    parser.feed(section(page, "summary", "flow"))
    return parser.blocks


def registered_verdict(estimate: float, p_value: float, alpha: float, lower_better: bool) -> str:
    """The registered frequentist rule, written again independently of trialkit."""
    if p_value >= alpha or estimate == 0:
        return "unclear"
    return "benefit" if (estimate < 0) == lower_better else "harm"


def bayes_verdict(p_benefit: float, alpha: float) -> str:
    """The Bayesian counterpart, written again independently of trialkit."""
    if p_benefit >= 1 - alpha / 2:
        return "benefit"
    return "harm" if p_benefit <= alpha / 2 else "unclear"


class _Tables(HTMLParser):
    """Every table's header row and body cells (text), for the all-dash column check."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, Any]] = []
        self._cell: list[str] | None = None
        self._in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append({"head": [], "rows": []})
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self.tables and not self._in_head:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None and self.tables:
            text = " ".join("".join(self._cell).split())
            table = self.tables[-1]
            if self._in_head:
                table["head"].append(text)
            elif table["rows"]:
                table["rows"][-1].append(text)
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def all_dash_columns(page: str) -> list[tuple[str, str]]:
    """(table caption's first header, column header) of columns whose every cell is a dash."""
    parser = _Tables()
    parser.feed(page)
    out = []
    for table in parser.tables:
        rows = [r for r in table["rows"] if r]
        head = table["head"]
        if not rows or not head or any(len(r) != len(head) for r in rows):
            continue
        for i, name in enumerate(head):
            if all(r[i] in ("—", "") for r in rows):
                out.append((head[0], name))
    return out
