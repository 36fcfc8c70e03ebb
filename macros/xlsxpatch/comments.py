"""Notes: the comments part and its VML drawing."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from xml.sax.saxutils import escape

from .constants import COMMENTS_CT, COMMENTS_TYPE, MAIN_NS, PKG_REL_NS, REL_NS, VML_CT, VML_TYPE
from ._xml import Unsupported, _unescape, column_index, writable_text, _attr, _insert_before, get_column_letter
from .package import _part_path, _rels_path
from ..marks import LEGACY_AUTHOR, NOTE_MARK, is_ours, our_part, strip_ours


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
        old = re.search(r'<Relationship\b[^>]*Type="' + re.escape(COMMENTS_TYPE) + r'"[^>]*>', rels)
        vml = re.search(r'<Relationship\b[^>]*Type="' + re.escape(VML_TYPE) + r'"[^>]*>', rels)
        if old:
            target = _part_path(part, _attr(old.group(0), "Target"))
            if not vml:
                raise Unsupported("批注缺少显示它的绘图部分")
            vml_target = _part_path(part, _attr(vml.group(0), "Target"))
            threaded = set()
            for tag in re.findall(r"<Relationship\b[^>]*>", rels):
                if (_attr(tag, "Type") or "").endswith("/threadedComment"):
                    threaded.update(re.findall(r'<threadedComment\b[^>]*?\bref="([A-Z]+\d+)"',
                                               self._read(_part_path(part, _attr(tag, "Target")))))
            self.notes_on_threads = self._merge_notes(target, vml_target, notes, threaded)
            return
        if vml or re.search(r"<legacyDrawing\b", xml):
            raise Unsupported("含有窗体控件等绘图")
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
                         f"{escape(writable_text(our_part(text)))}</t></r></text></comment>")
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

    def _merge_notes(self, comments_part: str, vml_part: str, notes: dict[tuple[int, int], str],
                     threaded: set[str]) -> list[tuple[int, int]]:
        """Our notes merged into the sheet's own comments part and its VML:
        the user's notes kept as they are; a note of the user's on a cell we
        flag gets our finding after its text (:mod:`yibao.macros.marks`);
        our part of every note from an earlier run removed (the whole note
        and its shape when nothing of the user's is left). Cells with an
        Excel 365 threaded comment are not touched at all (their legacy
        note is Excel's copy of the thread): returns those cells, whose
        findings are then only in the report."""
        cxml = self._read(comments_part)
        vxml = self._read(vml_part)
        authors = [_unescape(a) for a in re.findall(r"<author>(.*?)</author>", cxml, re.S)]
        listed = re.search(r"<commentList>(.*)</commentList>|<commentList/>", cxml, re.S)
        if listed is None or "</xml>" not in vxml:
            raise Unsupported("批注的格式无法识别")
        items: list[str] = []
        where: dict[tuple[int, int], int] = {}
        dropped: set[tuple[int, int]] = set()
        for item in re.findall(r"<comment\b[^>]*?(?:/>|>.*?</comment>)", listed.group(1) or "", re.S):
            start = item.split(">", 1)[0]
            ref = re.fullmatch(r"([A-Z]+)(\d+)", _attr(start, "ref") or "")
            if ref is None:
                items.append(item)
                continue
            cell = (int(ref.group(2)), column_index(ref.group(1)))
            author_id = _attr(start, "authorId")
            author = authors[int(author_id)] if author_id and author_id.isdigit() and int(author_id) < len(authors) else None
            text = _unescape("".join(re.findall(r"<t\b[^>]*>(.*?)</t>", item, re.S)))
            if ref.group(0) not in threaded and is_ours(text, author):
                if not strip_ours(text, author):
                    dropped.add(cell)
                    continue
                item = _cut_ours(item, strip_ours(text, author))
            where[cell] = len(items)
            items.append(item)
        on_threads = []
        added: list[tuple[int, int]] = []
        if notes and LEGACY_AUTHOR not in authors:
            authors.append(LEGACY_AUTHOR)
            cxml = re.sub(r"<authors\s*/>|</authors>", lambda m: f"<author>{LEGACY_AUTHOR}</author></authors>"
                          if m.group(0) == "</authors>" else f"<authors><author>{LEGACY_AUTHOR}</author></authors>",
                          cxml, count=1)
        ours_id = authors.index(LEGACY_AUTHOR) if notes else 0
        for (r, c), finding in sorted(notes.items()):
            ref = f"{get_column_letter(c)}{r}"
            if ref in threaded:
                on_threads.append((r, c))
                continue
            if (r, c) in where:            # the user's note: our finding after their text
                i = where[(r, c)]
                run = (f'<r><t xml:space="preserve">{escape(writable_text(chr(10) + our_part(finding)))}'
                       f"</t></r>")
                at = items[i].rfind("</text>")
                if at < 0:
                    raise Unsupported("批注的格式无法识别")
                items[i] = items[i][:at] + run + items[i][at:]
            else:
                items.append(f'<comment ref="{ref}" authorId="{ours_id}"><text><r><t xml:space="preserve">'
                             f"{escape(writable_text(our_part(finding)))}</t></r></text></comment>")
                added.append((r, c))
        listed = re.search(r"<commentList>(.*)</commentList>|<commentList/>", cxml, re.S)   # after the authors
        cxml = cxml[:listed.start()] + f"<commentList>{''.join(items)}</commentList>" + cxml[listed.end():]
        self._write(comments_part, cxml)

        def keep(m):
            shape = m.group(0)
            row = re.search(r"<x:Row>(\d+)</x:Row>", shape)
            col = re.search(r"<x:Column>(\d+)</x:Column>", shape)
            if 'ObjectType="Note"' in shape and row and col and (int(row.group(1)) + 1, int(col.group(1)) + 1) in dropped:
                return ""
            return shape
        vxml = re.sub(r"<v:shape\b(?:(?!<v:shape\b).)*?</v:shape>", keep, vxml, flags=re.S)
        next_id = max([int(x) for x in re.findall(r"_x0000_s(\d+)", vxml)] + [1024]) + 1
        if added and 'id="_x0000_t202"' not in vxml:
            vxml = vxml.replace("</xml>", _NOTE_SHAPETYPE + "</xml>", 1)
        shapes = "".join(_note_shape(next_id + n, r, c) for n, (r, c) in enumerate(added))
        vxml = vxml[:vxml.rfind("</xml>")] + shapes + vxml[vxml.rfind("</xml>"):]
        self._write(vml_part, vxml)
        return on_threads


_NOTE_SHAPETYPE = ('<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
                   'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
                   '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>')


def _note_shape(shape_id: int, r: int, c: int) -> str:
    """The VML box that shows the note of cell (r, c) (1-based) on hover."""
    return (f'<v:shape id="_x0000_s{shape_id}" type="#_x0000_t202" '
            f'style="position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:180pt;height:60pt;'
            f'z-index:{shape_id};visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto">'
            f'<v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
            f'<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div style="text-align:left"/>'
            f'</v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f'<x:Anchor>{c}, 15, {r - 1}, 2, {c + 2}, 15, {r + 3}, 16</x:Anchor><x:AutoFill>False</x:AutoFill>'
            f'<x:Row>{r - 1}</x:Row><x:Column>{c - 1}</x:Column></x:ClientData></v:shape>')


def _cut_ours(item: str, user_text: str = "") -> str:
    """A comment's XML with our part (from the marker to the end of its
    text) cut off and the user's text before it kept, runs closed. Where
    another program split the marker over several formatting runs
    (LibreOffice does), the comment is rebuilt as the user's text in one
    run: their words kept, only their run formatting lost."""
    at = item.find(NOTE_MARK)
    if at < 0:
        start = item[:item.find(">") + 1]
        return (f'{start}<text><r><t xml:space="preserve">{escape(writable_text(user_text))}</t></r></text>'
                "</comment>")
    head = item[:at]
    t_open = max(head.rfind("<t>"), head.rfind("<t "))
    body = head[t_open:]
    body_text = body.split(">", 1)[1] if ">" in body else ""
    left = body_text.rstrip("\n").removesuffix("&#10;")
    r_open = max(head.rfind("<r>"), head.rfind("<r "))
    in_run = r_open > head.rfind("</r>")
    end = item.rfind("</text>")
    if not left and in_run and r_open < t_open:
        # the run held nothing but our text (we add it as a run of its own): it goes whole,
        # and the user's runs are left as they wrote them
        return head[:r_open] + item[end:]
    kept = head[:t_open] + body[:len(body) - len(body_text)] + left
    return kept + "</t>" + ("</r>" if in_run else "") + item[end:]
