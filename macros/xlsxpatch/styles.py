"""xl/styles.xml: cell formats, fills, fonts, number formats, our named style."""

from __future__ import annotations

import re
from xml.sax.saxutils import quoteattr

from .constants import COMPUTED_STYLE, THIN_BORDER
from ._xml import Unsupported, _attr, _unescape


class StylesPart:
    """The styles part of an :class:`XlsxPatch`."""

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
