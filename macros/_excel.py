"""The live-Excel backend of the workbook interface (xlwings).

Only used from the ribbon inside Excel; it cannot run on Linux, so it stays
a thin translation of :class:`yibao.macros.book.FileBook`'s methods into
xlwings calls. Everything it is given was computed and tested through the
file backend.
"""

from __future__ import annotations

from pathlib import Path

from .book import COMPUTED_STYLE, SEVERITY_FILL, Book, OutSheet, _sheet_title, writable_runs
from .marks import is_ours, our_part, strip_ours, with_ours


def _rgb(argb: str) -> tuple[int, int, int]:
    return int(argb[2:4], 16), int(argb[4:6], 16), int(argb[6:8], 16)


def hyperlink_formula(target: str, shown) -> str:
    """An Excel formula linking to ``target`` ("'台账'!F5") inside the workbook.

    >>> print(hyperlink_formula("'台账'!F5", 'F"5'))
    =HYPERLINK("#'台账'!F5","F""5")
    """
    def quoted(text) -> str:
        return '"' + str(text).replace('"', '""') + '"'
    return f"=HYPERLINK({quoted('#' + target)},{quoted(shown)})"


def address_groups(cells: dict[tuple[int, int], str], limit: int = 240) -> dict[str, list[str]]:
    """value → comma-joined cell addresses ("F5,F9,F12") no longer than
    ``limit`` characters (Excel takes up to 255 in one Range): one call per
    group instead of one per cell.

    >>> address_groups({(5, 6): "red", (9, 6): "red", (7, 2): "blue"})
    {'blue': ['B7'], 'red': ['F5,F9']}
    """
    from .xlsxpatch import column_letter
    out: dict[str, list[str]] = {}
    for (r, c), value in sorted(cells.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        groups = out.setdefault(value, [])
        address = f"{column_letter(c)}{r}"
        if groups and len(groups[-1]) + 1 + len(address) <= limit:
            groups[-1] += "," + address
        else:
            groups.append(address)
    return out


def _fill(ws, cells: dict[tuple[int, int], str]):
    """Colour cells ((row, col) → ARGB), one call per group of addresses."""
    for argb, unions in address_groups(cells).items():
        for union in unions:
            ws.range(union).color = _rgb(argb)


#: Excel's constants (XlPaperSize, XlPageOrientation)
XL_PAPER_A4, XL_PORTRAIT, XL_LANDSCAPE = 9, 1, 2


def _print_setup(ws, sheet: OutSheet) -> None:
    """Print a result sheet in Excel as the file backend prints it (issue 11,
    打印): the one :func:`~yibao.macros.book.print_plan` for both, so the
    sheet staff print from the ribbon is A4, fits its width (or breaks into
    column sections repeating the leading columns), repeats the header rows,
    keeps wrapped headers and notes whole, and numbers its pages."""
    from openpyxl.utils import get_column_letter

    from .book import print_plan, print_titles
    plan = print_plan(sheet)
    for c, width in plan.widths:
        ws.range((1, c)).column_width = width
    for r, pt in plan.row_heights:
        ws.range((r, 1)).row_height = pt
    for ref in plan.merges:
        if ref not in sheet.merges:           # a note line merged across its page section
            ws.range(ref).merge()
    for r in plan.notes:
        ws.range((r, 1)).api.WrapText = True
    for c in plan.wrap_cols:
        first = sheet.title_rows + sheet.header_rows + 1
        last = max(len(sheet.rows) - sheet.footer_rows, first)
        ws.range((first, c), (last, c)).api.WrapText = True
    ws.api.ResetAllPageBreaks()              # a rerun: the last run's breaks go
    setup = ws.api.PageSetup
    setup.PaperSize = XL_PAPER_A4
    setup.Orientation = XL_LANDSCAPE if plan.landscape else XL_PORTRAIT
    if plan.fit_width:
        setup.Zoom = False
        setup.FitToPagesWide = 1
        setup.FitToPagesTall = False
    else:
        for c in plan.col_breaks:
            ws.api.VPageBreaks.Add(ws.range((1, c + 1)).api)
        if plan.title_cols:
            setup.PrintTitleColumns = f"$A:${get_column_letter(plan.title_cols)}"
    for r in plan.row_breaks:
        ws.api.HPageBreaks.Add(ws.range((r + 1, 1)).api)
    rows = print_titles(sheet, cols=False)
    if rows:
        first, last = rows.split(":")
        setup.PrintTitleRows = f"${first}:${last}"
    setup.CenterFooter = "第 &P 页 共 &N 页"
    if sheet.page_label:
        setup.RightHeader = sheet.page_label.replace("&", "&&")


class ExcelBook(Book):
    """The workbook Excel has open (``xw.Book.caller()``)."""

    def __init__(self, xw_book):
        self.xw = xw_book
        self.path = Path(xw_book.fullname)
        self._marks: list[tuple] = []      # (sheet, row, col, severity, note), put on at save()
        self.skipped = 0                   # typed cells fill_computed kept

    def grids(self):
        out = {}
        for sheet in self.xw.sheets:
            # err_to_str: an error cell (#N/A) reads as its code, as the functions and the
            # file reader see it (yibao.functions.person), not as an empty cell
            values = sheet.used_range.options(ndim=2, err_to_str=True).value
            # used_range may start below row 1: pad so row numbers match the sheet
            top = sheet.used_range.row
            left = sheet.used_range.column
            out[sheet.name] = [[]] * (top - 1) + [[None] * (left - 1) + list(r) for r in values]
        return out

    def sheet_names(self):
        return [s.name for s in self.xw.sheets]

    def replace_sheet(self, sheet: OutSheet):
        title = _sheet_title(sheet.name)
        names = [s.name for s in self.xw.sheets]
        if title in names:
            old = self.xw.sheets[title]
            if old.api.Tab.Color != _rgb_int("FF2F75B5"):
                raise ValueError(f"工作表“{title}”不是本工具生成的，为免覆盖请改名后重试")
            old.clear()
            ws = old
        else:
            ws = self.xw.sheets.add(title, after=self.xw.sheets[-1])
            ws.api.Tab.Color = _rgb_int("FF2F75B5")
        width = max((len(r) for r in sheet.rows), default=0)
        grid = [list(r) + [None] * (width - len(r)) for r in sheet.rows]
        # text that looks like a formula is written as text (leading apostrophe)
        grid = [["'" + v if isinstance(v, str) and v[:1] in "=+-@" else v for v in r] for r in grid]
        # links go in with the values, as HYPERLINK formulas: one call for the
        # whole sheet instead of two per link (a report can have 10,000)
        for (r, c), target in sheet.links.items():
            grid[r - 1][c - 1] = hyperlink_formula(target, sheet.rows[r - 1][c - 1])
        if grid:
            ws.range("A1").value = grid
        for ref in sheet.merges:
            ws.range(ref).merge()
        first_body = sheet.title_rows + sheet.header_rows + 1
        for c, fmt in sheet.number_formats.items():
            ws.range((first_body, c), (max(len(grid), first_body), c)).number_format = fmt
        _fill(ws, sheet.fills)
        ws.autofit("c")
        _print_setup(ws, sheet)
        if sheet.chart:
            spec = sheet.chart
            vcol, v1, v2 = spec["values"]
            ccol, c1, c2 = spec["categories"]
            chart = ws.charts.add(left=ws.range((1, width + 2)).left, top=ws.range("A2").top)
            chart.chart_type = "bar_clustered"
            chart.set_source_data(ws.range((v1, vcol), (v2, vcol)))
            chart.api[1].SeriesCollection(1).XValues = ws.range((c1, ccol), (c2, ccol)).api

    def mark(self, sheet, row, col, severity, note):
        # kept until save(): the fills then go one call per group of cells
        self._marks.append((sheet, row, col, severity, note))

    def _apply_marks(self):
        marks, self._marks = self._marks, []
        for sheet in dict.fromkeys(m[0] for m in marks):
            ws = self.xw.sheets[sheet]
            mine = [m for m in marks if m[0] == sheet]
            _fill(ws, {(r, c): SEVERITY_FILL.get(severity, "FFFFC7CE") for _s, r, c, severity, _n in mine})
            for _s, r, c, _severity, note in mine:      # a note is one cell's own
                cell = ws.range((r, c))
                if cell.note is not None:       # the user's text kept, ours after it (macros.marks)
                    cell.note.text = with_ours(cell.note.text, note)
                else:
                    cell.api.AddComment(our_part(note))

    def clear_marks(self, sheet):
        ws = self.xw.sheets[sheet]
        for comment in list(ws.api.Comments):
            text, author = comment.Text(), comment.Author
            if is_ours(text, author):                    # only our part of the notes (macros.marks)
                comment.Parent.Interior.ColorIndex = -4142   # xlNone
                user = strip_ours(text, author)
                if user:
                    comment.Text(user)
                else:
                    comment.Delete()

    def fill_computed(self, sheet, rows, columns, number_formats=None):
        # one read of each column's formulas and one write per run of
        # writable rows: a call per cell would take minutes on a large ledger
        ws = self.xw.sheets[sheet]
        skipped = 0
        top, bottom = min(rows), max(rows)
        for col, values in columns.items():
            found = ws.range((top, col), (bottom, col)).formula
            found = [found] if isinstance(found, str) else [f[0] if isinstance(f, (list, tuple)) else f for f in found]

            def typed(row, col=col, found=found):
                text = found[row - top]
                return bool(text) and not text.startswith("=") and \
                    ws.range((row, col)).api.Style.Name != COMPUTED_STYLE
            runs, kept = writable_runs(rows, values, typed)
            skipped += kept
            for first, block in runs:
                ws.range((first, col)).options(transpose=True).value = block
                if col in (number_formats or {}):
                    ws.range((first, col), (first + len(block) - 1, col)).number_format = number_formats[col]
        self.skipped += skipped
        return skipped

    def export_pdf(self, sheet_name: str, target: Path) -> Path:
        """Excel's own PDF export (xlTypePDF = 0) of one of our result sheets."""
        self.xw.sheets[_sheet_title(sheet_name)].api.ExportAsFixedFormat(0, str(target))
        return Path(target)

    def save(self, backup=True):
        # in Excel the user decides when to save: this puts the marks on and
        # reports the typed cells fill_computed kept
        self._apply_marks()
        skipped, self.skipped = self.skipped, 0
        return {"skipped": skipped}


def _rgb_int(argb: str) -> int:
    r, g, b = _rgb(argb)
    return r + (g << 8) + (b << 16)
