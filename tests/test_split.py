"""`yibao split LIST --by 村` and `yibao gather RETURNED…` (issue 14, command 4).

A reconcile result of the example town (examples/示例镇) is split into one
workbook per village; two villages fill their files as a village would (with
openpyxl: answers from the dropdown, rows sorted, a system cell changed, a row
added, an answer not on the list), one does not return; gather keeps the
villages' answers beside the system's values, lists every conflict, and its
counts tie to the rows split. No input file changes (file hashes)."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from conftest import make_id, run_yibao

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "示例镇"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    """缴费比对结果.xlsx of the example town (read only by the tests)."""
    tmp = tmp_path_factory.mktemp("recon")
    out = tmp / "缴费比对结果.xlsx"
    run_yibao("reconcile", str(EXAMPLE / "缴费导出" / "税务缴费明细.csv"),
              *map(str, sorted((EXAMPLE / "台账").glob("*.xlsx"))), "-o", str(out))
    return out


@pytest.fixture
def split(tmp_path, result):
    src = tmp_path / result.name
    shutil.copy(result, src)
    proc = run_yibao("split", str(src), "--by", "村")
    return src, tmp_path / "缴费比对结果-分村", proc.stdout.strip()


def rows_of(ws):
    """(header row number, header, body rows as lists) of a village sheet."""
    for r in range(1, 10):
        header = [c.value for c in ws[r]]
        if "核实结果" in header:
            return r, header, [[c.value for c in row] for row in ws.iter_rows(min_row=r + 1)]
    raise AssertionError("no header")


def person_rows(result: Path) -> dict[str, list[str]]:
    """The reconcile result's person rows, read independently of split: village
    (“” for 不在台账) → the sheets they are on, in the workbook's order."""
    wb = openpyxl.load_workbook(result, read_only=True)
    out: dict[str, list[str]] = {}
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        header = next((i for i, r in enumerate(rows) if r and r[0] == "序号"), None)
        if header is None or "村（社区）" not in rows[header]:
            continue
        col = rows[header].index("村（社区）")
        for r in rows[header + 1:]:
            if isinstance(r[0], int):
                village = r[col] if r[col] and not str(r[col]).startswith("（") else ""
                out.setdefault(village, []).append(ws.title)
    return out


def test_split_writes_one_protected_workbook_per_village_and_counts_tie(split, result):
    src, out, line = split
    rows = person_rows(result)
    total = sum(len(v) for v in rows.values())
    names = sorted(p.name for p in out.glob("*.xlsx"))
    assert names == ["东山村.xlsx", "北坡社区.xlsx", "南岭村.xlsx", "未分村.xlsx", "西河村.xlsx"]
    # the reconcile result's person rows (the export row without a ledger has no village)
    assert f"共{total}行" in line and f"东山村{len(rows['东山村'])}行" in line
    assert f"{len(rows[''])}行没有村名" in line and f"合计{total}行，与原表相符" in line
    assert "比对汇总、分村统计不是人员名单" in line
    assert "430999" not in line                                            # no ID in the line
    assert digest(src) == digest(result)                                  # the list is only read
    wb = openpyxl.load_workbook(out / "东山村.xlsx")
    assert [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"] == list(dict.fromkeys(rows["东山村"]))
    assert wb["_yibao拆分"].sheet_state == "veryHidden"
    ws = wb["金额与应缴不符"]
    hr, header, body = rows_of(ws)
    assert header[:4] == ["序号", "村（社区）", "姓名", "身份证号"] and header[-3:] == ["核实结果", "核实说明", "核对编号"]
    assert body[0][2] == "胡云艳" and body[0][3] == "430999195406272350"     # full ID for the village agent
    assert ws.protection.sheet and not ws.protection.password
    res, key = header.index("核实结果") + 1, header.index("核对编号") + 1
    assert ws.cell(hr + 1, res).protection.locked is False and ws.cell(hr + 1, res + 1).protection.locked is False
    assert ws.cell(hr + 1, 3).protection.locked is not False                # system cells stay locked
    assert ws.column_dimensions[openpyxl.utils.get_column_letter(key)].hidden
    (dv,) = ws.data_validations.dataValidation
    assert dv.type == "list" and "已补缴差额" in dv.formula1 and "其他" in dv.formula1
    assert str(dv.sqref) == f"{openpyxl.utils.get_column_letter(res)}{hr + 1}"
    # no village's file holds another village's people
    west = openpyxl.load_workbook(out / "西河村.xlsx")
    texts = {str(c.value) for ws in west.worksheets for row in ws.iter_rows() for c in row}
    assert "胡云艳" not in texts and "430999195406272350" not in texts


def fill(path: Path, answers: dict[str, str], *, change=None, add=None, sort=False, bad=None):
    """Fill a village workbook as a village would: 核实结果 by name, rows sorted
    (descending), a system cell changed (name → (header, value)), a row added
    (sheet, values), an answer not on the list (name → text)."""
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        ws.protection.sheet = False                     # unprotected (审阅 → 撤销工作表保护)
        hr, header, body = rows_of(ws)
        name_col, res = header.index("姓名"), header.index("核实结果")
        for row in body:
            if row[name_col] in answers:
                row[res] = answers[row[name_col]]
                row[res + 1] = "村里核实"
            if bad and row[name_col] in bad:
                row[res] = bad[row[name_col]]
            if change and row[name_col] in change:
                col, value = change[row[name_col]]
                row[header.index(col)] = value
        if sort:
            body.sort(key=lambda r: str(r[name_col]), reverse=True)
        if add and add[0] == ws.title:
            body.append(add[1] + [None] * (len(header) - len(add[1])))
        for i, row in enumerate(body, hr + 1):
            for c, value in enumerate(row, 1):
                ws.cell(i, c).value = value
    wb.save(path)


NEW_ID = make_id("19900101", 51, "430999")


def test_split_then_gather_round_trips_with_the_villages_edits(split, tmp_path, result):
    src, out, _line = split
    rows = person_rows(result)
    total = sum(len(v) for v in rows.values())
    east, west, north = out / "东山村.xlsx", out / "西河村.xlsx", out / "北坡社区.xlsx"
    fill(east, {"许勇娜": "异地参保", "胡云艳": "已补缴差额", "黄杰华": "已缴费有凭证"},
         change={"黄涛冬": ("身份证号", "430999202201111007")}, sort=True,
         add=("在外地缴费", [None, "东山村", "新来的", NEW_ID]))
    fill(west, {"梁海": "金额无误"}, bad={"田芳": "不知道"})
    fill(north, {"孙雪丽": "已更正台账姓名"})
    # 南岭村 and 未分村 are not returned
    inputs = [src, east, west, north]
    before = {p: digest(p) for p in inputs}
    proc = run_yibao("gather", str(east), str(west), str(north))
    line = proc.stdout.strip()
    assert {p: digest(p) for p in inputs} == before                         # nothing read was changed
    assert "430999" not in line
    assert "已合并交回的3个核实表" in line and f"南岭村、未分村未交回（{len(rows['南岭村']) + len(rows[''])}行）" in line
    assert f"合计{total}行，与拆分时相符" in line
    wb = openpyxl.load_workbook(tmp_path / "缴费比对结果-核实汇总.xlsx")
    assert wb.sheetnames[:2] == ["汇总", "冲突"]
    # the villages' answers beside the system's values
    ws = wb["金额与应缴不符"]
    header = [c.value for c in ws[2]]
    got = {r[header.index("姓名")]: r for r in ws.iter_rows(min_row=3, values_only=True)}
    assert got["胡云艳"][header.index("核实结果")] == "已补缴差额"
    assert got["胡云艳"][header.index("核实说明")] == "村里核实"
    assert got["梁海"][header.index("核实结果")] == "金额无误"
    # the system's value is kept, the village's change listed as a conflict
    ws = wb["台账身份证号有误"]
    header = [c.value for c in ws[2]]
    got = {r[header.index("姓名")]: r for r in ws.iter_rows(min_row=3, values_only=True)}
    assert got["黄涛冬"][header.index("身份证号")] == "430999202201111006"
    assert "系统列被改动" in got["黄涛冬"][header.index("情况")]
    assert got["田芳"][header.index("情况")] == "填写无效"
    conflicts = [r for r in wb["冲突"].iter_rows(min_row=3, values_only=True)]
    kinds = {(r[0], r[1], r[5] or "") for r in conflicts}
    assert ("系统列被改动", "东山村", "黄涛冬") in kinds
    changed = next(r for r in conflicts if r[0] == "系统列被改动")
    assert changed[6:9] == ("身份证号", "430999202201111006", "430999202201111007")
    assert ("村里新增的行", "东山村", "新来的") in kinds
    assert ("核实结果不在下拉列表中", "西河村", "田芳") in kinds
    assert {("未交回", "南岭村", ""), ("未交回", "未分村", "")} <= kinds
    # 汇总: villages × answers, each village's total against the rows sent, the tie line
    summary = [r for r in wb["汇总"].iter_rows(values_only=True)]
    header = summary[1]
    table = {r[0]: dict(zip(header, r)) for r in summary[2:] if r[0] and r[1] is not None}
    east_rows = len(rows["东山村"])
    assert table["东山村"]["异地参保"] == 1 and table["东山村"]["已补缴差额"] == 1 and table["东山村"]["合计"] == east_rows
    assert table["东山村"]["未填写"] == east_rows - 3                         # 黄涛冬 and the others: no answer given
    assert table["西河村"]["填写无效"] == 1 and table["南岭村"]["未交回"] == len(rows["南岭村"])
    assert all(r["合计"] == r["拆分时行数"] and r["是否相符"] == "相符" for r in table.values())
    assert table["合计"]["合计"] == total
    assert any(str(r[0]).startswith(f"账平：拆分时{total}行") for r in summary)


def test_a_village_file_resaved_by_libreoffice_still_gathers(split, tmp_path, result):
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice (soffice) not installed")
    _src, out, _line = split
    fill(out / "东山村.xlsx", {"许勇娜": "异地参保"})
    saved = tmp_path / "lo"
    saved.mkdir()
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(saved), str(out / "东山村.xlsx")],
                   check=True, capture_output=True, timeout=180)
    proc = run_yibao("gather", str(saved / "东山村.xlsx"), "-o", str(tmp_path / "合并.xlsx"))
    assert "已核实1行" in proc.stdout and f"未填写{len(person_rows(result)['东山村']) - 1}行" in proc.stdout
    wb = openpyxl.load_workbook(tmp_path / "合并.xlsx")
    header = [c.value for c in wb["在外地缴费"][2]]
    row = next(wb["在外地缴费"].iter_rows(min_row=3, values_only=True))
    assert row[header.index("核实结果")] == "异地参保" and row[header.index("身份证号")] == "430999202304273339"
    conflicts = list(wb["冲突"].iter_rows(min_row=3, values_only=True))
    assert not [r for r in conflicts if r[0] == "系统列被改动"]      # LibreOffice changed no value


def test_a_renewal_chase_list_splits_by_the_village_in_its_sheet_names(tmp_path):
    from test_renewal import files
    last, this = files(tmp_path)
    out = tmp_path / "续保催缴名单.xlsx"
    run_yibao("renewal", "--last", *map(str, last), "--this", *map(str, this), "--policy", "shili-2026",
              "-o", str(out))
    line = run_yibao("split", str(out)).stdout
    assert "合计8行，与原表相符" in line
    assert "含完整身份证号" not in line                                    # the chase list masks IDs
    wb = openpyxl.load_workbook(tmp_path / "续保催缴名单-分村" / "东山村.xlsx")
    ws = wb["催缴-东山村"]
    _hr, header, body = rows_of(ws)
    assert {r[header.index("姓名")] for r in body} == {"李二", "王三"}
    (dv,) = ws.data_validations.dataValidation
    assert "承诺缴费" in dv.formula1                                      # the chase list's reasons
    assert not (tmp_path / "续保催缴名单-分村" / "西山村.xlsx").exists() or \
        "李二" not in {c.value for ws in openpyxl.load_workbook(tmp_path / "续保催缴名单-分村" / "西山村.xlsx")
                        .worksheets for row in ws.iter_rows() for c in row}


def test_split_refuses_to_overwrite_returned_files_or_to_split_its_own_output(split, tmp_path):
    src, out, _line = split
    before = digest(out / "东山村.xlsx")
    proc = run_yibao("split", str(src), check_rc=2)
    assert "为免覆盖已停止" in proc.stderr
    assert digest(out / "东山村.xlsx") == before
    proc = run_yibao("split", str(out / "东山村.xlsx"), "--out", str(tmp_path / "x"), check_rc=2)
    assert "是拆分出的村核实表，不能再拆" in proc.stderr
    run_yibao("gather", *map(str, out.glob("*.xlsx")), "-o", str(tmp_path / "合并.xlsx"))
    proc = run_yibao("split", str(tmp_path / "合并.xlsx"), check_rc=2)
    assert "已有“核实结果”等列" in proc.stderr
    assert not (tmp_path / "x").exists() and not (tmp_path / "合并-分村").exists()


@pytest.mark.parametrize("what", ["not_split", "corrupt", "two_splits"])
def test_bad_returned_files_are_one_chinese_line_exit_2(split, tmp_path, what, result):
    src, out, _line = split
    if what == "not_split":
        files = [out / "东山村.xlsx", src]
        expect = "不是 yibao split 生成的村核实表"
    elif what == "corrupt":
        bad = tmp_path / "坏.xlsx"
        bad.write_bytes(b"PK\x03\x04 not really a zip")
        files = [bad]
        expect = "无法读取"
    else:
        other = tmp_path / "再拆" / result.name
        other.parent.mkdir()
        shutil.copy(result, other)
        run_yibao("split", str(other))
        files = [out / "东山村.xlsx", other.with_name("缴费比对结果-分村") / "西河村.xlsx"]
        expect = "不是同一次拆分"
    proc = run_yibao("gather", *map(str, files), "-o", str(tmp_path / "合并.xlsx"), check_rc=2)
    err = proc.stderr.strip()
    assert expect in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "合并.xlsx").exists()
    if what == "not_split":                       # the town guide quotes this line as the tool prints it
        guide = (ROOT / "docs" / "guide" / "乡镇专干使用指南.md").read_text(encoding="utf-8")
        assert err.split("”", 1)[1] in guide


def test_ribbon_buttons_split_the_live_workbook_and_ask_for_returned_files(tmp_path, result):
    from yibao.macros import gather, split
    from yibao.macros.book import FileBook
    src = tmp_path / result.name
    shutil.copy(result, src)
    line = split.ribbon(FileBook(src), src, None)
    assert "与原表相符" in line and (tmp_path / "缴费比对结果-分村" / "东山村.xlsx").exists()
    asked = []
    assert gather.ribbon(FileBook(src), src, lambda title: asked.append(title)) == ""
    assert "交回" in asked[0]
    picked = [str(p) for p in (tmp_path / "缴费比对结果-分村").glob("*.xlsx")]
    line = gather.ribbon(FileBook(src), src, lambda title: picked)
    total = sum(len(v) for v in person_rows(result).values())
    assert f"合计{total}行，与拆分时相符" in line and (tmp_path / "缴费比对结果-核实汇总.xlsx").exists()


def test_split_and_gathered_workbooks_print_on_a4_readable(split, tmp_path, result):
    import pdfcheck
    if not pdfcheck.available():
        pytest.skip("LibreOffice (soffice) not installed")
    _src, out, _line = split
    run_yibao("gather", *map(str, sorted(out.glob("*.xlsx"))), "-o", str(tmp_path / "合并.xlsx"))
    pdfs = pdfcheck.render([out / "东山村.xlsx", tmp_path / "合并.xlsx"], tmp_path / "pdf")
    for pdf in pdfs.values():
        doc = pdfcheck.read(pdf)
        problems = pdfcheck.problems(doc, min_font=9.0)
        assert not problems, f"{pdf.name}: " + "\n".join(problems)
    village = pdfcheck.read(pdfs[out / "东山村.xlsx"])
    sheets = len(set(person_rows(result)["东山村"]))
    assert village.count == sheets                 # one page per sheet: the columns fit the page width
    assert village.missing_on_pages("核实结果") == []


def plain_list(path: Path) -> dict[str, str]:
    """A plain town-wide list (a title, then 序号 村 姓名 身份证号 备注): name → ID."""
    people = {f"东{i}": make_id("19700101", 100 + 2 * i, "430999") for i in range(1, 6)}
    people.update({f"西{i}": make_id("19710101", 100 + 2 * i, "430999") for i in range(1, 4)})
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "应参未参名单"
    ws.append(["示例镇应参未参名单"])
    ws.append(["序号", "村", "姓名", "身份证号", "备注"])
    for i, (name, id_no) in enumerate(people.items(), 1):
        ws.append([i, "东山村" if name.startswith("东") else "西河村", name, id_no, None])
    ws.append(["填表人：张三"])
    wb.save(path)
    return people


def test_sorted_rows_and_a_deleted_key_column_keep_each_answer_with_its_person(tmp_path):
    src = tmp_path / "名单.xlsx"
    people = plain_list(src)
    line = run_yibao("split", str(src)).stdout
    assert "东山村5行、西河村3行" in line and "合计8行，与原表相符" in line
    out = tmp_path / "名单-分村"
    answers = {"东1": "已缴费", "东2": "职工医保", "东3": "在校学生", "东5": "死亡",
               "西1": "迁出", "西2": "拒缴", "西3": "服兵役"}
    fill(out / "东山村.xlsx", answers, sort=True)
    fill(out / "西河村.xlsx", answers, sort=True)
    wb = openpyxl.load_workbook(out / "西河村.xlsx")           # the village cleared the hidden key column
    ws = wb.worksheets[0]
    hr, header, body = rows_of(ws)
    for r in range(hr + 1, hr + 1 + len(body)):
        ws.cell(r, header.index("核对编号") + 1).value = None
    wb.save(out / "西河村.xlsx")
    line = run_yibao("gather", str(out / "东山村.xlsx"), str(out / "西河村.xlsx")).stdout
    assert "已核实7行，未填写1行" in line and "合计8行，与拆分时相符" in line
    wb = openpyxl.load_workbook(tmp_path / "名单-核实汇总.xlsx")
    ws = wb["应参未参名单"]
    header = [c.value for c in ws[2]]
    got = {r[header.index("姓名")]: r for r in ws.iter_rows(min_row=3, values_only=True)}
    assert {n: got[n][header.index("核实结果")] for n in people} == {**dict.fromkeys(people), **answers}
    assert all(got[n][header.index("身份证号")] == people[n] for n in people)
    assert [r[1] for r in ws.iter_rows(min_row=3, values_only=True)] == ["东山村"] * 5 + ["西河村"] * 3
    assert not list(wb["冲突"].iter_rows(min_row=3, values_only=True))


def test_two_different_answers_for_one_row_and_a_deleted_row_are_conflicts(tmp_path):
    src = tmp_path / "名单.xlsx"
    plain_list(src)
    run_yibao("split", str(src))
    out = tmp_path / "名单-分村"
    fill(out / "东山村.xlsx", {"东1": "已缴费", "东2": "职工医保"})
    again = tmp_path / "再次交回.xlsx"                    # the village sent a second copy, 东1 answered otherwise
    shutil.copy(out / "东山村.xlsx", again)
    fill(again, {"东1": "迁出"})
    wb = openpyxl.load_workbook(out / "西河村.xlsx")       # 西河村 deleted 西2's row
    ws = wb.worksheets[0]
    hr, header, body = rows_of(ws)
    gone = next(i for i, r in enumerate(body) if r[header.index("姓名")] == "西2")
    ws.delete_rows(hr + 1 + gone)
    wb.save(out / "西河村.xlsx")
    line = run_yibao("gather", str(out / "东山村.xlsx"), str(again), str(out / "西河村.xlsx"),
                     "-o", str(tmp_path / "合并.xlsx")).stdout
    assert "回传中缺失1行" in line and "合计8行，与拆分时相符" in line
    wb = openpyxl.load_workbook(tmp_path / "合并.xlsx")
    conflicts = list(wb["冲突"].iter_rows(min_row=3, values_only=True))
    twice = [r for r in conflicts if r[0] == "两份回传答复不同"]
    assert {(r[2], r[5], r[8]) for r in twice} == {("东山村.xlsx", "东1", "已缴费（村里核实）"),
                                                   ("再次交回.xlsx", "东1", "迁出（村里核实）")}
    assert [(r[1], r[5]) for r in conflicts if r[0] == "回传中缺失"] == [("西河村", "西2")]
    header = [c.value for c in wb["应参未参名单"][2]]
    got = {r[header.index("姓名")]: r for r in wb["应参未参名单"].iter_rows(min_row=3, values_only=True)}
    assert got["东1"][header.index("核实结果")] == "已缴费"          # the village's own file is the one kept
    assert got["西2"][header.index("情况")] == "回传中缺失"
    summary = {r[0]: r for r in wb["汇总"].iter_rows(min_row=3, values_only=True) if r[0]}
    sheet_header = [c.value for c in wb["汇总"][2]]
    assert summary["西河村"][sheet_header.index("回传中缺失")] == 1


def test_docstring_examples():
    import doctest
    from yibao.macros import gather, split
    assert doctest.testmod(split).failed == 0 and doctest.testmod(gather).failed == 0


def test_a_village_file_sent_back_twice_under_another_villages_name_is_a_conflict(tmp_path):
    """西河村 mailed 东山村's file (renamed 西河村.xlsx) instead of its own: the merge says so,
    not only “西河村未交回” beside a file named 西河村.xlsx."""
    src = tmp_path / "名单.xlsx"
    plain_list(src)
    run_yibao("split", str(src))
    out = tmp_path / "名单-分村"
    fill(out / "东山村.xlsx", {"东1": "已缴费"})
    shutil.copy(out / "东山村.xlsx", out / "西河村.xlsx")
    line = run_yibao("gather", str(out / "东山村.xlsx"), str(out / "西河村.xlsx")).stdout
    assert "西河村未交回（3行）" in line and "冲突2处" in line
    wb = openpyxl.load_workbook(tmp_path / "名单-核实汇总.xlsx")
    conflicts = list(wb["冲突"].iter_rows(min_row=3, values_only=True))
    twice = [r for r in conflicts if r[0] == "同一村交回多份"]
    assert [(r[1], r[2]) for r in twice] == [("东山村", "西河村.xlsx")]
    assert "东山村.xlsx" in twice[0][8] and "西河村" in twice[0][8]


def test_a_renamed_result_header_is_said_not_only_every_row_missing(tmp_path):
    """A village unprotected its sheet and retyped the 核实结果 header: its rows cannot be read,
    and the 冲突 sheet names the column gone, not only each row as deleted."""
    src = tmp_path / "名单.xlsx"
    plain_list(src)
    run_yibao("split", str(src))
    out = tmp_path / "名单-分村"
    wb = openpyxl.load_workbook(out / "西河村.xlsx")
    ws = wb.worksheets[0]
    hr, header, _body = rows_of(ws)
    ws.cell(hr, header.index("核实结果") + 1).value = "结果"
    wb.save(out / "西河村.xlsx")
    line = run_yibao("gather", str(out / "东山村.xlsx"), str(out / "西河村.xlsx")).stdout
    assert "回传中缺失3行" in line and "合计8行，与拆分时相符" in line
    wb = openpyxl.load_workbook(tmp_path / "名单-核实汇总.xlsx")
    conflicts = list(wb["冲突"].iter_rows(min_row=3, values_only=True))
    assert [(r[1], r[2], r[6]) for r in conflicts if r[0] == "系统列被删除"] == [("西河村", "西河村.xlsx", "核实结果")]
