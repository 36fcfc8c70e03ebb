"""xlsxpatch.package: zip members, relationship targets, the calculation
chain, the save (tests against parts saved by Excel; see xlsxpatch_reference)."""
from __future__ import annotations

import pytest

from xlsxpatch_reference import expect, members, opened, order, public, saved, untouched
from yibao.macros.xlsxpatch import XlsxPatch
from yibao.macros.xlsxpatch.package import _part_path, _rels_path


@pytest.mark.parametrize("base,target,part", [
    ("xl/worksheets/sheet1.xml", "../comments1.xml", "xl/comments1.xml"),            # Excel after a save
    ("xl/worksheets/sheet1.xml", "/xl/comments/comment1.xml", "xl/comments/comment1.xml"),  # openpyxl
    ("xl/workbook.xml", "worksheets/sheet2.xml", "xl/worksheets/sheet2.xml"),
    ("xl/workbook.xml", "/xl/worksheets/sheet2.xml", "xl/worksheets/sheet2.xml"),
    ("xl/drawings/drawing1.xml", "../media/image1.png", "xl/media/image1.png"),
    ("xl/worksheets/sheet1.xml", "./../drawings/./drawing1.xml", "xl/drawings/drawing1.xml"),
])
def test_relationship_targets_resolve_to_zip_members(base, target, part):
    """Excel writes "../comments1.xml", openpyxl "/xl/comments/comment1.xml":
    both name one member (issue 16 item 12 (a))."""
    assert _part_path(base, target) == part


def test_rels_path_of_a_part():
    assert _rels_path("xl/worksheets/sheet3.xml") == "xl/worksheets/_rels/sheet3.xml.rels"
    assert _rels_path("xl/workbook.xml") == "xl/_rels/workbook.xml.rels"


def test_save_rewrites_only_the_changed_member_in_excels_order(tmp_path):
    """One sheet part changed: every other member of an Excel file (its
    header picture, VML, theme, properties) byte for byte, in Excel's order."""
    patch = opened(tmp_path, "xlsxwriter-header_image01.xlsx")
    before, names = members(patch.path), order(patch.path)
    sheet = "xl/worksheets/sheet1.xml"
    patch._write(sheet, before[sheet].replace(b"<sheetData/>", b'<sheetData><row r="1"/></sheetData>'))
    after = saved(patch)
    assert after[sheet] != before[sheet]
    assert untouched(before, after, {sheet}) == []
    assert order(patch.path) == names


def test_save_with_nothing_changed_leaves_the_file_as_it_was(tmp_path):
    """A second refresh of the same values: the file is not rewritten at all
    (same bytes, same modification time) and the patch says so."""
    path = public(tmp_path, "xlsxwriter-types07.xlsx")
    data, mtime = path.read_bytes(), path.stat().st_mtime_ns
    patch = XlsxPatch(path)
    part = "xl/worksheets/sheet1.xml"
    patch._write(part, patch._read_bytes(part))
    patch.save(backup=False)
    assert patch.unchanged
    assert path.read_bytes() == data and path.stat().st_mtime_ns == mtime


def test_calc_chain_loses_only_the_cells_that_lost_their_formulas(tmp_path):
    """Excel's chain (types07: A3 i=1, A2, A1): values replaced A3's formula;
    its entry goes, the next entry names its sheet itself, the rest stay in
    Excel's order; the relationship and content type stay."""
    patch = opened(tmp_path, "xlsxwriter-types07.xlsx")
    before = members(patch.path)
    patch._prune_calc_chain(patch._sheet_id("Sheet1"), {"A3"})
    after = saved(patch)
    expect(after["xl/calcChain.xml"], "package/types07.calcChain.pruned.xml")
    assert untouched(before, after, {"xl/calcChain.xml"}) == []


def test_calc_chain_of_other_sheets_is_kept(tmp_path):
    """Cells of another sheet with the same references are not touched."""
    patch = opened(tmp_path, "xlsxwriter-types07.xlsx")
    before = members(patch.path)
    patch._prune_calc_chain("2", {"A1", "A2", "A3"})
    assert saved(patch) == before


def test_calc_chain_without_formulas_left_is_dropped_with_its_references(tmp_path):
    patch = opened(tmp_path, "xlsxwriter-types07.xlsx")
    before = members(patch.path)
    patch._prune_calc_chain("1", {"A1", "A2", "A3"})
    after = saved(patch)
    assert "xl/calcChain.xml" not in after
    assert b"calcChain" not in after["xl/_rels/workbook.xml.rels"]
    assert b"calcChain" not in after["[Content_Types].xml"]
    assert untouched(before, after, {"xl/calcChain.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"}) == []
