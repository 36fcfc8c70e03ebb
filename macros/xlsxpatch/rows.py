"""Sheet rows: cells restyled or given computed values, as bytes where the layout allows."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Sequence

from ._xml import (_CELL, _CELL_REF, _CELL_REF_B, _ROW, _ROW_B, _ROW_NUM, _ROW_NUM_B, _SPANS, _SPANS_B,
                   _STYLE_ATTR, _STYLE_ATTR_B, Unsupported, cell_xml, in_1904, column_index, column_index_from_string,
                   column_letter, get_column_letter)

_RANGED_F = re.compile(rb'<f\b[^>]*?\bref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')

if TYPE_CHECKING:
    from . import XlsxPatch


class SheetRows:
    """The sheet-row patching of an :class:`XlsxPatch`."""

    # ------------------------------------------------------------ cells
    def patch_cells(self, sheet: str, changes: dict[tuple[int, int], tuple], protect_typed: bool) -> int:
        """Apply changes to a sheet's cells; return how many were skipped.

        ``changes[(row, col)]`` is ``("style", xf_index)`` to restyle a cell
        keeping its content, ``("restyle", …)`` / ``("unmark", …)`` to put
        on or take off a validation fill (see :meth:`mark_style`), or ``("value", value, xf_index)`` to write a
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
        if self.date1904:
            columns = {c: [in_1904(v) for v in values] for c, values in columns.items()}
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
            self.cells_written += len(cols)
            return rendered(templates, values, zip(cols, values), rnum)

        def cell(c: int, value, rnum: int) -> bytes:
            self.cells_written += 1
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
        if values and (b't="shared"' in xml or b't="array"' in xml):     # memchr-fast tests first
            self._check_ranged_formulas(xml, wanted, changes_of)
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
        if values and self._calc_chain_part() is not None:
            written = {f"{column_letter(c)}{r}" for r in wanted for c, change in changes_of(r).items()
                       if change and change[0] == "value"}
            self._prune_calc_chain(self._sheet_id(sheet), written)
        return skipped

    @staticmethod
    def _check_ranged_formulas(xml: bytes, wanted: list[int], changes_of):
        """Formulas filled down (shared: the first cell holds the text, the
        rest of its range refer to it) or array formulas are left alone, and
        so may a cell of their range be replaced; only the cell holding the
        formula may not, unless every cell of its range is written too
        (refresh over a column filled down from our template). Else
        :class:`Unsupported`: the range would lose its formula."""
        wanted_set = set(wanted)
        for m in _RANGED_F.finditer(xml):
            c1, r1 = column_index(m.group(1).decode()), int(m.group(2))
            c2, r2 = (column_index(m.group(3).decode()), int(m.group(4))) if m.group(3) else (c1, r1)
            if (c1, r1) == (c2, r2):
                continue
            at = xml.rfind(b"<c ", 0, m.start())
            ref = _CELL_REF_B.search(xml, at, m.start()) if at >= 0 else None
            if ref is None:
                raise Unsupported("无法确定的共享公式")
            col, row = column_index(ref.group(1).decode()), int(ref.group(2))
            change = changes_of(row).get(col) if row in wanted_set else None
            if change is None or change[0] != "value":
                continue                    # the formula's own cell stays
            for r in range(min(r1, r2), max(r1, r2) + 1):
                cells = changes_of(r) if r in wanted_set else {}
                for c in range(min(c1, c2), max(c1, c2) + 1):
                    if cells.get(c, ("",))[0] != "value":
                        raise Unsupported(f"{column_letter(col)}{row}单元格的公式向下填充到了"
                                          f"{column_letter(c)}{r}，改写它会使这些单元格失去公式")

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
            if change[0] not in ("style", "restyle", "unmark"):
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
            if change[0] in ("restyle", "unmark"):
                xf = self.mark_style(int(m.group(1)) if m else 0, change, rnum, col)
                if xf is None:
                    continue
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
        if change[0] in ("restyle", "unmark"):
            # a fill on top of the cell's own format (or taken away again)
            m = _STYLE_ATTR.search(old.split(">", 1)[0]) if old else None
            xf = self.mark_style(int(m.group(1)) if m else 0, change, rnum, col)
            if xf is None:
                return None, 0
            change = ("style", xf)
        if change[0] == "style":
            if old is None:
                return f'<c r="{ref}" s="{change[1]}"/>', 0
            if _STYLE_ATTR.search(old.split(">", 1)[0]):
                return _STYLE_ATTR.sub(f's="{change[1]}"', old, count=1), 0
            return old.replace("<c ", f'<c s="{change[1]}" ', 1), 0
        _kind, value, style = change
        if self.date1904:
            value = in_1904(value)
        if old is not None and protect_typed:
            raw = old.encode("utf-8")
            if _typed(self, raw, raw.find(b">")):
                return None, 1
        self.cells_written += 1
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
