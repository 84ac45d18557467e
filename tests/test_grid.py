"""The terminal grid: every line as wide as the grid, no wider than asked when the columns can
be narrowed that far, every cell's words kept in order, styles on the cells they belong to."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from analyzer.report.grid import ASCII, LINES, Cell, column_widths, render_grid

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz(),.-0123456789", min_size=1, max_size=14)
headings = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=20)
cells = st.lists(words, max_size=5).map(" ".join)
Grid = tuple[list[str], list[list[str]], int]


@st.composite
def grids(draw: st.DrawFn) -> Grid:
    columns = draw(st.integers(1, 6))
    header = draw(st.lists(headings, min_size=columns, max_size=columns))
    rows = draw(st.lists(st.lists(cells, min_size=columns, max_size=columns), max_size=8))
    return header, rows, draw(st.integers(2 + 4 * columns, 120))


@given(grids())
def test_lines_are_as_wide_as_the_grid_and_fit(grid: Grid) -> None:
    header, rows, width = grid
    lines = render_grid(header, rows, width).plain.splitlines()
    assert len({len(line) for line in lines}) == 1
    # Each column can shrink to one character, so with room for that the grid fits.
    assert len(lines[0]) <= width


@given(grids())
def test_every_cell_keeps_its_words_in_order(grid: Grid) -> None:
    header, rows, width = grid
    lines = render_grid(header, rows, width).plain.splitlines()
    # Cells hold no "|", so a body line splits into its columns; a column's pieces, read top
    # to bottom, are its cells' texts in order (less the spaces wrapping drops). Headings
    # hold no "-": the first line of only "|-+" is the rule under them.
    rule = next(i for i, line in enumerate(lines) if i and set(line) <= set("|-+"))
    body = [line[1:-1].split(" | ") for line in lines[rule + 1 : -1]]
    pieces = ["".join(parts[i] for parts in body) for i in range(len(header))]
    cells_in_order = ["".join(row[i] for row in rows) for i in range(len(header))]
    assert [_without_spaces(p) for p in pieces] == [_without_spaces(c) for c in cells_in_order]


def _without_spaces(text: str) -> str:
    return "".join(text.split())


def test_narrow_columns_wrap_at_spaces_before_folding_words() -> None:
    text = render_grid(["a", "b"], [["x", "one two three"]], width=14).plain
    assert text.splitlines() == [
        "+------------+",
        "|a | b       |",
        "|--+---------|",
        "|x | one two |",
        "|  | three   |",
        "+------------+",
    ]


def test_a_word_wider_than_any_room_is_folded() -> None:
    assert column_widths([[Cell("abcdefghij"), Cell("k")]], width=9) == [3, 1]
    lines = render_grid(["h", "k"], [["abcdefghij", "k"]], width=9).plain.splitlines()
    assert [line[1:4] for line in lines[3:-1]] == ["abc", "def", "ghi", "j  "]


def test_the_widest_column_gives_way_first() -> None:
    rows = [[Cell("short"), Cell("a much longer cell with words")]]
    widths = column_widths(rows, width=30)
    assert widths[0] == 5 and sum(widths) + 5 == 30


def test_styles_cover_their_cells_only() -> None:
    text = render_grid(["v"], [[Cell("yes", "green")], ["no"]], width=20, box=LINES)
    styled = [(text.plain[span.start : span.end], str(span.style)) for span in text.spans]
    assert ("yes", "green") in styled
    assert all(part != "no" for part, _ in styled)
    assert text.plain.splitlines()[0].startswith("┌") and text.plain.splitlines()[-1].endswith("┘")


def test_rows_shorter_than_the_header_are_padded() -> None:
    lines = render_grid(["a", "b"], [["x"]], width=40, box=ASCII).plain.splitlines()
    assert lines[3] == "|x | " + " " * 1 + "|"
