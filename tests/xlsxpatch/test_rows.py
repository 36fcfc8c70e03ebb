"""xlsxpatch.rows: cells written into sheet rows as Excel, Mac Excel and
LibreOffice wrote them (references in tests/xlsxpatch/reference/rows/, each
checked by hand)."""
from __future__ import annotations

import datetime

import pytest

from xlsxpatch_reference import expect, members, opened, saved, untouched
from yibao.macros.xlsxpatch import Unsupported

SHEET = "xl/worksheets/sheet1.xml"


def test_a_fill_on_excels_rich_text_cells(tmp_path):
    """rich_string01: A2 (a rich-text cell, format 2) gets our fill over its
    own format, B3 (no cell yet) gets a cell with only a format; the text
    and the other rows stay as Excel wrote them, Excel's spans hint of a
    changed row goes (it would be wrong)."""
    patch = opened(tmp_path, "xlsxwriter-rich_string01.xlsx")
    before = members(patch.path)
    fill = patch.xf(0, fill="FFFFC7CE")
    patch.patch_cells("Sheet1", {(2, 1): ("restyle", "FFFFC7CE", None, None), (3, 2): ("style", fill)}, True)
    after = saved(patch)
    expect(after[SHEET], "rows/rich_string01.marked.sheet1.xml")
    assert patch.originals[(2, 1)] == (2, "none")       # the format under our fill, for the next run
    assert untouched(before, after, {SHEET, "xl/styles.xml"}) == []
    assert after["xl/sharedStrings.xml"] == before["xl/sharedStrings.xml"]


def test_values_appended_right_of_libreoffices_row(tmp_path):
    """LibreOffice's row (rph: every attribute spelled out, no spans): the
    computed values are appended after A1, text inline, the row's own
    attributes kept."""
    patch = opened(tmp_path, "calamine-rph.xlsx")
    before = members(patch.path)
    kept = patch.patch_values("Sheet1", [1, 2], {3: [400, 0], 4: ["低保对象", ""]}, {3: None, 4: None})
    assert kept == 0 and patch.cells_written >= 3
    after = saved(patch)
    expect(after[SHEET], "rows/rph.values.sheet1.xml")
    assert untouched(before, after, {SHEET}) == []


def test_a_typed_value_is_never_overwritten(tmp_path):
    """A value the user typed where a computed value goes: kept, and counted."""
    patch = opened(tmp_path, "calamine-shared_formula_simple.xlsx")
    before = members(patch.path)
    kept = patch.patch_values("Sheet1", [1, 2, 3], {1: [9, 9, 9]}, {1: None})
    assert kept == 3
    after = saved(patch)
    for r in (1, 2, 3):
        assert f'<c r="A{r}"><v>{r}</v></c>'.encode() in after[SHEET]
    assert b"<v>9</v>" not in after[SHEET]


def test_the_cell_holding_a_filled_down_formula_is_refused(tmp_path):
    """Mac Excel's fill-down B1:B3 (one shared formula in B1): writing B1
    alone would leave B2:B3 without a formula: Unsupported, nothing written."""
    patch = opened(tmp_path, "calamine-shared_formula_simple.xlsx")
    with pytest.raises(Unsupported):
        patch.patch_values("Sheet1", [1], {2: [5]}, {2: None})
    assert not patch.changed


def test_a_whole_filled_down_range_is_replaced_and_the_chain_pruned(tmp_path):
    """All of B1:B3 written (a refresh over a column filled down): values,
    no dangling shared formula, and B1:B3 leave the calculation chain."""
    patch = opened(tmp_path, "calamine-shared_formula_simple.xlsx")
    before = members(patch.path)
    patch.patch_values("Sheet1", [1, 2, 3], {2: [5, 6, 7]}, {2: None})
    after = saved(patch)
    expect(after[SHEET], "rows/shared_formula_simple.replaced.sheet1.xml")
    chain = after.get("xl/calcChain.xml", b"").decode()
    assert all(f'r="B{r}"' not in chain for r in (1, 2, 3))
    assert untouched(before, after, {SHEET, "xl/calcChain.xml", "xl/_rels/workbook.xml.rels",
                                     "[Content_Types].xml"}) == []


def test_dates_in_a_1904_workbook(tmp_path):
    """Old Mac Excel's 1904 date system (sheetjs 1904.xlsx): 2026-01-01 is
    written as the 1904 serial, 1462 less than the 1900 one."""
    patch = opened(tmp_path, "sheetjs-1904.xlsx")
    assert patch.date1904
    patch.patch_values("Sheet1", [1], {6: [datetime.date(2026, 1, 1)]}, {6: None})
    after = saved(patch)
    serial = (datetime.date(2026, 1, 1) - datetime.date(1904, 1, 1)).days
    assert f'<c r="F1"><v>{serial}</v></c>'.encode() in after[SHEET]
