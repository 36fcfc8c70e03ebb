"""xl/styles.xml: cell formats, fills, fonts, number formats, our named style."""

from __future__ import annotations

import re
from xml.sax.saxutils import quoteattr

from .constants import COMPUTED_STYLE, THIN_BORDER
from ._xml import Unsupported, _attr, _unescape


#: the collections of the styles part, in the schema's order
ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
         "tableStyles", "colors", "extLst")
ITEM = {"fills": "fill", "cellXfs": "xf", "cellStyleXfs": "xf", "fonts": "font",
        "cellStyles": "cellStyle", "numFmts": "numFmt", "borders": "border"}
#: what a file without the collection means (ECMA-376 Part 1, 18.8): the
#: default font, the two reserved fills, no border, the default format, the
#: Normal style over it. Written out only when we add to the collection.
IMPLIED = {
    "numFmts": (),
    "fonts": ('<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>',),
    "fills": ('<fill><patternFill patternType="none"/></fill>', '<fill><patternFill patternType="gray125"/></fill>'),
    "borders": ("<border><left/><right/><top/><bottom/><diagonal/></border>",),
    "cellStyleXfs": ('<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>',),
    "cellXfs": ('<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',),
    "cellStyles": ('<cellStyle name="Normal" xfId="0" builtinId="0"/>',),
}


class StylesPart:
    """The styles part of an :class:`XlsxPatch`."""

    # ------------------------------------------------------------ styles
    def _section(self, tag: str) -> tuple[int | None, int | None, list[str]]:
        """(start, end, items) of a collection of the styles part; a
        collection the file lacks (gnumeric writes no ``cellStyles``, a
        minimal package an empty ``<styleSheet/>``) has no place (None,
        None) and the items the schema implies for it (:data:`IMPLIED`)."""
        m = re.search(rf"<{tag}\b[^>]*?(?:/>|>(.*?)</{tag}>)", self.styles, re.S)
        if not m:
            return None, None, list(IMPLIED[tag])
        inner = m.group(1) or ""
        item = ITEM[tag]
        items = re.findall(rf"<{item}\b[^>]*?(?:/>|>.*?</{item}>)", inner, re.S)
        return m.start(), m.end(), items

    def _set_section(self, tag: str, items: list[str]):
        start, end, _old = self._section(tag)
        new = f'<{tag} count="{len(items)}">' + "".join(items) + f"</{tag}>"
        if start is None:
            if tag in ("cellStyleXfs", "cellXfs"):      # what a format refers to, there first
                for needed in ("fonts", "fills", "borders"):
                    if self._section(needed)[0] is None:
                        self._set_section(needed, list(IMPLIED[needed]))
            self._insert_section(tag, new)
            return
        self.styles = self.styles[:start] + new + self.styles[end:]

    def _insert_section(self, tag: str, new: str):
        """A collection the file lacks, written where the schema orders it."""
        for follower in ORDER[ORDER.index(tag) + 1:]:
            m = re.search(rf"<{follower}\b", self.styles)
            if m:
                self.styles = self.styles[:m.start()] + new + self.styles[m.start():]
                return
        closed = re.search(r"<styleSheet\b[^>]*?(/?)>", self.styles)
        if closed is None:
            raise Unsupported("styles without styleSheet")
        if closed.group(1):      # <styleSheet …/>
            self.styles = (self.styles[:closed.end() - 2] + ">" + new + "</styleSheet>"
                           + self.styles[closed.end():])
        else:
            at = self.styles.rindex("</styleSheet>")
            self.styles = self.styles[:at] + new + self.styles[at:]

    def _append(self, tag: str, item: str) -> int:
        _s, _e, items = self._section(tag)
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
        _s, _e, fmts = self._section("numFmts")
        for tag in fmts:
            if _unescape(_attr(tag, "formatCode") or "") == code:
                return int(_attr(tag, "numFmtId"))
        used = [int(_attr(t, "numFmtId")) for t in fmts] + [163]
        new_id = max(used) + 1
        self._append("numFmts", f'<numFmt numFmtId="{new_id}" formatCode={quoteattr(code)}/>')
        return new_id

    def xf(self, base: int = 0, fill: str | None = None, num_fmt: str | None = None,
           computed: bool = False, bold: bool = False, link: bool = False, wrap: bool = False,
           border: bool = False, no_fill: bool = False, valign: str | None = None) -> int:
        """A cell format: a copy of ``base`` with the changes asked for
        (``border``: thin grey lines all round, as our result tables have;
        ``no_fill``: its fill taken away; ``wrap``: text wrapped, centred as
        a header, or with ``valign`` ("top", "center") left-aligned as a long
        note or message; ``valign`` alone: the cell's vertical alignment)."""
        key = (base, fill, num_fmt, computed, bold, link, wrap, border, no_fill, valign)
        if key in self._xf_cache:
            return self._xf_cache[key]
        _s, _e, xfs = self._section("cellXfs")
        tag = xfs[base] if base < len(xfs) else xfs[0]
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', tag.split(">", 1)[0]))
        inner = tag.split(">", 1)[1].rsplit("</xf>", 1)[0] if not tag.endswith("/>") else ""
        if computed:
            attrs["xfId"] = str(self._ensure_named_style())
        if no_fill:
            attrs["fillId"] = "0"
            attrs.pop("applyFill", None)
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
        if valign:
            inner = f'<alignment vertical="{valign}"' + (' wrapText="1"/>' if wrap else "/>")
            attrs["applyAlignment"] = "1"
        elif wrap:
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

    def fill_of(self, index: int) -> str | None:
        """The ARGB of format ``index``'s solid fill, None when it has none.
        Remembered while the styles text stays the same object (a validate run
        asks this for every marked cell; parsing the part each time cost about
        0.4 s per 10,000 marks)."""
        cache = self.__dict__.get("_fill_cache")
        if cache is None or cache[0] is not self.styles:
            cache = self._fill_cache = (self.styles, {})
        if index not in cache[1]:
            cache[1][index] = self._fill_of(index)
        return cache[1][index]

    def _fill_of(self, index: int) -> str | None:
        _s, _e, xfs = self._section("cellXfs")
        if index >= len(xfs):
            return None
        fill_id = int(_attr(xfs[index].split(">", 1)[0], "fillId") or 0)
        _s, _e, fills = self._section("fills")
        if fill_id >= len(fills):
            return None
        m = re.search(r'<fgColor\b[^>]*\brgb="([0-9A-Fa-f]{8})"', fills[fill_id])
        return m.group(1).upper() if m else None

    def mark_style(self, current: int, change: tuple, rnum: int, col: int) -> int | None:
        """The format for a validation mark change on a cell of format
        ``current``; None to leave the cell as it is.

        ``("restyle", fill, base, previous)``: our fill over the cell's
        format (``base``, or its current one; a cell still showing our fill
        from an earlier run is first given back ``previous``, the fill it
        had before: "none" or an ARGB); the format under our fill is kept in
        :attr:`originals` as (format, its fill). ``("unmark", previous)``:
        the fill the cell had before we marked it, given back only where
        the cell still shows one of our fills (a LibreOffice or Excel round
        trip renumbers formats but keeps colours; a fill the user changed
        since is theirs)."""
        from ..marks import OUR_FILLS
        if change[0] == "unmark":
            if self.fill_of(current) not in OUR_FILLS:
                return None
            return self._unfilled(current, change[1])
        _k, fill, base, previous = change
        if base is None:
            base = current
            if previous is not None and self.fill_of(base) in OUR_FILLS:
                base = self._unfilled(base, previous)
        self.originals[(rnum, col)] = (base, self.fill_of(base) or "none")
        return self.xf(base, fill=fill)

    def _unfilled(self, current: int, previous: str) -> int:
        return self.xf(current, no_fill=True) if previous in (None, "none") else self.xf(current, fill=previous)

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
