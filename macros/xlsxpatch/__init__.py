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

Anything the patcher cannot keep whole raises :class:`Unsupported`, which
the file backend turns into a Chinese refusal before the file is touched:
there is no lossy fallback (issue 16 item 4).

Modules, one per file part: :mod:`.constants` (names, namespaces, our
conventions), :mod:`._xml` (references, escapes, one cell's XML, text a cell
can hold), :mod:`.package` (zip members, relationships, content types, the
atomic save), :mod:`.workbook`, :mod:`.styles`, :mod:`.rows` (sheet rows),
:mod:`.sharedstrings`, :mod:`.comments` (notes merged with the user's,
threaded comments left alone), :mod:`.drawings` (our sheets' charts),
:mod:`.result_sheet` (the XML of our result sheets).

Conventions: the named cell style ``yibao计算`` marks values we computed;
our result sheets carry tab colour FF2F75B5; notes and fills are recognised
as ours by :mod:`yibao.macros.marks` (the note text marker; the hidden sheet
``_yibao标注`` records cell → the format and fill under our fill).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from .constants import *  # noqa: F401,F403
from .constants import COMPUTED_STYLE, MARKS_SHEET, OUR_TAB, PARALLEL_DEFLATE_BYTES  # noqa: F401
from ._xml import (MAX_CELL_CHARS, TRUNCATED, in_1904, writable_attr, writable_text,  # noqa: F401
                   Unsupported, _attr, _insert_before, _quote, _text, _unescape, cell_xml,  # noqa: F401
                   column_index, column_index_from_string, column_letter, get_column_letter)
from .package import PackageParts, _TwoCoreDeflate, _part_path, _rels_path, _write_part  # noqa: F401
from .workbook import WorkbookParts
from .styles import StylesPart
from .rows import SheetRows, _cell_end, _typed  # noqa: F401
from .sharedstrings import SharedStrings, SharedStringsPart
from .comments import CommentsPart
from .drawings import DrawingsPart
from .result_sheet import _box_cells, _fragment, _plain_block, sheet_xml  # noqa: F401

__all__ = ["Unsupported", "XlsxPatch", "column_letter", "column_index"]


class XlsxPatch(PackageParts, WorkbookParts, StylesPart, SheetRows, SharedStringsPart, CommentsPart,
                DrawingsPart):
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
        # as read: save() writes these four parts only when they changed
        self._as_read = {"xl/workbook.xml": self.workbook, "xl/_rels/workbook.xml.rels": self.wb_rels,
                         "[Content_Types].xml": self.content_types, "xl/styles.xml": self.styles}
        # the workbook's date system: serial 0 is 1899-12-30, or 1904-01-01 (old Mac Excel)
        self.date1904 = bool(re.search(r'<workbookPr\b[^>]*\bdate1904="(?:1|true)"', self.workbook))
        self._sheets = self._sheet_map()
        self._xf_cache: dict[tuple, int] = {}
        self._computed_xfs: dict[tuple[int, int], bool] = {}
        self.originals: dict[tuple[int, int], int] = {}
        # cells whose finding went only to the report: they carry an Excel 365 threaded comment
        self.notes_on_threads: list[tuple[int, int]] = []
        # computed cells really written (refresh reports this, never what it meant to write)
        self.cells_written = 0
        self._computed_xf_id = self._named_style()
