"""Town outputs add up: every person on the ledgers is counted once, excluded
with a reason, or reported; money ties to the fen (issue 11, "Outputs that add
up"). Each total here is computed from the input files themselves with
openpyxl, never from yibao's own reading."""
from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from conftest import run_yibao


@pytest.fixture(scope="module")
def season(tmp_path_factory):
    """The demo season (`yibao demo`): refreshed village ledgers, the task
    table and the merged roster."""
    root = tmp_path_factory.mktemp("season") / "demo"
    run_yibao("demo", str(root))
    return root


def ledgers(season: Path) -> list[Path]:
    return sorted((season / "台账").glob("*.xlsx"))


def ledger_rows(path: Path) -> list[dict]:
    """Person rows of a ledger file as typed: the rows under the header row
    (序号, 姓名*, 身份证号* …) up to the 填表说明 line, with their row number."""
    ws = openpyxl.load_workbook(path, data_only=True).worksheets[0]
    out, header = [], None
    for n, row in enumerate(ws.iter_rows(values_only=True), 1):
        if header is None:
            if any(str(v or "").startswith("身份证号") for v in row):
                header = [str(v or "").rstrip("*") for v in row]
            continue
        if str(row[0] or "").startswith("填表说明"):
            break
        values = dict(zip(header, row))
        if values.get("姓名") or values.get("身份证号"):
            values["行"] = n
            values["file"] = path
            out.append(values)
    return out


def yuan_of(value) -> Decimal:
    return Decimal(str(value or 0))


def figure(text: str, label: str) -> Decimal:
    """The amount after ``label`` in a reconciliation line ("349,000元")."""
    found = re.search(re.escape(label) + r"([\d,]+(?:\.\d+)?)", text)
    assert found, (label, text)
    return Decimal(found.group(1).replace(",", ""))


def summary(season: Path, out: Path, *extra: str, files: list[Path] | None = None):
    proc = run_yibao("summary", str(season / "任务分配表.xlsx"), *map(str, files or ledgers(season)),
                     "-o", str(out), "--no-pdf", *extra)
    rows = [r for r in openpyxl.load_workbook(out)["汇总上报"].iter_rows(values_only=True)]
    total = next(r for r in rows if r[1] == "合计" or r[0] == "合计")
    header = rows[2]
    notes = [r[0] for r in rows if isinstance(r[0], str) and r[0].startswith(("核对", "待核实", "重复", "\u3000"))]
    return proc.stdout, dict(zip(header, total)), notes


def test_persons_on_the_ledgers_are_counted_excluded_or_duplicates(season, tmp_path):
    rows = [r for p in ledgers(season) for r in ledger_rows(p)]
    ids = [str(r["身份证号"] or "").strip().upper() for r in rows]
    duplicates = len(ids) - len(set(ids))
    line, total, notes = summary(season, tmp_path / "s.xlsx")
    one = next(n for n in notes if n.startswith("核对一"))
    counted = total["参保人数"]
    assert f"台账共{len(rows)}人" in one and f"计入本表{counted}人" in one
    assert f"重复登记{duplicates}人" in one and duplicates >= 1          # 高春霞, on two villages' ledgers
    excluded = int(re.search(r"未计入(\d+)人", one).group(1))
    assert len(rows) == counted + excluded + duplicates
    by_kind = [int(n) for n in re.findall(r"[\u4e00-\u9fff]+?(\d+)人", one.split("（", 1)[1].split("）")[0])]
    assert sum(by_kind) == excluded and "待核实" in one and "职工医保" in one
    assert f"台账{len(rows)}人＝计入{counted}" in line


def test_money_on_the_ledgers_is_counted_or_in_excluded_or_duplicate_rows(season, tmp_path):
    rows = [r for p in ledgers(season) for r in ledger_rows(p)]
    on_ledgers = sum(yuan_of(r["个人缴费"]) for r in rows)
    line, total, notes = summary(season, tmp_path / "s.xlsx")
    two = next(n for n in notes if n.startswith("核对二"))
    assert figure(two, "台账个人缴费共") == on_ledgers
    assert figure(two, "计入本表") == yuan_of(total["个人缴费（元）"])
    assert yuan_of(total["个人缴费（元）"]) + figure(two, "未计入人员所缴") + figure(two, "重复登记行") == on_ledgers
    # the rows with errors are named (村 姓名 第N行) and hold the excluded money
    named = next(n for n in notes if n.startswith("待核实"))
    places = re.findall(r"([^\s、：]+) ([^\s、：]+) 第(\d+)行", named.split("：", 1)[1])
    assert places and f"{len(places)}人有错误未计入" in line
    by_place = {(r["file"].stem, str(r["姓名"]).strip(), r["行"]): r for r in rows}
    paid = sum(yuan_of(by_place[(v, n, int(k))]["个人缴费"]) for v, n, k in places)
    assert paid == figure(two, "未计入人员所缴") and paid > 0       # paid persons left out, and said so
    # the duplicate row's money: every occurrence of a repeated ID after the first
    seen, dup_money = set(), Decimal(0)
    for r in rows:
        key = str(r["身份证号"]).strip().upper()
        if key in seen:
            dup_money += yuan_of(r["个人缴费"])
        seen.add(key)
    assert figure(two, "重复登记行") == dup_money
    assert not any(re.search(r"\d{17}[\dX]", n) for n in notes)      # no ID in the printed sheet


def test_subsidy_total_ties_to_the_merged_roster_person_by_person(season, tmp_path):
    ws = openpyxl.load_workbook(season / "资助名单比对结果.xlsx")["资助名单汇总"]
    header = [c.value for c in ws[2]]
    id_col, amount_col = header.index("身份证号"), header.index("资助金额（元）")
    roster = sum(yuan_of(r[amount_col]) for r in ws.iter_rows(min_row=3, values_only=True) if r[id_col])
    line, total, notes = summary(season, tmp_path / "s.xlsx", "--roster", str(season / "资助名单比对结果.xlsx"))
    three = next(n for n in notes if n.startswith("核对三"))
    assert figure(three, "资助名单合计") == roster
    assert figure(three, "本表资助合计") == yuan_of(total["资助合计（元）"])
    # the persons are on the 附表 汇总上报-资助名单核对 (the stamped page keeps the totals line)
    check = openpyxl.load_workbook(tmp_path / "s.xlsx")["汇总上报-资助名单核对"]
    persons = [r for r in check.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    assert len(persons) == int(re.search(r"涉及(\d+)人", three).group(1))
    difference = sum(yuan_of(r[3]) - yuan_of(r[4]) for r in persons)
    assert difference == roster - yuan_of(total["资助合计（元）"]) != 0
    assert figure(three, "差额") == abs(difference)
    assert "资助名单合计" in line


def test_a_ledger_passed_twice_or_copied_counts_each_person_once(season, tmp_path):
    files = ledgers(season)
    _line, alone, _notes = summary(season, tmp_path / "a.xlsx")
    copy = tmp_path / "东山村 - 副本.xlsx"
    shutil.copyfile(season / "台账" / "东山村.xlsx", copy)
    line, twice, notes = summary(season, tmp_path / "b.xlsx", files=files + [copy, files[0]])
    assert twice["参保人数"] == alone["参保人数"] and twice["个人缴费（元）"] == alone["个人缴费（元）"]
    assert "东山村 - 副本.xlsx" in line and "东山村.xlsx" in line
    # reward and progress: the same work fee, no rate above 100%
    tasks = season / "任务分配表.xlsx"
    one = run_yibao("reward", str(tasks), *map(str, files), "-o", str(tmp_path / "r1.xlsx")).stdout
    two = run_yibao("reward", str(tasks), *map(str, files + [copy]), "-o", str(tmp_path / "r2.xlsx")).stdout
    assert one.split("；")[0] == two.split("；")[0] and "东山村 - 副本.xlsx" in two
    run_yibao("progress", str(tasks), *map(str, files + [copy]), "--date", "2026-03-01",
              "-o", str(tmp_path / "p.xlsx"))
    ws = openpyxl.load_workbook(tmp_path / "p.xlsx").active
    assert all(r[4] <= 1 for r in ws.iter_rows(min_row=4, values_only=True) if isinstance(r[4], float))


def test_a_rate_above_100_percent_is_said_not_refused(season, tmp_path):
    """Persons are counted once, so above 100% is a village over its target (or a target typed
    wrong): the sheet is still made and the line and the sheet name the village."""
    wb = openpyxl.load_workbook(season / "任务分配表.xlsx")
    ws = wb.worksheets[0]
    header = next(r for r in ws.iter_rows() if any(str(c.value or "").startswith("村") for c in r))
    target = [c.column for c in header if "目标任务数" in str(c.value or "")][-1]     # this year's
    ws.cell(header[0].row + 1, target).value = 10
    if "任务分配" in wb.sheetnames:
        del wb["任务分配"]
    wb.save(tmp_path / "任务.xlsx")
    proc = run_yibao("progress", str(tmp_path / "任务.xlsx"), *map(str, ledgers(season)),
                     "-o", str(tmp_path / "p.xlsx"))
    assert "超过目标任务数10人" in proc.stdout and "请核对任务表中的目标任务数" in proc.stdout
    cells = [str(c) for row in openpyxl.load_workbook(tmp_path / "p.xlsx").active.iter_rows(values_only=True)
             for c in row if c is not None]
    assert any("超过目标任务数10人" in c for c in cells)


def test_progress_and_reward_without_ledgers_or_counts_are_errors(season):
    for action in ("progress", "reward"):
        proc = run_yibao(action, str(season / "原始数据" / "任务分配表.xlsx"), check_rc=2)
        assert "台账" in proc.stderr and "Traceback" not in proc.stderr and not proc.stdout


def progress_rows(path: Path) -> list[tuple]:
    ws = openpyxl.load_workbook(path).active
    return [r for r in ws.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]


def test_progress_on_the_deadline_day_and_after_agrees_with_its_sheet(season, tmp_path):
    """The staff guide's example: on 2025-12-31, the day of 95% (仿 004 一(二)),
    a village below 95% has missed it; the message counts what the sheet shows."""
    tasks, files = season / "任务分配表.xlsx", ledgers(season)
    proc = run_yibao("progress", str(tasks), *map(str, files), "--date", "2025-12-31", "-o", str(tmp_path / "a.xlsx"))
    rows = progress_rows(tmp_path / "a.xlsx")
    below = [r for r in rows if r[4] < 0.95]
    late = [r for r in rows if "未按期" in r[-2]]
    assert below and late == below
    assert f"{len(late)}个未按期完成" in proc.stdout
    # later, the 95% milestone is still measured at 12-31 from the pay dates
    proc = run_yibao("progress", str(tasks), *map(str, files), "--date", "2026-03-15", "-o", str(tmp_path / "b.xlsx"))
    after = {r[1]: r for r in progress_rows(tmp_path / "b.xlsx")}
    at_deadline = {r[1]: r for r in rows}
    assert {v: r[7] for v, r in after.items()} == {v: r[7] for v, r in at_deadline.items()}
    assert f"{sum('未按期' in r[-2] for r in after.values())}个未按期完成" in proc.stdout


def test_reward_message_counts_what_its_sheet_shows(season, tmp_path):
    out = tmp_path / "r.xlsx"
    proc = run_yibao("reward", str(season / "任务分配表.xlsx"), *map(str, ledgers(season)), "-o", str(out))
    ws = openpyxl.load_workbook(out).active
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "序号")
    rows = [dict(zip(header, r)) for r in ws.iter_rows(values_only=True) if isinstance(r[0], int)]
    rewarded = [r for r in rows if r["奖励金额（元）"]]
    flagged = [r for r in rows if r["扣减提示"]]
    fee = sum(yuan_of(r[next(h for h in header if str(h).startswith("工作经费"))]) for r in rows)
    assert f"{len(rows)}个村（社区）" in proc.stdout and f"{len(flagged)}个需扣减" in proc.stdout
    assert f"{len(rewarded)}个获奖励共{sum(yuan_of(r['奖励金额（元）']) for r in rewarded):g}元" in proc.stdout
    assert f"工作经费{fee:g}元" in proc.stdout


@pytest.mark.parametrize("action", ["summary", "progress", "reward"])
def test_a_department_or_death_list_passed_as_a_ledger_is_refused(season, tmp_path, action):
    """A department's subsidy list (no payment columns) among the ledgers is
    not a village with nobody enrolled ("参保0户0人", exit 0): the command
    stops with one Chinese line naming the file and what it looks like."""
    lists = season / "原始数据" / "部门名单"
    for listed, looks in (("民政.xlsx", "资助名单"), ("死亡人员名单.xlsx", "死亡人员名单")):
        out = tmp_path / f"{action}-{listed}.xlsx"
        proc = run_yibao(action, str(season / "任务分配表.xlsx"), str(ledgers(season)[0]), str(lists / listed),
                         "-o", str(out), check_rc=2)
        assert f"“{listed}”" in proc.stderr and f"看起来是{looks}" in proc.stderr, proc.stderr
        assert "不是参保缴费台账" in proc.stderr and "Traceback" not in proc.stderr
        assert not out.exists() and not proc.stdout
    # a list given as the only file is refused the same way
    if action == "summary":
        proc = run_yibao("summary", str(lists / "民政.xlsx"), "-o", str(tmp_path / "only.xlsx"), "--no-pdf", check_rc=2)
        assert "“民政.xlsx”" in proc.stderr and "看起来是资助名单" in proc.stderr


def test_summary_names_task_table_villages_whose_ledger_was_not_given(season, tmp_path):
    """With the task table as the town workbook, a village on it whose
    ledger was not passed is named (in the line and under the table), not
    silently left out of the stamped summary."""
    wb = openpyxl.load_workbook(season / "任务分配表.xlsx", data_only=True)
    ws = wb.worksheets[0]
    units = [row[0] for row in ws.iter_rows(values_only=True)
             if isinstance(row[0], str) and row[0].endswith(("村", "社区")) and isinstance(row[1], int)]
    files = ledgers(season)
    given = [p for p in files if p.stem in ("东山村", "西河村")]
    absent = [u for u in units if u not in ("东山村", "西河村")]
    assert len(given) == 2 and absent, units
    out = tmp_path / "s.xlsx"
    line, _total, _notes = summary(season, out, files=given)
    assert f"未提供台账：{'、'.join(absent)}" in line, line
    texts = [r[0] for r in openpyxl.load_workbook(out)["汇总上报"].iter_rows(values_only=True) if isinstance(r[0], str)]
    assert any(t.startswith(f"未提供台账：{'、'.join(absent)}") for t in texts), texts
    # every village given: nothing to name
    line, _total, _notes = summary(season, tmp_path / "all.xlsx")
    assert "未提供台账" not in line


def test_summary_reads_the_roster_through_the_one_list_reader(season, tmp_path):
    """The merged roster as staff pass it around — exported to a GBK .csv
    with the IDs as ="…" (the sheet name is gone) — ties the subsidy total
    exactly as the .xlsx does: summary reads it with the same reader as
    validate's lists (macros/lists.py), by content, not by sheet name."""
    import csv
    ws = openpyxl.load_workbook(season / "资助名单比对结果.xlsx")["资助名单汇总"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header = rows[1]
    id_col = header.index("身份证号")
    exported = tmp_path / "资助名单比对结果.csv"
    with exported.open("w", encoding="gbk", newline="") as handle:
        out = csv.writer(handle)
        for n, row in enumerate(rows):
            if n >= 2 and row[id_col]:
                row[id_col] = f'="{row[id_col]}"'
            out.writerow(["" if v is None else v for v in row])
    line_x, _t, notes_x = summary(season, tmp_path / "x.xlsx", "--roster", str(season / "资助名单比对结果.xlsx"))
    line_c, _t, notes_c = summary(season, tmp_path / "c.xlsx", "--roster", str(exported))
    three_x = next(n for n in notes_x if n.startswith("核对三"))
    three_c = next(n for n in notes_c if n.startswith("核对三"))
    assert three_c == three_x and figure(three_c, "资助名单合计") > 0
    assert line_c == line_x.replace("x.xlsx", "c.xlsx")
    # a file that is not a merge result is one Chinese line, exit 2
    proc = run_yibao("summary", str(season / "任务分配表.xlsx"), *map(str, ledgers(season)), "--no-pdf",
                     "-o", str(tmp_path / "n.xlsx"), "--roster",
                     str(season / "原始数据" / "部门名单" / "死亡人员名单.xlsx"), check_rc=2)
    assert "不是资助名单合并结果" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("action", ["progress", "reward"])
def test_progress_and_reward_name_task_table_villages_whose_ledger_was_not_given(season, tmp_path, action):
    """As the summary does: a village on the task table with no ledger given
    (and no 实际参保数 typed) is named in the message and under the sheet, not
    shown as a village at 0% that "需扣减" without a word (issue 11)."""
    files = ledgers(season)
    given = [p for p in files if p.stem == "东山村"]
    absent = [p.stem for p in files if p.stem != "东山村"]
    assert given and len(absent) == 3
    out = tmp_path / f"{action}.xlsx"
    proc = run_yibao(action, str(season / "任务分配表.xlsx"), *map(str, given), "-o", str(out))
    assert "未提供台账：" in proc.stdout and all(v in proc.stdout.split("未提供台账：")[1] for v in absent), proc.stdout
    texts = [r[0] for r in openpyxl.load_workbook(out).active.iter_rows(values_only=True) if isinstance(r[0], str)]
    assert any("未提供台账：" in t and all(v in t for v in absent) for t in texts), texts
    # every village given: nothing to name
    proc = run_yibao(action, str(season / "任务分配表.xlsx"), *map(str, files), "-o", str(tmp_path / "all.xlsx"))
    assert "未提供台账" not in proc.stdout
