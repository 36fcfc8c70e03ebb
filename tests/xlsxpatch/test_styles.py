"""xlsxpatch.styles: formats appended to the styles part as Excel, gnumeric
and a minimal writer left it, nothing existing renumbered (references in
tests/xlsxpatch/reference/styles/, each checked by hand)."""
from __future__ import annotations

import re

from xlsxpatch_reference import expect, members, opened, saved, untouched
from yibao.macros.xlsxpatch.constants import COMPUTED_STYLE

STYLES = "xl/styles.xml"


def test_computed_format_on_excels_styles(tmp_path):
    """Excel's styles (protect01): our named style 'yibao计算' (a grey fill
    in cellStyleXfs, a cellStyle) and a cell format over it, each appended;
    only the styles part changes."""
    patch = opened(tmp_path, "xlsxwriter-protect01.xlsx")
    before = members(patch.path)
    excels = len(patch._section("cellXfs")[2])
    index = patch.xf(0, computed=True)
    assert index == excels                         # appended after Excel's formats
    assert patch.xf_is_computed(index) and not patch.xf_is_computed(0)
    after = saved(patch)
    expect(after[STYLES], "styles/protect01.computed.styles.xml")
    assert untouched(before, after, {STYLES}) == []


def test_computed_format_where_gnumeric_wrote_no_cell_styles(tmp_path):
    """gnumeric writes no <cellStyles>: it is written after <cellXfs>, the
    schema's place, with the Normal style the file implied and ours (it
    used to refuse the whole file: 'styles without cellStyles')."""
    patch = opened(tmp_path, "calamine-issue_174.xlsx")
    assert "<cellStyles" not in patch.styles
    index = patch.xf(0, computed=True)
    after = saved(patch)
    expect(after[STYLES], "styles/issue_174.computed.styles.xml")
    text = after[STYLES].decode()
    assert text.index("</cellXfs>") < text.index("<cellStyles") < text.index("</styleSheet>")
    assert re.search(rf'<cellStyle name="{COMPUTED_STYLE}" xfId="1"/>', text)
    assert patch.xf_is_computed(index)


def test_fill_on_an_empty_style_sheet(tmp_path):
    """A writer's bare <styleSheet></styleSheet>: the collections the
    schema implies (default font, the two reserved fills, empty border,
    default format) are written out, then ours after them."""
    patch = opened(tmp_path, "calamine-nonstandard-xml-ns-prefix.xlsx")
    index = patch.xf(0, fill="FFFFC7CE")
    assert index == 1 and patch.fill_of(index) == "FFFFC7CE" and patch.fill_of(0) is None
    after = saved(patch)
    expect(after[STYLES], "styles/nonstandard.fill.styles.xml")


def test_reading_styles_changes_nothing(tmp_path):
    """Opening a file whose styles lack collections, and asking for our
    named style, writes nothing: the file is left as it was."""
    patch = opened(tmp_path, "calamine-issue_174.xlsx")
    before = members(patch.path)
    assert patch._named_style() is None
    assert patch.fill_of(0) is None
    assert saved(patch) == before and patch.unchanged


def test_an_existing_number_format_is_reused(tmp_path):
    """LibreOffice's custom number formats: asking for one of them gives
    its id back and adds nothing; a new one gets the next free id."""
    patch = opened(tmp_path, "sheetjs-LONumbers.xlsx")
    from yibao.macros.xlsxpatch import _attr, _unescape
    fmts = [(_attr(t, "numFmtId"), _attr(t, "formatCode")) for t in patch._section("numFmts")[2]]
    assert len(fmts) == 35
    fmt_id, code = fmts[-1]
    assert patch._num_fmt(_unescape(code)) == int(fmt_id)
    assert patch.styles == patch._as_read[STYLES]
    new = patch._num_fmt('yyyy"年"m"月"d"日"')
    assert new == max(int(i) for i, _c in fmts) + 1
    assert patch._section("numFmts")[2][-1] == f'<numFmt numFmtId="{new}" formatCode=\'yyyy"年"m"月"d"日"\'/>'


def test_the_same_format_asked_twice_is_one_format(tmp_path):
    patch = opened(tmp_path, "xlsxwriter-protect01.xlsx")
    first = patch.xf(1, fill="FFFFC7CE")
    count = len(patch._section("cellXfs")[2])
    assert patch.xf(1, fill="FFFFC7CE") == first
    assert len(patch._section("cellXfs")[2]) == count
