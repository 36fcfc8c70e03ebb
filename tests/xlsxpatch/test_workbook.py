"""xlsxpatch.workbook: the sheets of workbooks as Excel, LibreOffice, Google
Sheets and other writers saved them, and our sheet added to them
(references in tests/xlsxpatch/reference/workbook/, each checked by hand)."""
from __future__ import annotations

import pytest

from xlsxpatch_reference import PUBLIC, expect, members, opened, saved, untouched

SHEET = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats'
         '.org/spreadsheetml/2006/main"><sheetPr><tabColor rgb="FF2F75B5"/></sheetPr><sheetData><row r="1">'
         '<c r="A1" t="inlineStr"><is><t>报告</t></is></c></row></sheetData></worksheet>')


@pytest.mark.parametrize("name,sheets", [
    ("xlsxwriter-defined_name01.xlsx", {"Sheet1": "xl/worksheets/sheet1.xml", "Sheet2": "xl/worksheets/sheet2.xml",
                                        "Sheet 3": "xl/worksheets/sheet3.xml"}),
    ("calamine-rph.xlsx", {"Sheet1": "xl/worksheets/sheet1.xml"}),                          # LibreOffice
    ("calamine-temperature.xlsx", {"Sheet1": "xl/worksheets/sheet1.xml"}),                  # Google Sheets
    ("calamine-nonstandard-xml-ns-prefix.xlsx", {"Sheet1": "xl/worksheets/sheet1.xml"}),    # ns:id, not r:id
    ("calamine-any_sheets.xlsx", {"Visible": "xl/worksheets/sheet1.xml", "Hidden": "xl/worksheets/sheet2.xml",
                                  "VeryHidden": "xl/worksheets/sheet3.xml"}),             # the chart sheet is no worksheet
    ("calamine-richtext-namespaced.xlsx", {f"Sheet{n}": f"xl/worksheets/sheet{n}.xml" for n in (1, 2, 3)}),  # x: prefix, BOM
])
def test_sheets_are_found_whatever_wrote_the_workbook(tmp_path, name, sheets):
    patch = opened(tmp_path, name)
    found = {sheet: part for sheet, (_rid, part) in patch._sheets.items()}
    assert found == sheets
    assert all(part in patch.zip.namelist() for part in found.values())


def test_our_sheet_added_to_excels_workbook(tmp_path):
    """Excel's workbook with ten defined names (defined_name01): our sheet
    appended to <sheets> with the next sheetId, its print titles one more
    defined name, the part, relationship and content type added; nothing
    of Excel's renamed, renumbered or dropped."""
    patch = opened(tmp_path, "xlsxwriter-defined_name01.xlsx")
    before = members(patch.path)
    patch.put_sheet("校验报告", SHEET, print_titles="1:1")
    assert patch._sheet_id("校验报告") == "4" and patch._sheet_index("校验报告") == 3
    after = saved(patch)
    expect(after["xl/workbook.xml"], "workbook/defined_name01.put_sheet.workbook.xml")
    expect(after["xl/_rels/workbook.xml.rels"], "workbook/defined_name01.put_sheet.workbook.xml.rels")
    expect(after["[Content_Types].xml"], "workbook/defined_name01.put_sheet.content_types.xml")
    assert after["xl/worksheets/sheet4.xml"] == SHEET.encode()
    assert untouched(before, after, {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"}) == []


def test_print_titles_in_a_libreoffice_workbook_without_defined_names(tmp_path):
    """LibreOffice writes no <definedNames> when there are none: ours goes
    where the schema puts it, before <calcPr> (and LibreOffice's extLst)."""
    patch = opened(tmp_path, "calamine-rph.xlsx")
    patch.put_sheet("校验报告", SHEET, print_titles="1:1")
    after = saved(patch)
    expect(after["xl/workbook.xml"], "workbook/rph.put_sheet.workbook.xml")


def test_our_sheet_replaced_keeps_one_print_title(tmp_path):
    patch = opened(tmp_path, "xlsxwriter-defined_name01.xlsx")
    patch.put_sheet("校验报告", SHEET, print_titles="1:1")
    patch.put_sheet("校验报告", SHEET.replace("报告", "报告二"), print_titles="1:2")
    after = saved(patch)
    text = after["xl/workbook.xml"].decode()
    assert text.count("_xlnm.Print_Titles") == 1 and "'校验报告'!$1:$2" in text
    assert text.count('name="校验报告"') == 1


def test_a_users_sheet_is_never_replaced(tmp_path):
    patch = opened(tmp_path, "xlsxwriter-defined_name01.xlsx")
    with pytest.raises(ValueError):
        patch.put_sheet("Sheet2", SHEET)


def test_hidden_marks_sheet_is_read_back_from_shared_strings(tmp_path):
    """Our hidden sheet of marks as LibreOffice saves it (texts moved to the
    shared-string table): each line read back as (sheet, row, col, format, fill)."""
    patch = opened(tmp_path, "xlsxwriter-defined_name01.xlsx")
    assert patch.read_hidden_marks() == []
    from yibao.macros.xlsxpatch import MARKS_SHEET
    sst = patch._shared_strings()
    assert sst and all(isinstance(s, str) for s in sst)
    index = len(sst)

    def edit(parts):
        parts["xl/sharedStrings.xml"] = parts["xl/sharedStrings.xml"].replace(
            b"</sst>", "<si><t>参保缴费台账</t></si><si><t>FFFFC7CE</t></si></sst>".encode())
    patch = opened(tmp_path, "xlsxwriter-defined_name01.xlsx", edit)
    rows = (f'<row r="1"><c r="A1" t="s"><v>{index}</v></c><c r="B1"><v>7</v></c><c r="C1"><v>8</v></c>'
            f'<c r="D1"><v>0</v></c><c r="E1" t="s"><v>{index + 1}</v></c></row>')
    patch.put_sheet(MARKS_SHEET, SHEET.replace(SHEET[SHEET.index("<row"):SHEET.index("</sheetData>")], rows),
                    hidden=True)
    assert patch.read_hidden_marks() == [("参保缴费台账", 7, 8, 0, "FFFFC7CE")]
