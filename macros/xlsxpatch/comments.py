"""Notes: the comments part and its VML drawing."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from xml.sax.saxutils import escape

from .constants import COMMENTS_CT, COMMENTS_TYPE, MAIN_NS, PKG_REL_NS, REL_NS, VML_CT, VML_TYPE
from ._xml import Unsupported, writable_text, _attr, _insert_before, get_column_letter
from .package import _part_path, _rels_path


class CommentsPart:
    """The notes of an :class:`XlsxPatch`."""

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
                         f"{escape(writable_text(text))}</t></r></text></comment>")
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
        xml = _insert_before(xml, f'<legacyDrawing xmlns:r="{REL_NS}" r:id="{rid_v}"/>',
                             ("legacyDrawingHF", "picture", "oleObjects", "controls", "webPublishItems",
                              "tableParts", "extLst"))
        pieces = [head]
        self._write(part, b"".join(pieces + [xml.encode("utf-8")]))
        self._override(comments_part, COMMENTS_CT)
        if 'Extension="vml"' not in self.content_types:
            self.content_types = self.content_types.replace(
                "</Types>", f'<Default Extension="vml" ContentType="{VML_CT}"/></Types>')
