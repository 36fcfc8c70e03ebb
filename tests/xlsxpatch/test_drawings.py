"""xlsxpatch.drawings: the chart of one of our result sheets, moved in from
a scratch workbook under names of our own, beside the user's own chart
(references in tests/xlsxpatch/reference/drawings/, each checked by hand)."""
from __future__ import annotations

import re

from xlsxpatch_reference import expect, members, opened, saved, untouched
from yibao.macros.xlsxpatch import XlsxPatch

SHEET = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats'
         '.org/spreadsheetml/2006/main"><sheetPr><tabColor rgb="FF2F75B5"/></sheetPr><sheetData/>'
         '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>')


def _scratch(tmp_path):
    """What openpyxl writes for a sheet with a bar chart (the scratch
    workbook the file backend makes for a chart)."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    wb = Workbook()
    ws = wb.active
    for row in (["村", "人数"], ["一村", 5], ["二村", 7]):
        ws.append(row)
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=3), titles_from_data=True)
    ws.add_chart(chart, "D2")
    path = tmp_path / "scratch.xlsx"
    wb.save(path)
    return path


def test_our_chart_beside_excels_chart(tmp_path):
    """chart_bar01 (Excel's chart on Sheet1): our sheet's drawing and chart
    get parts of their own; Excel's drawing1 and chart1 are not touched."""
    patch = opened(tmp_path, "xlsxwriter-chart_bar01.xlsx")
    before = members(patch.path)
    patch.put_sheet("进度通报", SHEET)
    patch.put_chart_from("进度通报", _scratch(tmp_path))
    after = saved(patch)
    ours = {n for n in after if "yibao" in n}
    assert ours == {"xl/drawings/drawing_yibao_sheet2.xml", "xl/drawings/_rels/drawing_yibao_sheet2.xml.rels",
                    "xl/charts/chart_yibao_sheet2_1.xml"}
    expect(after["xl/worksheets/_rels/sheet2.xml.rels"], "drawings/chart_bar01.sheet2.xml.rels")
    expect(after["xl/drawings/_rels/drawing_yibao_sheet2.xml.rels"], "drawings/chart_bar01.drawing_yibao_sheet2.xml.rels")
    assert re.search(rb'<drawing xmlns:r="[^"]+" r:id="rId1"/></worksheet>$', after["xl/worksheets/sheet2.xml"])
    assert untouched(before, after, {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"}) == []
    ct = after["[Content_Types].xml"].decode()
    assert all(f'PartName="/{n}"' in ct for n in ("xl/drawings/drawing_yibao_sheet2.xml",
                                                   "xl/charts/chart_yibao_sheet2_1.xml"))


def test_a_rerun_leaves_one_chart(tmp_path):
    """The sheet redrawn by the next run: the earlier drawing and chart are
    replaced, not doubled, and Excel's own chart is still there."""
    patch = opened(tmp_path, "xlsxwriter-chart_bar01.xlsx")
    excels = members(patch.path)["xl/charts/chart1.xml"]
    patch.put_sheet("进度通报", SHEET)
    patch.put_chart_from("进度通报", _scratch(tmp_path))
    saved(patch)
    again = XlsxPatch(patch.path)
    again.put_sheet("进度通报", SHEET)
    again.put_chart_from("进度通报", _scratch(tmp_path))
    after = saved(again)
    assert sorted(n for n in after if n.startswith("xl/charts/chart")) == ["xl/charts/chart1.xml",
                                                                         "xl/charts/chart_yibao_sheet2_1.xml"]
    assert after["xl/charts/chart1.xml"] == excels
    assert after["xl/worksheets/sheet2.xml"].count(b"<drawing ") == 1
