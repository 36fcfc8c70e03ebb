"""xl/workbook.xml and its relationships: the sheets, their parts, print titles, the marks sheet."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

from .constants import MARKS_SHEET, OUR_TAB, PRINT_TITLES, REL_NS, WS_CT, WS_TYPE
from ._xml import _ROW, Unsupported, _attr, _insert_before, _unescape
from .package import _part_path


class WorkbookParts:
    """The workbook part of an :class:`XlsxPatch`."""

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
            self._drop_drawings(self._sheets[name][1])     # an earlier run's chart: ours, redrawn if wanted
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
        # the relationships namespace declared on the element itself: valid
        # whatever the root declares (openpyxl's lxml writer declares it on each <sheet>)
        tag = (f'<sheet xmlns:r="{REL_NS}" name={quoteattr(name)} sheetId="{max(ids, default=0) + 1}"{state} '
               f'r:id="{rid}"/>')
        if "</sheets>" not in self.workbook:
            raise Unsupported("workbook without sheets")
        self.workbook = self.workbook.replace("</sheets>", tag + "</sheets>")
        self._override(part, WS_CT)
        self._write(part, xml)
        self._sheets[name] = (rid, part)
        self.set_print_titles(name, print_titles)

    def _sheet_id(self, name: str) -> str | None:
        """The ``sheetId`` of a sheet (what the calculation chain's ``i`` names)."""
        for tag in re.findall(r"<sheet\b[^>]*>", self.workbook):
            if _unescape(_attr(tag, "name")) == name:
                return _attr(tag, "sheetId")
        return None

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
        quoted = "'" + name.replace("'", "''") + "'"
        # "3:4" (rows), or "A:B,3:4" (columns repeated on each column section, then rows)
        refs = ",".join(f"{escape(quoted)}!${first}:${last}"
                        for first, last in (part.split(":") for part in rows.split(",")))
        element = f'<definedName name="{PRINT_TITLES}" localSheetId="{index}">{refs}</definedName>'
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

    def read_hidden_marks(self) -> list[tuple]:
        """(sheet, row, col, format under our fill, fill under ours or
        None) recorded by the previous run. The cells are read as any
        program may have saved them (LibreOffice writes the texts to the
        shared-string table)."""
        if MARKS_SHEET not in self._sheets:
            return []
        xml = self._read(self._sheets[MARKS_SHEET][1])
        shared = self._shared_strings() if 't="s"' in xml else []
        out = []
        for row in _ROW.finditer(xml):
            flat = []
            for cell in re.finditer(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", row.group(0), re.S):
                body = cell.group(2) or ""
                v = re.search(r"<v>(.*?)</v>", body)
                if _attr(cell.group(1), "t") == "s" and v:
                    flat.append(shared[int(v.group(1))] if int(v.group(1)) < len(shared) else "")
                elif v:
                    flat.append(_unescape(v.group(1)))
                else:
                    flat.append(_unescape("".join(re.findall(r"<t\b[^>]*>(.*?)</t>", body, re.S))))
            if len(flat) in (4, 5) and flat[0] != "sheet":
                try:
                    out.append((flat[0], int(float(flat[1])), int(float(flat[2])), int(float(flat[3])),
                                flat[4] if len(flat) == 5 else None))
                except ValueError:
                    continue
        return out

    def _shared_strings(self) -> list[str]:
        """The workbook's shared-string table, each item's text."""
        m = re.search(r'<Relationship\b[^>]*Type="[^"]*/sharedStrings"[^>]*>', self.wb_rels)
        if not m:
            return []
        xml = self._read(_part_path("xl/workbook.xml", _attr(m.group(0), "Target")))
        return [_unescape("".join(re.findall(r"<t\b[^>]*>(.*?)</t>", si, re.S)))
                for si in re.findall(r"<si>(.*?)</si>|<si/>", xml, re.S)]

