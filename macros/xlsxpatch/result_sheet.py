"""The worksheet XML of our result sheets (the drawing of a report, a roster)."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape
from typing import TYPE_CHECKING

from .constants import MAIN_NS, OUR_TAB, REL_NS
from ._xml import MAX_CELL_CHARS, _UNWRITABLE, Unsupported, _quote, cell_xml, in_1904, column_index, get_column_letter
from .sharedstrings import SharedStrings

if TYPE_CHECKING:
    from . import XlsxPatch


class _Fragments(dict):
    """Value → a cell's XML after its reference (``' s="3"><v>280</v></c>'``),
    each distinct value of a column rendered once."""

    def __init__(self, style: int | None, shared: SharedStrings | None = None):
        super().__init__()
        self.style = style
        self.shared = shared

    def __missing__(self, value) -> str:
        fragment = _fragment(value, self.style, self.shared)
        if len(self) < 200_000:
            self[value] = fragment
        return fragment


def _fragment(value, style: int | None, shared: SharedStrings | None = None) -> str:
    """A cell's XML with its leading ``<c r="REF"`` cut off: the same for
    every row, so it is rendered once per value and joined to each row's
    reference by the row template. Text goes to ``shared`` when given."""
    if shared is not None and value.__class__ is str and value:
        s = f' s="{style}"' if style else ""
        return f'{s} t="s"><v>{shared[value]}</v></c>'
    return cell_xml("", value, style)[len('<c r=""'):]


def _plain_texts(values: list[str]) -> bool:
    """True when no text needs what :func:`_text` does (escapes, kept
    spaces): no & < > and no white space at all, checked over the column at
    once (a search per character kind, not a call per cell)."""
    joined = "".join(values)
    return not ("&" in joined or "<" in joined or ">" in joined) and len(joined.split(None, 1)) <= 1 \
        and _UNWRITABLE.search(joined) is None and max(map(len, values), default=0) <= MAX_CELL_CHARS


def _plain_block(rows: list[list], first: int, letters: list[str], styles: list[int],
                 overrides: dict[tuple[int, int], int] | None = None,
                 shared: SharedStrings | None = None) -> list[str]:
    """``<row>`` XML for consecutive body rows numbered from ``first``, each
    column's cells in format ``styles[c]`` (an empty one too, for its
    border) except the cells in ``overrides[(row, col)]`` (1-based: links,
    severity fills).

    Built for the merge's 2 million cells: each column's values become the
    part of their cell after the reference, one dictionary lookup per cell
    for the values a column repeats (categories, amounts, reasons), and each
    row is one ``str.format`` of a template holding the references. Rows
    shorter than the rest (no cells at all past their end) are built cell by
    cell."""
    numbers = range(first, first + len(rows))
    by_col: dict[int, dict[int, int]] = {}
    for (r, c), style in (overrides or {}).items():
        by_col.setdefault(c - 1, {})[r] = style
    width = len(letters)
    short = any(len(row) < width for row in rows)
    columns = []
    cell_templates = []      # each column's cell in the row template: {0} row number, {i} its value or fragment
    for c in range(width):
        letter = letters[c]
        values = [row[c] for row in rows] if not short else \
            [row[c] if c < len(row) else _ABSENT for row in rows]
        cell_templates.append(f'<c r="{letter}{{0}}"{{{c + 1}}}')
        special = by_col.get(c)
        if special:
            style = styles[c]
            columns.append([_fragment(v, special.get(n, style)) if v is not _ABSENT else _ABSENT
                            for v, n in zip(values, numbers)])
            continue
        kinds = set(map(type, values))
        st = f' s="{styles[c]}"' if styles[c] else ""
        # a column of one plain kind goes into the template whole: the row's
        # format call then writes the value itself, no string made per cell
        if shared is not None and kinds == {str} and all(values) and 2 * len(set(values)) <= len(values):
            # texts that repeat (categories, sources, reasons): their numbers in the shared table
            cell_templates[-1] = f'<c r="{letter}{{0}}"{st} t="s"><v>{{{c + 1}}}</v></c>'
            columns.append([shared[v] for v in values])
            continue
        if kinds == {str} and _plain_texts(values) and all(values):
            cell_templates[-1] = f'<c r="{letter}{{0}}"{st} t="inlineStr"><is><t>{{{c + 1}}}</t></is></c>'
            columns.append(values)
            continue
        if kinds == {int} or kinds == {float}:
            cell_templates[-1] = f'<c r="{letter}{{0}}"{st}><v>{{{c + 1}}}</v></c>'
            columns.append(values)
            continue
        kinds.discard(_Absent)
        fragments = _Fragments(styles[c], shared)
        if len(kinds - {type(None)}) <= 1 and kinds <= {str, int, float, type(None)}:
            # one kind of value (None aside): the value alone is the key (1 and 1.0 never meet)
            columns.append([fragments[v] if v is not _ABSENT else _ABSENT for v in values])
        else:
            columns.append([_fragment(v, styles[c], shared) if v is not _ABSENT else _ABSENT for v in values])
    template = '<row r="{0}">' + "".join(cell_templates) + "</row>"
    fill = template.format
    if not short:
        return list(map(fill, numbers, *columns))      # the row loop in C
    out = []
    for n, cells in zip(numbers, zip(*columns)):
        if _ABSENT in cells:
            body = "".join(cell_templates[c].format(n, *cells) for c, cell in enumerate(cells) if cell is not _ABSENT)
            if body:
                out.append(f'<row r="{n}">{body}</row>')
        else:
            out.append(fill(n, *cells))
    return out


class _Absent:
    """A cell beyond the end of a short row (no cell, not even a border)."""


_ABSENT = _Absent()


def _box_cells(ranges) -> dict[int, set[int]]:
    """row → columns of the cells inside the given ranges ("A20:F23")."""
    out: dict[int, set[int]] = {}
    for ref in ranges:
        m = re.fullmatch(r"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?", ref)
        if not m:
            raise ValueError(ref)
        c1, r1 = column_index(m.group(1)), int(m.group(2))
        c2, r2 = (column_index(m.group(3)), int(m.group(4))) if m.group(3) else (c1, r1)
        for r in range(min(r1, r2), max(r1, r2) + 1):
            out.setdefault(r, set()).update(range(min(c1, c2), max(c1, c2) + 1))
    return out


def sheet_xml(patch: XlsxPatch, sheet, hidden_marks: bool = False, shared: SharedStrings | None = None,
              chart_apart: bool = False) -> str:
    """Worksheet XML for one of our result sheets (an ``OutSheet``); the
    body's repeated texts go to ``shared`` when given (a new workbook).
    ``chart_apart``: the sheet's chart is drawn elsewhere (openpyxl) and
    moved in; here only its page break."""
    if sheet.chart and not chart_apart:
        raise Unsupported("charts go through openpyxl")
    # A4 at >= 9 pt: fit to width only where that keeps the text readable, else column
    # sections; header rows tall enough for their wrapped labels; body text wider than its
    # column wrapped, every body cell then centred in its row's height; a long note line merged
    # across the first page section and wrapped (issue 11, 打印; the openpyxl path's look)
    from ..book import print_plan
    plan = print_plan(sheet)
    heights = dict(plan.row_heights)
    fit_pr = '<pageSetUpPr fitToPage="1"/>' if plan.fit_width else ""
    middle = "center" if plan.wrap_cols else None

    def body_xf(c: int, fill: str | None = None) -> int:
        return patch.xf(0, fill=fill, num_fmt=sheet.number_formats.get(c), border=True, valign=middle,
                        wrap=c in plan.wrap_cols)

    sev = {}
    header = patch.xf(0, fill="FFDDEBF7", bold=True, wrap=True, border=True)
    title = patch.xf(0, bold=True)
    title_note = patch.xf(0, bold=True, wrap=True, valign="top")
    note = patch.xf(0, wrap=True, valign="top")
    last_header = sheet.title_rows + sheet.header_rows
    last_body = len(sheet.rows) - sheet.footer_rows
    boxed = _box_cells(getattr(sheet, "boxes", ()))
    width = max([len(row) for row in sheet.rows] + [c for cols in boxed.values() for c in cols], default=0)
    letters = [get_column_letter(c) for c in range(1, width + 1)]
    # the openpyxl path's look: header and body cells boxed, number formats on the body
    body_style = {c: body_xf(c) for c in range(1, width + 1)}
    link = patch.xf(0, link=True, border=True, valign=middle)
    border = patch.xf(0, border=True)
    rows_xml = []
    rows = sheet.rows
    if getattr(patch, "date1904", False):
        rows = [[in_1904(v) for v in row] for row in rows]
    block = []
    if last_body > last_header and not any(last_header < r <= last_body for r in boxed):
        # the body (the merge's 200,000-row sheets, the validation report) built column by column
        overrides = {}
        for (r, c) in sheet.links:
            if last_header < r <= last_body:
                overrides[(r, c)] = link
        for (r, c), color in sheet.fills.items():
            if last_header < r <= last_body:
                overrides[(r, c)] = body_xf(c, color)
        block = _plain_block(rows[last_header:last_body], last_header + 1, letters,
                             [body_style.get(c, border) for c in range(1, width + 1)], overrides, shared)
        where = None
        for r, ht in plan.row_heights:
            # a row whose text wraps: tall enough for its lines (book.print_plan)
            if not last_header < r <= last_body:
                continue
            tag, k = f'<row r="{r}">', r - last_header - 1
            if not (k < len(block) and block[k].startswith(tag)):
                # rows without a cell were left out of the block
                where = where or {x[:x.index(">") + 1]: i for i, x in enumerate(block)}
                k = where.get(tag)
                if k is None:
                    continue
            block[k] = f'<row r="{r}" ht="{ht}" customHeight="1">' + block[k][len(tag):]
    for r, row in enumerate(rows, 1):
        if block and last_header < r <= last_body:
            if r == last_header + 1:
                rows_xml += block
            continue
        cells = []
        in_body = last_header < r <= last_body
        box = boxed.get(r, ())
        span = max(len(row), max(box, default=0))
        for c in range(1, span + 1):
            value = row[c - 1] if c <= len(row) else None
            if r <= sheet.title_rows:
                style = title_note if r in plan.notes else title
            elif r <= last_header:
                style = header
            elif in_body:
                style = body_style.get(c, border)
                if (r, c) in sheet.links:
                    style = link
            else:
                style = border if c in box else (note if r in plan.notes and c == 1 else None)
            if (r, c) in sheet.fills and in_body:
                style = body_xf(c, sheet.fills[(r, c)])
            elif (r, c) in sheet.fills:
                color = sheet.fills[(r, c)]
                lined = in_body or c in box or (sheet.title_rows < r <= last_header)
                if (color, lined) not in sev:
                    sev[(color, lined)] = patch.xf(0, fill=color, border=lined)
                style = sev[(color, lined)]
            if value is None and style is None:
                continue
            cells.append(cell_xml(f"{letters[c - 1]}{r}", value, style))
        if cells and r in heights:
            # wrapped header text / a 14 pt title: a row tall enough for it (book.print_plan)
            rows_xml.append(f'<row r="{r}" ht="{heights[r]}" customHeight="1">{"".join(cells)}</row>')
        elif cells:
            rows_xml.append(f'<row r="{r}">{"".join(cells)}</row>')
    cols = "".join(f'<col min="{c}" max="{c}" width="{w}" customWidth="1"/>'
                   for c, w in plan.widths)
    pane = ""
    if sheet.header_rows and not hidden_marks:
        top = f"A{last_header + 1}"
        pane = (f'<pane ySplit="{last_header}" topLeftCell="{top}" activePane="bottomLeft" state="frozen"/>'
                f'<selection pane="bottomLeft" activeCell="{top}" sqref="{top}"/>')
    merges = "".join(f'<mergeCell ref="{m}"/>' for m in plan.merges)
    links = "".join(f'<hyperlink ref="{letters[c - 1]}{r}" location={_quote(target)} '
                    f'display={_quote(str(sheet.rows[r - 1][c - 1]))}/>'
                    for (r, c), target in sorted(sheet.links.items()))
    # one join: the rows of the merge's roster are 70 MB of text, and every
    # concatenation of the whole would copy them again
    head = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
            f'<sheetPr><tabColor rgb="{OUR_TAB}"/>{fit_pr}</sheetPr>'
            f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/>'
            + (f"<cols>{cols}</cols>" if cols else "") + "<sheetData>")
    tail = ("</sheetData>"
            + (f'<mergeCells count="{len(plan.merges)}">{merges}</mergeCells>' if merges else "")
            + (f"<hyperlinks>{links}</hyperlinks>" if links else "")
            + '<pageMargins left="0.5" right="0.5" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            + f'<pageSetup paperSize="9" orientation="{"landscape" if plan.landscape else "portrait"}"'
              + (' fitToWidth="1" fitToHeight="0"/>' if plan.fit_width else "/>")
            + '<headerFooter>'
            + (f'<oddHeader>&amp;R&amp;11{escape(sheet.page_label.replace("&", "&&"))}</oddHeader>'
               if sheet.page_label else "")
            + '<oddFooter>&amp;C&amp;11第 &amp;P 页 共 &amp;N 页</oddFooter></headerFooter>'
            + (f'<rowBreaks count="{len(plan.row_breaks)}" manualBreakCount="{len(plan.row_breaks)}">'
               + "".join(f'<brk id="{r}" max="16383" man="1"/>' for r in plan.row_breaks) + "</rowBreaks>"
               if plan.row_breaks else "")
            + (f'<colBreaks count="{len(plan.col_breaks)}" manualBreakCount="{len(plan.col_breaks)}">'
               + "".join(f'<brk id="{c}" max="1048575" man="1"/>' for c in plan.col_breaks) + "</colBreaks>"
               if plan.col_breaks else "")
            + "</worksheet>")
    rows_xml.insert(0, head)
    rows_xml.append(tail)
    return "".join(rows_xml)
