"""Ribbon actions on real ledger files: validate, refresh, dedupe, notice.

Every test builds a real .xlsx with openpyxl, runs the real `yibao` command,
and opens what it wrote; input cells are compared before and after.
"""
from __future__ import annotations

import csv
import datetime
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from conftest import make_id, run_yibao
from yibao.functions import udf

A = make_id("19800101", 11)        # 男
B = make_id("19850505", 22)        # 女
C = make_id("19500303", 33)
LOW = make_id("19700707", 44)
HEADER = ["序号", "家庭编号", "姓名*", "户主关系*", "性别*", "身份证号*", "告知、督促方式", "个人缴费*",
          "未缴费原因*", "参保人签字*", "身份类别", "缴费日期", "缴库日期",
          "应缴", "资助类别", "待遇起始", "校验"]


def ledger(path: Path, rows, *, title_rows=2, sheet="台账", extra_sheets=None):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(["衡山县2021年度城乡居民医保参保缴费台账"])
    if title_rows == 2:
        ws.append(["填报单位：新桥镇 示例村", None, None, None, None, None, "方案编号", "xinqiao-2021"])
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    for cell in ws["C"]:                     # names that look like formulas stay text
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"
    ws.append([])
    ws.append(["填表人（签字）：", None, None, "电话："])
    for name, extra in (extra_sheets or {}).items():
        other = wb.create_sheet(name)
        other.append(HEADER)
        for row in extra:
            other.append(row)
    wb.save(path)
    return path


def snapshot(path: Path, skip=("校验报告", "公示名单")):
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate): c.value for ws in wb if ws.title not in skip
            for row in ws.iter_rows() for c in row if c.value is not None}


def user_cells_unchanged(before: dict, after: dict, computed_cols=("N", "O", "P", "Q")):
    for key, value in before.items():
        if key[1].rstrip("0123456789") in computed_cols:
            continue
        assert after.get(key) == value, key


def report_rows(path: Path):
    ws = openpyxl.load_workbook(path)["校验报告"]
    return [r for r in ws.iter_rows(min_row=2, values_only=True)]


def test_validate_finds_each_mistake_and_changes_no_typed_value(tmp_path):
    path = ledger(tmp_path / "台账.xlsx", [
        [1, "001", "张三", "户主", "男", A, "上门告知", 280, None, None, None, "2020-10-21", "2020.10.21"],
        [2, "001", "李四", "配偶", "男", B, "上门告知", 0, None, None, "低保户", "2020年10月21日", "2020-10-26"],
        [None, None, None, None, None, None, None, None, None, None, None, None, None],   # blank row
        [3, "002", "=HYPERLINK(\"http://x\")", "户主", "男", A[:15] + "999", "电话告知", "280", None, None, None, "2020-11-01", "2020-11-01"],
        [4, "002", "王五", "子女", "男", 4.30423198001011e17, None, 280, None, None, None, "2020-11-01", "2020-11-01"],
        [5, "003", "赵六", "户主", "男", C, None, 200, None, None, "五保老人", "2020-11-02", "2020-11-02"],
        [6, "004", "钱七", "户主", "女", LOW, None, None, None, None, None, "2021-03-01", None],
    ])
    before = snapshot(path)
    proc = run_yibao("validate", str(path))
    assert proc.stdout.startswith("共检查6行：错误")
    messages = {(r[3], r[6]) for r in report_rows(path)}
    text = "\n".join(f"{cell} {msg}" for cell, msg in messages)
    assert "E5 性别填“男”，身份证号显示为“女”" in text
    assert "M5 现金收款后第5天才缴库，超过方案规定的最迟3天（002 四(二)）" in text
    assert "F7 身份证号校验位不对" in text or "F7 身份证号被Excel" in text
    assert "F8 身份证号被Excel当作数字保存" in text
    assert "K9 未知身份类别“五保老人”" in text
    assert "E10 性别填“男”" not in text
    assert "未在规定缴费期" in text                       # 钱七 paid after 2020-12-31
    assert "I10 必填项“未缴费原因”为空" in text
    # 李四 is fully subsidized (低保 → 0): no 未缴费原因 demanded, amount 0 accepted
    assert not any(c.startswith(("I5", "H5")) for c, _m in messages)
    # 15-digit trap: A and A[:15]+"999" are not duplicates of each other
    assert not any("重复" in m for _c, m in messages)
    user_cells_unchanged(before, snapshot(path))
    wb = openpyxl.load_workbook(path)
    ws = wb["台账"]
    assert ws["E5"].comment is not None and "身份证号显示为" in ws["E5"].comment.text
    assert ws["E5"].fill.fgColor.rgb == "FFFFC7CE"
    assert ws["C7"].value.startswith("=HYPERLINK") and ws["C7"].data_type == "s"
    report = wb["校验报告"]
    assert report["D2"].hyperlink is not None and report["D2"].hyperlink.location or report["D2"].hyperlink.target
    backups = list(tmp_path.glob("台账.备份-*.xlsx"))
    assert len(backups) == 1 and snapshot(backups[0]) == before


def test_a_rerun_replaces_the_report_and_marks_instead_of_piling_up(tmp_path):
    path = ledger(tmp_path / "l.xlsx", [
        [1, "001", "张三", "户主", "女", A, None, 280, None, None, None, "2020-10-21", "2020-10-21"]])
    run_yibao("validate", str(path))
    first = report_rows(path)
    run_yibao("validate", str(path))
    wb = openpyxl.load_workbook(path)
    visible = [ws.title for ws in wb if ws.sheet_state == "visible"]
    assert visible == ["台账", "校验报告"]
    assert report_rows(path) == first
    # fixed by the user → the next run clears the old mark
    wb["台账"]["E4"].value = "男"
    wb.save(path)
    run_yibao("validate", str(path))
    ws = openpyxl.load_workbook(path)["台账"]
    assert ws["E4"].comment is None
    assert report_rows(path) == []


def test_duplicates_across_sheets_and_workbooks(tmp_path):
    one = ledger(tmp_path / "一村.xlsx", [
        [1, "001", "张三", "户主", "男", A, None, 280, None, None, None, "2020-10-21", "2020-10-21"]],
        extra_sheets={"二组": [[1, "009", "张三", "户主", "男", A, None, 280, None, None, None, "2020-10-21", "2020-10-21"]]})
    two = ledger(tmp_path / "二村.xlsx", [
        [1, "001", "张三", "户主", "男", A, None, 280, None, None, None, "2020-10-21", "2020-10-21"]])
    run_yibao("validate", str(one), str(two))
    first = [r[6] for r in report_rows(one) if "重复" in r[6]]
    assert any("另一工作簿" in m for m in first) and len(first) == 2
    second = [r[6] for r in report_rows(two) if "重复" in r[6]]
    assert second and "一村.xlsx" in second[0]


def test_refresh_gives_what_the_functions_give_and_keeps_typed_values(tmp_path):
    rows = [
        [1, "001", "张三", "户主", "男", A, None, 280, None, None, None, "2020-10-21", None],
        [2, "001", "李四", "配偶", "女", B, None, 0, None, None, "低保户；边缘户", "2020-10-21", None],
        [3, "002", "王五", "户主", "男", C, None, 140, None, None, "边缘户", None, None],
        [4, "003", "赵六", "户主", "女", A[:-1] + ("0" if A[-1] != "0" else "1"), None, None, None, None, None, None, None],
    ]
    path = ledger(tmp_path / "l.xlsx", rows)
    wb = openpyxl.load_workbook(path)
    wb["台账"]["N6"].value = 999             # a value the user typed in 应缴: must survive
    wb["台账"]["O4"].value = "=SUBSIDY_TIER(F4,K4,L4,,,,\"xinqiao-2021\")"   # our formula: replaced
    wb.save(path)
    before = snapshot(path)
    proc = run_yibao("refresh", str(path))
    assert "1个单元格已有手填内容，未覆盖" in proc.stdout
    ws = openpyxl.load_workbook(path)["台账"]
    assert ws["N6"].value == 999
    for r, row in enumerate(rows, 4):
        if r == 6:
            continue
        args = (row[5], row[10], row[11], None, None, None, "xinqiao-2021")
        assert ws.cell(r, 14).value == udf.PAYABLE(*args)
        assert (ws.cell(r, 15).value or "") == udf.SUBSIDY_TIER(*args)
        start = udf.BENEFIT_START(*args)
        got = ws.cell(r, 16).value
        assert (got.date() if isinstance(got, datetime.datetime) else got) == start
        assert (ws.cell(r, 17).value or "") == udf.ID_CHECK(row[5])
    assert ws["O5"].value == "低保对象"            # strict order: 低保 before 边缘人口 (002)
    user_cells_unchanged(before, snapshot(path))
    run_yibao("refresh", str(path))                  # a rerun rewrites our own values only
    assert openpyxl.load_workbook(path)["台账"]["N6"].value == 999


def test_notice_masks_ids_and_lists_only_the_enrolled(tmp_path):
    path = ledger(tmp_path / "l.xlsx", [
        [1, "001", "张三", "户主", "男", A, None, 280, None, None, None, "2020-10-21", None],
        [2, "001", "李四", "配偶", "女", B, None, None, "外出未联系上", None, None, None, None],
        [3, "002", "王五", "户主", "男", C, None, 0, None, None, "特困人员", "2020-10-22", None],
    ])
    out = tmp_path / "公示.xlsx"
    proc = run_yibao("notice", str(path), "-o", str(out), "--village", "示例村")
    assert "2人" in proc.stdout
    ws = openpyxl.load_workbook(out).active
    cells = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    text = " ".join(map(str, cells))
    assert A not in text and C not in text and B not in text
    assert A[:6] + "********" + A[-4:] in text
    assert "李四" not in text and "特困" not in text
    assert "村（社区）盖章" in text and "2021年01月01日至2021年02月28日" in text
    # a five-column list prints portrait, as notice_sheet asks: landscape used two thirds of the
    # page width and half again as many sheets of paper to post (tester)
    setup = ws.page_setup
    assert setup.orientation == "portrait" and setup.paperSize in (9, "9")


def _lists(tmp_path):
    def book(name, header, rows):
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append([f"{name}资助名单"])
        ws.append(header)
        for r in rows:
            ws.append(r)
        wb.save(tmp_path / f"{name}.xlsx")
        return tmp_path / f"{name}.xlsx"
    minzheng = book("民政", ["姓名", "身份证号", "身份类别"],
                    [["甲", A, "低保户"], ["乙", B, "特困人员"], ["乙", B, "特困人员"], ["丙", A[:-1] + "9" if A[-1] != "9" else A[:-1] + "8", "低保对象"]])
    canlian = book("残联", ["身份证号", "姓名", "身份类别"], [[A, "甲", "一、二级残疾人"], [LOW, "丁", "一二级残疾人"], [B, "乙乙", "一二级残疾人"]])
    csv_path = tmp_path / "乡村振兴.csv"
    with open(csv_path, "w", encoding="gb18030", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["姓名", "身份证号", "身份类别", "是否死亡"])
        w.writerow(["戊", C, "建档立卡贫困户", "是"])
        w.writerow(["庚", LOW, "边缘户", ""])
    return [minzheng, canlian, csv_path]


def test_dedupe_one_subsidy_per_person_with_reasons_exceptions_and_feedback(tmp_path):
    lists = _lists(tmp_path)
    employee = tmp_path / "职工医保.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "身份证号"])
    wb.active.append(["乙", B])
    wb.save(employee)
    before = {p: p.read_bytes() for p in lists}
    out = tmp_path / "结果.xlsx"
    proc = run_yibao("dedupe", *map(str, lists), "--policy", "xinqiao-2021", "-o", str(out),
                     "--employee", str(employee))
    assert "确定资助2人" in proc.stdout
    assert all(p.read_bytes() == data for p, data in before.items())
    wb = openpyxl.load_workbook(out)
    roster = {r[3]: r for r in wb["资助名单汇总"].iter_rows(min_row=3, values_only=True)}
    assert set(roster) == {A, LOW}
    assert roster[A][4] == "低保对象" and roster[A][5] == 280          # strict order: 低保 before 残疾
    assert "按资助顺序：低保对象排在一二级残疾人之前" in roster[A][9]
    assert roster[LOW][4] == "一二级残疾人"
    kinds = [r[0] for r in wb["异常名单"].iter_rows(min_row=2, values_only=True)]
    for kind in ("同一名单重复", "身份证号有误", "已死亡", "一人两名", "已参加职工医保"):
        assert kind in kinds, kind
    feedback = [r for r in wb["反馈-乡村振兴"].iter_rows(min_row=3, values_only=True)]
    assert feedback[0][4] == "已剔除：死亡人员"
    assert feedback[1][4] == "按“一二级残疾人”资助（残联），本部门身份不重复资助"
    stats = {(r[0], r[1]): r for r in wb["分类统计"].iter_rows(min_row=2, values_only=True)}
    assert stats[("资助类别", "合计")][2] == 2 and stats[("资助类别", "合计")][3] == 560


def test_a_new_workbook_with_shared_strings_reads_the_same_in_libreoffice(tmp_path):
    """New result workbooks keep repeated texts in a shared-string table;
    LibreOffice (as Excel and WPS) must read every cell as we wrote it."""
    lists = _lists(tmp_path)
    out = tmp_path / "结果.xlsx"
    run_yibao("dedupe", *map(str, lists), "--policy", "xinqiao-2021", "-o", str(out))
    import zipfile
    assert b't="s"' in zipfile.ZipFile(out).read("xl/worksheets/sheet1.xml")
    if not _soffice_available():
        pytest.skip("LibreOffice not installed")
    proc = subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                           "--convert-to", "xlsx", "--outdir", str(tmp_path / "lo"), str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr

    def cells(path):
        wb = openpyxl.load_workbook(path)
        return {ws.title: [[c for c in row] for row in ws.iter_rows(values_only=True)] for ws in wb}
    ours, theirs = cells(out), cells(tmp_path / "lo" / "结果.xlsx")
    assert ours.keys() == theirs.keys()
    for name in ours:
        assert [[c for c in r if c is not None] for r in ours[name]] == \
            [[c for c in r if c is not None] for r in theirs[name]], name


def test_dedupe_highest_subsidy_and_funding_split(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "民政"
    ws.append(["姓名", "身份证号", "身份类别"])
    ws.append(["甲", A, "城乡低保对象"])
    ws.append(["乙", B, "社会保障兜底户"])
    other = wb.create_sheet("扶贫办")
    other.append(["姓名", "身份证号", "身份类别"])
    other.append(["甲", A, "建档立卡贫困户"])
    other.append(["乙", B, "建档立卡贫困户"])
    path = tmp_path / "lists.xlsx"
    wb.save(path)
    out = tmp_path / "out.xlsx"
    run_yibao("dedupe", str(path), "--policy", "xxzhen-2020", "-o", str(out))
    roster = {r[3]: r for r in openpyxl.load_workbook(out)["资助名单汇总"].iter_rows(min_row=3, values_only=True)}
    assert roster[A][4] == "城乡低保对象" and roster[A][6] == "医疗救助125元"     # 004 四: 建档立卡 only if not 低保
    assert roster[B][4] == "社会保障兜底脱贫对象" and roster[B][6] == "医疗救助125元；财政125元"
    assert "就高不重复" in roster[B][9]


def test_a_workbook_open_in_excel_is_refused_and_left_alone(tmp_path):
    path = ledger(tmp_path / "l.xlsx", [
        [1, "001", "张三", "户主", "女", A, None, 280, None, None, None, "2020-10-21", None]])
    (tmp_path / "~$l.xlsx").write_bytes(b"lock")
    data = path.read_bytes()
    proc = run_yibao("validate", str(path), check_rc=2)
    assert "正被Excel或WPS打开" in proc.stderr and "Traceback" not in proc.stderr
    assert path.read_bytes() == data and not list(tmp_path.glob("l.备份-*"))


def test_csv_and_missing_columns_get_clear_messages(tmp_path):
    path = tmp_path / "l.csv"
    path.write_text("姓名,身份证号,个人缴费\n张三," + A + ",280\n", encoding="utf-8")
    proc = run_yibao("validate", str(path), "--policy", "xinqiao-2021", check_rc=2)
    assert "另存为.xlsx" in proc.stderr
    bad = tmp_path / "no-id.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "电话"])
    wb.active.append(["张三", "123"])
    wb.save(bad)
    proc = run_yibao("validate", str(bad), "--policy", "xinqiao-2021", check_rc=2)
    assert "没有找到台账" in proc.stderr


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_xls_department_list_is_read(tmp_path):
    lists = _lists(tmp_path)
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless",
                    "--convert-to", "xls", "--outdir", str(tmp_path / "xls"), str(lists[0])],
                   check=True, capture_output=True, timeout=180)
    xls = tmp_path / "xls" / "民政.xls"
    out = tmp_path / "out.xlsx"
    run_yibao("dedupe", str(xls), "--policy", "xinqiao-2021", "-o", str(out))
    roster = [r for r in openpyxl.load_workbook(out)["资助名单汇总"].iter_rows(min_row=3, values_only=True)]
    assert {r[3] for r in roster} == {A, B}


def test_written_files_keep_the_users_permissions(tmp_path):
    import os
    import stat
    path = ledger(tmp_path / "l.xlsx", [
        [1, "001", "张三", "户主", "女", A, None, 280, None, None, None, "2020-10-21", None]])
    os.chmod(path, 0o664)
    run_yibao("validate", str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o664


def _soffice_available():
    import os
    if shutil.which("soffice"):
        return True
    if os.environ.get("CI") == "true":
        pytest.fail("CI must have LibreOffice (installed by .ci/run)")
    return False


def test_libreoffice_opens_a_validated_and_refreshed_ledger(tmp_path):
    if not _soffice_available():
        pytest.skip("LibreOffice not installed")
    path = ledger(tmp_path / "l.xlsx", [
        [1, "001", "张三", "户主", "女", A, None, 280, None, None, None, "2020-10-21", "2020-10-27"],
        [2, "001", "李四", "配偶", "女", B, None, 0, None, None, "低保户", "2020-10-21", "2020-10-21"]])
    run_yibao("validate", str(path))
    run_yibao("refresh", str(path))
    out = tmp_path / "lo"
    proc = subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                           "--convert-to", "xlsx", "--outdir", str(out), str(path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    wb = openpyxl.load_workbook(out / "l.xlsx")
    assert "校验报告" in wb.sheetnames
    ws = wb["台账"]
    assert ws["E4"].comment is not None and "身份证号显示为" in ws["E4"].comment.text
    assert ws["N5"].value == 0 and ws["O5"].value == "低保对象"
    report = [r for r in wb["校验报告"].iter_rows(min_row=2, values_only=True)]
    assert any("第6天才缴库" in (r[6] or "") for r in report)


def test_a_ledger_saved_by_libreoffice_is_validated_and_refreshed(tmp_path):
    """A ledger last saved by LibreOffice (or WPS), not openpyxl: shared
    strings and rows laid out differently. The byte-level paths (marks on
    existing cells, computed values appended to rows) must find their cells."""
    if not _soffice_available():
        pytest.skip("LibreOffice not installed")
    src = ledger(tmp_path / "src.xlsx", [
        [1, "001", "张三", "户主", "女", A, None, 280, None, None, None, "2020-10-21", "2020-10-27"],
        [2, "001", "李四", "配偶", "女", B, None, 0, None, None, "低保户", "2020-10-21", "2020-10-21"]])
    proc = subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                           "--convert-to", "xlsx", "--outdir", str(tmp_path / "lo"), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    path = tmp_path / "lo" / "src.xlsx"
    import zipfile
    assert "xl/sharedStrings.xml" in zipfile.ZipFile(path).namelist()
    before = snapshot(path)
    run_yibao("validate", str(path))
    run_yibao("refresh", str(path))
    wb = openpyxl.load_workbook(path)
    ws = wb["台账"]
    assert ws["E4"].comment is not None and "身份证号显示为" in ws["E4"].comment.text
    assert ws["E4"].fill.fgColor.rgb == "FFFFC7CE"
    assert [ws["N4"].value, ws["N5"].value, ws["O5"].value] == [280, 0, "低保对象"]
    user_cells_unchanged(before, snapshot(path))


def test_a_sheet_deflated_on_two_cores_reads_back_in_zip_and_libreoffice(tmp_path, monkeypatch):
    """Large sheets are deflated in two halves at once; the joined stream
    must be one valid deflate stream (CRC checked) that LibreOffice opens."""
    import random
    import zipfile
    import zlib
    from yibao.macros import book as books, refresh, validate, xlsxpatch
    text = "".join(random.Random(1).choice("<c r=\"A1\">张三0123456789</c>") for _ in range(300_000)).encode()
    packed = xlsxpatch._TwoCoreDeflate(1).compress(text)
    assert zlib.decompress(packed, -15) == text
    monkeypatch.setattr(xlsxpatch.constants, "PARALLEL_DEFLATE_BYTES", 0)    # every part, however small
    path = ledger(tmp_path / "l.xlsx", [
        [1, "001", "张三", "户主", "女", A, None, 280, None, None, None, "2020-10-21", "2020-10-27"],
        [2, "001", "李四", "配偶", "女", B, None, 0, None, None, "低保户", "2020-10-21", "2020-10-21"]])
    validate.run([books.FileBook(path, for_update=True)])
    refresh.run(books.FileBook(path, for_update=True))
    assert zipfile.ZipFile(path).testzip() is None
    ws = openpyxl.load_workbook(path)["台账"]
    assert ws["N5"].value == 0 and ws["O5"].value == "低保对象"
    if not _soffice_available():
        pytest.skip("LibreOffice not installed")
    out = tmp_path / "lo"
    proc = subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                           "--convert-to", "xlsx", "--outdir", str(out), str(path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    ws = openpyxl.load_workbook(out / "l.xlsx")["台账"]
    assert ws["E4"].comment is not None and "身份证号显示为" in ws["E4"].comment.text
    assert ws["N5"].value == 0 and ws["O5"].value == "低保对象"


def test_employee_insured_person_not_enrolled_here_is_no_mistake_but_paying_twice_is(tmp_path):
    """002 四(一): a person in employee insurance is not enrolled again; the
    ledger row that says so (是否参加职工医保 = 是, 未缴费原因 filled) is right
    as it stands, while one that also took a resident payment is an error."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["填报单位：新桥镇 示例村", None, None, "方案编号", "xinqiao-2021"])
    ws.append(["序号", "姓名", "性别", "身份证号", "个人缴费", "未缴费原因", "缴费日期", "是否参加职工医保"])
    ws.append([1, "张三", "男", A, None, "已参加职工医保", None, "是"])
    ws.append([2, "李四", "女", B, 280, None, "2020-10-21", "是"])
    path = tmp_path / "台账.xlsx"
    wb.save(path)
    run_yibao("validate", str(path))
    rows = report_rows(path)
    assert not [r for r in rows if r[4] == "张三"], rows
    assert any(r[4] == "李四" and r[5] == "错误" and "职工医保" in r[6] for r in rows), rows


def test_refresh_hands_any_book_its_values_column_by_column(tmp_path):
    """The contract the live Excel backend relies on: refresh gives
    ``fill_computed(sheet, rows, {col: values})``, one list per computed
    column in the order of ``rows``, equal to what the functions give."""
    from yibao.macros import book as books, refresh
    path = ledger(tmp_path / "l.xlsx", [
        [1, "001", "张三", "户主", "男", A, None, 280, None, None, None, "2020-10-21", None],
        [2, "001", "李四", "配偶", "女", B, None, 0, None, None, "低保户", "2020-10-21", None],
        [3, "002", "王五", "户主", "男", "4304231990", None, 280, None, None, None, "2020-10-21", None]])
    calls = []

    class Recording(books.FileBook):
        def fill_computed(self, sheet, rows, columns, number_formats=None):
            calls.append((sheet, list(rows), {c: list(v) for c, v in columns.items()}, number_formats))
            super().fill_computed(sheet, rows, columns, number_formats)

    refresh.run(Recording(path))
    [(sheet, rows, columns, formats)] = calls
    assert sheet == "台账" and rows == [4, 5, 6]
    assert sorted(columns) == [14, 15, 16, 17] and formats == {16: "yyyy-mm-dd"}
    assert columns[14][:2] == [udf.PAYABLE(A, None, "2020-10-21", policy="xinqiao-2021"),
                               udf.PAYABLE(B, "低保户", "2020-10-21", policy="xinqiao-2021")]
    assert columns[15][1] == "低保对象"
    assert columns[17][2] == udf.ID_CHECK("4304231990")     # the problem shows in the check column
    assert all(len(v) == 3 for v in columns.values())


def test_live_excel_refresh_writes_runs_of_rows_and_keeps_typed_cells():
    """ExcelBook.fill_computed against a recording stand-in for xlwings'
    sheet API (Excel cannot run here): one formula read per column, one write
    per run of consecutive writable rows, and a typed value left alone."""
    from yibao.macros import _excel
    from yibao.macros.book import COMPUTED_STYLE

    cells = {(r, 14): "" for r in range(4, 10)}
    cells[(6, 14)] = "999"                     # typed by the user
    cells[(7, 14)] = "=PAYABLE(F7)"            # a formula: ours to replace
    styles = {(6, 14): "Normal"}
    calls = []

    class Range:
        def __init__(self, first, last=None):
            self.first, self.last = first, last or first

        @property
        def formula(self):
            calls.append(("read", self.first, self.last))
            column = [cells.get((r, self.first[1]), "") for r in range(self.first[0], self.last[0] + 1)]
            return column[0] if self.first == self.last else tuple((f,) for f in column)

        @property
        def api(self):
            class Style:
                Name = styles.get(self.first, COMPUTED_STYLE)

            class Api:
                pass
            api = Api()
            api.Style = Style
            return api

        def options(self, transpose=False):
            assert transpose
            return self

        @property
        def value(self):
            raise AssertionError("not read")

        @value.setter
        def value(self, block):
            calls.append(("write", self.first, list(block)))

    class Sheet:
        def range(self, first, last=None):
            return Range(first, last)

    class Book:
        fullname = "台账.xlsx"
        sheets = {"台账": Sheet()}

    book = _excel.ExcelBook(Book())
    kept = book.fill_computed("台账", [4, 5, 6, 7, 9], {14: [280, 0, 280, 280, 0]})
    assert kept == 1
    assert [c for c in calls if c[0] == "read"] == [("read", (4, 14), (9, 14))]
    assert [c for c in calls if c[0] == "write"] == [
        ("write", (4, 14), [280, 0]), ("write", (7, 14), [280]), ("write", (9, 14), [0])]
    assert book.save() == {"skipped": 1}        # refresh's one-line result names the kept cell
    assert book.save() == {"skipped": 0}


def test_refresh_on_rows_as_excel_writes_them_with_spans(tmp_path):
    """Excel writes ``spans="1:13"`` on every row, a hint of the row's
    extent: when refresh appends computed cells the hint would be wrong, so
    it goes; the values land where the functions would put them."""
    import re
    import zipfile
    src = ledger(tmp_path / "src.xlsx", [
        [1, "001", "张三", "户主", "男", A, None, 280, None, None, None, "2020-10-21", None],
        [2, "001", "李四", "配偶", "女", B, None, 0, None, None, "低保户", "2020-10-21", None]])
    path = tmp_path / "excel.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<row r="(\d+)"', rb'<row r="\1" spans="1:13"', data)
                assert data.count(b"spans=") >= 5
            zout.writestr(info, data)
    run_yibao("refresh", str(path))
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    rows = dict(re.findall(rb'<row r="(\d+)"([^>]*)>', xml))
    assert b"spans" not in rows[b"4"] and b"spans" not in rows[b"5"]     # rows written to
    assert b"spans" in rows[b"1"]                                         # rows left alone keep theirs
    ws = openpyxl.load_workbook(path)["台账"]
    assert [ws["N4"].value, ws["N5"].value, ws["O5"].value] == [280, 0, "低保对象"]


def test_a_change_to_the_file_after_reading_is_not_undone_by_the_early_inflated_copy(tmp_path):
    """validate and refresh inflate the sheet XML while the cells are read;
    if the file changes before the results are written (saved again from
    Excel meanwhile), the write is refused and the file stays as it now is:
    nothing typed in between is lost, and no result computed from the old
    cells lands beside the new ones (issue 16 item 11). A rerun then works."""
    import os
    from yibao.macros import book as books
    path = ledger(tmp_path / "l.xlsx", [
        [1, "001", "张三", "户主", "男", A, None, 280, None, None, None, "2020-10-21", None]])
    book = books.FileBook(path, for_update=True)
    book.grids()
    wb = openpyxl.load_workbook(path)
    wb["台账"]["Z1"] = "读取之后才填的"
    wb.save(path)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    book.fill_computed("台账", [4], {14: [280]})
    from yibao import atomic
    with pytest.raises(atomic.WriteRefused, match="被其他程序改动过"):
        book.save()
    assert openpyxl.load_workbook(path)["台账"]["Z1"].value == "读取之后才填的"
    book = books.FileBook(path, for_update=True)
    book.grids()
    book.fill_computed("台账", [4], {14: [280]})
    book.save()
    ws = openpyxl.load_workbook(path)["台账"]
    assert ws["Z1"].value == "读取之后才填的" and ws["N4"].value == 280


def test_live_excel_marks_fill_cells_in_groups_and_note_each():
    """ExcelBook.mark against a recording stand-in for xlwings: fills go on
    at save, one call per colour for a group of cells; each cell gets its own
    note, an earlier note of ours is rewritten rather than doubled."""
    from yibao.macros import _excel
    calls = []

    class Note:
        def __init__(self, address):
            self.address = address

        @property
        def text(self):
            return ""

        @text.setter
        def text(self, value):
            calls.append(("note rewritten", self.address, value))

    class Range:
        def __init__(self, address):
            self.address = address

        @property
        def color(self):
            raise AssertionError("not read")

        @color.setter
        def color(self, rgb):
            calls.append(("color", self.address, rgb))

        @property
        def note(self):
            return Note(self.address) if self.address == (9, 6) else None

        @property
        def api(self):
            address = self.address

            class Api:
                @staticmethod
                def AddComment(text):
                    calls.append(("note", address, text))
            return Api()

    class Sheet:
        def range(self, address, last=None):
            return Range(address)

    class Book:
        fullname = "台账.xlsx"
        sheets = {"台账": Sheet()}

    book = _excel.ExcelBook(Book())
    book.mark("台账", 5, 6, "错误", "身份证号校验位不对")
    book.mark("台账", 9, 6, "错误", "身份证号重复")
    book.mark("台账", 7, 2, "提示", "现金未当日缴库")
    assert calls == []                                  # nothing until save
    book.save()
    assert [c for c in calls if c[0] == "color"] == [("color", "B7", (221, 235, 247)),
                                                     ("color", "F5,F9", (255, 199, 206))]
    assert ("note", (5, 6), "【yibao校验】\n身份证号校验位不对") in calls
    assert ("note rewritten", (9, 6), "【yibao校验】\n身份证号重复") in calls
    assert ("note", (7, 2), "【yibao校验】\n现金未当日缴库") in calls


def test_refresh_over_the_templates_formulas_and_over_its_own_values(tmp_path):
    """Our ledger template has formulas in every computed cell: refresh
    replaces them with values (the whole run of a row at once), keeps a value
    the user typed in their place, and on a rerun replaces its own values."""
    rows = [[i, f"{i:03d}", "张三", "户主", "男", A, None, 280, None, None, None, "2020-10-21", None]
            for i in range(1, 6)]
    rows[1][10], rows[1][7] = "低保户", 0
    path = ledger(tmp_path / "l.xlsx", rows)
    wb = openpyxl.load_workbook(path)
    ws = wb["台账"]
    for r in range(4, 9):
        ws.cell(r, 14).value = f'=PAYABLE(F{r},K{r},L{r},,,,"xinqiao-2021")'
        ws.cell(r, 15).value = f'=SUBSIDY_TIER(F{r},K{r},L{r},,,,"xinqiao-2021")'
        ws.cell(r, 16).value = f'=BENEFIT_START(F{r},K{r},L{r},,,,"xinqiao-2021")'
        ws.cell(r, 17).value = f"=ID_CHECK(F{r})"
    ws["N7"].value = 999                     # typed over the formula: must survive
    wb.save(path)
    before = snapshot(path)
    for _ in range(2):                       # over the formulas, then over our own values
        proc = run_yibao("refresh", str(path))
        assert "1个单元格已有手填内容，未覆盖" in proc.stdout
        ws = openpyxl.load_workbook(path)["台账"]
        assert ws["N7"].value == 999
        for r, row in enumerate(rows, 4):
            args = (row[5], row[10], row[11], None, None, None, "xinqiao-2021")
            if r != 7:
                assert ws.cell(r, 14).value == udf.PAYABLE(*args)
            assert (ws.cell(r, 15).value or "") == udf.SUBSIDY_TIER(*args)
            assert ws.cell(r, 16).value.date() == udf.BENEFIT_START(*args)
            assert ws.cell(r, 17).value in (None, "")
        assert ws["O5"].value == "低保对象"
        user_cells_unchanged(before, snapshot(path))


def test_validate_names_a_flagged_cell_that_carries_a_threaded_comment(tmp_path):
    """A cell flagged by validate that already has an Excel 365 threaded
    comment cannot take our note beside it: the finding is in 校验报告 only,
    so the command's line must say which cell to look up (not stay silent)."""
    import sys
    sys.path.insert(0, str(Path(__file__).parent / "corpus"))
    import make_corpus as mc
    made = mc.excel_shape(tmp_path)
    parts = mc.read_package(made)
    sheet = mc.sheet_part(parts, mc.LEDGER)
    import re
    cell = re.search(rb'<c r="C5"( s="\d+")[^>]*>.*?</c>', parts[sheet])
    assert cell, "the corpus's threaded comment sits on the name 钱小梅 (C5)"
    parts[sheet] = parts[sheet].replace(cell.group(0), b'<c r="C5"' + cell.group(1) + b"/>")   # 姓名 left blank
    ledger_file = tmp_path / "东山村.xlsx"
    mc.write_package(ledger_file, parts)
    out = run_yibao("validate", str(ledger_file)).stdout
    assert "新式批注" in out and f"{mc.LEDGER}!C5" in out and "必填项“姓名”为空" in out, out
    wb = openpyxl.load_workbook(ledger_file)
    report = [row for row in wb["校验报告"].iter_rows(values_only=True) if row[3] == "C5"]
    assert report and "姓名" in report[0][6]
    # the thread itself is still the user's, unchanged
    assert mc.THREADED_TEXT.encode() in mc.read_package(ledger_file)["xl/threadedComments/threadedComment1.xml"]


def test_live_excel_result_sheet_prints_as_the_file_does():
    """ExcelBook.replace_sheet against a recording stand-in for xlwings: a
    result sheet made from the ribbon prints like the one the command writes
    (the one print plan): A4 landscape fitted to the page width, header rows
    repeated, pages numbered, the 份 label at the top right; a rerun first
    drops the last run's page breaks."""
    from yibao.macros import _excel
    from yibao.macros.book import OutSheet, print_plan

    sets, calls = {}, []

    class Api:
        def __init__(self, path):
            object.__setattr__(self, "_path", path)

        def __getattr__(self, name):
            if name in ("PageSetup", "Tab"):
                return Api(f"{self._path}.{name}")
            if name == "Color":
                return 0
            return lambda *a: calls.append((f"{self._path}.{name}", a))

        def __setattr__(self, name, value):
            sets[f"{self._path}.{name}"] = value

    class Range:
        def __init__(self, *address):
            self.address = address
            self.api = Api(f"range{address}")

        def __setattr__(self, name, value):
            if name in ("address", "api"):
                object.__setattr__(self, name, value)
            else:
                sets[f"range{self.address}.{name}"] = value

        def merge(self):
            calls.append(("merge", self.address))

    class Sheet:
        name = "缴费比对汇总"
        api = Api("sheet")

        def range(self, *address):
            return Range(*address)

        def autofit(self, axis):
            calls.append(("autofit", axis))

    class Sheets(list):
        def add(self, title, after=None):
            return Sheet()

    class Book:
        fullname = "台账.xlsx"
        sheets = Sheets([type("S", (), {"name": "台账"})()])

    rows = [["示例镇缴费比对汇总"], ["村（社区）", "姓名", "身份证号", "类别", "金额（元）", "处理意见"]]
    rows += [["东山村", f"张{i}", "430999195001010213", "已缴费未登记台账", 400, "核实后补录到台账"] for i in range(40)]
    sheet = OutSheet("缴费比对汇总", rows, title_rows=1, widths={6: 30}, page_label="第1份／共3份")
    _excel.ExcelBook(Book()).replace_sheet(sheet)
    plan = print_plan(sheet)
    assert sets["sheet.PageSetup.PaperSize"] == _excel.XL_PAPER_A4
    assert sets["sheet.PageSetup.Orientation"] == (_excel.XL_LANDSCAPE if plan.landscape else _excel.XL_PORTRAIT)
    assert plan.fit_width and sets["sheet.PageSetup.FitToPagesWide"] == 1
    assert sets["sheet.PageSetup.FitToPagesTall"] is False and sets["sheet.PageSetup.Zoom"] is False
    assert sets["sheet.PageSetup.PrintTitleRows"] == "$2:$2"
    assert sets["sheet.PageSetup.CenterFooter"] == "第 &P 页 共 &N 页"
    assert sets["sheet.PageSetup.RightHeader"] == "第1份／共3份"
    assert sets["range((1, 6),).column_width"] == dict(plan.widths)[6]
    assert ("sheet.ResetAllPageBreaks", ()) in calls
