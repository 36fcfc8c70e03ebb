"""The in-place patcher on files shaped as other programs write them.

Each test builds a small ledger, reshapes one zip member the way Excel,
LibreOffice, the Open XML SDK or old Mac Excel writes it, runs the real
command and checks what a user would see: the values written, and every
member we had no need to change still byte for byte the same.
"""
from __future__ import annotations

import datetime
import re
import zipfile
from pathlib import Path

import openpyxl

from conftest import run_yibao
from test_actions_ledger import A, B, C, ledger

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
ROWS = [
    [1, "001", "张三", "户主", "男", A, None, 280, None, None, None, "2020-10-21", None],
    [2, "001", "李四", "配偶", "女", B, None, 0, None, None, "低保户", "2020-10-21", None],
    [3, "002", "王五", "户主", "男", C, None, 140, None, None, "边缘户", None, None],
]


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def rewrite(path: Path, change) -> None:
    """Rewrite the zip with ``change(members)`` applied (a dict to edit in place)."""
    parts = members(path)
    change(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def sheet_part(parts: dict[str, bytes], sheet="台账") -> str:
    wb = parts["xl/workbook.xml"].decode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    tag = re.search(r'<sheet\b[^>]*name="%s"[^>]*>' % sheet, wb).group(0)
    rid = re.search(r'\bid="([^"]+)"', tag.split("name=")[0] + tag.split("sheetId")[1]).group(1)
    target = re.search(r'<Relationship\b[^>]*Id="%s"[^>]*>' % rid, rels).group(0)
    target = re.search(r'Target="([^"]+)"', target).group(1)
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def prefixed(xml: bytes, prefix=b"x") -> bytes:
    """The part as the Open XML SDK writes it: every main-namespace element prefixed."""
    text = re.sub(rb"<(/?)(?![?!])([A-Za-z]+)(?=[\s>/])", rb"<\1" + prefix + rb":\2", xml)
    return text.replace(b'xmlns="%s"' % MAIN.encode(), b'xmlns:%s="%s"' % (prefix, MAIN.encode()), 1)


def as_date(value):
    return value.date() if isinstance(value, datetime.datetime) else value


def test_refresh_writes_into_a_sheet_with_prefixed_elements(tmp_path):
    """ClosedXML / Open XML SDK write <x:worksheet><x:row><x:c>: refresh
    must write the computed cells there (issue 16 item 5), not report
    cells it never wrote."""
    path = ledger(tmp_path / "l.xlsx", ROWS)

    def reshape(parts):
        name = sheet_part(parts)
        parts[name] = prefixed(parts[name])
    rewrite(path, reshape)
    proc = run_yibao("refresh", str(path))
    assert "已刷新3行、12个计算单元格" in proc.stdout          # 3 rows x 4 computed columns, really written
    ws = openpyxl.load_workbook(path)["台账"]
    assert [ws.cell(r, 14).value for r in (4, 5, 6)] == [280, 0, 140]
    assert ws["O5"].value == "低保对象"


def test_validate_marks_a_cell_in_a_prefixed_sheet(tmp_path):
    rows = [list(r) for r in ROWS]
    rows[0][5] = A[:-1] + ("0" if A[-1] != "0" else "1")     # a wrong check digit
    path = ledger(tmp_path / "l.xlsx", rows)

    def reshape(parts):
        name = sheet_part(parts)
        parts[name] = prefixed(parts[name])
    rewrite(path, reshape)
    run_yibao("validate", str(path), check_rc=None)
    wb = openpyxl.load_workbook(path)
    ws = wb["台账"]
    assert ws["F4"].comment is not None                   # the bad ID is marked
    assert ws["F4"].fill.fgColor.rgb not in (None, "00000000")
    assert ws["F4"].value == rows[0][5]


def test_a_workbook_saved_by_openpyxl_with_lxml_takes_a_new_sheet(tmp_path):
    """openpyxl's lxml writer declares xmlns:r on each <sheet>, not on the
    root: the report sheet we add must still be a well-formed workbook
    (issue 16 item 6: "无法打开…写入结果（XMLSyntaxError）")."""
    path = ledger(tmp_path / "l.xlsx", ROWS)

    def reshape(parts):
        wb = parts["xl/workbook.xml"].decode()
        wb = wb.replace(' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"', "", 1)
        wb = wb.replace("<sheet ", '<sheet xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" ')
        parts["xl/workbook.xml"] = wb.encode()
    rewrite(path, reshape)
    run_yibao("validate", str(path), check_rc=None)
    from xml.dom import minidom
    minidom.parseString(members(path)["xl/workbook.xml"])      # well-formed, prefixes declared
    wb = openpyxl.load_workbook(path)
    assert "校验报告" in wb.sheetnames


def test_refresh_writes_dates_in_the_1904_date_system(tmp_path):
    """A workbook in the 1904 date system (old Mac Excel): 待遇起始 must
    read back as the same date (issue 16 item 3: every row was 4 years and
    a day late)."""
    path = ledger(tmp_path / "l.xlsx", ROWS)

    def reshape(parts):
        wb = parts["xl/workbook.xml"].decode()
        wb = re.sub(r"<workbookPr\b[^>]*/>", '<workbookPr date1904="1"/>', wb) if "<workbookPr" in wb \
            else wb.replace("<sheets>", '<workbookPr date1904="1"/><sheets>')
        parts["xl/workbook.xml"] = wb.encode()
    rewrite(path, reshape)
    run_yibao("refresh", str(path))
    wb = openpyxl.load_workbook(path)
    assert wb.epoch == openpyxl.utils.datetime.MAC_EPOCH
    from yibao.functions import udf
    expected = udf.BENEFIT_START(A, None, "2020-10-21", None, None, None, "xinqiao-2021")
    assert isinstance(expected, datetime.date)
    assert as_date(wb["台账"]["P4"].value) == expected
    # and our own reader reads it back the same
    from yibao.macros.book import read_grid_any
    grid = read_grid_any(path)["台账"]
    assert as_date(grid[3][15]) == expected


def test_notes_part_named_relative_with_dots_keeps_the_pictures(tmp_path):
    """validate, save in Excel, validate again: Excel names the notes part
    ``../comments1.xml``; the second run must find it (issue 16 item
    12(a)) and keep the ledger's pictures byte for byte."""
    rows = [list(r) for r in ROWS]
    rows[0][5] = A[:-1] + ("0" if A[-1] != "0" else "1")
    path = ledger(tmp_path / "l.xlsx", rows)
    run_yibao("validate", str(path), check_rc=None)

    def as_excel(parts):
        name = sheet_part(parts)
        rels_name = name.rsplit("/", 1)[0] + "/_rels/" + name.rsplit("/", 1)[1] + ".rels"
        rels = parts[rels_name].decode()
        for target in re.findall(r'Target="(/xl/[^"]+)"', rels):
            rels = rels.replace(f'Target="{target}"', 'Target="../' + target[len("/xl/"):] + '"')
        # a picture on the sheet, as Excel stores it
        rels = rels.replace("</Relationships>", '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/'
                            'officeDocument/2006/relationships/drawing" Target="../drawings/drawing1.xml"/>'
                            "</Relationships>")
        parts[rels_name] = rels.encode()
        parts["xl/drawings/drawing1.xml"] = b'<?xml version="1.0"?><xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"/>'
        parts["xl/media/image1.png"] = b"\x89PNG\r\n\x1a\nfictional picture bytes"
    rewrite(path, as_excel)
    before = members(path)
    run_yibao("validate", str(path), check_rc=None)
    after = members(path)
    assert after["xl/media/image1.png"] == before["xl/media/image1.png"]
    assert after["xl/drawings/drawing1.xml"] == before["xl/drawings/drawing1.xml"]
    ws = openpyxl.load_workbook(path)["台账"]
    assert ws["F4"].comment is not None


def test_members_we_do_not_change_stay_byte_for_byte(tmp_path):
    path = ledger(tmp_path / "l.xlsx", ROWS)
    before = members(path)
    run_yibao("refresh", str(path))
    after = members(path)
    changed = {n for n in before if after.get(n) != before[n]}
    assert changed <= {sheet_part(before), "xl/styles.xml", "xl/workbook.xml",
                       "xl/_rels/workbook.xml.rels", "[Content_Types].xml"}
    assert "docProps/core.xml" not in changed and "xl/theme/theme1.xml" not in changed


def test_control_characters_and_huge_text_make_a_valid_file(tmp_path):
    """Text copied from web systems carries control characters; a report
    cell can exceed Excel's 32,767 characters. What we write must still
    open everywhere (issue 16 item 10), the characters kept as Excel's
    _x000B_ escapes, the long text cut with a visible marker."""
    from yibao.macros import book as books
    from yibao.macros.xlsxpatch import MAX_CELL_CHARS, TRUNCATED
    long = "很长" * 20000
    rows = [["序号", "内容"], [1, "张\x0b三\x01"], [2, long], [3, "_x0041_ 原样"]]
    sheets = [books.OutSheet("名单", rows, header_rows=1), books.OutSheet("名单", rows, header_rows=1),
              books.OutSheet("民政[局]:低保/特困?", rows, header_rows=1)]
    out = books.write_new_workbook(tmp_path / "o.xlsx", sheets)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["名单", "名单(2)", "民政_局__低保_特困_"]
    ws = wb["名单"]
    assert ws["B3"].value.endswith(TRUNCATED) and len(ws["B3"].value) == MAX_CELL_CHARS
    assert ws["B2"].value == "张\x0b三\x01" or ws["B2"].value == "张_x000B_三_x0001_"
    assert ws["B4"].value in ("_x0041_ 原样", "_x005F_x0041_ 原样")
    # the report in a user's own ledger, and a note, with the same text
    path = ledger(tmp_path / "l.xlsx", ROWS)
    book = books.FileBook(path, for_update=True)
    book.grids()
    book.mark("台账", 4, 6, "错误", "复制来的\x0b文字")
    book.replace_sheet(books.OutSheet("报告", rows, header_rows=1))
    book.save()
    wb = openpyxl.load_workbook(path)                 # would raise on a raw control character
    assert len(list(wb["报告"].iter_rows())) == 4
    assert "复制来的" in wb["台账"]["F4"].comment.text


def _shared_formula_in(parts, cell_col="R", master_row=4, last_row=6, formula="H{r}*2"):
    """Excel's fill-down of ``formula`` (=H4*2) from column ``cell_col``, row ``master_row``,
    to ``last_row``: the first cell holds the formula, the rest refer to it
    (t="shared"); rows the sheet lacks get no cell."""
    name = sheet_part(parts)
    xml = parts[name].decode()
    for r in range(master_row, last_row + 1):
        f = (f'<f t="shared" ref="{cell_col}{master_row}:{cell_col}{last_row}" si="0">'
             f'{formula.format(r=master_row)}</f>' if r == master_row else '<f t="shared" si="0"/>')
        xml = re.sub(rf'(<row r="{r}"[^>]*>.*?)(</row>)', lambda m: m.group(1) + f'<c r="{cell_col}{r}">{f}<v>0</v></c>'
                     + m.group(2), xml, count=1, flags=re.S)
    parts[name] = xml.encode()
    return name


def test_a_formula_filled_down_elsewhere_keeps_the_pictures_and_itself(tmp_path):
    """One filled-down formula anywhere on the sheet used to send the write
    through openpyxl, which dropped the ledger's picture (issue 16 item 4)."""
    rows = [list(r) for r in ROWS]
    rows[0][5] = A[:-1] + ("0" if A[-1] != "0" else "1")
    path = ledger(tmp_path / "l.xlsx", rows)

    def reshape(parts):
        _shared_formula_in(parts)
        parts["xl/media/image1.png"] = b"\x89PNG\r\n\x1a\nfictional picture bytes"
    rewrite(path, reshape)
    before = members(path)
    run_yibao("validate", str(path), check_rc=None)
    run_yibao("refresh", str(path))
    after = members(path)
    assert after["xl/media/image1.png"] == before["xl/media/image1.png"]
    name = sheet_part(after)
    assert b'<f t="shared" ref="R4:R6" si="0">H4*2</f>' in after[name]
    assert after[name].count(b'<f t="shared" si="0"/>') == 2
    ws = openpyxl.load_workbook(path)["台账"]
    assert ws["N5"].value == 0 and ws["N6"].value == 140 and ws["F4"].comment is not None


def test_replacing_the_cell_holding_a_filled_down_formula_is_refused_untouched(tmp_path):
    """A formula in 应缴 N4 filled down to N9, past the rows refresh
    writes (N4:N6): replacing N4 would leave N7:N9 without a formula, so
    the action refuses with one Chinese line and the file stays byte for
    byte (issue 16 item 4: no lossy path)."""
    path = ledger(tmp_path / "l.xlsx", ROWS)

    rewrite(path, lambda parts: _shared_formula_in(parts, "N", 4, 9, formula="H{r}"))
    before = path.read_bytes()
    proc = run_yibao("refresh", str(path), check_rc=None)
    assert proc.returncode != 0
    assert "无法在不丢失内容的情况下写入，已停止，文件未改动" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
    assert path.read_bytes() == before


def test_a_chart_sheet_is_redrawn_in_place_and_the_old_one_removed(tmp_path):
    """progress puts its sheet with a native chart into the user's workbook
    in place (no openpyxl round trip of the whole file); a rerun leaves one
    chart, not two."""
    from yibao.macros import book as books
    path = ledger(tmp_path / "l.xlsx", ROWS)
    rows = [["村", "人数"], ["一村", 5], ["二村", 7]]
    chart = {"type": "bar", "categories": (1, 2, 3), "values": (2, 1, 3), "title": "人数"}
    for _ in range(2):
        book = books.FileBook(path)
        book.replace_sheet(books.OutSheet("通报", rows, header_rows=1, chart=chart))
        book.save()
    after = members(path)
    assert len([n for n in after if n.startswith("xl/charts/")]) == 1
    ws = openpyxl.load_workbook(path)["通报"]
    assert len(ws._charts) == 1


BAD = A[:-1] + ("0" if A[-1] != "0" else "1")      # a wrong check digit: validate flags F4


def _with_user_notes(path: Path):
    """The village agent's own notes, written by Excel (openpyxl here): one
    on the cell validate will flag (F4), one elsewhere (C5)."""
    from openpyxl.comments import Comment
    wb = openpyxl.load_workbook(path)
    ws = wb["台账"]
    ws["F4"].comment = Comment("已电话核实，户籍在外地", "王专干")
    ws["C5"].comment = Comment("本人在外务工", "王专干")
    wb.save(path)


def test_a_users_note_keeps_its_text_and_ours_goes_beside_it_then_away(tmp_path):
    """validate used to replace the agent's note on a flagged cell with ours,
    and the next run deleted it (issue 16 item 4). Now our finding follows
    the agent's text in the same note; once the ID is fixed, the next run
    removes only our part."""
    rows = [list(r) for r in ROWS]
    rows[0][5] = BAD
    path = ledger(tmp_path / "l.xlsx", rows)
    _with_user_notes(path)
    run_yibao("validate", str(path), check_rc=None)
    ws = openpyxl.load_workbook(path)["台账"]
    note = ws["F4"].comment.text
    assert note.startswith("已电话核实，户籍在外地")
    assert "【yibao校验】" in note and "校验位" in note
    assert ws["C5"].comment.text == "本人在外务工"
    # the agent fixes the ID; the rerun takes our part away, theirs stays
    wb = openpyxl.load_workbook(path)
    wb["台账"]["F4"].value = A
    wb.save(path)
    run_yibao("validate", str(path), check_rc=None)
    ws = openpyxl.load_workbook(path)["台账"]
    assert ws["F4"].comment.text == "已电话核实，户籍在外地"
    assert ws["C5"].comment.text == "本人在外务工"


THREADED_NS = "http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"


def test_threaded_comments_and_their_notes_are_left_alone(tmp_path):
    """An Excel 365 threaded comment on the flagged cell: the thread, the
    persons part and Excel's legacy copy of it stay byte for byte; our
    finding goes to the report only."""
    rows = [list(r) for r in ROWS]
    rows[0][5] = BAD
    path = ledger(tmp_path / "l.xlsx", rows)
    _with_user_notes(path)

    def add_thread(parts):
        name = sheet_part(parts)
        rels_name = name.rsplit("/", 1)[0] + "/_rels/" + name.rsplit("/", 1)[1] + ".rels"
        parts["xl/threadedComments/threadedComment1.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<ThreadedComments xmlns="{THREADED_NS}">'
            '<threadedComment ref="F4" dT="2025-10-15T09:31:27.00" personId="{00000000-0000-0000-0000-000000000001}" '
            'id="{00000000-0000-0000-0000-000000000002}"><text>请核对身份证</text></threadedComment></ThreadedComments>'
        ).encode()
        parts["xl/persons/person.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<personList xmlns="{THREADED_NS}">'
            '<person displayName="王专干" id="{00000000-0000-0000-0000-000000000001}"/></personList>').encode()
        rels = parts[rels_name].decode().replace("</Relationships>", (
            '<Relationship Id="rId90" Type="http://schemas.microsoft.com/office/2017/10/relationships/threadedComment" '
            'Target="../threadedComments/threadedComment1.xml"/></Relationships>'))
        parts[rels_name] = rels.encode()
    rewrite(path, add_thread)
    before = members(path)
    run_yibao("validate", str(path), check_rc=None)
    after = members(path)
    for name in ("xl/threadedComments/threadedComment1.xml", "xl/persons/person.xml"):
        assert after[name] == before[name]
    ws = openpyxl.load_workbook(path)["台账"]
    assert ws["F4"].comment.text == "已电话核实，户籍在外地"      # Excel's copy of the thread, untouched
    assert ws["F4"].fill.fgColor.rgb == "FFFFC7CE"                # the cell is still marked
    report = openpyxl.load_workbook(path)["校验报告"]
    assert any("校验位" in str(v) for row in report.iter_rows(values_only=True) for v in row)


def _soffice():
    import shutil as sh
    return sh.which("soffice") or sh.which("libreoffice")


def test_our_notes_are_cleared_after_a_libreoffice_round_trip(tmp_path):
    """A ledger validated, then saved by LibreOffice (which rewrites notes'
    authors and every style number), then fixed and validated again: no
    stale note or red fill of ours is left, the agent's note stays (issue 16 item 4)."""
    import subprocess
    import pytest
    if not _soffice():
        pytest.skip("LibreOffice not installed")
    rows = [list(r) for r in ROWS]
    rows[0][5] = BAD
    path = ledger(tmp_path / "l.xlsx", rows)
    _with_user_notes(path)
    run_yibao("validate", str(path), check_rc=None)
    out = tmp_path / "lo"
    proc = subprocess.run([_soffice(), f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                           "--convert-to", "xlsx", "--outdir", str(out), str(path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    saved = out / path.name
    wb = openpyxl.load_workbook(saved)
    assert "【yibao校验】" in wb["台账"]["F4"].comment.text
    assert wb["台账"]["F4"].fill.fgColor.rgb == "FFFFC7CE"          # our red, kept by LibreOffice
    wb["台账"]["F4"].value = A
    wb.save(saved)
    run_yibao("validate", str(saved), check_rc=None)
    ws = openpyxl.load_workbook(saved)["台账"]
    assert ws["F4"].comment is not None and "【yibao校验】" not in ws["F4"].comment.text
    assert ws["F4"].comment.text.startswith("已电话核实")
    assert ws["F4"].fill.fgColor.rgb != "FFFFC7CE" and ws["F4"].fill.fill_type in (None, "none")   # no stale red
    assert ws["C5"].comment.text == "本人在外务工"


def test_wps_in_cell_pictures_survive_validate_and_refresh(tmp_path):
    """WPS keeps in-cell pictures in xl/cellimages.xml and a cell formula
    =DISPIMG("ID_…",1); openpyxl dropped both. The patcher leaves them
    byte for byte (issue 16 item 4)."""
    rows = [list(r) for r in ROWS]
    rows[0][5] = BAD
    path = ledger(tmp_path / "l.xlsx", rows)
    cellimages = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<etc:cellImages '
                  'xmlns:etc="http://www.wps.cn/officeDocument/2017/etCustomData"><etc:cellImage/></etc:cellImages>')

    def as_wps(parts):
        name = sheet_part(parts)
        xml = parts[name].decode()
        xml = re.sub(r'(<row r="4"[^>]*>.*?)(</row>)', lambda m: m.group(1) + '<c r="S4" t="str"><f>_xlfn.DISPIMG('
                     '"ID_0123456789ABCDEF",1)</f><v>=DISPIMG("ID_0123456789ABCDEF",1)</v></c>' + m.group(2),
                     xml, count=1, flags=re.S)
        parts[name] = xml.encode()
        parts["xl/cellimages.xml"] = cellimages.encode()
        parts["xl/_rels/cellimages.xml.rels"] = b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="media/image1.png"/></Relationships>'
        parts["xl/media/image1.png"] = b"\x89PNG\r\n\x1a\nfictional photo of a household register"
    rewrite(path, as_wps)
    before = members(path)
    run_yibao("validate", str(path), check_rc=None)
    run_yibao("refresh", str(path))
    after = members(path)
    for name in ("xl/cellimages.xml", "xl/_rels/cellimages.xml.rels", "xl/media/image1.png"):
        assert after[name] == before[name]
    assert b'_xlfn.DISPIMG("ID_0123456789ABCDEF",1)' in after[sheet_part(after)]


def test_a_sheet_with_form_controls_is_refused_untouched(tmp_path):
    """A VML drawing that is not notes (form controls): we cannot add our
    notes beside it without risk, so validate refuses and changes nothing."""
    rows = [list(r) for r in ROWS]
    rows[0][5] = BAD
    path = ledger(tmp_path / "l.xlsx", rows)

    def controls(parts):
        name = sheet_part(parts)
        rels_name = name.rsplit("/", 1)[0] + "/_rels/" + name.rsplit("/", 1)[1] + ".rels"
        parts[rels_name] = (b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
                            b'2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                            b'officeDocument/2006/relationships/vmlDrawing" Target="../drawings/vmlDrawing1.vml"/>'
                            b'</Relationships>')
        parts["xl/drawings/vmlDrawing1.vml"] = b'<xml xmlns:v="urn:schemas-microsoft-com:vml"></xml>'
        parts[name] = parts[name].replace(b"</worksheet>", b'<legacyDrawing xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId1"/></worksheet>')
    rewrite(path, controls)
    before = path.read_bytes()
    proc = run_yibao("validate", str(path), check_rc=None)
    assert "无法在不丢失内容的情况下写入，已停止，文件未改动" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr and proc.returncode != 0
    assert path.read_bytes() == before


def test_our_marker_split_over_runs_by_libreoffice_is_still_ours(tmp_path):
    """Reviewer's case: LibreOffice saves the note in several formatting runs
    and splits 【yibao校验】 across them; the rerun then kept our stale
    finding and added a second one beside it. Now our part is recognised on
    the note's text, and the agent's words stay."""
    rows = [list(r) for r in ROWS]
    rows[0][5] = BAD
    path = ledger(tmp_path / "l.xlsx", rows)
    _with_user_notes(path)
    run_yibao("validate", str(path), check_rc=None)

    def split_marker(parts):
        names = [n for n in parts if re.fullmatch(r"xl/comments[^/]*\.xml|xl/comments/comment\d+\.xml", n)]
        assert names, list(parts)
        for name in names:
            xml = parts[name].decode()
            assert "【yibao校验】" in xml
            parts[name] = xml.replace("【yibao校验】", "【</t></r><r><t>yibao</t></r><r><t xml:space=\"preserve\">校验】").encode()
    rewrite(path, split_marker)
    run_yibao("validate", str(path), check_rc=None)      # the ID is still wrong: one finding
    note = openpyxl.load_workbook(path)["台账"]["F4"].comment.text
    assert note.startswith("已电话核实，户籍在外地") and note.count("【yibao校验】") == 1, note
    wb = openpyxl.load_workbook(path)
    wb["台账"]["F4"].value = A
    wb.save(path)
    rewrite(path, split_marker)
    run_yibao("validate", str(path), check_rc=None)      # fixed: only the agent's words remain
    assert openpyxl.load_workbook(path)["台账"]["F4"].comment.text == "已电话核实，户籍在外地"
