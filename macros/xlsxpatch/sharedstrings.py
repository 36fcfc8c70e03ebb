"""The shared-string table of a workbook we create whole."""

from __future__ import annotations

from .constants import MAIN_NS, SST_CT, SST_TYPE
from ._xml import Unsupported, _text


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



class SharedStringsPart:
    """Adding a shared-string table to an :class:`XlsxPatch`."""

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
