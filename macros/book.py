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

import abc
import contextlib
import csv
import dataclasses
import gc
import html.parser
import io
import operator
import os
import re
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any, Sequence

from yibao.atomic import commit, hold, note_read, real_path

__all__ = ["Book", "BookError", "OutSheet", "FileBook", "open_book", "read_grid_any",
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
    #: text printed at the top right of every page, in the page header (第1份／共3份): a label
    #: in the title rows prints on the first page only
    page_label: str = ""


class Book(abc.ABC):
    """The workbook interface every action works against, declared once.

    Implemented by :class:`FileBook` (a file on disk), ``ExcelBook``
    (:mod:`yibao.macros._excel`, the live workbook through xlwings) and the
    tests' in-memory book. An action uses nothing else.

    ``path`` (:class:`pathlib.Path`): where the workbook lives; result files
    are named after it. Rows and columns below are 1-based, as in Excel."""

    path: Path

    @abc.abstractmethod
    def grids(self) -> dict[str, list[list[Any]]]:
        """Every sheet's cell values, ``{sheet name: rows of values}``."""

    @abc.abstractmethod
    def replace_sheet(self, sheet: OutSheet) -> None:
        """Create or replace one of our result sheets (never a user's sheet);
        raises :class:`BookError` when a user's sheet has that name."""

    @abc.abstractmethod
    def mark(self, sheet: str, row: int, col: int, severity: str, note: str) -> None:
        """Fill a user cell by ``severity`` (a key of :data:`SEVERITY_FILL`)
        and attach ``note``; the value stays."""

    @abc.abstractmethod
    def clear_marks(self, sheet: str) -> None:
        """Undo the fills and notes of our previous run on ``sheet``."""

    @abc.abstractmethod
    def fill_computed(self, sheet: str, rows: Sequence[int], columns: dict[int, Sequence[Any]],
                      number_formats: dict[int, str] | None = None):
        """Write computed values, ``columns[col][i]`` to row ``rows[i]``, only
        where the cell is empty, a formula, or ours (never over a typed value)."""

    @abc.abstractmethod
    def save(self, backup: bool = True) -> dict:
        """Apply the writes; returns ``{"skipped": typed cells kept}``."""


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
#
# Files staff get are often not what their name says, and some are hostile
# (a stray cell at XFD1048576 makes calamine allocate the whole rectangle:
# 16,384 x 1,048,576 cells). So a file is read by what its bytes are, and a
# workbook is measured cheaply before calamine reads it:
#
# - ``PK`` (zip: .xlsx/.xlsm/.ods): every member's inflated size is capped
#   (absolutely and by ratio: zip bombs), and each worksheet's farthest row
#   and column are found by a streamed scan of its XML (linear, bounded
#   memory); a sheet whose rectangle exceeds :data:`MAX_CELLS` is refused;
# - a compound file (``D0 CF 11 E0``) holding ``EncryptionInfo`` is a
#   password-protected .xlsx; other compound files are .xls for calamine;
# - text (a web system's "Excel export": an HTML table, or tab- or
#   comma-separated text, in UTF-8, UTF-16 or GBK/GB18030) is parsed as text,
#   every cell kept as text so that IDs keep their digits; ``="430…"`` (how
#   exports keep Excel from turning an ID into a number) is unwrapped.

#: a sheet's rectangle (rows x columns, empty cells included) read at most:
#: 20 million cells is a 1,000,000-row list of 20 columns
MAX_CELLS = 20_000_000
#: inflated size of one zip member read at most, and at most this many times
#: its compressed size once over :data:`_RATIO_FLOOR` (real sheets: under 30)
MAX_MEMBER = 1 << 30
MAX_RATIO = 200
_RATIO_FLOOR = 64 << 20
_ZIP_MAGIC = b"PK\x03\x04"
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# patterns that start with a literal, which the re module finds at memchr
# speed (a leading optional namespace prefix made them 6 times slower)
_ROW_REF = re.compile(rb"row\b[^>]*?\sr=\"(\d{1,9})\"")
_WIDE_REF = re.compile(rb"r=\"([A-Z]{2,4})(\d{1,9})\"")
#: in every formula tag (<f>, <f t="shared" …>, <x:f>): found by a fast scan for its "f"
_FORMULA_HINT = re.compile(rb"f[ >]")


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _column_letters(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _too_big(path: Path, what: str) -> BookError:
    return BookError(f"无法读取“{path.name}”：{what}，超出可安全读取的范围（文件可能已损坏或被篡改）；"
                     "请在Excel或WPS中打开检查，删除多余内容后另存为.xlsx再试")


def _sheet_extent(stream, path: Path, limit: int) -> tuple[int, int, int, bool, bool]:
    """(farthest row, farthest column, bytes, whether it has a formula,
    whether it has an error value) of a worksheet's XML, read in chunks: cost
    linear in the inflated size, memory one chunk. Columns of one letter
    (A-Z) are not looked at one by one: at most 26."""
    max_row = max_col = size = 0
    formula = errors = False
    tail = b""
    while True:
        chunk = stream.read(1 << 22)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise _too_big(path, f"解压后超过{limit >> 20}MB")
        data = tail + chunk
        # (one scan for the rare "f>"/"f " first: a 100,000-row sheet has no formula, and four
        # exact scans for none cost a tenth of reading its cells)
        if not formula and _FORMULA_HINT.search(data):
            formula = b"<f>" in data or b"<f " in data or b":f>" in data or b":f " in data
        if not errors:
            errors = b't="e"' in data
        rows = _ROW_REF.findall(data)
        if rows:
            max_row = max(max_row, max(map(int, rows)))
        for m in _WIDE_REF.finditer(data):
            max_col = max(max_col, _column_number(m.group(1)))
            max_row = max(max_row, int(m.group(2)))
        tail = data[-512:]
    if max_col == 0 and size:
        max_col = 26
    return max_row, max_col, size, formula, errors


_CELL_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\b[^>]*?\sr=\"([A-Z]{1,4})(\d{1,9})\"[^>]*?(/?)>")
_CELL_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?c>")
_CELL_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:v|is)\b")


def _value_extent(stream) -> tuple[int, int]:
    """(farthest row, farthest column) of the cells that hold a value (what
    calamine's rectangle spans: empty styled cells and rows do not count).
    Per cell, so only run on a sheet :func:`_sheet_extent` found too large."""
    max_row = max_col = 0
    buf = b""
    while True:
        chunk = stream.read(1 << 22)
        buf += chunk
        pos, resume = 0, None
        for m in _CELL_START.finditer(buf):
            if m.group(3):
                pos = m.end()
                continue
            close = _CELL_END.search(buf, m.end())
            if close is None:           # the cell goes on in the next chunk
                resume = m.start()
                break
            if _CELL_VALUE.search(buf, m.end(), close.start()):
                max_row = max(max_row, int(m.group(2)))
                max_col = max(max_col, _column_number(m.group(1)))
            pos = close.end()
        if not chunk:
            return max_row, max_col
        buf = buf[resume:] if resume is not None else buf[max(pos, len(buf) - 512):]


#: the namespaces of Strict Open XML (ECMA-376 Part 1, 1st edition's
#: "strict" conformance class; Excel's "Strict Open XML 电子表格")
_STRICT_NS = b"http://purl.oclc.org/ooxml/"


def _is_strict(z: zipfile.ZipFile) -> bool:
    """A Strict OOXML package: its package relationship to the workbook is of
    the purl.oclc.org type (or the workbook says ``conformance="strict"``).
    Reads at most 64 KB of each of the two parts."""
    for name in ("_rels/.rels", "xl/workbook.xml"):
        try:
            with z.open(name) as stream:
                head = stream.read(1 << 16)
        except (KeyError, zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError):
            continue
        if _STRICT_NS + b"officeDocument/relationships/officeDocument" in head or (
                name == "xl/workbook.xml" and (b'conformance="strict"' in head or
                                               _STRICT_NS + b"spreadsheetml/main" in head)):
            return True
    return False


def _check_zip(path: Path) -> tuple[set[str], set[str]]:
    """Refuse a zip (.xlsx/.xlsm/.ods) whose members inflate beyond the caps
    or whose worksheets span more than :data:`MAX_CELLS` (with the sheet's
    farthest cell named, so a stray entry can be found and deleted), or that
    is Strict Open XML. Returns the worksheet parts that hold a formula, and
    those that hold an error value."""
    formulas, errors = set(), set()
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BookError(f"无法读取“{path.name}”：文件已损坏或不是Excel文件：请用Excel或WPS打开，另存为.xlsx后再试") from None
    with z:
        infos = z.infolist()
        if len(infos) > 100_000:
            raise _too_big(path, f"包含{len(infos)}个部件")
        if _is_strict(z):
            raise BookError(f"“{path.name}”是“严格 Open XML”格式，请用Excel另存为普通的.xlsx后再试")
        for info in infos:
            if info.file_size > MAX_MEMBER or (
                    info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1)):
                raise _too_big(path, f"部件“{info.filename}”解压后有{info.file_size >> 20}MB")
        for info in infos:
            name = info.filename
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            try:
                with z.open(info) as stream:
                    rows, cols, _size, formula, error = _sheet_extent(stream, path, MAX_MEMBER)
                if formula:
                    formulas.add(name)
                if error:
                    errors.add(name)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                raise BookError(f"无法读取“{path.name}”：文件已损坏：请用Excel或WPS打开，另存为.xlsx后再试") from None
            if rows * cols > MAX_CELLS:     # an upper bound: measure the cells with values
                with z.open(info) as stream:
                    rows, cols = _value_extent(stream)
            if rows * cols > MAX_CELLS:
                raise BookError(
                    f"无法读取“{path.name}”：工作表的范围到了{_column_letters(cols)}{rows}"
                    f"（{rows}行×{cols}列），超出可安全读取的{MAX_CELLS // 10000}万个单元格；"
                    "多半是远处误填了内容或格式：请在Excel或WPS中按Ctrl+End找到它，删除多余的行和列后保存再试")
    return formulas, errors


def _encrypted(path: Path) -> bool:
    """A compound file holding an ``EncryptionInfo`` stream: an .xlsx saved
    with a password to open (ECMA-376 Part 2 / MS-OFFCRYPTO 2.3.4)."""
    try:
        import olefile
    except ImportError:
        olefile = None
    if olefile is not None:
        try:
            with olefile.OleFileIO(str(path)) as ole:
                return ole.exists("EncryptionInfo")
        except Exception:
            return False
    with open(path, "rb") as handle:
        return "EncryptionInfo".encode("utf-16-le") in handle.read(64 << 20)


def _password_error(path: Path) -> BookError:
    return BookError(f"“{path.name}”设置了打开密码，无法读取：请在Excel或WPS中打开，"
                     "在“文件→信息→保护工作簿”（WPS：“文件→文档加密”）中取消密码并保存后再试")


#: the names calamine picks its reader by, for each kind of content
_SUFFIXES = {"zip": (".xlsx", ".xlsm", ".ods"), "cfb": (".xls",)}


def _open_calamine(path: Path, kind: str | None, data: bytes | None = None):
    from python_calamine import CalamineWorkbook
    try:
        if data is not None:
            return CalamineWorkbook.from_filelike(io.BytesIO(data))
        if kind and path.suffix.lower() not in _SUFFIXES[kind]:
            # named for another kind (an .xlsx saved as .xls): calamine picks
            # by name from a path, by content from a file object
            with open(path, "rb") as handle:
                return CalamineWorkbook.from_filelike(handle)
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types
        if "password" in str(exc).lower():
            raise _password_error(path) from None
        raise BookError(f"无法读取“{path.name}”：文件已损坏或不是Excel文件：请用Excel或WPS打开，另存为.xlsx后再试") from None


#: a worksheet's ``<dimension ref="…"/>`` (ECMA-376 Part 1, 18.3.1.35)
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\b[^>]*?\sref=\"([^\"]*)\"[^>]*?/>")
_CELL_RANGE = re.compile(rb"\$?[A-Z]{1,3}\$?\d{1,7}(?::\$?[A-Z]{1,3}\$?\d{1,7})?")


def _without_bad_dimensions(path: Path) -> bytes | None:
    """The package with every worksheet's dimension that is not a cell range
    removed (the element is optional), in memory: LibreOffice writes a
    row-only ``<dimension ref="1:4"/>`` (issue 16 item 12 (b)), which calamine
    cannot use and then reads no cell of the sheet. None when no worksheet
    has such a dimension. Members are within the caps of :func:`_check_zip`."""
    out = io.BytesIO()
    changed = False
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as w:
        for info in z.infolist():
            data = z.read(info)
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                m = _DIMENSION.search(data, 0, 1 << 16)
                if m and not _CELL_RANGE.fullmatch(m.group(1)):
                    data = data[:m.start()] + data[m.end():]
                    changed = True
            w.writestr(info.filename, data)
    return out.getvalue() if changed else None


def _calamine_grid(path: Path, kind: str | None = None) -> dict[str, list[list[Any]]]:
    """Every sheet's cells through calamine. A chart or dialog sheet is an
    empty grid; a worksheet calamine cannot read is read again from a copy
    with its unusable dimension removed (:func:`_without_bad_dimensions`),
    and if it still cannot be read, :class:`BookError` names it: a sheet is
    never silently taken for empty (issue 16 item 12 (b))."""
    from python_calamine import SheetTypeEnum
    book = _open_calamine(path, kind)
    types = {meta.name: meta.typ for meta in book.sheets_metadata}
    grids: dict[str, list[list[Any]]] = {}
    failed: dict[str, Exception] = {}
    for name in book.sheet_names:
        try:
            grids[name] = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as exc:
            grids[name] = []
            if types.get(name) not in (SheetTypeEnum.ChartSheet, SheetTypeEnum.DialogSheet):
                failed[name] = exc
    if failed and kind == "zip":
        repaired = _without_bad_dimensions(path)
        if repaired is not None:
            again = _open_calamine(path, kind, repaired)
            for name in list(failed):
                try:
                    grids[name] = again.get_sheet_by_name(name).to_python(skip_empty_area=False)
                    del failed[name]
                except Exception as exc:
                    failed[name] = exc
    if failed:
        name, exc = next(iter(failed.items()))
        raise BookError(f"无法读取“{path.name}”的工作表“{name}”："
                        "请在Excel或WPS中打开该文件，另存为.xlsx后再试")
    return grids


_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")
_FILLED_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v>[^<]")


def _uncached_cells(data: bytes) -> set[tuple[int, int]]:
    """(row, column), 1-based, of the cells of a worksheet's XML that hold a
    formula and no cached result (``<c><f>…</f></c>`` or an empty ``<v/>``,
    as scripts write them): calamine reads those as empty. Linear, per cell."""
    out = set()
    pos = 0
    while True:
        m = _CELL_START.search(data, pos)
        if m is None:
            return out
        if m.group(3):
            pos = m.end()
            continue
        close = _CELL_END.search(data, m.end())
        if close is None:
            return out
        body = data[m.end():close.start()]
        if _FORMULA.search(body) and not _FILLED_VALUE.search(body):
            out.add((int(m.group(2)), _column_number(m.group(1))))
        pos = close.end()


_ERROR_CELL = re.compile(rb'\st="e"')
_ERROR_VALUE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?v>([^<]{1,20})<")


def _error_cells(data: bytes) -> dict[tuple[int, int], str]:
    """(row, column), 1-based → code, of a worksheet's error cells
    (``<c t="e"><v>#N/A</v></c>``). Linear, per cell."""
    out = {}
    for m in _CELL_START.finditer(data):
        if m.group(3) or not _ERROR_CELL.search(m.group(0)):
            continue
        close = _CELL_END.search(data, m.end())
        if close is None:
            break
        found = _ERROR_VALUE.search(data, m.end(), close.start())
        if found:
            out[(int(m.group(2)), _column_number(m.group(1)))] = found.group(1).decode("ascii", "replace")
    return out


def _put_error_values(path: Path, grids: dict[str, list[list[Any]]], parts: set[str]):
    """Put each error value (``#N/A``, ``#REF!``…) into the grid as its code:
    calamine reads error cells as empty (python-calamine issue #105), and
    an ID or flag cell holding ``#N/A`` must be reported as the Excel
    functions and ``yibao calc`` report it (yibao.functions.person), not taken
    for a blank cell. Only the worksheets :func:`_check_zip` saw an error in."""
    with zipfile.ZipFile(path) as z:
        for name, part in _sheet_parts(z).items():
            if part not in parts or name not in grids:
                continue
            grid = grids[name]
            for (r, c), code in _error_cells(z.read(part)).items():
                while len(grid) < r:
                    grid.append([])
                row = grid[r - 1]
                if len(row) < c:
                    row.extend([""] * (c - len(row)))
                if row[c - 1] in ("", None):
                    row[c - 1] = code


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → worksheet part name, by namespace (any prefix)."""
    import posixpath
    import xml.etree.ElementTree as ET

    def local(tag):
        return tag.rsplit("}", 1)[-1]
    try:
        book = ET.fromstring(z.read("xl/workbook.xml"))
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError):
        return {}
    targets = {}
    for rel in rels:
        target = rel.get("Target") or ""
        targets[rel.get("Id")] = (target.lstrip("/") if target.startswith("/")
                                  else posixpath.normpath(posixpath.join("xl", target)))
    out = {}
    for el in book.iter():
        if local(el.tag) == "sheet":
            rid = next((v for k, v in el.attrib.items() if local(k) == "id"), None)
            if rid in targets:
                out[el.get("name")] = targets[rid]
    return out


def _refuse_uncached_people(path: Path, grids: dict[str, list[list[Any]]], formulas: set[str]):
    """A list whose 身份证号 (or 姓名) column holds formulas saved without their
    results (a file written by a script, never opened in Excel) reads as
    empty cells, and every row would be "身份证号为空": say to open and save
    it in Excel or WPS first (issue 16 item 2). Cheap unless a sheet with
    formulas has such a column mostly blank; then only that sheet's XML is
    scanned, and the column's uncached formulas must outnumber its values
    (our templates' footer formulas never count: they sit under values)."""
    from .table import field_of, is_blank
    suspects = []
    for name, grid in grids.items():
        for r, row in enumerate(grid[:30]):
            for c, value in enumerate(row):
                if field_of(value) not in ("id_no", "name"):
                    continue
                below = [line[c] if c < len(line) else None for line in grid[r + 1:]]
                filled = sum(not is_blank(v) for v in below)
                if filled * 2 < len(below):
                    suspects.append((name, r + 1, c + 1, str(value).strip(), filled))
    if not suspects:
        return
    suspects.sort(key=lambda s: field_of(s[3]) != "id_no")   # name the ID column first
    with zipfile.ZipFile(path) as z:
        parts = _sheet_parts(z)
        scanned: dict[str, set] = {}
        for name, header_row, col, header, filled in suspects:
            part = parts.get(name)
            if part not in formulas:
                continue
            if part not in scanned:
                scanned[part] = _uncached_cells(z.read(part))
            uncached = sum(1 for (r, c) in scanned[part] if c == col and r > header_row)
            if uncached >= 2 and uncached > filled:
                raise BookError(
                    f"“{path.name}”工作表“{name}”的“{header}”列是公式，文件里没有保存公式的结果"
                    "（多半是程序生成的文件）：请先用Excel或WPS打开该文件并保存一次（让公式算出结果）后再试")


def _decode_text(path: Path, raw: bytes) -> str:
    """Text in the encodings exports use: UTF-16 with a BOM (Excel's
    "Unicode 文本"), UTF-8 with or without a BOM, else GBK/GB18030."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BookError(f"“{path.name}”的编码无法识别，请用Excel另存为.xlsx")


_EXCEL_TEXT = re.compile(r'^="(.*)"$', re.DOTALL)


def _unwrap(cell: str) -> str:
    """A cell as exports write it to keep Excel from making an ID a number.

    >>> _unwrap('="430999195001010213"'), _unwrap("张三")
    ('430999195001010213', '张三')
    """
    m = _EXCEL_TEXT.match(cell)
    return m.group(1).replace('""', '"') if m else cell


def _delimited_grid(path: Path, text: str) -> dict[str, list[list[Any]]]:
    """Comma- or tab-separated text (the delimiter the first line uses most)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if first.count("\t") >= max(first.count(","), 1) else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    # (4.4 million cells in a county's export: only those starting with = go through the
    # pattern, in place in the reader's fresh lists; half the time of building new ones)
    for row in rows:
        for i, cell in enumerate(row):
            if cell[:1] == "=":
                row[i] = _unwrap(cell)
    return {path.stem: rows}


def _csv_grid(path: Path) -> dict[str, list[list[Any]]]:
    return _delimited_grid(path, _decode_text(path, path.read_bytes()))


class _TableParser(html.parser.HTMLParser):
    """Every ``<table>`` of an HTML page as rows of cell text.

    The standard library's parser (linear in its input, no dependency):
    what web systems save as ".xls" is one plain table, which needs neither
    lxml nor html5lib (pandas.read_html needs one of them and would turn IDs
    into numbers). ``colspan`` leaves empty cells after the value, as
    merged cells read from a workbook do; so does ``rowspan`` (web exports
    merge a household's 家庭编号 down its rows) in the rows below, so that
    every later cell stays in its column."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._depth = 0
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._span = 1
        self._down = 1
        self._below: dict[int, int] = {}     # column → rows still covered by a rowspan above

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._depth += 1
            if self._depth == 1:
                self.tables.append([])
        elif self._depth != 1:
            return
        elif tag == "tr":
            self._end_row()
            self._row = []
        elif tag in ("td", "th"):
            self._end_cell()
            if self._row is None:
                self._row = []
            self._cell = []
            self._span = _span(dict(attrs).get("colspan"))
            self._down = _span(dict(attrs).get("rowspan"))
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag):
        if tag == "table":
            if self._depth == 1:
                self._end_row()
            self._depth = max(self._depth - 1, 0)
        elif self._depth != 1:
            return
        elif tag in ("td", "th"):
            self._end_cell()
        elif tag == "tr":
            self._end_row()

    def handle_data(self, data):
        if self._cell is not None and self._depth == 1:
            self._cell.append(data)

    def _skip_covered(self):
        while self._below.get(len(self._row), 0) > 0:
            self._row.append("")

    def _end_cell(self):
        if self._cell is not None and self._row is not None:
            text = " ".join("".join(self._cell).replace("\xa0", " ").split(" ")).strip()
            self._skip_covered()
            if self._down > 1:
                for col in range(len(self._row), len(self._row) + self._span):
                    self._below[col] = self._down      # counted down as this row ends
            self._row.append(_unwrap(text))
            self._row.extend([""] * (self._span - 1))
        self._cell = None
        self._span = self._down = 1

    def _end_row(self):
        self._end_cell()
        if self._row is not None and self.tables:
            if self._below:
                width = max(self._below) + 1
                while len(self._row) < width:
                    self._skip_covered()
                    if len(self._row) < width:
                        break
                self.tables[-1].append(self._row)
                self._below = {c: n - 1 for c, n in self._below.items() if n > 1}
            else:
                self.tables[-1].append(self._row)
        self._row = None


def _span(value) -> int:
    """A colspan/rowspan attribute as a count (1 when absent or odd; at most 1000)."""
    value = (value or "1").strip()
    return min(int(value), 1000) if value.isdigit() and int(value) > 0 else 1


def _html_grid(path: Path, text: str) -> dict[str, list[list[Any]]]:
    parser = _TableParser()
    parser.feed(text)
    parser.close()
    parser._end_row()
    tables = [t for t in parser.tables if t]
    if not tables:
        raise BookError(f"“{path.name}”是网页文件，其中没有表格：请从系统重新导出，或用Excel打开后另存为.xlsx")
    if len(tables) == 1:
        return {path.stem: tables[0]}
    return {f"{path.stem}{i}": t for i, t in enumerate(tables, 1)}


_SS = "{urn:schemas-microsoft-com:office:spreadsheet}"


def _spreadsheetml_grid(path: Path, raw: bytes) -> dict[str, list[list[Any]]]:
    """An XML Spreadsheet 2003 (``<Workbook xmlns="urn:schemas-microsoft-
    com:office:spreadsheet">``, what many Java web systems export as .xls):
    every sheet, cells as text (IDs keep their digits), ``ss:Index`` gaps and
    ``ss:MergeAcross`` kept as empty cells. The standard library's expat
    parser (linear; it refuses entity expansion bombs); the rectangle is
    measured before it is built."""
    import xml.etree.ElementTree as ET
    sheets: dict[str, dict[int, dict[int, str]]] = {}
    extent: dict[str, tuple[int, int]] = {}
    name, r, cells = None, 0, None
    try:
        for event, el in ET.iterparse(io.BytesIO(raw), events=("start", "end")):
            tag = el.tag
            if event == "start":
                if tag == _SS + "Worksheet":
                    name = el.get(_SS + "Name") or f"Sheet{len(sheets) + 1}"
                    sheets[name], r = {}, 0
                elif tag == _SS + "Row" and name is not None:
                    r = int(el.get(_SS + "Index") or r + 1)
                    cells, c = sheets[name].setdefault(r, {}), 0
                continue
            if tag == _SS + "Cell" and cells is not None:
                c = int(el.get(_SS + "Index") or c + 1)
                data = el.find(_SS + "Data")
                text = "".join(data.itertext()) if data is not None else ""
                if text:
                    cells[c] = _unwrap(text)
                    rows, cols = extent.get(name, (0, 0))
                    extent[name] = (max(rows, r), max(cols, c))
                c += int(el.get(_SS + "MergeAcross") or 0)
                el.clear()
            elif tag == _SS + "Row":
                el.clear()
    except (ET.ParseError, ValueError) as exc:
        raise BookError(f"无法读取“{path.name}”：XML表格已损坏：请用Excel或WPS打开，另存为.xlsx后再试") from None
    out = {}
    for name, rows in sheets.items():
        height, width = extent.get(name, (0, 0))
        if height * width > MAX_CELLS:
            raise _too_big(path, f"工作表“{name}”有{height}行×{width}列")
        grid = [[""] * width for _ in range(height)]
        for r, cells in rows.items():
            for c, value in cells.items():
                grid[r - 1][c - 1] = value
        out[name] = grid
    return out


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return b"\0" not in head


_HTML_START = re.compile(r"\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|meta|body|table|style|\?xml[^>]*>\s*<html)",
                         re.IGNORECASE | re.DOTALL)


def read_grid_any(path) -> dict[str, list[list[Any]]]:
    """Every sheet of a workbook or table file as rows of values, by what the
    file is rather than what its name says: .xlsx/.xlsm/.ods (zip), .xls
    (compound file), .xlsb, or text: an HTML table or comma/tab-separated
    values (in that case every cell is text and the sheet is named after the
    file), or an XML Spreadsheet 2003. Merged ranges come back with the value in the top-left cell only;
    the table reader fills them down where it matters.

    Raises :class:`BookError` (Chinese) for a missing, unreadable,
    password-protected or oversized file (see :data:`MAX_CELLS`,
    :data:`MAX_MEMBER`), a worksheet that cannot be read (never taken for
    empty: :func:`_calamine_grid`), a Strict Open XML package, and a sheet
    whose 身份证号/姓名 column is formulas saved without results
    (:func:`_refuse_uncached_people`) (issue 16 items 2 and 12).
    """
    path = Path(path)
    if not path.exists():
        raise BookError(f"找不到文件：{path}")
    suffix = path.suffix.lower()
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except IsADirectoryError:
        raise BookError(f"“{path}”是文件夹，不是表格文件") from None
    if not head:
        # a copy or download that did not finish: not "no plan" or "no header" (tester, issue 16 item 2)
        raise BookError(f"“{path.name}”是空文件（0字节），里面没有任何内容：可能复制、下载或保存没有完成，"
                        "请重新获取，或用Excel或WPS打开原文件另存后再试")
    if head.startswith(_ZIP_MAGIC):
        formulas, errors = _check_zip(path)
        grids = _calamine_grid(path, "zip")
        if errors:
            _put_error_values(path, grids, errors)
        if formulas:
            _refuse_uncached_people(path, grids, formulas)
        return grids
    if head.startswith(_CFB_MAGIC):
        if _encrypted(path):
            raise _password_error(path)
        return _calamine_grid(path, "cfb")
    if suffix in (".csv", ".txt", ".tsv", ".xls", ".xlsx", ".xlsm", ".htm", ".html") and _looks_like_text(head):
        if path.stat().st_size > MAX_MEMBER:
            raise _too_big(path, f"文件有{path.stat().st_size >> 20}MB")
        raw = path.read_bytes()
        if b"urn:schemas-microsoft-com:office:spreadsheet" in raw[:4096] and re.search(rb"<(?:ss:)?Workbook\b", raw[:4096]):
            return _spreadsheetml_grid(path, raw)
        text = _decode_text(path, raw)
        if _HTML_START.match(text[:4096]):
            return _html_grid(path, text)
        return _delimited_grid(path, text)
    if suffix in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
        return _calamine_grid(path)
    raise BookError(f"不支持“{path.suffix}”文件：请用Excel或WPS另存为.xlsx后再试")


# ---------------------------------------------------------------- writing

def _lock_files(path: Path) -> list[tuple[Path, str]]:
    """The lock files an office program keeps beside a workbook it has open:
    Excel's and WPS's ``~$name`` and LibreOffice's ``.~lock.name#``."""
    return [(path.with_name("~$" + path.name), "Excel或WPS"),
            (path.with_name(f".~lock.{path.name}#"), "LibreOffice")]


def check_writable(path: Path):
    """Refuse to write a workbook that Excel, WPS or LibreOffice has open
    (its lock file is beside it) or that cannot be opened for writing."""
    path = Path(path)
    for lock, program in _lock_files(path):
        if lock.exists():
            raise BookError(f"“{path.name}”正被{program}打开，请先关闭再运行")
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
        # openpyxl keeps an .xlsm's macros in an in-memory zip whose buffer
        # its writer closes; closed here, it prints no traceback at exit
        vba = getattr(workbook, "vba_archive", None)
        if vba is not None:
            with contextlib.suppress(Exception):
                vba.close()
        with zipfile.ZipFile(tmp) as check:   # never replace a good file with a broken one
            if check.testzip() is not None:
                raise BookError("保存时文件损坏，原文件未改动")
        commit(tmp, path, backup=backup and path.exists())
    except PermissionError:
        raise BookError(f"无法写入“{path.name}”：文件正被其他程序打开，请关闭后再试") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def print_titles(sheet: OutSheet, cols: bool = True) -> str | None:
    """The rows repeated atop every printed page ("3:4"): the header; with ``cols``, first the
    columns repeated on each column section of a wide sheet ("A:B,3:4", see ``print_plan``)."""
    if not sheet.header_rows:
        return None
    rows = f"{sheet.title_rows + 1}:{sheet.title_rows + sheet.header_rows}"
    if cols:
        from openpyxl.utils import get_column_letter
        plan = print_plan(sheet)
        if plan.title_cols:
            return f"A:{get_column_letter(plan.title_cols)},{rows}"
    return rows


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
    """How one result sheet prints: orientation, whether to fit the width, column sections,
    which columns wrap their text and which note lines are merged and wrapped."""

    landscape: bool
    fit_width: bool
    col_breaks: tuple[int, ...] = ()      # 1-based columns after which a new page section starts
    title_cols: int = 0                   # leading columns repeated on every section
    row_heights: tuple[tuple[int, float], ...] = ()   # (row, pt): header rows whose text wraps, wrapped notes
    widths: tuple[tuple[int, float], ...] = ()        # (column, width) as written: sheet.widths, wrapping ones narrowed or widened
    wrap_cols: frozenset = frozenset()    # body columns whose text wraps (rows grow to fit it)
    merges: tuple[str, ...] = ()          # sheet.merges, with the note lines' merges ("A12:F12")
    notes: frozenset = frozenset()        # title/footer rows whose one text wraps across its merge
    row_breaks: tuple[int, ...] = ()      # rows after which a new page starts (a chart kept whole)


def _width(sheet: OutSheet, c: int) -> float:
    return float(sheet.widths.get(c, 8.43))


def _text_pt(text: str, size: float = BODY_PT) -> float:
    """Printed width of a text: CJK and full-width characters one em, others about half."""
    return sum(size if ord(ch) > 0x2E7F else size * 0.55 for ch in text)


def _fast_text_pt(text: str) -> float:
    """``_text_pt`` at 11 pt from the UTF-8 length (C speed, for 200,000-row columns): a character
    of three bytes or more (CJK, full-width and general punctuation) one em, others about half."""
    wide = (len(text.encode("utf-8", "surrogatepass")) - len(text)) / 2
    return BODY_PT * wide + BODY_PT * 0.55 * (len(text) - wide)


MIN_WRAP_UNITS = 20.0     # a wrapping column is not narrowed below this (about 12 CJK characters)


def _excel_pt(units: float) -> float:
    """Printed width of a column in Excel (Calibri 11: 7 px a unit and 5 px of padding, at 96 px an
    inch), narrower than LibreOffice's UNIT_PT without Calibri: wrapped lines are counted in it."""
    return (7 * units + 5) * 0.75


def _line_height(lines: int, size: float = BODY_PT) -> float:
    return round(lines * size * 1.35 + 3, 1)


def _long_texts(sheet: OutSheet, c: int, inner: float, first_only: bool = False) -> list[tuple[int, float]]:
    """(row, printed width in pt) of the body texts in column ``c`` wider than ``inner`` pt (with
    ``first_only``, the first of them only).

    Built for the merge's 200,000-row roster: a text short enough to fit whatever its characters
    is not measured, an ASCII one (an ID number) is measured by its length, and a text the
    column repeats (categories, reasons) once."""
    first, last = sheet.title_rows + sheet.header_rows, len(sheet.rows) - sheet.footer_rows
    sure, i = int(inner // BODY_PT), c - 1
    narrow = inner / (BODY_PT * 0.55)        # more ASCII characters than this do not fit
    body = sheet.rows[first:last]
    if not body:
        return []
    # whole-column checks at C speed first: most columns have no text that could be too wide
    values = list(map(operator.itemgetter(i), body)) if min(map(len, body)) > i else \
        [row[i] if len(row) > i else None for row in body]
    kinds = set(map(type, values))
    if str not in kinds:
        return []
    texts = values if len(kinds) == 1 else [v if v.__class__ is str else "" for v in values]
    longest = max(map(len, texts))
    if longest <= sure or (longest <= narrow and all(map(str.isascii, texts))):
        return []
    known: dict[str, float] = {}
    out = []
    for k in [k for k, v in enumerate(texts) if len(v) > sure]:
        v = values[k]
        if v.isascii():
            pt = BODY_PT * 0.55 * len(v)
        else:
            pt = known.get(v)
            if pt is None:
                pt = _fast_text_pt(v)
                if len(known) < 100_000:
                    known[v] = pt
        if pt > inner:
            out.append((first + k + 1, pt))
            if first_only:
                break
    return out


def _wrap_columns(sheet: OutSheet, cols: list[float]) -> set[int]:
    """Body columns holding a text wider than the column (printed, it would be cut off by the next
    cell or run past the page edge): their text wraps."""
    return {c for c, width in enumerate(cols, 1) if _long_texts(sheet, c, width - 4, first_only=True)}


def _wrapped_rows(sheet: OutSheet, cols: list[float], wrap: set[int]) -> dict[int, int]:
    """Body row → lines its wrapped texts take, where more than one. Counted in Excel's narrower
    columns, so the text is not clipped there either (neither Excel nor LibreOffice fits a row's
    height to its text when it opens a file)."""
    lines: dict[int, int] = {}
    for c in wrap:
        room = int(_excel_pt(cols[c - 1] / UNIT_PT) - 4)
        for r, pt in _long_texts(sheet, c, room):
            n = -(-int(pt) // room)
            if n > lines.get(r, 1):
                lines[r] = n
    return lines


def _fit(cols: list[float], wrap: set[int], avail: float) -> list[float] | None:
    """``cols`` (pt) with the wrapping columns narrowed so that the table fits ``avail``;
    None when even MIN_WRAP_UNITS each is too wide."""
    total = sum(cols)
    if total <= avail:
        return cols
    floor = MIN_WRAP_UNITS * UNIT_PT
    spare = sum(max(0.0, cols[c - 1] - floor) for c in wrap)
    excess = total - avail
    if not wrap or spare < excess:
        return None
    out = list(cols)
    for c in wrap:
        give = max(0.0, cols[c - 1] - floor)
        out[c - 1] = cols[c - 1] - excess * give / spare
    return out


def _widen(sheet: OutSheet, cols: list[float], wrap: set[int], breaks: list[int], title_cols: int,
           avail: float) -> list[float]:
    """``cols`` with each wrapping column widened into the room its page section leaves free, as
    far as its widest text needs to fit one line in Excel's narrower columns: fewer wrapped lines,
    fewer pages. The sections (``breaks``) stay as they are."""
    out = list(cols)
    edges = [0, *breaks, len(cols)]
    for lo, hi in zip(edges, edges[1:]):
        members = range(lo + 1, hi + 1)
        used = sum(out[c - 1] for c in members) + (sum(out[:title_cols]) if lo else 0.0)
        free = avail - used
        for c in sorted(set(members) & wrap):
            if free <= 1:
                break
            widest = max((pt for _r, pt in _long_texts(sheet, c, out[c - 1] - 4)), default=0.0)
            # LibreOffice's width for a column Excel prints ``widest`` + padding wide in
            want = ((widest + 4) / 0.75 - 5) / 7 * UNIT_PT
            grow = min(max(0.0, want - out[c - 1]), free)
            out[c - 1] += grow
            free -= grow
    return out


def _merge_rows(ref: str) -> tuple[int, int]:
    rows = [int(x) for x in re.findall(r"\d+", ref)]
    return min(rows), max(rows)


_MARGINS_TB_PT = (0.75 + 0.75) * 72     # top + bottom page margins (the page footer inside the bottom one)
_DEFAULT_ROW_PT = 15.0
_CM_PT = 72 / 2.54


def _chart_break(sheet: OutSheet, heights: dict[int, float], landscape: bool) -> tuple[int, ...]:
    """A page break before a chart that would otherwise be cut by the bottom of its page: the rows
    laid out on pages (the header rows repeated atop each), then the chart's height from its row."""
    if not sheet.chart or not re.fullmatch(r"[A-Z]+\d+", str(sheet.chart.get("anchor", ""))):
        return ()
    anchor = int(re.search(r"\d+", sheet.chart["anchor"]).group(0))
    page = (_A4_PT[0] if landscape else _A4_PT[1]) - _MARGINS_TB_PT
    head = range(sheet.title_rows + 1, sheet.title_rows + sheet.header_rows + 1)
    repeated = sum(heights.get(r, _DEFAULT_ROW_PT) for r in head)
    y = 0.0
    for r in range(1, anchor):
        h = heights.get(r, _DEFAULT_ROW_PT)
        if y + h > page:
            y = repeated
        y += h
    tall = float(sheet.chart.get("height", 7.5)) * _CM_PT
    return (anchor - 1,) if y + tall > page and tall < page - repeated and anchor > 1 else ()


def print_plan(sheet: OutSheet) -> PrintPlan:
    """The print setup of ``sheet`` (shared by the openpyxl and the fast XML writer).

    Body text wider than its column wraps, in a row tall enough for its lines (counted in Excel's
    narrower columns: neither Excel nor LibreOffice fits a row to its text on opening a file);
    such a column is narrowed, down to MIN_WRAP_UNITS, when that lets the table fit the page width
    at full size, and widened into the room its page section leaves. A title or footer line of
    one text wider than the first page section is merged across that section with its text
    wrapped. A chart that the bottom of a page would cut starts a new page (issue 11, 打印)."""
    cached = sheet.__dict__.get("_print_plan")
    if cached is not None and cached[0] == (len(sheet.rows), tuple(sheet.widths.items()), tuple(sheet.merges)):
        return cached[1]
    n = max((len(r) for r in sheet.rows), default=0)
    cols = [_width(sheet, c) * UNIT_PT for c in range(1, n + 1)]
    wrap = _wrap_columns(sheet, cols) if sheet.header_rows else set()
    landscape = sheet.landscape
    portrait_avail = _A4_PT[0] - _SIDE_MARGINS_IN * 72
    land_avail = _A4_PT[1] - _SIDE_MARGINS_IN * 72
    avail = land_avail if landscape else portrait_avail
    # narrowing a wrapping column to fit keeps the text at full size, where fit-to-width would shrink it
    fitted = _fit(cols, wrap, avail)
    if fitted is None and not landscape:
        landscape, avail = True, land_avail
        fitted = _fit(cols, wrap, avail)
    if fitted is not None:
        cols = fitted
    total = sum(cols)
    if total > avail and not landscape:
        landscape, avail = True, land_avail
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
    if wrap:
        cols = _widen(sheet, cols, wrap, breaks, title_cols, avail)
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
    # body rows whose text wraps: tall enough for its lines in the (narrowed) columns
    heights += [(r, _line_height(k)) for r, k in _wrapped_rows(sheet, cols, wrap).items()]
    # note lines (titles, 说明, 注, signatures) wider than the first page section
    section = breaks[0] if breaks else n
    merges = list(sheet.merges)
    notes = set()
    last_body = len(sheet.rows) - sheet.footer_rows
    for r in [*range(1, sheet.title_rows + 1), *range(last_body + 1, len(sheet.rows) + 1)]:
        row = sheet.rows[r - 1]
        if not row or not isinstance(row[0], str) or any(v not in (None, "") for v in row[1:]) or section < 2:
            continue
        size = 14.0 if r == 1 and sheet.title_rows else BODY_PT
        inner = sum(cols[:section]) - 6
        need = _text_pt(row[0], size) * (1.05 if r <= sheet.title_rows else 1.0)
        if need <= inner:
            continue
        own = [m for m in merges if _merge_rows(m) == (r, r) and re.match(rf"A{r}(:|$)", m)]
        if any(lo <= r <= hi for m in merges if m not in own for lo, hi in [_merge_rows(m)]):
            continue
        for m in own:
            merges.remove(m)
        merges.append(f"A{r}:{_column_letters(section)}{r}")
        notes.add(r)
        lines = -(-int(need) // int(_excel_pt(sum(cols[:section]) / UNIT_PT) - 6))
        heights.append((r, _line_height(lines, size)))
    breaks_rows = _chart_break(sheet, dict(heights), landscape)
    widths = dict(sheet.widths)
    for c in range(1, n + 1):
        if abs(cols[c - 1] - _width(sheet, c) * UNIT_PT) > 0.01:
            widths[c] = round(cols[c - 1] / UNIT_PT, 1)
    plan = PrintPlan(landscape, fit, tuple(breaks), title_cols, tuple(sorted(heights)),
                     tuple(sorted(widths.items())), frozenset(wrap), tuple(merges), frozenset(notes), breaks_rows)
    sheet.__dict__["_print_plan"] = ((len(sheet.rows), tuple(sheet.widths.items()), tuple(sheet.merges)), plan)
    return plan


def _style_sheet(ws, sheet: OutSheet):
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    thin = Side(style="thin", color="FF999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    header_fill = PatternFill("solid", fgColor="FFDDEBF7")
    last_header = sheet.title_rows + sheet.header_rows
    last_body = len(sheet.rows) - sheet.footer_rows
    plan = print_plan(sheet)
    # a body that wraps: every cell centred in its row's height, the long texts wrapped (as sheet_xml)
    body_align = {c: Alignment(vertical="center", wrap_text=c in plan.wrap_cols) for c in range(1, max(
        (len(r) for r in sheet.rows), default=0) + 1)} if plan.wrap_cols else {}
    note_align = Alignment(vertical="top", wrap_text=True)
    for r, row in enumerate(sheet.rows, 1):
        for c, _value in enumerate(row, 1):
            cell = ws.cell(r, c)
            if r <= sheet.title_rows:
                cell.font = Font(bold=True, size=14 if r == 1 else 11)
                if r in plan.notes:
                    cell.alignment = note_align
            elif r <= last_header:
                cell.font = Font(bold=True)
                cell.fill = header_fill
                cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
                cell.border = border
            elif r <= last_body:
                cell.border = border
                if c in body_align:
                    cell.alignment = body_align[c]
            elif r in plan.notes:
                cell.alignment = note_align
    for ref in sheet.boxes:
        for line in ws[ref]:
            for cell in line:
                cell.border = border
    for (r, c), color in sheet.fills.items():
        ws.cell(r, c).fill = PatternFill("solid", fgColor=color)
    for c, width in plan.widths:
        ws.column_dimensions[get_column_letter(c)].width = width
    for c, fmt in sheet.number_formats.items():
        for r in range(last_header + 1, last_body + 1):
            ws.cell(r, c).number_format = fmt
    for (r, c), target in sheet.links.items():
        cell = ws.cell(r, c)
        cell.hyperlink = f"#{target}"
        cell.font = Font(color="FF0563C1", underline="single")
    for ref in plan.merges:
        ws.merge_cells(ref)
    if sheet.header_rows:
        ws.freeze_panes = ws.cell(last_header + 1, 1)
        ws.print_title_rows = print_titles(sheet, cols=False)
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
    if plan.row_breaks:
        from openpyxl.worksheet.pagebreak import Break
        for r in plan.row_breaks:
            ws.row_breaks.append(Break(id=r))
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
    ws.oddFooter.center.size = 11
    if sheet.page_label:
        ws.oddHeader.right.text = sheet.page_label.replace("&", "&&")
        ws.oddHeader.right.size = 11
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
        commit(skeleton, path, backup=path.exists())
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


class FileBook(Book):
    """A workbook file: read fast, write carefully (see module docstring).

    Writes are collected and applied by :meth:`save`: an .xlsx is patched in
    place part by part (:mod:`yibao.macros.xlsxpatch`: seconds for 100,000
    rows, everything else in the file left byte for byte); a file that
    patcher cannot keep whole is refused (:class:`BookError`) untouched.
    """

    def __init__(self, path, for_update: bool = False):
        self.path = real_path(path)    # a link: the real file is read and written
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
            if self.path.exists():
                if self._for_update:
                    hold(self.path)    # one yibao command at a time on a file it will write
                    if self.path.suffix.lower() == ".xlsx":
                        self._parts = _PartsPrefetch(self.path)
                note_read(self.path)   # a write refuses if another program saved it meanwhile
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
                    patch.put_sheet(name, sheet_xml(patch, sheet, chart_apart=True),
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
        return {"skipped": skipped, "written": 0 if patch.unchanged else patch.cells_written,
                "unchanged": patch.unchanged, "notes_on_threads": on_threads}

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
