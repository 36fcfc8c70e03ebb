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
