"""Our result sheets look the same whichever path writes them: the fast
path (sheet XML written directly, :mod:`yibao.macros.xlsxpatch`) and the
openpyxl fallback both box the header and body cells and the stamp boxes in
thin lines, and repeat the header rows atop every printed page."""
from __future__ import annotations

import re
import zipfile

import openpyxl

from conftest import run_yibao
from test_actions_town import summary_inputs
from yibao.macros import book as books

SIDES = ("left", "right", "top", "bottom")


def lined(cell) -> bool:
    return all(getattr(cell.border, side).style == "thin" for side in SIDES)


def bare(cell) -> bool:
    return not any(getattr(cell.border, side).style for side in SIDES)


def _attr(tag: str, name: str) -> str:
    return re.search(rf'\b{name}="([^"]*)"', tag).group(1)


def lined_in_file(path, sheet: str) -> dict[str, bool]:
    """Cell reference → boxed all round, as stored in the file (openpyxl
    hides the formats of the cells a merged range covers)."""
    with zipfile.ZipFile(path) as z:
        workbook = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        styles = z.read("xl/styles.xml").decode()
        tag = next(t for t in re.findall(r"<sheet\b[^>]*>", workbook) if _attr(t, "name") == sheet)
        rid = re.search(r'\br:id="([^"]*)"', tag).group(1)
        target = _attr(next(t for t in re.findall(r"<Relationship\b[^>]*>", rels) if _attr(t, "Id") == rid),
                       "Target")
        xml = z.read(target.lstrip("/") if target.startswith("/") else "xl/" + target).decode()
    borders = re.findall(r"<border\b[^>]*?(?:/>|>.*?</border>)", styles.split("<borders", 1)[1], re.S)
    thin = [all(re.search(rf'<{side} style="thin"', b) for side in SIDES) for b in borders]
    xfs = re.findall(r"<xf\b[^>]*>", styles.split("<cellXfs", 1)[1].split("</cellXfs>", 1)[0])
    out = {}
    for cell in re.findall(r"<c\b[^>]*>", xml):
        style = re.search(r'\bs="(\d+)"', cell)
        out[_attr(cell, "r")] = bool(style) and thin[int(_attr(xfs[int(style.group(1))], "borderId"))]
    return out


def test_summary_table_and_stamp_boxes_are_boxed_and_its_header_repeats_on_every_page(tmp_path):
    a, b = summary_inputs(tmp_path)
    out = tmp_path / "汇总.xlsx"
    run_yibao("summary", str(a), str(b), "-o", str(out), "--town", "XX镇", "--no-pdf")
    ws = openpyxl.load_workbook(out)["汇总上报"]
    stored = lined_in_file(out, "汇总上报")
    width = ws.max_column
    total = next(r for r in range(5, ws.max_row + 1) if ws.cell(r, 2).value == "合计")
    assert ws.print_title_rows == "$3:$4"
    for r in (1, 2):                                     # title lines: no lines
        assert all(bare(ws.cell(r, c)) for c in range(1, width + 1))
    for r in range(3, total + 1):                        # header, villages, 合计: every cell boxed
        for c in range(1, width + 1):
            assert stored[ws.cell(r, c).coordinate], ws.cell(r, c).coordinate
    stamps = [c for row in ws.iter_rows() for c in row if c.value in ("村委会（盖章）", "乡镇（盖章）")]
    assert len(stamps) == 2
    for stamp in stamps:
        box = next(m for m in ws.merged_cells.ranges if stamp.coordinate in m)
        assert box.max_row - box.min_row >= 3
        for r in range(box.min_row, box.max_row + 1):
            for c in range(box.min_col, box.max_col + 1):
                assert stored[ws.cell(r, c).coordinate], ws.cell(r, c).coordinate
        assert lined(stamp)
        assert stamp.fill.fgColor.rgb != "FFF2F2F2"      # a box to stamp in, not a shaded area
    signatures = next(c for row in ws.iter_rows() for c in row if c.value == "收款填表人（签字）：")
    assert bare(signatures)


def _sample() -> books.OutSheet:
    rows = [["某镇 比对结果"], ["序号", "姓名", "金额（元）", "说明"]]
    rows += [[i, f"某{i}", 125 * i, None if i % 3 else "=不是公式"] for i in range(1, 8)]
    rows += [[], ["经办人（签字）：", None, "日期："], [], ["村委会（盖章）", None, "乡镇（盖章）"], [], [], []]
    return books.OutSheet("结果", rows, title_rows=1, footer_rows=7, number_formats={3: "#,##0.00"},
                          fills={(4, 4): "FFFFC7CE"}, links={(5, 2): "'台账'!C7"},
                          merges=["A1:D1", "A13:B16", "C13:D16"], boxes=["A13:B16", "C13:D16"],
                          widths={1: 6, 2: 10, 3: 12, 4: 20})


def test_the_fast_path_boxes_formats_and_repeats_headers_as_the_openpyxl_path_does(tmp_path):
    sheet = _sample()
    fast = books.write_new_workbook(tmp_path / "fast.xlsx", [sheet])
    slow = books._write_new_openpyxl(tmp_path / "slow.xlsx", [sheet])
    a = openpyxl.load_workbook(fast)["结果"]
    b = openpyxl.load_workbook(slow)["结果"]
    assert a.print_title_rows == b.print_title_rows == "$2:$2"
    for r in range(1, len(sheet.rows) + 1):
        for c in range(1, 5):
            x, y = a.cell(r, c), b.cell(r, c)
            assert x.value == y.value, x.coordinate
            assert lined(x) == lined(y) and bare(x) == bare(y), x.coordinate
            if 2 < r <= 9 and c == 3:
                assert x.number_format == y.number_format == "#,##0.00"
    assert lined(a["A2"]) and lined(a["D9"]) and lined(a["D5"])       # header, body, an empty body cell
    assert bare(a["A1"]) and bare(a["A11"]) and bare(b["A11"])                 # title, a signature line
    stored = lined_in_file(fast, "结果")                # the stamp boxes: every cell they cover
    assert all(stored[f"{col}{r}"] for col in "ABCD" for r in range(13, 17))
    assert lined(a["A13"]) and lined(b["A13"]) and lined(a["C13"]) and lined(b["C13"])
    assert a["D4"].fill.fgColor.rgb == b["D4"].fill.fgColor.rgb == "FFFFC7CE"


def test_a_rerun_in_place_keeps_one_set_of_print_titles(tmp_path):
    path = tmp_path / "台账.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "台账"
    wb.active["A1"] = "姓名"
    wb.save(path)
    for _ in range(2):
        book = books.FileBook(path)
        book.replace_sheet(_sample())
        book.save(backup=False)
    with zipfile.ZipFile(path) as z:
        assert z.read("xl/workbook.xml").decode().count("_xlnm.Print_Titles") == 1
    wb = openpyxl.load_workbook(path)
    assert wb["结果"].print_title_rows == "$2:$2" and wb["台账"].print_title_rows is None
    assert lined(wb["结果"]["B5"]) and wb["台账"]["A1"].value == "姓名"


def test_column_built_rows_equal_cell_by_cell_rendering():
    """The merge's big sheets are built a column at a time (whole columns in
    a row template, repeated values rendered once); every cell must come out
    as rendering it alone would: escapes, kept spaces, empty and absent
    cells, mixed kinds, per-cell overrides."""
    import datetime
    from decimal import Decimal
    from yibao.macros import xlsxpatch
    rows = [
        [1, "张三", "430423199001011234", 280, 1.5, "a&b", None, True],
        [2, "李四", "43042319900101123X", 0, 2.0, " 前后空格 ", "", datetime.date(2021, 1, 1)],
        [3, "王<五>", "", 280, 3.25, "多\n行", 7, Decimal("1.10")],
        [4, "赵六", "430423199001011234"],                      # a short row: nothing past its end
        [],                                                     # an empty row: no <row> at all
        [6, "钱七", "X", 1, 1.0, "x", 1.0, 1],
    ]
    letters = ["A", "B", "C", "D", "E", "F", "G", "H"]
    styles = [3, 3, 0, 5, 5, 3, 3, 3]
    overrides = {(11, 2): 9, (13, 6): 9}
    got = xlsxpatch._plain_block(rows, 10, letters, styles, overrides)
    expected = []
    for i, row in enumerate(rows):
        n = 10 + i
        cells = "".join(xlsxpatch.cell_xml(f"{letters[c]}{n}", v, overrides.get((n, c + 1), styles[c]))
                        for c, v in enumerate(row))
        if cells:
            expected.append(f'<row r="{n}">{cells}</row>')
    assert got == expected
    # and the same without short rows (the path where rows are filled in C),
    # with whole columns of plain text, integers and decimals in the template
    full = [row + [f"名{i}"] for i, row in enumerate(rows) if len(row) == len(letters)]
    letters, styles = letters + ["I"], styles + [3]
    got = xlsxpatch._plain_block(full, 1, letters, styles)
    assert got == [f'<row r="{i}">' + "".join(xlsxpatch.cell_xml(f"{letters[c]}{i}", v, styles[c])
                                              for c, v in enumerate(row)) + "</row>"
                   for i, row in enumerate(full, 1)]


def test_shared_strings_stand_for_exactly_the_texts_they_replace():
    """In a new workbook repeated texts are written once, in the shared
    table, and cells carry their number; put back, every cell is what
    rendering it alone gives."""
    from yibao.macros import xlsxpatch
    rows = [[i, f"名{i}", ["低保对象", "特困人员", "孤 儿", "A&B"][i % 4], ["按本部门报送身份资助", ""][i % 2]]
            for i in range(1, 41)]
    letters, styles = ["A", "B", "C", "D"], [3, 3, 3, 3]
    shared = xlsxpatch.SharedStrings()
    got = xlsxpatch._plain_block(rows, 2, letters, styles, shared=shared)
    assert 'r="C2" s="3" t="s"' in got[0] and len(shared) == 5       # 4 kinds + 1 outcome, each once
    texts = list(shared)
    restored = [re.sub(r' t="s"><v>(\d+)</v></c>',
                       lambda m: f' t="inlineStr"><is>{xlsxpatch._text(texts[int(m.group(1))])}</is></c>', row)
                for row in got]
    assert restored == [f'<row r="{n}">' + "".join(xlsxpatch.cell_xml(f"{letters[c]}{n}", v, styles[c])
                                                    for c, v in enumerate(row)) + "</row>"
                        for n, row in enumerate(rows, 2)]
    assert "<si><t>孤 儿</t></si>" in shared.xml() and "<si><t>A&amp;B</t></si>" in shared.xml()


def _wide_report() -> books.OutSheet:
    """A validation report shaped like the ledger's 校验报告: a 70-wide 问题 column (too wide for
    A4 at a readable size) with one message far longer than a line, and a long note under it."""
    long = ("死亡人员名单（死亡人员名单.xlsx 第2行）有此人，台账却按方案享受计生特殊家庭资助"
            "（002 四(四) 资助流程4：已死亡人员应从资助名单剔除）")
    rows = [["序号", "工作表", "行", "单元格", "姓名", "严重程度", "问题"]]
    rows += [[i, "参保缴费台账", i + 3, f"F{i + 3}", f"某{i}", "提示", long if i == 2 else "身份证号校验位不对"]
             for i in range(1, 4)]
    rows += [[], ["说明：" + "本表列出每一处问题，改正后重新校验，问题会从本表消失；" * 4]]
    return books.OutSheet("校验报告", rows, footer_rows=2, widths={1: 6, 2: 14, 3: 6, 4: 7, 5: 10, 6: 9, 7: 70})


def test_a_long_message_wraps_in_a_narrowed_column_alike_in_both_writers(tmp_path):
    """issue 11 打印: the 问题 column is narrowed so the report fits one A4 width at full size, its
    long message wraps in a row tall enough for its lines, the note under it is merged across the
    page and wrapped; the fast and the openpyxl writer give the same sheet."""
    sheet = _wide_report()
    fast = books.write_new_workbook(tmp_path / "fast.xlsx", [sheet])
    slow = books._write_new_openpyxl(tmp_path / "slow.xlsx", [sheet])
    a = openpyxl.load_workbook(fast)["校验报告"]
    b = openpyxl.load_workbook(slow)["校验报告"]
    for ws in (a, b):
        units = sum(ws.column_dimensions[chr(64 + c)].width for c in range(1, 8))
        assert units * books.UNIT_PT <= 842 - 1.4 * 72 + 1, units         # one landscape A4 width
        assert books.MIN_WRAP_UNITS <= ws.column_dimensions["G"].width < 70
        assert ws["G3"].alignment.wrap_text and not ws["F3"].alignment.wrap_text
        assert ws.row_dimensions[3].height >= 2 * 11 and ws.row_dimensions[2].height is None   # one line
        assert "A6:G6" in {str(m) for m in ws.merged_cells.ranges}
        assert ws["A6"].alignment.wrap_text and ws.row_dimensions[6].height >= 2 * 11
        assert ws.page_setup.orientation == "landscape" and not ws.col_breaks.brk
    assert a.column_dimensions["G"].width == b.column_dimensions["G"].width
    assert a.row_dimensions[3].height == b.row_dimensions[3].height
    assert a.row_dimensions[6].height == b.row_dimensions[6].height
    for r in range(1, 7):
        for c in range(1, 8):
            x, y = a.cell(r, c), b.cell(r, c)
            assert (x.alignment.wrap_text or False) == (y.alignment.wrap_text or False), x.coordinate
            assert lined(x) == lined(y), x.coordinate


def test_a_wide_table_prints_in_the_same_column_sections_from_both_writers(tmp_path):
    """A table too wide for A4 even with its long column narrowed: both writers break it into the
    same page sections, repeat the same leading columns on each, and wrap the long notes."""
    rows = [["序号", "姓名"] + [f"项目{k}" for k in range(1, 13)] + ["说明"]]
    rows += [[i, f"某{i}"] + [i * k for k in range(1, 13)] + ["很长的说明文字" * 12] for i in range(1, 4)]
    sheet = books.OutSheet("宽表", rows, widths={1: 6, 2: 10, **{c: 12 for c in range(3, 15)}, 15: 40})
    fast = books.write_new_workbook(tmp_path / "fast.xlsx", [sheet])
    slow = books._write_new_openpyxl(tmp_path / "slow.xlsx", [sheet])
    a = openpyxl.load_workbook(fast)["宽表"]
    b = openpyxl.load_workbook(slow)["宽表"]
    plan = books.print_plan(sheet)
    assert plan.col_breaks and not plan.fit_width and plan.title_cols == 2
    for ws in (a, b):
        assert [brk.id for brk in ws.col_breaks.brk] == list(plan.col_breaks)
        assert ws.print_title_cols == "$A:$B" and ws.print_title_rows == "$1:$1"
        assert ws["O2"].alignment.wrap_text and ws.row_dimensions[2].height > 15
    assert a.column_dimensions["O"].width == b.column_dimensions["O"].width
