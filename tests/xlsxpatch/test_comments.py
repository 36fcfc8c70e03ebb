"""xlsxpatch.comments: our notes beside the user's, in the comments part and
its VML as Excel wrote them (references in tests/xlsxpatch/reference/comments/,
each checked by hand)."""
from __future__ import annotations

import re

from xlsxpatch_reference import expect, members, opened, saved, untouched
from yibao.macros import marks

SHEET = "xl/worksheets/sheet1.xml"
COMMENTS = "xl/comments1.xml"
VML = "xl/drawings/vmlDrawing1.vml"


def test_our_note_beside_excels_note(tmp_path):
    """Excel's note on B2 (comment01, at ../comments1.xml): ours on D4 is
    appended with our author, its box added to Excel's VML; the user's note,
    the sheet and its relationships stay byte for byte."""
    patch = opened(tmp_path, "xlsxwriter-comment01.xlsx")
    before = members(patch.path)
    assert patch.has_notes("Sheet1")
    patch.set_notes("Sheet1", {(4, 4): "个人缴费应为400元，现为300元"})
    after = saved(patch)
    expect(after[COMMENTS], "comments/comment01.ours_on_D4.comments1.xml")
    expect(after[VML], "comments/comment01.ours_on_D4.vmlDrawing1.vml")
    assert untouched(before, after, {COMMENTS, VML}) == []


def test_our_finding_after_the_users_text_on_the_same_cell(tmp_path):
    """A finding on B2, the cell with the user's note: their text and run
    formatting first, ours after it; no second note, no second box."""
    patch = opened(tmp_path, "xlsxwriter-comment01.xlsx")
    before = members(patch.path)
    patch.set_notes("Sheet1", {(2, 2): "身份证号校验位不对"})
    after = saved(patch)
    expect(after[COMMENTS], "comments/comment01.ours_on_B2.comments1.xml")
    assert after[VML] == before[VML]
    assert untouched(before, after, {COMMENTS}) == []


def test_a_rerun_takes_our_part_away_and_leaves_the_users(tmp_path):
    """The next run with nothing to say: the user's note as Excel wrote it
    (same text, same run formatting), our note on D4 and its box gone."""
    patch = opened(tmp_path, "xlsxwriter-comment01.xlsx")
    original = members(patch.path)
    patch.set_notes("Sheet1", {(2, 2): "身份证号校验位不对", (4, 4): "个人缴费应为400元"})
    saved(patch)
    from yibao.macros.xlsxpatch import XlsxPatch
    again = XlsxPatch(patch.path)
    again.set_notes("Sheet1", {})
    after = saved(again)
    comments = after[COMMENTS].decode()
    assert "Some text" in comments and marks.NOTE_MARK not in comments and 'ref="D4"' not in comments
    assert re.findall(r"<comment\b.*?</comment>", comments) == re.findall(r"<comment\b.*?</comment>",
                                                                           original[COMMENTS].decode())
    assert "<x:Row>3</x:Row>" not in after[VML].decode()


def test_notes_on_a_sheet_without_any(tmp_path):
    """A sheet with no notes (protect01): our comments part and VML under
    names of our own, the sheet's relationships and <legacyDrawing> added,
    the content types told; the rest byte for byte."""
    patch = opened(tmp_path, "xlsxwriter-protect01.xlsx")
    before = members(patch.path)
    assert not patch.has_notes("Sheet1")
    patch.set_notes("Sheet1", {(4, 8): "个人缴费应为400元，现为300元"})
    after = saved(patch)
    new = {"xl/comments_yibao_sheet1.xml", "xl/drawings/vml_yibao_sheet1.vml", "xl/worksheets/_rels/sheet1.xml.rels"}
    assert new <= after.keys()
    expect(after["xl/comments_yibao_sheet1.xml"], "comments/protect01.comments_yibao_sheet1.xml")
    expect(after["xl/worksheets/_rels/sheet1.xml.rels"], "comments/protect01.sheet1.xml.rels")
    expect(after[SHEET], "comments/protect01.sheet1.xml")
    assert untouched(before, after, {SHEET, "[Content_Types].xml"}) == []
    assert b'Extension="vml"' in after["[Content_Types].xml"]


def test_a_threaded_comment_cell_is_left_to_excel(tmp_path):
    """Excel 365 threaded comments (threaded_comments_none): the legacy note
    on a threaded cell is Excel's copy of the thread, so a finding there is
    not written into it (it goes to the report), and the thread parts stay."""
    patch = opened(tmp_path, "sheetjs-threaded_comments_none.xlsx")
    before = members(patch.path)
    sheet = next(iter(patch._sheets))
    part = patch._sheets[sheet][1]
    rels = patch._read(part.replace("worksheets/", "worksheets/_rels/") + ".rels")
    thread = re.search(r'Target="([^"]*threadedComment[^"]*)"', rels).group(1)
    from yibao.macros.xlsxpatch import _part_path
    cell = re.search(r'<threadedComment\b[^>]*?\bref="([A-Z]+)(\d+)"', patch._read(_part_path(part, thread)))
    from yibao.macros.xlsxpatch import column_index
    r, c = int(cell.group(2)), column_index(cell.group(1))
    patch.set_notes(sheet, {(r, c): "身份证号校验位不对"})
    assert patch.notes_on_threads == [(r, c)]
    after = saved(patch)
    changed = {n for n in before if after.get(n) != before[n]}
    assert changed <= {n for n in before if re.fullmatch(r"xl/comments\d*\.xml", n)}, changed
    for name in changed:      # at most our author listed; every note as Excel wrote it
        assert re.findall(r"<comment\b.*?</comment>", after[name].decode(), re.S) == \
            re.findall(r"<comment\b.*?</comment>", before[name].decode(), re.S)
