"""xlsxpatch.sharedstrings: the shared-string table of a workbook we create
whole, never one of a user's (references in tests/xlsxpatch/reference/sharedstrings/)."""
from __future__ import annotations

import pytest

from xlsxpatch_reference import expect, members, opened, saved, untouched
from yibao.macros.xlsxpatch import SharedStrings, Unsupported


def test_texts_are_numbered_as_first_met_and_written_once():
    table = SharedStrings()
    assert [table[t] for t in ("低保对象", " 电话告知 ", "低保对象", "A&B<C>", "复制\x0b来的")] == [0, 1, 0, 2, 3]
    expect(table.xml(), "sharedstrings/four_texts.sharedStrings.xml")


def test_a_users_table_is_never_replaced(tmp_path):
    """Excel's workbook has its own table (rich_string01): adding ours is
    refused before anything is written."""
    patch = opened(tmp_path, "xlsxwriter-rich_string01.xlsx")
    table = SharedStrings()
    table["x"]
    with pytest.raises(Unsupported):
        patch.put_shared_strings(table)
    assert not patch.changed


def test_a_table_added_where_the_writer_kept_text_inline(tmp_path):
    """A package without a table (Windward Reports, inline strings): ours
    added with its relationship and content type; the rest byte for byte."""
    patch = opened(tmp_path, "calamine-inlineStr_with_value.xlsx")
    before = members(patch.path)
    table = SharedStrings()
    table["参保缴费台账"]
    patch.put_shared_strings(table)
    after = saved(patch)
    assert after["xl/sharedStrings.xml"] == table.xml().encode()
    expect(after["xl/_rels/workbook.xml.rels"], "sharedstrings/inlineStr_with_value.workbook.xml.rels")
    assert b'PartName="/xl/sharedStrings.xml"' in after["[Content_Types].xml"]
    assert untouched(before, after, {"xl/_rels/workbook.xml.rels", "[Content_Types].xml"}) == []


def test_an_empty_table_adds_nothing(tmp_path):
    patch = opened(tmp_path, "calamine-inlineStr_with_value.xlsx")
    before = members(patch.path)
    patch.put_shared_strings(SharedStrings())
    assert saved(patch) == before
