"""Write into an existing .xlsx by patching only the parts we change.

Why our own: openpyxl rebuilds the whole workbook from its object model, which
takes about a minute for a 100,000-row ledger and drops what it does not model
(pictures, some conditional formats, form controls) from a user's file. A
ledger action changes little: a fill on a few cells, their notes, four
computed columns, one report sheet. So we copy every zip member as it is and
rewrite just those: the touched rows of the sheet XML, appended styles, a
comments part, the report sheet. No library does this partial patching.

The same writer makes our new result workbooks (an openpyxl skeleton, then
sheet XML written directly): a 200,000-row merge writes 2 million cells, each
row one ``str.format`` of a template, repeated texts in a shared-string table,
large parts deflated on two cores.

Anything unusual (shared formulas in a column we write, a sheet that already
has notes, a chart in the result) raises :class:`Unsupported`, and the caller
falls back to openpyxl, which is slow but handles everything.

Conventions shared with the openpyxl path, so either can follow the other:
the named cell style ``yibao计算`` marks values we computed; our result sheets
carry tab colour FF2F75B5; notes we write have author ``yibao``; marks of the
previous run are undone from the hidden sheet ``_yibao标注`` (cell → the
style it had before we marked it).
"""

from __future__ import annotations

import datetime
import functools
import os
import re
import shutil
import tempfile
import time
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Any, Sequence
from xml.sax.saxutils import escape, quoteattr

__all__ = ["Unsupported", "XlsxPatch", "column_letter", "column_index"]

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
WS_TYPE = REL_NS + "/worksheet"
COMMENTS_TYPE = REL_NS + "/comments"
VML_TYPE = REL_NS + "/vmlDrawing"
WS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
COMMENTS_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
VML_CT = "application/vnd.openxmlformats-officedocument.vmlDrawing"
SST_TYPE = REL_NS + "/sharedStrings"
SST_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
OUR_TAB = "FF2F75B5"
COMPUTED_STYLE = "yibao计算"
MARKS_SHEET = "_yibao标注"
_EPOCH = datetime.date(1899, 12, 30)
#: the border of our result tables (as the openpyxl path draws it: thin, grey)
THIN_BORDER = ("<border>" + "".join(f'<{side} style="thin"><color rgb="FF999999"/></{side}>'
                                    for side in ("left", "right", "top", "bottom")) + "<diagonal/></border>")
PRINT_TITLES = "_xlnm.Print_Titles"


@functools.lru_cache(maxsize=None)
def column_letter(col: int) -> str:
    """1 → 'A', 28 → 'AB' (as openpyxl's get_column_letter, without
    importing openpyxl, which costs a third of a second)."""
    if not 1 <= col <= 18278:
        raise ValueError(f"column {col} out of range")
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@functools.lru_cache(maxsize=None)
def column_index(letters: str) -> int:
    """'A' → 1, 'AB' → 28."""
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index


get_column_letter = column_letter
column_index_from_string = column_index


class Unsupported(Exception):
    """This file needs the general (openpyxl) path."""


_ROW = re.compile(r'<row\b[^>]*?(?:/>|>.*?</row>)', re.S)
_ROW_NUM = re.compile(r'\br="(\d+)"')
_CELL = re.compile(r'<c\b[^>]*?(?:/>|>.*?</c>)', re.S)
_CELL_REF = re.compile(r'\br="([A-Z]+)(\d+)"')
_STYLE_ATTR = re.compile(r'\bs="(\d+)"')
_STYLE_ATTR_B = re.compile(rb'\bs="(\d+)"')
_ROW_B = re.compile(rb'<row\b[^>]*?(?:/>|>.*?</row>)', re.S)
_ROW_NUM_B = re.compile(rb'\br="(\d+)"')
_CELL_REF_B = re.compile(rb'\br="([A-Z]+)(\d+)"')
_SPANS = re.compile(r'\sspans="[^"]*"')
_SPANS_B = re.compile(rb'\sspans="[^"]*"')


def _attr(tag: str, name: str) -> str | None:
    m = re.search(r'\b' + name + r'="([^"]*)"', tag)
    return m.group(1) if m else None


def _part_path(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return str(PurePosixPath(base).parent.joinpath(target)).replace("xl/../", "")


def _rels_path(part: str) -> str:
    p = PurePosixPath(part)
    return str(p.parent / "_rels" / (p.name + ".rels"))


def _text(value: str) -> str:
    if "&" in value or "<" in value or ">" in value:
        value = escape(value)
    if value[:1].isspace() or value[-1:].isspace() or "\n" in value:
        return f'<t xml:space="preserve">{value}</t>'
    return f"<t>{value}</t>"


def cell_xml(ref: str, value: Any, style: int | None) -> str:
    s = f' s="{style}"' if style else ""
    kind = type(value)
    if kind is str:
        if not value:
            return f'<c r="{ref}"{s}/>'
        # any text, including text starting with = + - @, is an inline string
        return f'<c r="{ref}"{s} t="inlineStr"><is>{_text(value)}</is></c>'
    if kind is int or kind is float:
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    if value is None:
        return f'<c r="{ref}"{s}/>'
    if kind is bool:
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return f'<c r="{ref}"{s}><v>{(value - _EPOCH).days}</v></c>'
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    return f'<c r="{ref}"{s} t="inlineStr"><is>{_text(str(value))}</is></c>'


class XlsxPatch:
    """An .xlsx opened for patching; :meth:`save` writes it atomically."""

    def __init__(self, path, parts: dict[str, bytes] | None = None):
        self.path = Path(path)
        # parts already read from this file (FileBook inflates the sheets while reading cells)
        self._preloaded = dict(parts or {})
        try:
            self.zip = zipfile.ZipFile(self.path)
        except zipfile.BadZipFile:
            raise Unsupported("not a zip") from None
        self.changed: dict[str, bytes] = {}
        self.removed: set[str] = set()
        self.workbook = self._read("xl/workbook.xml")
        self.wb_rels = self._read("xl/_rels/workbook.xml.rels")
        self.content_types = self._read("[Content_Types].xml")
        self.styles = self._read("xl/styles.xml")
        self._sheets = self._sheet_map()
        self._xf_cache: dict[tuple, int] = {}
        self._computed_xfs: dict[tuple[int, int], bool] = {}
        self.originals: dict[tuple[int, int], int] = {}
        self._computed_xf_id = self._named_style()

    # ------------------------------------------------------------ parts
    def _read(self, name: str) -> str:
        if name in self.changed:
            return self.changed[name].decode("utf-8")
        try:
            return self.zip.read(name).decode("utf-8")
        except KeyError:
            raise Unsupported(f"missing {name}") from None

    def _read_bytes(self, name: str) -> bytes:
        """A part as stored (sheet XML is patched as bytes: decoding and
        re-encoding 60 MB of it would cost half a second)."""
        if name in self.changed:
            return self.changed[name]
        if name in self._preloaded:
            return self._preloaded.pop(name)
        try:
            return self.zip.read(name)
        except KeyError:
            raise Unsupported(f"missing {name}") from None

    def _write(self, name: str, text: str | bytes):
        self.changed[name] = text if isinstance(text, bytes) else text.encode("utf-8")

    def _sheet_map(self) -> dict[str, tuple[str, str]]:
        """sheet name → (relationship id, part path)."""
        rels = {}
        for rel in re.findall(r"<Relationship\b[^>]*>", self.wb_rels):
            rels[_attr(rel, "Id")] = (_attr(rel, "Type"), _attr(rel, "Target"))
        sheets = {}
        for tag in re.findall(r"<sheet\b[^>]*>", self.workbook):
            name = _unescape(_attr(tag, "name"))
            rid = re.search(r'\br:id="([^"]*)"', tag) or re.search(r'\bid="([^"]*)"', tag)
            kind, target = rels.get(rid.group(1), (None, None))
            if kind == WS_TYPE:
                sheets[name] = (rid.group(1), _part_path("xl/workbook.xml", target))
        return sheets

    def sheet_names(self) -> list[str]:
        return list(self._sheets)

    # ------------------------------------------------------------ styles
    def _section(self, tag: str) -> tuple[int, int, list[str]]:
        m = re.search(rf"<{tag}\b[^>]*?(?:/>|>(.*?)</{tag}>)", self.styles, re.S)
        if not m:
            raise Unsupported(f"styles without {tag}")
        inner = m.group(1) or ""
        item = {"fills": "fill", "cellXfs": "xf", "cellStyleXfs": "xf", "fonts": "font",
                "cellStyles": "cellStyle", "numFmts": "numFmt", "borders": "border"}[tag]
        items = re.findall(rf"<{item}\b[^>]*?(?:/>|>.*?</{item}>)", inner, re.S)
        return m.start(), m.end(), items

    def _set_section(self, tag: str, items: list[str]):
        start, end, _old = self._section(tag)
        self.styles = (self.styles[:start] + f'<{tag} count="{len(items)}">' + "".join(items)
                       + f"</{tag}>" + self.styles[end:])

    def _append(self, tag: str, item: str) -> int:
        try:
            _s, _e, items = self._section(tag)
        except Unsupported:
            if tag != "numFmts":
                raise
            self.styles = self.styles.replace("<fonts", '<numFmts count="0"></numFmts><fonts', 1)
            items = []
        if item in items:
            return items.index(item)
        items.append(item)
        self._set_section(tag, items)
        return len(items) - 1

    def _named_style(self) -> int | None:
        _s, _e, styles = self._section("cellStyles")
        for tag in styles:
            if _unescape(_attr(tag, "name") or "") == COMPUTED_STYLE:
                return int(_attr(tag, "xfId"))
        return None

    def _ensure_named_style(self) -> int:
        if self._computed_xf_id is None:
            fill = self._fill("FFF2F2F2")
            xf_id = self._append("cellStyleXfs",
                                 f'<xf numFmtId="0" fontId="0" fillId="{fill}" borderId="0" applyFill="1"/>')
            _s, _e, styles = self._section("cellStyles")
            styles.append(f'<cellStyle name="{COMPUTED_STYLE}" xfId="{xf_id}"/>')
            self._set_section("cellStyles", styles)
            self._computed_xf_id = xf_id
        return self._computed_xf_id

    def _fill(self, argb: str) -> int:
        return self._append("fills", f'<fill><patternFill patternType="solid"><fgColor rgb="{argb}"/>'
                                     f'<bgColor indexed="64"/></patternFill></fill>')

    def _num_fmt(self, code: str) -> int:
        builtin = {"General": 0, "0": 1, "yyyy-mm-dd": None}
        if builtin.get(code) is not None:
            return builtin[code]
        try:
            _s, _e, fmts = self._section("numFmts")
        except Unsupported:
            fmts = []
        for tag in fmts:
            if _unescape(_attr(tag, "formatCode") or "") == code:
                return int(_attr(tag, "numFmtId"))
        used = [int(_attr(t, "numFmtId")) for t in fmts] + [163]
        new_id = max(used) + 1
        self._append("numFmts", f'<numFmt numFmtId="{new_id}" formatCode={quoteattr(code)}/>')
        return new_id

    def xf(self, base: int = 0, fill: str | None = None, num_fmt: str | None = None,
           computed: bool = False, bold: bool = False, link: bool = False, wrap: bool = False,
           border: bool = False) -> int:
        """A cell format: a copy of ``base`` with the changes asked for
        (``border``: thin grey lines all round, as our result tables have)."""
        key = (base, fill, num_fmt, computed, bold, link, wrap, border)
        if key in self._xf_cache:
            return self._xf_cache[key]
        _s, _e, xfs = self._section("cellXfs")
        tag = xfs[base] if base < len(xfs) else xfs[0]
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', tag.split(">", 1)[0]))
        inner = tag.split(">", 1)[1].rsplit("</xf>", 1)[0] if not tag.endswith("/>") else ""
        if computed:
            attrs["xfId"] = str(self._ensure_named_style())
        if fill or computed:
            attrs["fillId"] = str(self._fill(fill or "FFF2F2F2"))
            attrs["applyFill"] = "1"
        if num_fmt:
            attrs["numFmtId"] = str(self._num_fmt(num_fmt))
            attrs["applyNumberFormat"] = "1"
        if bold or link:
            font = ('<font><b/><sz val="11"/><name val="Calibri"/></font>' if bold else
                    '<font><u/><sz val="11"/><color rgb="FF0563C1"/><name val="Calibri"/></font>')
            attrs["fontId"] = str(self._append("fonts", font))
            attrs["applyFont"] = "1"
        if wrap:
            inner = '<alignment horizontal="center" vertical="center" wrapText="1"/>'
            attrs["applyAlignment"] = "1"
        if border:
            attrs["borderId"] = str(self._append("borders", THIN_BORDER))
            attrs["applyBorder"] = "1"
        body = " ".join(f'{k}="{v}"' for k, v in attrs.items())
        new = f"<xf {body}>{inner}</xf>" if inner else f"<xf {body}/>"
        index = self._append("cellXfs", new)
        self._xf_cache[key] = index
        return index

    def xf_is_computed(self, index: int) -> bool:
        if self._computed_xf_id is None:
            return False
        key = (index, self._computed_xf_id)
        known = self._computed_xfs.get(key)
        if known is None:
            _s, _e, xfs = self._section("cellXfs")
            if index >= len(xfs):
                return False        # not cached: a format appended later may take this index
            known = self._computed_xfs[key] = _attr(xfs[index], "xfId") == str(self._computed_xf_id)
        return known

    # ------------------------------------------------------------ cells
    def patch_cells(self, sheet: str, changes: dict[tuple[int, int], tuple], protect_typed: bool) -> int:
        """Apply changes to a sheet's cells; return how many were skipped.

        ``changes[(row, col)]`` is ``("style", xf_index)`` to restyle a cell
        keeping its content, ``("restyle", fill, base_xf_or_None)`` to add a
        fill over its format (the format used is kept in :attr:`originals`), or ``("value", value, xf_index)`` to write a
        computed value (skipped when ``protect_typed`` and the cell holds a
        value the user typed)."""
        by_row: dict[int, dict[int, tuple]] = {}
        for (r, c), change in changes.items():
            by_row.setdefault(r, {})[c] = change
        return self.patch_rows(sheet, by_row, protect_typed)

    def patch_rows(self, sheet: str, by_row: dict[int, dict[int, tuple]], protect_typed: bool) -> int:
        """:meth:`patch_cells` with the changes grouped by row (``by_row[row][col]``)."""
        return self._rewrite_rows(
            sheet, sorted(by_row), by_row.__getitem__, protect_typed,
            fast=lambda xml, start, end, rnum: _no_skips(self._restyle_row(xml, start, end, rnum, by_row[rnum])),
            values=any(ch[0] == "value" for cells in by_row.values() for ch in cells.values()))

    def patch_values(self, sheet: str, rows: Sequence[int], columns: dict[int, Sequence[Any]],
                     styles: dict[int, int | None]) -> int:
        """Write computed values given column by column (``columns[col][i]``
        goes to row ``rows[i]``), never over a value the user typed; return
        how many typed values were kept.

        Rows are changed as bytes, without parsing them. Where the computed
        columns lie right of the row's last cell (a ledger never refreshed),
        the row's new cells are appended, each distinct tuple of a row's
        values rendered once: most rows of a ledger share their results.
        Where the cells are there already (our template's formulas, or the
        values of an earlier refresh), each is replaced in place unless the
        user typed a value into it. Anything else goes through
        :meth:`_patch_row`."""
        cols = sorted(columns)
        by_row = dict(zip(rows, zip(*(columns[c] for c in cols))))
        first_col = cols[0]
        templates: dict[tuple, list[bytes]] = {}      # a row's values → its cells, row number left open
        cell_parts: dict[tuple, list[bytes]] = {}     # (col, kind, value) → one cell, the same
        last_col: dict[bytes, int] = {}

        letters = {c: column_letter(c).encode() for c in cols}

        def rendered(cache: dict, key: tuple, pairs, rnum: int) -> bytes:
            """The cells of ``pairs`` ((col, value), ...) in row ``rnum``:
            rendered once per ``key`` with the row number left open, then
            joined to each row's number."""
            try:
                parts = cache.get(key)
            except TypeError:          # an unhashable value: render it as it is
                parts, cache = None, None
            if parts is None:
                text = "".join(cell_xml(f"{column_letter(c)}\x00", v, styles.get(c)) for c, v in pairs)
                parts = text.encode("utf-8").split(b"\x00")
                if cache is not None:
                    cache[key] = parts
            return (b"%d" % rnum).join(parts)

        def row_cells(values: tuple, rnum: int) -> bytes:
            return rendered(templates, values, zip(cols, values), rnum)

        def cell(c: int, value, rnum: int) -> bytes:
            return rendered(cell_parts, (c, value.__class__, value), ((c, value),), rnum)

        def replaced(xml: bytes, start: int, end: int, rnum: int, first: int) -> tuple[list[bytes], int] | None:
            """The row with each computed cell (the first found at ``first``)
            replaced, or kept when the user typed into it."""
            pieces, last, kept = [], start, 0
            for c, value in zip(cols, by_row[rnum]):
                at = first if c == first_col else xml.find(b'<c r="%s%d"' % (letters[c], rnum), last, end)
                found = _cell_end(xml, at, end)
                if found is None:
                    return None
                gt, close = found
                old = xml[at:close]
                pieces.append(xml[last:at])
                last = close
                if _typed(self, old, gt - at):
                    pieces.append(old)
                    kept += 1
                else:
                    pieces.append(cell(c, value, rnum))
            pieces.append(xml[last:end])
            return pieces, kept

        contiguous = cols == list(range(first_col, first_col + len(cols)))

        def whole_run(xml: bytes, start: int, first: int, end: int, rnum: int) -> tuple[list[bytes], int] | None:
            """The common cases at once: the computed cells side by side and
            all of them formulas (our template) or all our own values (an
            earlier refresh), so none can hold a typed value; the run is
            replaced by the row's cells, rendered once per tuple of values."""
            if not contiguous:
                return None
            found = _cell_end(xml, xml.find(b'<c r="%s%d"' % (letters[cols[-1]], rnum), first, end), end)
            if found is None:
                return None
            close = found[1]
            run = xml[first:close]
            if run.count(b"<c ") != len(cols):
                return None
            formulas = run.count(b"<f")
            if formulas != len(cols):
                own = _STYLE_ATTR_B.findall(run)
                if formulas or len(own) != len(cols) or not all(self.xf_is_computed(int(x)) for x in own):
                    return None
            return [xml[start:first], row_cells(by_row[rnum], rnum), xml[close:end]], 0

        def rewritten(xml: bytes, start: int, end: int, rnum: int) -> tuple[list[bytes], int] | None:
            if xml[end - 6:end] != b"</row>":
                return None
            first = xml.find(b'<c r="%s%d"' % (letters[first_col], rnum), start, end)
            if first >= 0:
                whole = whole_run(xml, start, first, end, rnum)
                return whole if whole is not None else replaced(xml, start, end, rnum, first)
            at = xml.rfind(b"<c ", start, end)
            if at >= 0:
                # the row's last cell must lie left of the computed columns;
                # its reference's first bytes (b'Q12') name the column, cached
                key = xml[at + 3:at + 9]
                col = last_col.get(key)
                if col is None:
                    ref = _CELL_REF_B.match(xml, at + 3) or _CELL_REF_B.search(xml, at, at + 40)
                    col = column_index(ref.group(1).decode()) if ref is not None else 1 << 20
                    if ref is not None and ref.start() == at + 3 and len(ref.group(1)) + 3 < len(key):
                        last_col[key] = col     # r="Q12: the letters are inside the key
                if col >= first_col:
                    return None
            cells = row_cells(by_row[rnum], rnum)
            head_end = xml.find(b">", start) + 1
            head = xml[start:head_end]
            if b"spans=" in head:       # Excel's hint of the row's extent: now wrong, dropped
                return [_SPANS_B.sub(b"", head), xml[head_end:end - 6], cells, b"</row>"], 0
            return [xml[start:end - 6], cells, b"</row>"], 0

        def changes_of(rnum: int) -> dict[int, tuple]:
            return {c: ("value", v, styles.get(c)) for c, v in zip(cols, by_row[rnum])}
        return self._rewrite_rows(sheet, sorted(by_row), changes_of, True, fast=rewritten, values=bool(by_row))

    def _rewrite_rows(self, sheet: str, wanted: list[int], changes_of, protect_typed: bool, fast,
                      values: bool) -> int:
        """The walk :meth:`patch_rows` and :meth:`patch_values` share: each
        wanted row is found by its number; ``fast(xml, start, end, number)``
        gives the new row as pieces of bytes and the typed values it kept, or None to have
        :meth:`_patch_row` rewrite it cell by cell with ``changes_of(number)``;
        rows the sheet lacks are inserted. ``values``: values were written,
        so Excel must rebuild its calculation chain. Returns how many typed
        values were kept."""
        part = self._sheets[sheet][1]
        xml = self._read_bytes(part)
        if b't="shared"' in xml:
            raise Unsupported("shared formulas")
        skipped = 0
        out = []
        last = 0
        seen_rows = set()
        for start, end, rnum in self._rows(xml, wanted):
            seen_rows.add(rnum)
            out.append(xml[last:start])
            last = end
            done = fast(xml, start, end, rnum)
            if done is not None:
                out += done[0]
                skipped += done[1]
                continue
            text, n = self._patch_row(xml[start:end].decode("utf-8"), rnum, changes_of(rnum), protect_typed)
            out.append(text.encode("utf-8"))
            skipped += n
        out.append(xml[last:])
        xml = b"".join(out)
        del out
        missing = [r for r in wanted if r not in seen_rows]
        if missing:
            xml = self._insert_rows(xml.decode("utf-8"), {r: changes_of(r) for r in missing}).encode("utf-8")
        self._write(part, xml)
        if values:
            self._drop_calc_chain()
        return skipped

    @staticmethod
    def _rows(xml: bytes, wanted: list[int]):
        """(start, end, number) of the wanted rows, in order.

        Excel and openpyxl write ``<row r="N"`` first, so a plain search
        finds each row without scanning the others; any other layout falls
        back to a full scan."""
        found = []
        pos = 0
        find = xml.find
        for rnum in wanted:
            at = find(b'<row r="%d"' % rnum, pos)
            if at < 0:
                break
            gt = find(b">", at)
            if gt < 0:
                break
            if xml[gt - 1] == 47:           # b"/": an empty row, <row r="N" .../>
                end = gt + 1
            else:
                end = find(b"</row>", gt)
                if end < 0:
                    break
                end += 6
            found.append((at, end, rnum))
            pos = end
        else:
            return found
        wanted_set = set(wanted)
        return [(m.start(), m.end(), int(_ROW_NUM_B.search(m.group(0)).group(1)))
                for m in _ROW_B.finditer(xml)
                if int(_ROW_NUM_B.search(m.group(0)).group(1)) in wanted_set]

    def _restyle_row(self, xml: bytes, start: int, end: int, rnum: int,
                     changes: dict[int, tuple]) -> list[bytes] | None:
        """The row ``xml[start:end]`` with the formats changed, as pieces of
        bytes: the fast path of validation's marks (a fill on a cell that
        exists, the format it had kept in :attr:`originals`). Only the start
        tags of the changed cells are touched. None when a change is not a
        format or its cell is not there (then :meth:`_patch_row` does it)."""
        spots = []
        find = xml.find
        for col, change in changes.items():
            if change[0] not in ("style", "restyle"):
                return None
            at = find(b'<c r="%s%d"' % (column_letter(col).encode(), rnum), start, end)
            if at < 0:
                return None
            gt = find(b">", at, end)
            if gt < 0:
                return None
            spots.append((at, gt, col, change))
        spots.sort()
        pieces = []
        last = start
        for at, gt, col, change in spots:
            tag = xml[at:gt]                 # the cell's start tag, without its '>'
            m = _STYLE_ATTR_B.search(tag)
            if change[0] == "restyle":
                _k, fill, base = change
                if base is None:
                    base = int(m.group(1)) if m else 0
                self.originals[(rnum, col)] = base
                xf = self.xf(base, fill=fill)
            else:
                xf = change[1]
            pieces.append(xml[last:at])
            pieces.append(tag[:m.start()] + b's="%d"' % xf + tag[m.end():] if m else b'<c s="%d" ' % xf + tag[3:])
            last = gt
        pieces.append(xml[last:end])
        return pieces

    def _patch_row(self, tag: str, rnum: int, changes: dict[int, tuple], protect_typed: bool):
        direct = self._patch_row_direct(tag, rnum, changes, protect_typed)
        if direct is not None:
            return direct
        if tag.endswith("/>"):
            head, cells_xml, tail = tag[:-2] + ">", "", "</row>"
        else:
            head_end = tag.index(">") + 1
            head, cells_xml, tail = tag[:head_end], tag[head_end:-6], "</row>"
        cells: dict[int, str] = {}
        position = 0
        for cm in _CELL.finditer(cells_xml):
            ctag = cm.group(0)
            ref = _CELL_REF.search(ctag.split(">", 1)[0])
            position = column_index_from_string(ref.group(1)) if ref else position + 1
            cells[position] = ctag
        skipped = 0
        for col, change in changes.items():
            new, n = self._change_cell(cells.get(col), f"{get_column_letter(col)}{rnum}", rnum, col,
                                       change, protect_typed)
            if new is not None:
                cells[col] = new
            skipped += n
        body = "".join(cells[c] for c in sorted(cells))
        head = _SPANS.sub("", head)
        return head + body + tail, skipped

    def _patch_row_direct(self, tag: str, rnum: int, changes: dict[int, tuple], protect_typed: bool):
        """Change the cells in place when each one is found by its
        reference (``<c r="F5"``, as Excel and openpyxl write them); the
        rest of the row is kept as it is. None when a cell is not there."""
        if tag.endswith("/>"):
            return None
        spots = []
        for col in changes:
            ref = f"{column_letter(col)}{rnum}"
            at = tag.find(f'<c r="{ref}"')
            if at < 0:
                return None
            gt = tag.find(">", at)
            if gt < 0:
                return None
            if tag[gt - 1] == "/":
                end = gt + 1
            else:
                end = tag.find("</c>", gt)
                if end < 0:
                    return None
                end += 4
            spots.append((at, end, col, ref))
        spots.sort()
        out = []
        last = 0
        skipped = 0
        for at, end, col, ref in spots:
            if at < last:
                return None
            old = tag[at:end]
            new, n = self._change_cell(old, ref, rnum, col, changes[col], protect_typed)
            out.append(tag[last:at])
            out.append(old if new is None else new)
            last = end
            skipped += n
        out.append(tag[last:])
        row = "".join(out)
        head_end = row.index(">") + 1
        head = row[:head_end]
        if "spans=" in head:
            head = _SPANS.sub("", head)
        return head + row[head_end:], skipped

    def _change_cell(self, old: str | None, ref: str, rnum: int, col: int, change: tuple,
                     protect_typed: bool) -> tuple[str | None, int]:
        """(new cell XML or None to keep it, 1 when a typed value was kept)."""
        if change[0] == "restyle":
            # a fill on top of the cell's own format; remember that format
            _k, fill, base = change
            if base is None:
                m = _STYLE_ATTR.search(old.split(">", 1)[0]) if old else None
                base = int(m.group(1)) if m else 0
            self.originals[(rnum, col)] = base
            change = ("style", self.xf(base, fill=fill))
        if change[0] == "style":
            if old is None:
                return f'<c r="{ref}" s="{change[1]}"/>', 0
            if _STYLE_ATTR.search(old.split(">", 1)[0]):
                return _STYLE_ATTR.sub(f's="{change[1]}"', old, count=1), 0
            return old.replace("<c ", f'<c s="{change[1]}" ', 1), 0
        _kind, value, style = change
        if old is not None and protect_typed:
            raw = old.encode("utf-8")
            if _typed(self, raw, raw.find(b">")):
                return None, 1
        return cell_xml(ref, value, style), 0

    def _insert_rows(self, xml: str, rows: dict[int, dict[int, tuple]]) -> str:
        for rnum, changes in rows.items():
            new_row, _n = self._patch_row(f'<row r="{rnum}"/>', rnum, changes, False)
            inserted = False
            for m in _ROW.finditer(xml):
                if int(_ROW_NUM.search(m.group(0)).group(1)) > rnum:
                    xml = xml[:m.start()] + new_row + xml[m.start():]
                    inserted = True
                    break
            if not inserted:
                if "<sheetData/>" in xml:
                    xml = xml.replace("<sheetData/>", f"<sheetData>{new_row}</sheetData>")
                else:
                    xml = xml.replace("</sheetData>", new_row + "</sheetData>")
        return xml

    def _drop_calc_chain(self):
        """Values replaced formulas: Excel rebuilds the calculation chain."""
        if "xl/calcChain.xml" in self.zip.namelist() and "xl/calcChain.xml" not in self.removed:
            self.removed.add("xl/calcChain.xml")
            self.wb_rels = re.sub(r'<Relationship\b[^>]*calcChain[^>]*/>', "", self.wb_rels)
            self.content_types = re.sub(r'<Override\b[^>]*calcChain[^>]*/>', "", self.content_types)

    # ------------------------------------------------------------ notes
    def has_notes(self, sheet: str) -> bool:
        part = self._sheets[sheet][1]
        rels = _rels_path(part)
        if rels in self.zip.namelist() or rels in self.changed:
            return COMMENTS_TYPE in self._read(rels)
        return False

    def set_notes(self, sheet: str, notes: dict[tuple[int, int], str]):
        """Replace our notes on a sheet that has no notes of the user's."""
        part = self._sheets[sheet][1]
        rels_name = _rels_path(part)
        rels = (self._read(rels_name) if rels_name in self.zip.namelist() or rels_name in self.changed
                else f'<Relationships xmlns="{PKG_REL_NS}"></Relationships>')
        # only the part after <sheetData> can hold what we change here: leave
        # the rows (nearly all of the XML) as bytes, untouched and unscanned
        # (a view, not a slice: each copy of a 60 MB sheet costs a tenth of a second)
        raw = self._read_bytes(part)
        cut = raw.rfind(b"</sheetData>")
        if cut < 0:
            cut = raw.rfind(b"<sheetData/>")
        head, xml = (memoryview(raw)[:cut], raw[cut:].decode("utf-8")) if cut >= 0 else (b"", raw.decode("utf-8"))
        # drop a previous run's notes (ours: author yibao)
        old = re.search(r'<Relationship\b[^>]*Type="' + re.escape(COMMENTS_TYPE) + r'"[^>]*>', rels)
        if old:
            target = _part_path(part, _attr(old.group(0), "Target"))
            if 'authors><author>yibao</author></authors>' not in self._read(target):
                raise Unsupported("sheet has notes of its own")
            vml = re.search(r'<Relationship\b[^>]*Type="' + re.escape(VML_TYPE) + r'"[^>]*>', rels)
            for found in (old, vml):
                if found:
                    self.removed.add(_part_path(part, _attr(found.group(0), "Target")))
                    rels = rels.replace(found.group(0), "")
            xml = re.sub(r"<legacyDrawing\b[^>]*/>", "", xml)
        if re.search(r"<legacyDrawing\b", xml):
            raise Unsupported("sheet has drawings for form controls")
        if not notes:
            self._write(part, b"".join((head, xml.encode("utf-8"))))
            self._write(rels_name, rels)
            return
        stem = PurePosixPath(part).stem
        comments_part = f"xl/comments_yibao_{stem}.xml"
        vml_part = f"xl/drawings/vml_yibao_{stem}.vml"
        self.removed.discard(comments_part)
        self.removed.discard(vml_part)
        items = []
        shapes = []
        for n, ((r, c), text) in enumerate(sorted(notes.items())):
            ref = f"{get_column_letter(c)}{r}"
            items.append(f'<comment ref="{ref}" authorId="0"><text><r><t xml:space="preserve">'
                         f"{escape(text)}</t></r></text></comment>")
            shapes.append(
                f'<v:shape id="_x0000_s{1025 + n}" type="#_x0000_t202" '
                f'style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:180pt;height:60pt;'
                f'z-index:{n + 1};visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto">'
                f'<v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
                f'<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div style="text-align:left"/>'
                f'</v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
                f'<x:Anchor>{c}, 15, {r - 1}, 2, {c + 2}, 15, {r + 3}, 16</x:Anchor><x:AutoFill>False</x:AutoFill>'
                f'<x:Row>{r - 1}</x:Row><x:Column>{c - 1}</x:Column></x:ClientData></v:shape>')
        self._write(comments_part, f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    f'<comments xmlns="{MAIN_NS}"><authors><author>yibao</author></authors>'
                    f'<commentList>{"".join(items)}</commentList></comments>')
        self._write(vml_part, (
            '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit">'
            '<o:idmap v:ext="edit" data="1"/></o:shapelayout><v:shapetype id="_x0000_t202" coordsize="21600,21600" '
            'o:spt="202" path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
            '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>' + "".join(shapes) + "</xml>"))
        rid_c, rid_v = self._new_rid(rels), None
        rels = rels.replace("</Relationships>", f'<Relationship Id="{rid_c}" Type="{COMMENTS_TYPE}" '
                            f'Target="/{comments_part}"/></Relationships>')
        rid_v = self._new_rid(rels)
        rels = rels.replace("</Relationships>", f'<Relationship Id="{rid_v}" Type="{VML_TYPE}" '
                            f'Target="/{vml_part}"/></Relationships>')
        self._write(rels_name, rels)
        xml = _insert_before(xml, f'<legacyDrawing r:id="{rid_v}"/>',
                             ("legacyDrawingHF", "picture", "oleObjects", "controls", "webPublishItems",
                              "tableParts", "extLst"))
        pieces = [head]
        if head:
            root_at = raw.find(b"<worksheet ", 0, cut)
            if root_at >= 0 and b"xmlns:r=" not in raw[root_at:raw.find(b">", root_at)]:
                at = root_at + len(b"<worksheet ")
                pieces = [head[:at], f'xmlns:r="{REL_NS}" '.encode(), head[at:]]
        elif 'xmlns:r=' not in xml[xml.find("<worksheet"):].split(">", 1)[0]:
            xml = xml.replace("<worksheet ", f'<worksheet xmlns:r="{REL_NS}" ', 1)
        self._write(part, b"".join(pieces + [xml.encode("utf-8")]))
        self._override(comments_part, COMMENTS_CT)
        if 'Extension="vml"' not in self.content_types:
            self.content_types = self.content_types.replace(
                "</Types>", f'<Default Extension="vml" ContentType="{VML_CT}"/></Types>')

    @staticmethod
    def _new_rid(rels: str) -> str:
        used = {int(x) for x in re.findall(r'Id="rId(\d+)"', rels)}
        return f"rId{max(used, default=0) + 1}"

    def _override(self, part: str, content_type: str):
        if f'PartName="/{part}"' not in self.content_types:
            self.content_types = self.content_types.replace(
                "</Types>", f'<Override PartName="/{part}" ContentType="{content_type}"/></Types>')

    def put_shared_strings(self, strings: "SharedStrings"):
        """Add the shared-string table the new sheets refer to (``t="s"``).
        Only for a workbook we create whole: a user's workbook has its own
        table, which we never renumber."""
        if not strings:
            return
        if "xl/sharedStrings.xml" in self.zip.namelist() or SST_TYPE in self.wb_rels:
            raise Unsupported("workbook has shared strings already")
        self._write("xl/sharedStrings.xml", strings.xml())
        rid = self._new_rid(self.wb_rels)
        self.wb_rels = self.wb_rels.replace(
            "</Relationships>", f'<Relationship Id="{rid}" Type="{SST_TYPE}" Target="/xl/sharedStrings.xml"/>'
                                "</Relationships>")
        self._override("xl/sharedStrings.xml", SST_CT)

    # ------------------------------------------------------------ sheets
    def is_ours(self, sheet: str) -> bool:
        xml = self._read_bytes(self._sheets[sheet][1])
        return f'<tabColor rgb="{OUR_TAB}"'.encode() in xml[:xml.find(b"<sheetData")]

    def put_sheet(self, name: str, xml: str, hidden: bool = False, print_titles: str | None = None):
        """Create or replace one of our sheets with the given worksheet XML;
        ``print_titles`` ("3:4") are the rows repeated atop every printed page."""
        if name in self._sheets:
            if not self.is_ours(name):
                raise ValueError(name)
            self._write(self._sheets[name][1], xml)
            self.set_print_titles(name, print_titles)
            return
        numbers = [int(n) for n in re.findall(r"xl/worksheets/sheet(\d+)\.xml",
                                              " ".join(self.zip.namelist() + list(self.changed)))]
        part = f"xl/worksheets/sheet{max(numbers, default=0) + 1}.xml"
        rid = self._new_rid(self.wb_rels)
        self.wb_rels = self.wb_rels.replace(
            "</Relationships>", f'<Relationship Id="{rid}" Type="{WS_TYPE}" Target="/{part}"/></Relationships>')
        ids = [int(x) for x in re.findall(r'<sheet\b[^>]*\bsheetId="(\d+)"', self.workbook)]
        state = ' state="hidden"' if hidden else ""
        tag = f'<sheet name={quoteattr(name)} sheetId="{max(ids, default=0) + 1}"{state} r:id="{rid}"/>'
        if "</sheets>" not in self.workbook:
            raise Unsupported("workbook without sheets")
        self.workbook = self.workbook.replace("</sheets>", tag + "</sheets>")
        if 'xmlns:r=' not in self.workbook.split(">", 2)[1] and 'xmlns:r=' not in self.workbook[:400]:
            self.workbook = self.workbook.replace("<workbook ", f'<workbook xmlns:r="{REL_NS}" ', 1)
        self._override(part, WS_CT)
        self._write(part, xml)
        self._sheets[name] = (rid, part)
        self.set_print_titles(name, print_titles)

    def _sheet_index(self, name: str) -> int | None:
        """0-based position of a sheet among the workbook's sheets (localSheetId)."""
        for i, tag in enumerate(re.findall(r"<sheet\b[^>]*>", self.workbook)):
            if _unescape(_attr(tag, "name")) == name:
                return i
        return None

    def set_print_titles(self, name: str, rows: str | None):
        """Set (or, with None, drop) the rows a sheet repeats atop each printed page."""
        index = self._sheet_index(name)
        if index is None:
            return
        mine = re.compile(r"<definedName\b([^>]*?)(?<!/)>.*?</definedName>", re.S)

        def keep(m):
            attrs = m.group(1)
            if _attr(attrs, "name") == PRINT_TITLES and _attr(attrs, "localSheetId") == str(index):
                return ""
            return m.group(0)
        self.workbook = mine.sub(keep, self.workbook)
        if not rows:
            return
        first, last = rows.split(":")
        quoted = "'" + name.replace("'", "''") + "'"
        element = (f'<definedName name="{PRINT_TITLES}" localSheetId="{index}">'
                   f"{escape(quoted)}!${first}:${last}</definedName>")
        m = re.search(r"<definedNames\s*/>", self.workbook)
        if m:
            self.workbook = self.workbook[:m.start()] + f"<definedNames>{element}</definedNames>" + self.workbook[m.end():]
        elif "</definedNames>" in self.workbook:
            self.workbook = self.workbook.replace("</definedNames>", element + "</definedNames>", 1)
        else:
            self.workbook = _insert_before(
                self.workbook, f"<definedNames>{element}</definedNames>",
                ("calcPr", "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                 "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst"), end="</workbook>")

    def read_hidden_marks(self) -> list[tuple[str, int, int, int]]:
        """(sheet, row, col, original xf) recorded by the previous run."""
        if MARKS_SHEET not in self._sheets:
            return []
        xml = self._read(self._sheets[MARKS_SHEET][1])
        out = []
        for row in _ROW.finditer(xml):
            values = re.findall(r"<t[^>]*>(.*?)</t>|<v>(.*?)</v>", row.group(0))
            flat = [a or b for a, b in values]
            if len(flat) == 4 and flat[0] != "sheet":
                out.append((_unescape(flat[0]), int(flat[1]), int(flat[2]), int(float(flat[3]))))
        return out

    # ------------------------------------------------------------ saving
    def save(self, backup: bool = True):
        self._write("xl/workbook.xml", self.workbook)
        self._write("xl/_rels/workbook.xml.rels", self.wb_rels)
        self._write("[Content_Types].xml", self.content_types)
        self._write("xl/styles.xml", self.styles)
        fd, tmp = tempfile.mkstemp(prefix=".~yibao-", suffix=".xlsx", dir=self.path.parent)
        os.close(fd)
        try:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
                names = set()
                for info in self.zip.infolist():
                    if info.filename in self.removed:
                        continue
                    names.add(info.filename)
                    if info.filename in self.changed:
                        _write_part(out, info.filename, self.changed[info.filename])
                    else:
                        with self.zip.open(info) as src, out.open(info, "w") as dst:
                            shutil.copyfileobj(src, dst, 1 << 20)
                for name, data in self.changed.items():
                    if name not in names and name not in self.removed:
                        _write_part(out, name, data)
            self.zip.close()
            from yibao.atomic import commit
            commit(tmp, self.path, backup=backup)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _cell_end(xml: bytes, at: int, end: int) -> tuple[int, int] | None:
    """(end of its start tag, end of the cell) for the cell starting at
    ``at`` (-1: not found) before ``end``; None when it is not there whole."""
    if at < 0:
        return None
    gt = xml.find(b">", at, end)
    if gt < 0:
        return None
    if xml[gt - 1] == 47:            # b"/": <c r="P5" s="3"/>
        return gt, gt + 1
    close = xml.find(b"</c>", gt, end)
    return None if close < 0 else (gt, close + 4)


def _no_skips(pieces: list[bytes] | None) -> tuple[list[bytes], int] | None:
    return None if pieces is None else (pieces, 0)


def _typed(patch: XlsxPatch, cell: bytes, tag_end: int) -> bool:
    """A cell (its XML; its start tag ends at ``tag_end``) holding a value the
    user typed: a value, no formula, and not our computed format."""
    if not (b"<v>" in cell or b"<v " in cell or b"<is>" in cell) or b"<f>" in cell or b"<f " in cell:
        return False
    m = _STYLE_ATTR_B.search(cell, 0, tag_end)
    return not (m is not None and patch.xf_is_computed(int(m.group(1))))


#: parts larger than this are deflated on two cores
PARALLEL_DEFLATE_BYTES = 4 << 20


class _TwoCoreDeflate:
    """A stand-in for the compressor zipfile would make: deflates the whole
    part in two halves at once (zlib releases the GIL), as pigz does: the
    first half ends with a sync flush, which leaves a byte-aligned,
    non-final block, so the halves joined are one valid deflate stream."""

    def __init__(self, level: int):
        self.level = level

    def compress(self, data) -> bytes:
        import threading
        view = memoryview(data)
        half = len(view) // 2
        out = [b"", b""]

        def deflate(i, chunk, mode):
            c = zlib.compressobj(self.level, zlib.DEFLATED, -15)
            out[i] = c.compress(chunk) + c.flush(mode)
        first = threading.Thread(target=deflate, args=(0, view[:half], zlib.Z_SYNC_FLUSH))
        first.start()
        deflate(1, view[half:], zlib.Z_FINISH)
        first.join()
        return out[0] + out[1]

    def flush(self) -> bytes:
        return b""


def _write_part(out: zipfile.ZipFile, name: str, data: bytes):
    """``out.writestr(name, data)``, with a large part deflated on two cores
    (a 100,000-row sheet: 0.2 s -> 0.1 s). Where zipfile's writer is not as
    expected, it writes the plain way."""
    info = zipfile.ZipInfo(name, date_time=time.localtime(time.time())[:6])
    info.compress_type = out.compression
    info._compresslevel = out.compresslevel
    info.external_attr = 0o600 << 16
    info.file_size = len(data)
    with out.open(info, "w") as dest:
        if len(data) > PARALLEL_DEFLATE_BYTES and out.compression == zipfile.ZIP_DEFLATED \
                and getattr(dest, "_compressor", None) is not None:
            dest._compressor = _TwoCoreDeflate(out.compresslevel if out.compresslevel is not None else 6)
        dest.write(data)


def _unescape(text: str | None) -> str:
    if text is None:
        return ""
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


def _insert_before(xml: str, element: str, followers: tuple[str, ...], end: str = "</worksheet>") -> str:
    """Insert ``element`` before the first of ``followers`` (schema order)."""
    for tag in followers:
        m = re.search(rf"<{tag}\b", xml)
        if m:
            return xml[:m.start()] + element + xml[m.start():]
    return xml.replace(end, element + end)


_NEEDS_QUOTING = re.compile(r'[&<>"\n\r\t]')


def _quote(value: str) -> str:
    """``quoteattr`` for the common case in one search (a link per report row)."""
    return quoteattr(value) if _NEEDS_QUOTING.search(value) else f'"{value}"'


class SharedStrings(dict):
    """Text → its index in the workbook's shared-string table, numbered as
    first met. A new workbook's repeated texts (categories, funding sources,
    reasons, outcomes) are written once here and referred to by number: the
    merge's sheets shrink by half, and so does the text to join, encode and
    deflate."""

    def __missing__(self, text: str) -> int:
        index = self[text] = len(self)
        return index

    def xml(self) -> str:
        items = "".join(f"<si>{_text(text)}</si>" for text in self)
        return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<sst xmlns="{MAIN_NS}" uniqueCount="{len(self)}">{items}</sst>')


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
    return not ("&" in joined or "<" in joined or ">" in joined) and len(joined.split(None, 1)) <= 1


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


def sheet_xml(patch: XlsxPatch, sheet, hidden_marks: bool = False, shared: SharedStrings | None = None) -> str:
    """Worksheet XML for one of our result sheets (an ``OutSheet``); the
    body's repeated texts go to ``shared`` when given (a new workbook)."""
    if sheet.chart:
        raise Unsupported("charts go through openpyxl")
    sev = {}
    header = patch.xf(0, fill="FFDDEBF7", bold=True, wrap=True, border=True)
    title = patch.xf(0, bold=True)
    link = patch.xf(0, link=True, border=True)
    border = patch.xf(0, border=True)
    last_header = sheet.title_rows + sheet.header_rows
    last_body = len(sheet.rows) - sheet.footer_rows
    boxed = _box_cells(getattr(sheet, "boxes", ()))
    width = max([len(row) for row in sheet.rows] + [c for cols in boxed.values() for c in cols], default=0)
    letters = [get_column_letter(c) for c in range(1, width + 1)]
    # the openpyxl path's look: header and body cells boxed, number formats on the body
    body_style = {c: patch.xf(0, num_fmt=fmt, border=True) for c, fmt in sheet.number_formats.items()}
    rows_xml = []
    rows = sheet.rows
    block = []
    if last_body > last_header and not any(last_header < r <= last_body for r in boxed):
        # the body (the merge's 200,000-row sheets, the validation report) built column by column
        overrides = {}
        for (r, c) in sheet.links:
            if last_header < r <= last_body:
                overrides[(r, c)] = link
        for (r, c), color in sheet.fills.items():
            if last_header < r <= last_body:
                if (color, True) not in sev:
                    sev[(color, True)] = patch.xf(0, fill=color, border=True)
                overrides[(r, c)] = sev[(color, True)]
        block = _plain_block(rows[last_header:last_body], last_header + 1, letters,
                             [body_style.get(c, border) for c in range(1, width + 1)], overrides, shared)
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
                style = title
            elif r <= last_header:
                style = header
            elif in_body:
                style = body_style.get(c, border)
                if (r, c) in sheet.links:
                    style = link
            else:
                style = border if c in box else None
            if (r, c) in sheet.fills:
                color = sheet.fills[(r, c)]
                lined = in_body or c in box or (sheet.title_rows < r <= last_header)
                if (color, lined) not in sev:
                    sev[(color, lined)] = patch.xf(0, fill=color, border=lined)
                style = sev[(color, lined)]
            if value is None and style is None:
                continue
            cells.append(cell_xml(f"{letters[c - 1]}{r}", value, style))
        if cells and sheet.title_rows < r <= last_header:
            # wrapped header text: a row tall enough for its longest label (a CJK char ~2 units)
            lines = max((-(-2 * len(str(v or "")) // int(sheet.widths.get(c, 8.43)))
                         for c, v in enumerate(row, 1)), default=1)
            rows_xml.append(f'<row r="{r}" ht="{15 * max(lines, 1)}" customHeight="1">{"".join(cells)}</row>')
        elif cells:
            rows_xml.append(f'<row r="{r}">{"".join(cells)}</row>')
    cols = "".join(f'<col min="{c}" max="{c}" width="{w}" customWidth="1"/>'
                   for c, w in sorted(sheet.widths.items()))
    pane = ""
    if sheet.header_rows and not hidden_marks:
        top = f"A{last_header + 1}"
        pane = (f'<pane ySplit="{last_header}" topLeftCell="{top}" activePane="bottomLeft" state="frozen"/>'
                f'<selection pane="bottomLeft" activeCell="{top}" sqref="{top}"/>')
    merges = "".join(f'<mergeCell ref="{m}"/>' for m in sheet.merges)
    links = "".join(f'<hyperlink ref="{letters[c - 1]}{r}" location={_quote(target)} '
                    f'display={_quote(str(sheet.rows[r - 1][c - 1]))}/>'
                    for (r, c), target in sorted(sheet.links.items()))
    # one join: the rows of the merge's roster are 70 MB of text, and every
    # concatenation of the whole would copy them again
    head = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
            f'<sheetPr><tabColor rgb="{OUR_TAB}"/><pageSetUpPr fitToPage="1"/></sheetPr>'
            f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/>'
            + (f"<cols>{cols}</cols>" if cols else "") + "<sheetData>")
    tail = ("</sheetData>"
            + (f'<mergeCells count="{len(sheet.merges)}">{merges}</mergeCells>' if merges else "")
            + (f"<hyperlinks>{links}</hyperlinks>" if links else "")
            + '<pageMargins left="0.5" right="0.5" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
            + f'<pageSetup paperSize="9" orientation="{"landscape" if sheet.landscape else "portrait"}" '
              f'fitToWidth="1" fitToHeight="0"/>'
            + '<headerFooter><oddFooter>&amp;C第 &amp;P 页 共 &amp;N 页</oddFooter></headerFooter>'
            + "</worksheet>")
    rows_xml.insert(0, head)
    rows_xml.append(tail)
    return "".join(rows_xml)
