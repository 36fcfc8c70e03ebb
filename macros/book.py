"""The workbook interface every ribbon action works against.

One small API, two backends (the shape of xlwings' own ``main.py`` over its
per-platform engines):

- :class:`FileBook` (this module): a workbook on disk, read with
  python-calamine (fast, reads .xlsx/.xlsm/.xls/.ods) or the csv module, and
  written with openpyxl, for the command line, WPS users and tests;
- ``ExcelBook`` (:mod:`yibao.macros._excel`): the live workbook in Excel via
  xlwings, for the ribbon. It cannot run here and is kept thin.

The rules every action keeps (the product's promise never to lose data):

- Actions never change the value of a cell the user typed. Results go to
  their own sheets (:meth:`replace_sheet`, replaced on a rerun) or new files;
  the only marks on user cells are a fill and a note (:meth:`mark`).
  Computed columns (:meth:`fill_computed`) are written only where a cell is
  empty, holds a formula, or holds a value we wrote before (our named style).
- Text that starts with ``=``, ``+``, ``-`` or ``@`` is written as text.
- Files are written atomically (temporary file, then rename); a workbook
  written in place is first copied to a backup beside it.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import gc
import io
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Sequence

from yibao.atomic import backup_copy, keep_mode

__all__ = ["BookError", "OutSheet", "FileBook", "open_book", "read_grid_any",
           "write_new_workbook", "COMPUTED_STYLE"]

#: openpyxl named style on cells our actions computed (so reruns may replace them)
COMPUTED_STYLE = "yibao计算"
SEVERITY_FILL = {"错误": "FFFFC7CE", "警告": "FFFFEB9C", "提示": "FFDDEBF7"}
_FORMULA_START = ("=", "+", "-", "@")


class BookError(Exception):
    """A workbook problem to show the user (Chinese, one line)."""


@dataclasses.dataclass
class OutSheet:
    """A result sheet: rows of plain values, with optional presentation."""

    name: str
    rows: list[list[Any]]
    header_rows: int = 1
    widths: dict[int, float] = dataclasses.field(default_factory=dict)   # 1-based column → width
    links: dict[tuple[int, int], str] = dataclasses.field(default_factory=dict)  # (r, c) → "'Sheet'!F5"
    number_formats: dict[int, str] = dataclasses.field(default_factory=dict)     # column → format
    fills: dict[tuple[int, int], str] = dataclasses.field(default_factory=dict)  # (r, c) → ARGB
    merges: list[str] = dataclasses.field(default_factory=list)                  # "A1:F1"
    boxes: list[str] = dataclasses.field(default_factory=list)   # "A20:F23": ranges drawn with a thin border (stamp boxes)
    title_rows: int = 0        # rows above the header (titles, 填报单位 lines)
    footer_rows: int = 0       # signature and stamp lines at the end
    landscape: bool = True
    chart: dict | None = None  # {"type": "bar", "categories": (col, r1, r2), "values": (col, r1, r2), "title": str}


@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic garbage collector for one action (also a decorator).

    An action on a 100,000-row ledger allocates millions of objects that
    live until it ends (the cell grid, the records, the XML pieces); every
    collector pass walks all of them again, which cost about a third of the
    run time. What an action allocates holds no reference cycles worth
    collecting early, and the collector resumes when the action ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _put(cell, value):
    """Set a cell's value; strings starting like a formula stay strings."""
    cell.value = value
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        cell.data_type = "s"


# ---------------------------------------------------------------- reading

def _calamine_grid(path: Path) -> dict[str, list[list[Any]]]:
    from python_calamine import CalamineWorkbook
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types
        raise BookError(f"无法读取“{path.name}”：文件已损坏或不是Excel文件（{type(exc).__name__}）") from None
    grids = {}
    for name in book.sheet_names:
        try:
            sheet = book.get_sheet_by_name(name)
            grids[name] = sheet.to_python(skip_empty_area=False)
        except Exception:
            grids[name] = []   # chart sheets and the like
    return grids


def _csv_grid(path: Path) -> dict[str, list[list[Any]]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise BookError(f"“{path.name}”的编码无法识别，请用Excel另存为.xlsx")
    rows = list(csv.reader(io.StringIO(text)))
    return {path.stem: rows}


def read_grid_any(path) -> dict[str, list[list[Any]]]:
    """Every sheet of a .xlsx/.xlsm/.xls/.ods/.csv file as rows of values.

    Merged ranges come back with the value in the top-left cell only; the
    table reader fills them down where it matters.
    """
    path = Path(path)
    if not path.exists():
        raise BookError(f"找不到文件：{path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv_grid(path)
    if suffix in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
        return _calamine_grid(path)
    raise BookError(f"不支持“{path.suffix}”文件：请用Excel或WPS另存为.xlsx后再试")


# ---------------------------------------------------------------- writing

def _lock_file(path: Path) -> Path:
    return path.with_name("~$" + path.name)


def check_writable(path: Path):
    """Refuse to write a workbook that Excel or WPS has open."""
    if _lock_file(path).exists():
        raise BookError(f"“{path.name}”正被Excel或WPS打开，请先关闭再运行")
    if path.exists():
        try:
            with open(path, "r+b"):
                pass
        except PermissionError:
            raise BookError(f"“{path.name}”正被其他程序占用或没有写权限，请关闭后再试") from None


def atomic_save(workbook, path: Path, backup: bool):
    """Save an openpyxl workbook via a temporary file; back up the original."""
    path = Path(path)
    check_writable(path)
    fd, tmp = tempfile.mkstemp(prefix=".~yibao-", suffix=path.suffix or ".xlsx", dir=path.parent)
    os.close(fd)
    try:
        workbook.save(tmp)
        with zipfile.ZipFile(tmp) as check:   # never replace a good file with a broken one
            if check.testzip() is not None:
                raise BookError("保存时文件损坏，原文件未改动")
        keep_mode(tmp, path)
        if backup and path.exists():
            backup_copy(path)
        os.replace(tmp, path)
    except PermissionError:
        raise BookError(f"无法写入“{path.name}”：文件正被其他程序打开，请关闭后再试") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def print_titles(sheet: OutSheet) -> str | None:
    """The rows repeated atop every printed page ("3:4"): the header."""
    if not sheet.header_rows:
        return None
    return f"{sheet.title_rows + 1}:{sheet.title_rows + sheet.header_rows}"


# Printing a result sheet (issue 11, 打印): A4, body text at least 9 pt. The default font is
# Calibri 11 and LibreOffice prints one unit of column width as about 7.05 pt (Excel narrower), so
# fit-to-width may shrink a page to 9/11 of its size and no further; a wider table is printed in
# column sections instead (its first columns repeated on each), at full size.
MIN_PRINT_PT = 9.0
BODY_PT = 11.0
FIT_LIMIT = 0.88      # smallest fit-to-width scale: 11 pt body (and the 11 pt page footer) stays above 9 pt
                      # with LibreOffice's column widths a little wider than UNIT_PT estimates
UNIT_PT = 7.05
_A4_PT = (595.3, 841.9)
_SIDE_MARGINS_IN = 0.7 + 0.7     # Excel's and openpyxl's default left + right margins


@dataclasses.dataclass(frozen=True)
class PrintPlan:
    """How one result sheet prints: orientation, whether to fit the width, column sections."""

    landscape: bool
    fit_width: bool
    col_breaks: tuple[int, ...] = ()      # 1-based columns after which a new page section starts
    title_cols: int = 0                   # leading columns repeated on every section
    row_heights: tuple[tuple[int, float], ...] = ()   # (row, pt) for header rows whose text wraps


def _width(sheet: OutSheet, c: int) -> float:
    return float(sheet.widths.get(c, 8.43))


def _text_pt(text: str, size: float = BODY_PT) -> float:
    """Printed width of a text: CJK and full-width characters one em, others about half."""
    return sum(size if ord(ch) > 0x2E7F else size * 0.55 for ch in text)


def print_plan(sheet: OutSheet) -> PrintPlan:
    """The print setup of ``sheet`` (shared by the openpyxl and the fast XML writer)."""
    n = max((len(r) for r in sheet.rows), default=0)
    cols = [_width(sheet, c) * UNIT_PT for c in range(1, n + 1)]
    total = sum(cols)
    landscape = sheet.landscape
    avail = (_A4_PT[1] if landscape else _A4_PT[0]) - _SIDE_MARGINS_IN * 72
    if total > avail and not landscape:
        landscape, avail = True, _A4_PT[1] - _SIDE_MARGINS_IN * 72
    breaks: list[int] = []
    title_cols = 0
    fit = True
    if total * FIT_LIMIT > avail:
        # too wide even at the smallest readable scale: page sections of whole columns
        fit = False
        title_cols = 2 if n > 3 and sum(cols[:2]) < avail / 3 else 0
        used = 0.0
        for c, w in enumerate(cols, 1):
            if used + w > avail and c > title_cols + 1:
                breaks.append(c - 1)
                used = sum(cols[:title_cols])
            used += w
    heights = []
    first_header = sheet.title_rows + 1
    for r in range(first_header, sheet.title_rows + sheet.header_rows + 1):
        row = sheet.rows[r - 1] if r - 1 < len(sheet.rows) else []
        lines = 1
        for c, value in enumerate(row, 1):
            if value is None:
                continue
            inner = max(cols[c - 1] - 4, 10)
            lines = max(lines, -(-int(_text_pt(str(value))) // int(inner)))
        if lines > 1:
            heights.append((r, round(lines * BODY_PT * 1.3 + 4, 1)))
    return PrintPlan(landscape, fit, tuple(breaks), title_cols, tuple(heights))


def _style_sheet(ws, sheet: OutSheet):
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    thin = Side(style="thin", color="FF999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    header_fill = PatternFill("solid", fgColor="FFDDEBF7")
    last_header = sheet.title_rows + sheet.header_rows
    last_body = len(sheet.rows) - sheet.footer_rows
    for r, row in enumerate(sheet.rows, 1):
        for c, _value in enumerate(row, 1):
            cell = ws.cell(r, c)
            if r <= sheet.title_rows:
                cell.font = Font(bold=True, size=14 if r == 1 else 11)
            elif r <= last_header:
                cell.font = Font(bold=True)
                cell.fill = header_fill
                cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
                cell.border = border
            elif r <= last_body:
                cell.border = border
    for ref in sheet.boxes:
        for line in ws[ref]:
            for cell in line:
                cell.border = border
    for (r, c), color in sheet.fills.items():
        ws.cell(r, c).fill = PatternFill("solid", fgColor=color)
    for c, width in sheet.widths.items():
        ws.column_dimensions[get_column_letter(c)].width = width
    for c, fmt in sheet.number_formats.items():
        for r in range(last_header + 1, last_body + 1):
            ws.cell(r, c).number_format = fmt
    for (r, c), target in sheet.links.items():
        cell = ws.cell(r, c)
        cell.hyperlink = f"#{target}"
        cell.font = Font(color="FF0563C1", underline="single")
    for ref in sheet.merges:
        ws.merge_cells(ref)
    if sheet.header_rows:
        ws.freeze_panes = ws.cell(last_header + 1, 1)
        ws.print_title_rows = print_titles(sheet)
    plan = print_plan(sheet)
    for r in range(1, sheet.title_rows + 1):      # a 14 pt title is not clipped by a 15 pt row
        ws.row_dimensions[r].height = 22 if r == 1 else 16
    for r, pt in plan.row_heights:
        ws.row_dimensions[r].height = pt
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if plan.landscape else "portrait"
    if plan.fit_width:
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    else:
        from openpyxl.worksheet.pagebreak import Break
        for c in plan.col_breaks:
            ws.col_breaks.append(Break(id=c))
        if plan.title_cols:
            ws.print_title_cols = f"A:{get_column_letter(plan.title_cols)}"
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
    ws.oddFooter.center.size = 11
    if sheet.chart:
        _add_chart(ws, sheet.chart)


def _add_chart(ws, spec: dict):
    from openpyxl.chart import BarChart, Reference
    chart = BarChart()
    chart.type = spec.get("direction", "bar")
    chart.title = spec.get("title")
    chart.y_axis.title = spec.get("y_title")
    col, r1, r2 = spec["values"]
    data = Reference(ws, min_col=col, min_row=r1, max_row=r2)
    chart.add_data(data, titles_from_data=spec.get("titles_from_data", True))
    ccol, c1, c2 = spec["categories"]
    chart.set_categories(Reference(ws, min_col=ccol, min_row=c1, max_row=c2))
    # the value axis starts at 0 (a rate of 92% next to 96% is not a quarter of its length)
    chart.y_axis.scaling.min = spec.get("y_min", 0)
    if spec.get("y_max") is not None:
        chart.y_axis.scaling.max = spec["y_max"]
    if spec.get("y_format"):
        chart.y_axis.number_format = spec["y_format"]
    chart.y_axis.delete = False
    chart.x_axis.delete = False
    if len(chart.series) == 1:
        chart.legend = None
    chart.height = spec.get("height", 10)
    chart.width = spec.get("width", 18)
    ws.add_chart(chart, spec.get("anchor", "H2"))


def _fill_sheet(ws, sheet: OutSheet):
    for r, row in enumerate(sheet.rows, 1):
        for c, value in enumerate(row, 1):
            if value is not None:
                _put(ws.cell(r, c), value)
    _style_sheet(ws, sheet)


def write_new_workbook(path, sheets: Sequence[OutSheet], overwrite: bool = True):
    """Write result sheets to a new workbook, atomically.

    Sheets are generated as XML directly (seconds for 200,000 rows); a sheet
    with a chart goes through openpyxl."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise BookError(f"结果文件应为.xlsx：{path.name}")
    if path.exists() and not overwrite:
        raise BookError(f"{path} 已存在")
    path.parent.mkdir(parents=True, exist_ok=True)
    check_writable(path)
    if not any(sheet.chart for sheet in sheets):
        return _write_new_fast(path, sheets)
    return _write_new_openpyxl(path, sheets)


def deliver(book, sheet: OutSheet, output=None) -> str:
    """Put one result sheet where the user asked: a new workbook when
    ``output`` is given, else our own sheet in ``book`` (replaced on a rerun).
    Returns where it went, in words for the one-line result."""
    if output:
        write_new_workbook(Path(output), [sheet])
        return f"新文件“{Path(output).name}”"
    book.replace_sheet(sheet)
    book.save()
    return f"“{_sheet_title(sheet.name)}”工作表"


def _write_new_fast(path: Path, sheets: Sequence[OutSheet]) -> Path:
    from openpyxl import Workbook
    from .xlsxpatch import SharedStrings, XlsxPatch, sheet_xml
    fd, skeleton = tempfile.mkstemp(prefix=".~yibao-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        wb = Workbook()
        wb.active.title = _sheet_title(sheets[0].name)
        wb.active.sheet_properties.tabColor = _OUR_TAB
        for sheet in sheets[1:]:
            wb.create_sheet(_sheet_title(sheet.name)).sheet_properties.tabColor = _OUR_TAB
        wb.properties.creator = "yibao"
        wb.save(skeleton)
        patch = XlsxPatch(skeleton)
        shared = SharedStrings()
        for sheet in sheets:
            patch.put_sheet(_sheet_title(sheet.name), sheet_xml(patch, sheet, shared=shared),
                            print_titles=print_titles(sheet))
        patch.put_shared_strings(shared)
        patch.save(backup=False)
        if path.exists():
            backup_copy(path)
        keep_mode(skeleton, path)
        os.replace(skeleton, path)
    finally:
        if os.path.exists(skeleton):
            os.unlink(skeleton)
    return path


def _write_new_openpyxl(path: Path, sheets: Sequence[OutSheet]) -> Path:
    from openpyxl import Workbook
    wb = Workbook()
    wb.remove(wb.active)
    for sheet in sheets:
        _fill_sheet(wb.create_sheet(_sheet_title(sheet.name)), sheet)
    wb.properties.creator = "yibao"
    atomic_save(wb, path, backup=path.exists())
    return path


def _sheet_title(name: str) -> str:
    bad = '[]:*?/\\'
    clean = "".join("_" if ch in bad else ch for ch in name)
    return clean[:31]


# ---------------------------------------------------------------- the file backend

class _PartsPrefetch:
    """The worksheet XML of an .xlsx, inflated in a background thread.

    python-calamine and zlib both release the GIL while they work, so the
    sheets an action will patch are inflated on the second core while the
    cells are read on the first (about 0.15 s of a 100,000-row ledger's
    write-back, hidden). :meth:`result` gives nothing when the file changed
    in between: the patch then reads the file as it is."""

    def __init__(self, path: Path):
        import threading
        self.path = path
        self.stamp = _stamp(path)
        self.parts: dict[str, bytes] = {}
        self.thread = threading.Thread(target=self._run, name="yibao-prefetch", daemon=True)
        self.thread.start()

    def _run(self):
        try:
            with zipfile.ZipFile(self.path) as z:
                for name in z.namelist():
                    if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                        self.parts[name] = z.read(name)
        except Exception:           # unreadable here: the patch reads (and reports) itself
            self.parts = {}

    def result(self) -> dict[str, bytes] | None:
        self.thread.join()
        return self.parts if self.parts and _stamp(self.path) == self.stamp else None


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


class FileBook:
    """A workbook file: read fast, write carefully (see module docstring).

    Writes are collected and applied by :meth:`save`: an .xlsx is patched in
    place part by part (:mod:`yibao.macros.xlsxpatch`: seconds for 100,000
    rows, everything else in the file left byte for byte); anything that
    patcher does not handle goes through openpyxl instead.
    """

    def __init__(self, path, for_update: bool = False):
        self.path = Path(path)
        self._grids: dict[str, list[list[Any]]] | None = None
        self._ops: list[tuple] = []
        # an action that will patch this file's sheets (validate, refresh)
        # has their XML inflated while calamine reads the cells
        self._for_update = for_update
        self._parts: _PartsPrefetch | None = None

    # reading
    def sheet_names(self) -> list[str]:
        return list(self.grids())

    def grids(self) -> dict[str, list[list[Any]]]:
        if self._grids is None:
            if self._for_update and self.path.suffix.lower() == ".xlsx" and self.path.exists():
                self._parts = _PartsPrefetch(self.path)
            self._grids = read_grid_any(self.path)
        return self._grids

    def grid(self, sheet: str) -> list[list[Any]]:
        return self.grids()[sheet]

    # writing (collected)
    def _check_target(self):
        if self.path.suffix.lower() not in (".xlsx", ".xlsm"):
            raise BookError(f"“{self.path.name}”是{self.path.suffix}文件，无法在原文件上写入结果："
                            "请用Excel或WPS另存为.xlsx后再试")
        check_writable(self.path)

    def replace_sheet(self, sheet: OutSheet):
        """Create or replace one of our result sheets (never a user's sheet)."""
        self._check_target()
        self._ops.append(("sheet", sheet))

    def mark(self, sheet: str, row: int, col: int, severity: str, note: str):
        """Fill a user cell by severity and attach a note; the value stays."""
        self._ops.append(("mark", sheet, row, col, severity, note))

    def clear_marks(self, sheet: str):
        """Undo the fills and notes of our previous run on this sheet."""
        self._ops.append(("clear", sheet))

    def fill_computed(self, sheet: str, rows: Sequence[int], columns: dict[int, Sequence[Any]],
                      number_formats=None):
        """Write computed values, column by column: ``columns[col][i]`` goes
        to row ``rows[i]``; only where the cell is empty, a formula, or ours.
        :meth:`save` reports how many typed values were kept."""
        self._check_target()
        self._ops.append(("computed", sheet, rows, columns, number_formats or {}))

    def save(self, backup: bool = True) -> dict:
        """Apply the collected writes; returns {"skipped": typed cells kept}."""
        if not self._ops:
            return {"skipped": 0}
        self._check_target()
        from .xlsxpatch import Unsupported
        try:
            stats = self._save_patched(backup)
        except Unsupported:
            stats = self._save_openpyxl(backup)
        self._ops = []
        self._grids = None
        return stats

    def _save_patched(self, backup: bool) -> dict:
        from .xlsxpatch import MARKS_SHEET, Unsupported, XlsxPatch, sheet_xml
        if self.path.suffix.lower() != ".xlsx":
            raise Unsupported("xlsm")
        parts, self._parts = (self._parts.result() if self._parts else None), None
        patch = XlsxPatch(self.path, parts=parts)
        skipped = 0
        previous = patch.read_hidden_marks()
        cleared = {op[1] for op in self._ops if op[0] == "clear"}
        marks: dict[str, dict[tuple[int, int], tuple[str, str]]] = {}
        for op in self._ops:
            if op[0] == "mark":
                _k, sheet, row, col, severity, note = op
                marks.setdefault(sheet, {})[(row, col)] = (severity, note)
        original: dict[tuple[str, int, int], int] = {}
        for sheet, row, col, xf in previous:
            original[(sheet, row, col)] = xf
        kept_marks = [(s, r, c, x) for s, r, c, x in previous if s not in cleared]
        for sheet in cleared | set(marks):
            if sheet not in patch.sheet_names():
                continue
            changes = {(r, c): ("style", x) for s, r, c, x in previous if s == sheet}
            new = marks.get(sheet, {})
            for (r, c), (severity, _note) in new.items():
                changes[(r, c)] = ("restyle", SEVERITY_FILL[severity], original.get((sheet, r, c)))
            patch.originals = {}
            patch.patch_cells(sheet, changes, protect_typed=False)
            kept_marks += [(sheet, r, c, base) for (r, c), base in patch.originals.items()]
            patch.set_notes(sheet, {cell: note for cell, (_s, note) in new.items()})
        for op in self._ops:
            if op[0] == "computed":
                _k, sheet, rows, columns, formats = op
                styles = {fmt: patch.xf(0, computed=True, num_fmt=fmt) for fmt in dict.fromkeys(formats.get(c) for c in columns)}
                style_of = {c: styles[formats.get(c)] for c in columns}
                skipped += patch.patch_values(sheet, rows, columns, style_of)
            elif op[0] == "sheet":
                sheet = op[1]
                name = _sheet_title(sheet.name)
                if name in patch.sheet_names() and not patch.is_ours(name):
                    raise BookError(f"工作表“{name}”不是本工具生成的，为免覆盖请改名后重试")
                patch.put_sheet(name, sheet_xml(patch, sheet), print_titles=print_titles(sheet))
        if cleared or marks:
            rows = [["sheet", "row", "col", "xf"]] + [list(m) for m in kept_marks]
            patch.put_sheet(MARKS_SHEET, sheet_xml(patch, OutSheet(MARKS_SHEET, rows, header_rows=0)),
                            hidden=True)
        patch.save(backup=backup)
        return {"skipped": skipped}

    def _save_openpyxl(self, backup: bool) -> dict:
        from openpyxl import load_workbook
        try:
            wb = load_workbook(self.path, keep_vba=self.path.suffix.lower() == ".xlsm", rich_text=True)
        except Exception as exc:
            raise BookError(f"无法打开“{self.path.name}”写入结果（{type(exc).__name__}）") from None
        _ensure_computed_style(wb)
        skipped = 0
        for op in self._ops:
            if op[0] == "sheet":
                _replace_sheet_openpyxl(wb, op[1])
            elif op[0] == "clear":
                _clear_marks_openpyxl(wb[op[1]])
            elif op[0] == "mark":
                _mark_openpyxl(wb[op[1]], *op[2:])
            elif op[0] == "computed":
                skipped += _fill_computed_openpyxl(wb[op[1]], op[2], op[3], op[4])
        atomic_save(wb, self.path, backup=backup)
        return {"skipped": skipped}


def _ensure_computed_style(wb):
    from openpyxl.styles import NamedStyle, PatternFill
    if COMPUTED_STYLE not in wb.named_styles:
        style = NamedStyle(name=COMPUTED_STYLE)
        style.fill = PatternFill("solid", fgColor="FFF2F2F2")
        wb.add_named_style(style)


def _replace_sheet_openpyxl(wb, sheet: OutSheet):
    title = _sheet_title(sheet.name)
    index = None
    if title in wb.sheetnames:
        old = wb[title]
        if old.sheet_properties.tabColor is None or old.sheet_properties.tabColor.rgb != _OUR_TAB:
            raise BookError(f"工作表“{title}”不是本工具生成的，为免覆盖请改名后重试")
        index = wb.sheetnames.index(title)
        wb.remove(old)
    ws = wb.create_sheet(title, index)
    ws.sheet_properties.tabColor = _OUR_TAB
    _fill_sheet(ws, sheet)


def _mark_openpyxl(ws, row, col, severity, note):
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill
    cell = ws.cell(row, col)
    if type(cell).__name__ == "MergedCell":
        return
    cell.fill = PatternFill("solid", fgColor=SEVERITY_FILL.get(severity, "FFFFC7CE"))
    comment = Comment(note, "yibao")
    comment.width, comment.height = 240, 90
    cell.comment = comment


def _clear_marks_openpyxl(ws):
    from openpyxl.styles import PatternFill
    ours = set(SEVERITY_FILL.values())
    for row in ws.iter_rows():
        for cell in row:
            if cell.comment is not None and cell.comment.author == "yibao":
                cell.comment = None
                if cell.fill is not None and cell.fill.fgColor is not None and cell.fill.fgColor.rgb in ours:
                    cell.fill = PatternFill()


def writable_runs(rows: Sequence[int], values: Sequence[Any], typed) -> tuple[list[tuple[int, list]], int]:
    """The (first row, values) blocks of consecutive rows to write, leaving
    out rows where ``typed(row)`` says the user typed a value; and how many
    were left out. (The live-Excel backend writes each block in one call.)

    >>> writable_runs([5, 6, 7, 9, 10], list("abcde"), lambda row: row == 6)
    ([(5, ['a']), (7, ['c']), (9, ['d', 'e'])], 1)
    """
    runs: list[tuple[int, list]] = []
    kept = 0
    last = None
    for row, value in zip(rows, values):
        if typed(row):
            kept += 1
            last = None
            continue
        if last is not None and row == last + 1:
            runs[-1][1].append(value)
        else:
            runs.append((row, [value]))
        last = row
    return runs, kept


def _fill_computed_openpyxl(ws, rows, columns, number_formats) -> int:
    skipped = 0
    for col, row, value in ((c, r, v) for c, values in columns.items() for r, v in zip(rows, values)):
        cell = ws.cell(row, col)
        current = cell.value
        ours = cell.style == COMPUTED_STYLE
        is_formula = cell.data_type == "f" or (isinstance(current, str) and current.startswith("="))
        if current not in (None, "") and not ours and not is_formula:
            skipped += 1
            continue
        _put(cell, value)
        cell.style = COMPUTED_STYLE
        if col in number_formats:
            cell.number_format = number_formats[col]
    return skipped


_OUR_TAB = "FF2F75B5"


def open_book(path) -> FileBook:
    return FileBook(path)
