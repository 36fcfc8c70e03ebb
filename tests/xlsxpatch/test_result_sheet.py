"""xlsxpatch.result_sheet: the XML of our result sheets, put into workbooks
Excel and old Mac Excel saved. Compared by what a user reads back (values,
types, dates in the workbook's own date system), not by spelling: the
sheet's look (widths, fills, print setup) is tested with the printed output
in tests/test_print.py."""
from __future__ import annotations

import datetime
import warnings

import openpyxl

from xlsxpatch_reference import members, opened, saved, untouched
from yibao.macros.book import OutSheet
from yibao.macros.xlsxpatch import SharedStrings, sheet_xml

ROWS = [["姓名", "个人缴费", "缴费日期", "说明"],
        ["赵大山", 400, datetime.date(2025, 10, 15), " 电话告知 "],
        ["赵明", 0, datetime.date(2025, 10, 16), "复制\x0b来的"],
        ["孙桂兰", 300, None, "=不是公式"]]


def _read(path, sheet):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ws = openpyxl.load_workbook(path)[sheet]
    return [[c.value for c in row] for row in ws.iter_rows(max_col=4)]


def _expected(rows):
    out = []
    for row in rows:
        out.append([datetime.datetime.combine(v, datetime.time()) if isinstance(v, datetime.date) else v
                    for v in row])
    return out


def _same(got, want) -> bool:
    """Equal, a control character aside: we write it as Excel's escape
    ``_x000B_`` (Excel shows the character; openpyxl shows the escape)."""
    fix = [[v.replace("_x000B_", "\x0b") if isinstance(v, str) else v for v in row] for row in got]
    return fix == want


def test_a_report_sheet_in_excels_workbook_reads_back_as_written(tmp_path):
    patch = opened(tmp_path, "xlsxwriter-defined_name01.xlsx")
    before = members(patch.path)
    patch.put_sheet("校验报告", sheet_xml(patch, OutSheet("校验报告", [list(r) for r in ROWS],
                                                        number_formats={3: "yyyy-mm-dd"})))
    after = saved(patch)
    assert _same(_read(patch.path, "校验报告"), _expected(ROWS))
    assert untouched(before, after, {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml",
                                     "xl/styles.xml"}) == []


def test_dates_of_a_report_in_a_1904_workbook(tmp_path):
    """The same report in old Mac Excel's 1904 system: the same days."""
    patch = opened(tmp_path, "sheetjs-1904.xlsx")
    patch.put_sheet("校验报告", sheet_xml(patch, OutSheet("校验报告", [list(r) for r in ROWS],
                                                        number_formats={3: "yyyy-mm-dd"})))
    saved(patch)
    assert _same(_read(patch.path, "校验报告"), _expected(ROWS))


def test_texts_go_to_the_table_of_a_workbook_we_create(tmp_path):
    """With a shared-string table (a new workbook of ours), the body's texts
    are written once there and read back the same."""
    patch = opened(tmp_path, "calamine-inlineStr_with_value.xlsx")
    table = SharedStrings()
    xml = sheet_xml(patch, OutSheet("汇总", [list(r) for r in ROWS], number_formats={3: "yyyy-mm-dd"}), shared=table)
    assert " 电话告知 " in table and 't="s"' in xml
    patch.put_sheet("汇总", xml)
    patch.put_shared_strings(table)
    saved(patch)
    assert _same(_read(patch.path, "汇总"), _expected(ROWS))
