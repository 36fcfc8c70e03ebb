"""The live-Excel backend of the workbook interface (xlwings).

Only used from the ribbon inside Excel; it cannot run on Linux, so it stays
a thin translation of :class:`yibao.macros.book.FileBook`'s methods into
xlwings calls. Everything it is given was computed and tested through the
file backend.
"""

from __future__ import annotations

from pathlib import Path

from .book import COMPUTED_STYLE, SEVERITY_FILL, OutSheet, _sheet_title

_NOTE_PREFIX = "【yibao】"


def _rgb(argb: str) -> tuple[int, int, int]:
    return int(argb[2:4], 16), int(argb[4:6], 16), int(argb[6:8], 16)


class ExcelBook:
    """The workbook Excel has open (``xw.Book.caller()``)."""

    def __init__(self, xw_book):
        self.xw = xw_book
        self.path = Path(xw_book.fullname)

    def grids(self):
        out = {}
        for sheet in self.xw.sheets:
            values = sheet.used_range.options(ndim=2).value
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
        if grid:
            ws.range("A1").value = grid
        for (r, c), target in sheet.links.items():
            ws.range((r, c)).add_hyperlink(f"#{target}", str(ws.range((r, c)).value))
        ws.autofit("c")

    def mark(self, sheet, row, col, severity, note):
        cell = self.xw.sheets[sheet].range((row, col))
        cell.color = _rgb(SEVERITY_FILL.get(severity, "FFFFC7CE"))
        text = _NOTE_PREFIX + note
        if cell.note is not None:
            cell.note.text = text
        else:
            cell.api.AddComment(text)

    def clear_marks(self, sheet):
        ws = self.xw.sheets[sheet]
        for comment in list(ws.api.Comments):
            if comment.Text().startswith(_NOTE_PREFIX):   # only the notes we wrote
                comment.Parent.Interior.ColorIndex = -4142   # xlNone
                comment.Delete()

    def fill_computed(self, sheet, values, number_formats=None):
        ws = self.xw.sheets[sheet]
        skipped = 0
        for (row, col), value in values.items():
            cell = ws.range((row, col))
            if cell.formula and not cell.formula.startswith("=") and cell.api.Style.Name != COMPUTED_STYLE:
                skipped += 1
                continue
            cell.value = value
        self.skipped = getattr(self, "skipped", 0) + skipped
        return skipped

    def save(self, backup=True):
        return {"skipped": 0}   # in Excel the user decides when to save; skips were counted above


def _rgb_int(argb: str) -> int:
    r, g, b = _rgb(argb)
    return r + (g << 8) + (b << 16)
