"""A newcomer's first hour: `yibao demo`, `yibao synth` and the bundled
examples of the fictional 示例镇 (plan shili-2026).

The demo runs once (real CLI, real files, LibreOffice for the PDF where it is
installed); each test then opens what it wrote and checks what a township
staff member would look at: every mistake placed on purpose is found, and
nothing else is called an error.
"""
from __future__ import annotations

import datetime
import doctest
import os
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from conftest import run_yibao
from yibao import atomic, synth
from yibao.functions import engine, idno, plan as plans
from yibao.macros import _excel, book, summary, table

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "示例镇"
VILLAGES = [v for v, _ in synth.VILLAGES]
HAVE_SOFFICE = bool(shutil.which("soffice")) or os.environ.get("CI") == "true"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo") / "示例镇-演示"
    proc = run_yibao("demo", str(folder))
    return folder, proc


@pytest.fixture(scope="module")
def town():
    return synth.town(1000)


def values(path: Path) -> dict[str, list[list]]:
    wb = CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python() for name in wb.sheet_names}


def rows_as_dicts(path: Path, sheet: str, header_text: str) -> list[dict]:
    grid = values(path)[sheet]
    head = next(i for i, row in enumerate(grid) if header_text in row)
    keys = grid[head]
    return [dict(zip(keys, row)) for row in grid[head + 1:] if any(c != "" for c in row)]


# ---------------------------------------------------------------- the demo

def test_demo_prints_what_it_made_and_where(demo):
    folder, proc = demo
    for name in ("资助名单比对结果.xlsx", "任务分配表.xlsx", "汇总上报.xlsx", "原始数据/错误清单.md"):
        assert (folder / name).is_file(), name
        assert str(folder / Path(name).parts[0]) in proc.stdout
    for village in VILLAGES:
        assert (folder / "台账" / f"{village}.xlsx").is_file()
        assert (folder / "公示名单" / f"{village}.xlsx").is_file()
    assert "完成" in proc.stdout and "Traceback" not in proc.stderr
    # no backups of its own fresh copies lying about to be counted twice later
    assert not list(folder.rglob("*备份*"))


def test_the_inputs_are_the_bundled_examples_and_stay_unchanged(demo):
    folder, _ = demo
    for path in sorted(EXAMPLES.rglob("*.xlsx")):
        rel = path.relative_to(EXAMPLES)
        assert values(folder / "原始数据" / rel) == values(path), rel
    assert (folder / "原始数据" / "错误清单.md").read_text("utf-8") == (EXAMPLES / "错误清单.md").read_text("utf-8")


LEDGER_MISTAKES = {
    # what the list of mistakes says → what the 校验报告 must say of that person
    "身份证号校验位错误": "校验位不对",
    "身份证号被Excel存成数字，末几位变成0": "当作数字保存",
    "现金收款后第4天才缴库": "第4天才缴库",
    "性别与身份证号不符": "身份证号显示为",
    "低保对象应缴200元，台账填了400元": "按方案应缴200元",
    "同一人在两个村重复登记": "身份证号重复（另一工作簿）",
    "普通人员2027年1月12日才缴费，已过集中缴费期": "不在缴费期内",
    # the row against the death list, and the 未缴费原因 against the subsidy (functions/status.py)
    "已死亡人员在台账上仍按资助参保": "死亡人员名单（死亡人员名单.xlsx 第2行）有此人",
    "资助对象的未缴费原因填": "却按方案享受",
}


def _person(where: str) -> str:
    return where.split("“")[1].rstrip("”")


def test_validate_finds_each_ledger_mistake_and_calls_nothing_else_an_error(demo, town):
    folder, _ = demo
    errors: dict[str, list[str]] = {}
    for village in VILLAGES:
        for row in rows_as_dicts(folder / "台账" / f"{village}.xlsx", "校验报告", "严重程度"):
            if row["严重程度"] == "错误":
                errors.setdefault(row["姓名"], []).append(row["问题"])
    placed = [(where, what) for where, what, _says in town.mistakes if where.startswith("台账/")]
    kinds = {next(k for k in LEDGER_MISTAKES if k.split("2027")[0][:8] in what) for _w, what in placed}
    assert kinds == set(LEDGER_MISTAKES)
    for where, what in placed:
        name = _person(where)
        expected = next(v for k, v in LEDGER_MISTAKES.items() if k.split("2027")[0][:8] in what)
        assert any(expected in m for m in errors.get(name, [])), (what, name, errors.get(name))
    assert set(errors) == {_person(w) for w, _ in placed}, errors


def test_validate_marks_the_cells_and_links_each_report_row(demo):
    folder, _ = demo
    wb = openpyxl.load_workbook(folder / "台账" / "东山村.xlsx")
    report = wb["校验报告"]
    links = [c.hyperlink.location for row in report.iter_rows(min_row=2) for c in row if c.hyperlink]
    assert links and all(link.startswith("'参保缴费台账'!") for link in links)
    ledger = wb["参保缴费台账"]
    noted = [c for row in ledger.iter_rows() for c in row if c.comment]
    assert any("校验位" in c.comment.text for c in noted)


def test_refresh_filled_the_computed_columns_with_the_engines_values(demo, town):
    folder, _ = demo
    plan = plans.load(synth.PLAN_ID)
    by_id = {m.id_no: m for m in town.members}
    checked = 0
    for village in VILLAGES:
        rows = rows_as_dicts(folder / "台账" / f"{village}.xlsx", "参保缴费台账", "应缴")
        for row in rows:
            m = by_id.get(str(row.get("身份证号*")))
            if m is None or not m.pay_date or m.id_cell != m.id_no:
                continue
            result = engine.compute(plan, engine.Person(m.id_no, tuple(m.identities), m.pay_date,
                                                        m.enroll_type or "普通", m.event_date, m.employee))
            if not result.ok:
                continue
            assert round(row["应缴"] * 100) == result.payable, (m.name, row["应缴"])
            assert (row["资助类别"] or None) == result.subsidy_tier, m.name
            start = row["待遇起始"]
            assert (start if isinstance(start, datetime.date) else None) == result.benefit_start, m.name
            checked += 1
    assert checked > 800


def test_the_merge_gives_one_subsidy_each_and_lists_every_list_mistake(demo, town):
    folder, _ = demo
    path = folder / "资助名单比对结果.xlsx"
    roster = rows_as_dicts(path, "资助名单汇总", "确定理由")
    ids = [r["身份证号"] for r in roster]
    assert len(ids) == len(set(ids))
    exceptions = rows_as_dicts(path, "异常名单", "异常类型")
    kinds = {(r["异常类型"], r["姓名"]) for r in exceptions}
    expected = {
        "身份证号校验位错误": "身份证号有误", "已死亡人员仍在资助名单上": "已死亡",
        "已参加职工医保的人在资助名单上": "已参加职工医保", "同一人在一张名单上出现两次": "同一名单重复",
    }
    for where, what, _says in town.mistakes:
        if what in expected and where.startswith("部门名单/"):
            assert (expected[what], _person(where)) in kinds, (what, where)
    two_names = [where for where, what, _ in town.mistakes if "姓名不同" in what][0]
    assert any(r["异常类型"] == "一人两名" and _person(two_names) in r["说明"] for r in exceptions)
    # on two lists of 民政 (低保 and 特困): one subsidy, the higher one, with the reason
    both = _person([where for where, what, _ in town.mistakes if "两张名单" in what][0])
    row = next(r for r in roster if r["姓名"] == both)
    assert row["资助类别"] == "特困人员" and row["资助金额（元）"] == 400
    assert "低保对象" in row["所有身份（报送部门）"] and row["确定理由"]
    # the dead and the employee-insured get nothing
    dead = _person([w for w, what, _ in town.mistakes if "死亡" in what][0])
    assert dead not in {r["姓名"] for r in roster}
    assert set(values(path)) >= {"异常名单", "分类统计", "反馈-民政", "反馈-残联"}


def test_quota_progress_and_reward_on_the_town_task_table(demo, town):
    folder, _ = demo
    path = folder / "任务分配表.xlsx"
    quota = rows_as_dicts(path, "任务分配", "分配任务数")
    allocated = {r["村（社区）"]: r["分配任务数"] for r in quota if r["村（社区）"] in VILLAGES}
    assert sum(allocated.values()) == town.total_target
    progress = rows_as_dicts(path, "进度通报", "参保率")
    for row in progress:
        if row["村（社区）"] in VILLAGES:
            assert row["目标任务数"] == allocated[row["村（社区）"]]
    enrolled = {r["村（社区）"]: r["已参保人数"] for r in progress if r["村（社区）"] in VILLAGES}
    as_of = datetime.date(2025, 12, 31)
    # persons who paid by Dec 31 (the milestone day), each counted once
    assert sum(enrolled.values()) <= sum(1 for m in town.members if m.pay_date and m.pay_date <= as_of)
    with zipfile.ZipFile(path) as z:
        assert any(n.startswith("xl/charts/chart") for n in z.namelist())
    reward = rows_as_dicts(path, "奖励测算", "奖励档次")
    fee = {r["村（社区）"]: r["工作经费（0.2元/人）"] for r in reward if r["村（社区）"] in VILLAGES}
    people = {r["村（社区）"]: r["实际参保人数"] for r in reward if r["村（社区）"] in VILLAGES}
    for village in VILLAGES:
        assert round(fee[village] * 10) == 2 * people[village]       # 0.2 元 per person (仿 004 五(三)1)


def test_summary_adds_up_and_has_its_pdf(demo):
    folder, _ = demo
    rows = values(folder / "汇总上报.xlsx")["汇总上报"]
    body = [r for r in rows if r and r[1] in VILLAGES]
    total = next(r for r in rows if "合计" in r[:2])
    assert sum(r[3] for r in body) == total[3]             # persons
    assert sum(r[4] for r in body) == total[4]             # individual payments
    assert any("盖章" in str(c) for r in rows for c in r)
    # 脱贫户 households are counted on the page total of the former 建档立卡
    header = next(r for r in rows if "纯建档立卡" in r)
    assert total[header.index("纯建档立卡")] > 0
    if HAVE_SOFFICE:
        assert (folder / "汇总上报.pdf").read_bytes()[:5] == b"%PDF-"


def test_public_notices_mask_every_id(demo, town):
    folder, _ = demo
    full = {m.id_no for m in town.members}
    listed = 0
    for village in VILLAGES:
        for row in values(folder / "公示名单" / f"{village}.xlsx")["公示名单"]:
            for cell in row:
                assert str(cell) not in full
                if isinstance(cell, str) and cell.startswith(synth.REGION):
                    assert "*" in cell
                    listed += 1
            assert not any("电话" in str(c) for c in row)
    assert listed > 800


# ---------------------------------------------------------------- the folder

def test_demo_refuses_a_folder_with_the_users_files_and_replaces_its_own(tmp_path):
    mine = tmp_path / "我的文件夹"
    mine.mkdir()
    (mine / "台账.xlsx").write_bytes(b"mine")
    proc = run_yibao("demo", str(mine), check_rc=2)
    assert "已有别的文件" in proc.stderr and "Traceback" not in proc.stderr
    assert (mine / "台账.xlsx").read_bytes() == b"mine"


def test_a_rerun_replaces_an_earlier_demo(demo, tmp_path):
    again = tmp_path / "演示"
    shutil.copytree(demo[0], again)
    (again / "台账" / "东山村.xlsx").write_bytes(b"left from last time")
    (again / "多余.txt").write_text("left from last time")
    run_yibao("demo", str(again), "--no-pdf")
    assert (again / "台账" / "东山村.xlsx").read_bytes()[:2] == b"PK"
    assert not (again / "多余.txt").exists()
    assert values(again / "台账" / "东山村.xlsx") == values(demo[0] / "台账" / "东山村.xlsx")


def test_demo_reconciles_the_tax_export_and_finds_exactly_what_synth_planted(demo, town):
    """The demo's 缴费比对结果.xlsx (the refreshed ledgers with the merged
    roster against the town's tax export): each discrepancy the generator
    planted on its category's sheet by name, no one else; the printed line
    says where the workbook is."""
    folder, proc = demo
    result = folder / "缴费比对结果.xlsx"
    assert str(result) in proc.stdout and "各类合计相符" in proc.stdout
    assert not re.search(r"\d{15}", proc.stdout + proc.stderr)       # no ID number in what is printed
    sheets = values(result)
    flagged = sorted((name, row[2]) for name, grid in list(sheets.items())[2:] for row in grid[3:] if row[0] != "")
    assert flagged == sorted((category, name) for category, name, _id in town.planted)
    assert {c for c, _n, _i in town.planted} >= {"已缴费未登记台账", "台账已缴费导出无记录", "金额与应缴不符",
                                                 "重复缴费", "在外地缴费", "姓名不一致"}


# ---------------------------------------------------------------- synth and examples

def test_the_bundled_examples_are_what_synth_makes(tmp_path):
    run_yibao("synth", "--persons", "1000", "-o", str(tmp_path / "town"))
    made = sorted(p.relative_to(tmp_path / "town") for p in (tmp_path / "town").rglob("*") if p.is_file())
    bundled = sorted(p.relative_to(EXAMPLES) for p in EXAMPLES.rglob("*") if p.is_file())
    assert made == bundled
    for rel in made:
        if rel.suffix == ".xlsx":
            assert values(tmp_path / "town" / rel) == values(EXAMPLES / rel), rel


def test_example_ids_are_fictional_and_valid_except_the_mistakes(town):
    assert 1000 == len(town.members)
    assert {m.id_no[:6] for m in town.members} == {synth.REGION}      # a county code that does not exist
    assert all(idno.is_valid(m.id_no) for m in town.members)
    typed_wrong = [m for m in town.members if m.id_cell != m.id_no]
    assert len(typed_wrong) == 2                                        # wrong check digit, stored as a number
    kinds = {type(m.id_cell) for m in typed_wrong}
    assert kinds == {str, float}
    households = {(m.village, m.family) for m in town.members}
    assert 250 <= len(households) <= 450
    ages = [2026 - m.born.year for m in town.members]
    assert min(ages) <= 1 and max(ages) >= 80
    assert {m.enroll_type for m in town.members} >= {"普通", "新生儿", "职工医保转入", "退役军人"}
    assert sum(1 for m in town.members if m.employee) >= 10


def test_synth_makes_large_ledgers_the_actions_read(tmp_path):
    folder = tmp_path / "big"
    proc = run_yibao("synth", "--persons", "2500", "-o", str(folder))
    assert "2500人" in proc.stdout
    ledger = folder / "台账" / "东山村.xlsx"                              # more rows than the form has
    proc = run_yibao("refresh", str(ledger))
    assert "已刷新700行" in proc.stdout
    proc = run_yibao("validate", *(str(folder / "台账" / f"{v}.xlsx") for v in VILLAGES))
    assert "共检查2500行" in proc.stdout
    errors = sum(1 for v in VILLAGES
                 for r in rows_as_dicts(folder / "台账" / f"{v}.xlsx", "校验报告", "严重程度") if r["严重程度"] == "错误")
    # the seven ledger mistakes, the duplicate on both sides, and each subsidized person whose 未缴费原因
    # says 不愿参保 or 已在外地参保 (no death list passed: the deceased one is not known here)
    refused = [what for _w, what, _s in synth.town(2500).mistakes if what.startswith("资助对象的未缴费原因")]
    assert refused and errors == 8 + len(refused)


def test_synth_refuses_a_folder_with_files(tmp_path):
    (tmp_path / "x.txt").write_text("mine")
    proc = run_yibao("synth", "-o", str(tmp_path), check_rc=2)
    assert "不是空的" in proc.stderr
    assert (tmp_path / "x.txt").read_text() == "mine"


@pytest.mark.parametrize("module", [synth, summary, table, atomic, book, _excel])
def test_docstring_examples(module):
    failures, _tried = doctest.testmod(module)
    assert failures == 0


def test_our_own_backups_in_a_file_list_are_skipped_not_counted_twice(tmp_path):
    """`yibao validate 台账/*.xlsx` after an in-place run also lists the backup
    it left; reading it would make every person a duplicate of themselves."""
    ledger = tmp_path / "东山村.xlsx"
    shutil.copyfile(EXAMPLES / "台账" / "东山村.xlsx", ledger)
    run_yibao("validate", str(ledger))
    backups = list(tmp_path.glob("东山村.备份-*.xlsx"))
    assert len(backups) == 1
    proc = run_yibao("validate", *sorted(str(p) for p in tmp_path.glob("*.xlsx")))
    assert "已跳过备份文件" in proc.stderr and backups[0].name in proc.stderr
    report = rows_as_dicts(ledger, "校验报告", "严重程度")
    assert not [r for r in report if "另一工作簿" in r["问题"]]
    out = tmp_path / "汇总.xlsx"
    proc = run_yibao("summary", str(ledger), str(backups[0]), "-o", str(out), "--no-pdf")
    assert "已跳过备份文件" in proc.stderr
    rows = values(out)["汇总上报"]
    total = next(r for r in rows if "合计" in r[:2])
    one = run_yibao("summary", str(ledger), "-o", str(tmp_path / "单独.xlsx"), "--no-pdf")
    alone = next(r for r in values(tmp_path / "单独.xlsx")["汇总上报"] if "合计" in r[:2])
    assert total[3] == alone[3] > 200 and "Traceback" not in one.stderr


def test_notice_names_the_village_from_the_ledgers_own_line(tmp_path):
    ledger = tmp_path / "南岭村.xlsx"
    shutil.copyfile(EXAMPLES / "台账" / "南岭村.xlsx", ledger)
    run_yibao("notice", str(ledger), "-o", str(tmp_path / "公示.xlsx"))
    rows = values(tmp_path / "公示.xlsx")["公示名单"]
    assert "南岭村" in rows[1][0]
    body = [r for r in rows[3:] if isinstance(r[0], float)]
    assert len(body) > 200 and {r[1] for r in body} == {"南岭村"}
