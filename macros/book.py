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
from .marks import SEVERITY_FILL  # noqa: E402  (the one marker module: our fills, our notes)
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
    if isinstance(value, str):
        from .xlsxpatch import writable_text
        value = writable_text(value)       # control characters, over-long text (issue 16 item 10)
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
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if sheet.landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
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
        titles = _sheet_titles([sheet.name for sheet in sheets])
        wb.active.title = titles[0]
        wb.active.sheet_properties.tabColor = _OUR_TAB
        for title in titles[1:]:
            wb.create_sheet(title).sheet_properties.tabColor = _OUR_TAB
        wb.properties.creator = "yibao"
        wb.save(skeleton)
        patch = XlsxPatch(skeleton)
        shared = SharedStrings()
        for title, sheet in zip(titles, sheets):
            patch.put_sheet(title, sheet_xml(patch, sheet, shared=shared),
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
    for title, sheet in zip(_sheet_titles([sheet.name for sheet in sheets]), sheets):
        _fill_sheet(wb.create_sheet(title), sheet)
    wb.properties.creator = "yibao"
    atomic_save(wb, path, backup=path.exists())
    return path


def _sheet_title(name: str) -> str:
    """A sheet name Excel accepts: none of []:*?/\\ or control characters,
    no apostrophe at either end, not empty, at most 31 characters."""
    bad = '[]:*?/\\'
    clean = "".join("_" if ch in bad or ch < " " else ch for ch in name).strip("'")
    return clean[:31] or "Sheet"


def _sheet_titles(names: Sequence[str]) -> list[str]:
    """:func:`_sheet_title` of each name, made unique as Excel compares
    them (ignoring case): a repeat gets "(2)", "(3)"… so two departments
    whose names clean to the same never overwrite each other's sheet."""
    out: list[str] = []
    seen: set[str] = set()
    for name in names:
        base = title = _sheet_title(name)
        n = 2
        while title.casefold() in seen:
            suffix = f"({n})"
            title = base[:31 - len(suffix)] + suffix
            n += 1
        seen.add(title.casefold())
        out.append(title)
    return out


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
    rows, everything else in the file left byte for byte); a file that
    patcher cannot keep whole is refused (:class:`BookError`) untouched.
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
        """Apply the collected writes; returns {"skipped": typed cells kept,
        "written": computed cells really written, "notes_on_threads":
        [(sheet, row, col)] flagged cells whose finding is in the report only}."""
        if not self._ops:
            return {"skipped": 0, "written": 0, "notes_on_threads": []}
        self._check_target()
        from .xlsxpatch import Unsupported
        try:
            stats = self._save_patched(backup)
        except Unsupported as exc:
            # no lossy path: the patcher keeps every part it does not change,
            # or nothing is written at all (issue 16 item 4)
            why = str(exc) if any("\u4e00" <= ch <= "\u9fff" for ch in str(exc)) else ""
            raise BookError(f"“{self.path.name}”" + (f"中{why}，" if why else "含有本工具不支持的内容，")
                            + "无法在不丢失内容的情况下写入，已停止，文件未改动") from None
        self._ops = []
        self._grids = None
        return stats

    def _save_patched(self, backup: bool) -> dict:
        from .xlsxpatch import MARKS_SHEET, XlsxPatch, sheet_xml
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
        # an earlier run's marks: (sheet, row, col) → (format under our fill, the fill under ours);
        # that fill is None in the records of earlier versions, which kept the format only
        original = {(s, r, c): (x, f) for s, r, c, x, f in previous}
        kept_marks = [m for m in previous if m[0] not in cleared]
        on_threads: list[tuple[str, int, int]] = []
        for sheet in cleared | set(marks):
            if sheet not in patch.sheet_names():
                continue
            changes = {(r, c): ("style", x) if f is None else ("unmark", f)
                       for s, r, c, x, f in previous if s == sheet}
            new = marks.get(sheet, {})
            for (r, c), (severity, _note) in new.items():
                x, f = original.get((sheet, r, c), (None, None))
                changes[(r, c)] = ("restyle", SEVERITY_FILL[severity], x if f is None else None, f)
            patch.originals = {}
            patch.patch_cells(sheet, changes, protect_typed=False)
            kept_marks += [(sheet, r, c, base, fill) for (r, c), (base, fill) in patch.originals.items()]
            patch.notes_on_threads = []
            patch.set_notes(sheet, {cell: note for cell, (_s, note) in new.items()})
            on_threads += [(sheet, r, c) for r, c in patch.notes_on_threads]
        titles = iter(_sheet_titles([op[1].name for op in self._ops if op[0] == "sheet"]))
        for op in self._ops:
            if op[0] == "computed":
                _k, sheet, rows, columns, formats = op
                styles = {fmt: patch.xf(0, computed=True, num_fmt=fmt) for fmt in dict.fromkeys(formats.get(c) for c in columns)}
                style_of = {c: styles[formats.get(c)] for c in columns}
                skipped += patch.patch_values(sheet, rows, columns, style_of)
            elif op[0] == "sheet":
                sheet = op[1]
                name = next(titles)
                if name in patch.sheet_names() and not patch.is_ours(name):
                    raise BookError(f"工作表“{name}”不是本工具生成的，为免覆盖请改名后重试")
                if sheet.chart:
                    patch.put_sheet(name, sheet_xml(patch, dataclasses.replace(sheet, chart=None)),
                                    print_titles=print_titles(sheet))
                    with tempfile.TemporaryDirectory(prefix=".~yibao-", dir=self.path.parent) as scratch:
                        # openpyxl draws the chart in a workbook of its own; its parts are moved in
                        drawn = _write_new_openpyxl(Path(scratch) / "chart.xlsx", [sheet])
                        patch.put_chart_from(name, drawn)
                else:
                    patch.put_sheet(name, sheet_xml(patch, sheet), print_titles=print_titles(sheet))
        if cleared or marks:
            rows = [["sheet", "row", "col", "xf", "fill"]] + [list(m) for m in kept_marks]
            patch.put_sheet(MARKS_SHEET, sheet_xml(patch, OutSheet(MARKS_SHEET, rows, header_rows=0)),
                            hidden=True)
        patch.save(backup=backup)
        # notes_on_threads: flagged cells that carry a threaded comment, so
        # their finding is in the report only
        return {"skipped": skipped, "written": patch.cells_written, "notes_on_threads": on_threads}

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


_OUR_TAB = "FF2F75B5"


def open_book(path) -> FileBook:
    return FileBook(path)
