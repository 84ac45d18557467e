"""Tables for the terminal report, laid out in one pass.

rich's ``Table`` measures and wraps every cell through its renderable protocol, which took
over a second for the eight bundled specs' ~1,500 rows, most of a cached ``pgv analyze``.
The tables here are plain grids of short strings, so the layout is computed directly: each
column as wide as its widest cell, the widest columns narrowed when the whole exceeds the
width, cells wrapped at spaces (folded inside a word only when a word is wider than its
column). The result is one ``Text`` that keeps each cell's style.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text


@dataclass(frozen=True)
class Cell:
    """A cell's text and its rich style ('' for none)."""

    text: str
    style: str = ""


@dataclass(frozen=True)
class Box:
    """The characters that draw a grid: the corners (top left, top right, bottom left,
    bottom right), the rules, the edges and column separators, and the rule under the
    header (its two ends and where it crosses a separator)."""

    corners: str
    rule: str
    edge: str
    separator: str
    header_rule: str


ASCII = Box(corners="++++", rule="-", edge="|", separator="|", header_rule="|+|")
LINES = Box(corners="┌┐└┘", rule="─", edge="│", separator="│", header_rule="├┼┤")


def render_grid(
    header: Sequence[str],
    rows: Sequence[Sequence[str | Cell]],
    width: int,
    box: Box = ASCII,
) -> Text:
    """The grid of ``header`` over ``rows``, at most ``width`` characters wide when the
    columns can be narrowed that far (one character each at the least)."""
    cells = [[_cell(c) for c in row] for row in rows]
    heads = [Cell(h, "bold") for h in header]
    widths = column_widths([heads, *cells], width)
    out = Text()
    out.append(_outer_rule(box, widths, box.corners[:2]) + "\n")
    _append_row(out, heads, widths, box)
    out.append(_header_rule(box, widths) + "\n")
    for row in cells:
        _append_row(out, row, widths, box)
    out.append(_outer_rule(box, widths, box.corners[2:]) + "\n")
    return out


def column_widths(rows: Sequence[Sequence[Cell]], width: int) -> list[int]:
    """Each column's width: its widest cell, then the widest columns narrowed one
    character at a time until the grid fits in ``width``; a column first gives up the
    room beyond its longest word, and only then folds words."""
    count = max((len(row) for row in rows), default=0)
    natural = [max((len(r[i].text) for r in rows if i < len(r)), default=0) for i in range(count)]
    longest_word = [
        max((_longest_word(r[i].text) for r in rows if i < len(r)), default=0) for i in range(count)
    ]
    widths = [max(1, n) for n in natural]
    excess = _grid_width(widths) - width
    excess = _narrow(widths, [max(1, w) for w in longest_word], excess)
    _narrow(widths, [1] * count, excess)
    return widths


def _narrow(widths: list[int], floors: Sequence[int], excess: int) -> int:
    """Take ``excess`` characters from the widest columns still above their floor (the
    leftmost on ties); return what could not be taken."""
    while excess > 0:
        candidates = [i for i, w in enumerate(widths) if w > floors[i]]
        if not candidates:
            return excess
        widest = max(candidates, key=lambda i: (widths[i], -i))
        widths[widest] -= 1
        excess -= 1
    return 0


def _grid_width(widths: Sequence[int]) -> int:
    # "|" + cells joined by " | " + "|": the outer cells carry no padding at the edge.
    return 2 + sum(widths) + 3 * max(0, len(widths) - 1)


def _longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def _cell(value: str | Cell) -> Cell:
    return value if isinstance(value, Cell) else Cell(value)


def _wrap(text: str, width: int) -> list[str]:
    lines = textwrap.wrap(
        text,
        width,
        break_long_words=True,
        break_on_hyphens=False,
        drop_whitespace=True,
        replace_whitespace=True,
    )
    return lines or [""]


def _append_row(out: Text, row: Sequence[Cell], widths: Sequence[int], box: Box) -> None:
    wrapped = [_wrap(row[i].text, w) if i < len(row) else [""] for i, w in enumerate(widths)]
    height = max(len(lines) for lines in wrapped)
    for line in range(height):
        out.append(box.edge)
        for i, w in enumerate(widths):
            if i:
                out.append(f" {box.separator} ")
            text = wrapped[i][line] if line < len(wrapped[i]) else ""
            style = row[i].style if i < len(row) and text else ""
            out.append(text, style=style or None)
            out.append(" " * (w - len(text)))
        out.append(box.edge + "\n")


def _outer_rule(box: Box, widths: Sequence[int], corners: str) -> str:
    return corners[0] + box.rule * (_grid_width(widths) - 2) + corners[1]


def _header_rule(box: Box, widths: Sequence[int]) -> str:
    left, crossing, right = box.header_rule[0], box.header_rule[1], box.header_rule[2]
    return left + f"{box.rule}{crossing}{box.rule}".join(box.rule * w for w in widths) + right
