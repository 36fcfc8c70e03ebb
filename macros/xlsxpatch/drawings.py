"""Drawings on our result sheets: a chart, made by openpyxl in a scratch
workbook of its own, moved into the patched workbook as its parts (the
drawing, its relationships and the chart XML) under names of our own."""

from __future__ import annotations

import posixpath
import re
import zipfile

from .constants import PKG_REL_NS, REL_NS
from ._xml import Unsupported, _attr
from .package import _part_path, _rels_path

DRAWING_TYPE = REL_NS + "/drawing"
CHART_TYPE = REL_NS + "/chart"
DRAWING_CT = "application/vnd.openxmlformats-officedocument.drawing+xml"
CHART_CT = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"


def _relationships(rels: str) -> list[tuple[str, str, str]]:
    """(Id, Type, Target) of each relationship."""
    return [(_attr(tag, "Id"), _attr(tag, "Type"), _attr(tag, "Target"))
            for tag in re.findall(r"<Relationship\b[^>]*>", rels)]


class DrawingsPart:
    """Charts of our own result sheets in an :class:`XlsxPatch`."""

    def _drop_drawings(self, part: str):
        """Remove the drawing parts an earlier run hung on our sheet ``part``."""
        rels_name = _rels_path(part)
        if rels_name not in self.zip.namelist() and rels_name not in self.changed:
            return
        for _id, kind, target in _relationships(self._read(rels_name)):
            if kind == DRAWING_TYPE:
                drawing = _part_path(part, target)
                drawing_rels = _rels_path(drawing)
                if drawing_rels in self.zip.namelist() or drawing_rels in self.changed:
                    for _i, _k, chart in _relationships(self._read(drawing_rels)):
                        self.removed.add(_part_path(drawing, chart))
                    self.removed.add(drawing_rels)
                self.removed.add(drawing)
        self.removed.add(rels_name)

    def put_chart_from(self, sheet: str, scratch) -> None:
        """Hang on our sheet ``sheet`` (already put) the drawing and charts
        of the first sheet of the scratch workbook ``scratch`` (a path
        openpyxl wrote, holding the same sheet with its chart)."""
        part = self._sheets[sheet][1]
        stem = posixpath.splitext(posixpath.basename(part))[0]
        with zipfile.ZipFile(scratch) as z:
            names = z.namelist()
            wb_rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
            first = next(_part_path("xl/workbook.xml", t) for _i, k, t in _relationships(wb_rels)
                         if k.endswith("/worksheet"))
            rels = z.read(_rels_path(first)).decode("utf-8") if _rels_path(first) in names else ""
            drawings = [_part_path(first, t) for _i, k, t in _relationships(rels) if k == DRAWING_TYPE]
            if len(drawings) != 1:
                raise Unsupported("图表")
            drawing = drawings[0]
            drawing_xml = z.read(drawing)
            drawing_rels = z.read(_rels_path(drawing)).decode("utf-8")
            charts = {rid: z.read(_part_path(drawing, t)) for rid, k, t in _relationships(drawing_rels)
                      if k == CHART_TYPE}
        self._drop_drawings(part)
        new_drawing = f"xl/drawings/drawing_yibao_{stem}.xml"
        items = []
        for n, (rid, xml) in enumerate(sorted(charts.items()), 1):
            chart_part = f"xl/charts/chart_yibao_{stem}_{n}.xml"
            self.removed.discard(chart_part)
            self._write(chart_part, xml)
            self._override(chart_part, CHART_CT)
            items.append(f'<Relationship Id="{rid}" Type="{CHART_TYPE}" Target="/{chart_part}"/>')
        for name in (new_drawing, _rels_path(new_drawing), _rels_path(part)):
            self.removed.discard(name)
        self._write(new_drawing, drawing_xml)
        self._write(_rels_path(new_drawing), f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    f'<Relationships xmlns="{PKG_REL_NS}">{"".join(items)}</Relationships>')
        self._override(new_drawing, DRAWING_CT)
        self._write(_rels_path(part), f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    f'<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" Type="{DRAWING_TYPE}" '
                    f'Target="/{new_drawing}"/></Relationships>')
        xml = self._read_bytes(part)
        element = f'<drawing xmlns:r="{REL_NS}" r:id="rId1"/>'.encode()
        at = xml.rfind(b"</worksheet>")
        for follower in (b"<legacyDrawing", b"<legacyDrawingHF", b"<picture", b"<oleObjects", b"<controls",
                         b"<webPublishItems", b"<tableParts", b"<extLst"):
            found = xml.find(follower)
            if found >= 0:
                at = min(at, found)
        self._write(part, xml[:at] + element + xml[at:])
