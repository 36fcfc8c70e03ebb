"""The ribbon inside Excel decides each person's enrollment status from the
same lists as ``yibao validate --lists …``: with no command line there, the
lists are found beside the workbook, the way staff keep them (dedupe writes
资助名单比对结果.xlsx beside the workbook it runs from; the departments'
death and employee-insurance lists in the same folders), told by content,
and the result line says which were used (issue 11: one status everywhere).

``ribbon.perform`` is the ribbon's action without Excel: a FileBook stands
for the live workbook (same interface, book.Book)."""
from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from conftest import run_yibao
from yibao.macros import book as books
from yibao.macros import lists as side
from yibao.macros import ribbon

DEAD = "肖桂娟"          # 东山村, on the demo's death list, full subsidy on the ledger


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("ribbon") / "demo"
    run_yibao("demo", str(root))
    return root


def town_folder(demo: Path, where: Path) -> Path:
    """A town's folder as staff keep it: 台账/ with the village ledgers as
    typed, the merge result beside 台账/, the departments' lists (subsidy,
    death, employee) in 部门名单/. Returns the 东山村 ledger."""
    (where / "台账").mkdir(parents=True)
    for name in ("东山村.xlsx", "西河村.xlsx"):
        shutil.copyfile(demo / "原始数据" / "台账" / name, where / "台账" / name)
    shutil.copyfile(demo / "资助名单比对结果.xlsx", where / "资助名单比对结果.xlsx")
    shutil.copytree(demo / "原始数据" / "部门名单", where / "部门名单")
    return where / "台账" / "东山村.xlsx"


def report(path: Path) -> list[tuple]:
    return [r for r in openpyxl.load_workbook(path)["校验报告"].iter_rows(values_only=True)]


def test_ribbon_validate_finds_the_lists_and_agrees_with_validate_lists(demo, tmp_path):
    ledger = town_folder(demo, tmp_path / "ribbon")
    line = ribbon.perform("validate", books.FileBook(ledger, for_update=True), ledger)
    typed = town_folder(demo, tmp_path / "cli")
    cli = run_yibao("validate", str(typed), "--lists", str(typed.parent.parent / "部门名单"),
                    "--roster", str(typed.parent.parent / "资助名单比对结果.xlsx")).stdout
    # the same findings, cell for cell, as on the command line with the lists
    assert report(ledger) == report(typed)
    assert line.split("；详见")[0] == cli.split("；详见")[0]
    assert any(r[4] == DEAD and "死亡人员名单" in r[6] for r in report(ledger))
    # and the line says which lists were used (department subsidy lists are not)
    assert "资助名单比对结果.xlsx（合并后的资助名单）" in line
    assert "部门名单/死亡人员名单.xlsx（死亡人员名单）" in line
    assert "部门名单/职工医保参保名单.xlsx（职工医保参保名单）" in line
    assert "民政.xlsx" not in line and "西河村.xlsx" not in line


def test_ribbon_validate_without_lists_says_so(demo, tmp_path):
    ledger = tmp_path / "东山村.xlsx"
    shutil.copyfile(demo / "原始数据" / "台账" / "东山村.xlsx", ledger)
    line = ribbon.perform("validate", books.FileBook(ledger, for_update=True), ledger)
    assert "未找到死亡人员名单、职工医保参保名单或资助名单比对结果" in line
    assert not any(r[4] == DEAD and "死亡人员名单" in str(r[6]) for r in report(ledger))


def test_ribbon_notice_leaves_off_the_deceased_found_beside_it(demo, tmp_path):
    ledger = town_folder(demo, tmp_path / "镇")
    line = ribbon.perform("notice", books.FileBook(ledger, for_update=True), ledger)
    names = {r[2] for r in openpyxl.load_workbook(ledger)["公示名单"].iter_rows(values_only=True)}
    assert len(names) > 100 and DEAD not in names and "死亡人员名单" in line
    # the same ledger with no list beside it: the deceased person is posted (the difference the lists make)
    alone = tmp_path / "单独" / "村" / "东山村.xlsx"
    alone.parent.mkdir(parents=True)
    shutil.copyfile(demo / "原始数据" / "台账" / "东山村.xlsx", alone)
    ribbon.perform("notice", books.FileBook(alone, for_update=True), alone)
    assert DEAD in {r[2] for r in openpyxl.load_workbook(alone)["公示名单"].iter_rows(values_only=True)}


def test_nearby_lists_are_told_by_content_not_by_name(demo, tmp_path):
    """Renamed lists are still found by what they hold; ledgers, department
    subsidy lists, lock files and our backups beside the workbook are not
    lists; a list in a folder staff do not use for them is not looked at."""
    ledger = town_folder(demo, tmp_path)
    lists_dir = tmp_path / "部门名单"
    (lists_dir / "死亡人员名单.xlsx").rename(lists_dir / "名单2.xlsx")
    shutil.copyfile(lists_dir / "名单2.xlsx", ledger.parent / "~$名单2.xlsx")
    shutil.copyfile(lists_dir / "职工医保参保名单.xlsx", ledger.parent / "职工医保参保名单.备份-20261123-101500.xlsx")
    (tmp_path / "别处").mkdir()
    shutil.move(str(lists_dir / "职工医保参保名单.xlsx"), tmp_path / "别处" / "职工医保参保名单.xlsx")
    found = side.find_nearby_lists(ledger)
    assert [shown for shown, _k in found.used] == ["上一级文件夹的资助名单比对结果.xlsx", "上一级文件夹的部门名单/名单2.xlsx"]
    assert dict(found.used)["上一级文件夹的部门名单/名单2.xlsx"] == "死亡人员名单"
    assert found.lists.deceased and not found.lists.employee
    assert sum(r.amount or 0 for r in found.roster_rows()) > 0        # the roster's amounts, in fen


def test_an_unsaved_workbook_looks_nowhere(tmp_path, monkeypatch):
    """Excel's 工作簿1 has no folder: nothing is read from wherever Excel was started."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "死亡人员名单.xlsx").write_bytes(b"not read")
    found = side.find_nearby_lists(Path("工作簿1"))
    assert found.lists is None and not found.used and "未找到" in found.note()


def test_a_death_list_row_with_another_name_is_reported_not_applied(demo, tmp_path):
    # "王五,430999801016915": an old 15-digit number that upgrades to 肖桂娟's ID
    ledger = tmp_path / "东山村.xlsx"
    shutil.copyfile(demo / "原始数据" / "台账" / "东山村.xlsx", ledger)
    dead = tmp_path / "死亡人员名单.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "身份证号", "死亡日期"])
    wb.active.append(["王五", "430999801016915", "2025-07-03"])
    wb.save(dead)
    run_yibao("validate", str(ledger), "--deceased", str(dead))
    rows = [r for r in report(ledger) if r[4] == DEAD]
    assert any("王五" in r[6] and "肖桂娟" in r[6] and "死亡人员名单.xlsx 第2行" in r[6] for r in rows), rows
    assert not any("必填项" in r[6] for r in rows)
    # summary: not silently 已死亡 but held as an error to check, by name
    out = run_yibao("summary", str(ledger), "--deceased", str(dead), "-o", str(tmp_path / "s.xlsx"),
                    "--no-pdf").stdout
    assert f"东山村 {DEAD}" in out and "有错误未计入" in out


def test_validate_refuses_a_copy_of_a_ledger_and_touches_neither_file(demo, tmp_path):
    ledger = tmp_path / "东山村.xlsx"
    shutil.copyfile(demo / "原始数据" / "台账" / "东山村.xlsx", ledger)
    copy = tmp_path / "东山村 - 副本.xlsx"
    shutil.copyfile(ledger, copy)
    before = ledger.read_bytes()
    proc = run_yibao("validate", str(ledger), str(copy), check_rc=2)
    line = proc.stderr.strip()
    assert len(line.splitlines()) == 1 and "“东山村 - 副本.xlsx”是“东山村.xlsx”的副本" in line, proc.stderr
    assert ledger.read_bytes() == before and copy.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["东山村 - 副本.xlsx", "东山村.xlsx"]   # no backup either
    assert "两个文件内容完全相同" in line
    # a copy since changed (a row typed in it, saved again): told by its persons at the same rows
    wb = openpyxl.load_workbook(copy)
    wb.worksheets[0]["C5"] = "改过"
    wb.save(copy)
    changed = copy.read_bytes()
    line = run_yibao("validate", str(ledger), str(copy), check_rc=2).stderr
    assert "“东山村 - 副本.xlsx”是“东山村.xlsx”的副本" in line and "人在同一表同一行" in line, line
    assert ledger.read_bytes() == before and copy.read_bytes() == changed
    # the same file listed twice: refused the same way
    run_yibao("validate", str(ledger), str(ledger), check_rc=2)
    assert ledger.read_bytes() == before


def test_validate_still_flags_one_person_on_two_villages_ledgers(demo, tmp_path):
    # 高春霞 is on 北坡社区's and 西河村's ledgers: a duplicate, not a copy
    paths = []
    for name in ("北坡社区.xlsx", "西河村.xlsx"):
        shutil.copyfile(demo / "原始数据" / "台账" / name, tmp_path / name)
        paths.append(str(tmp_path / name))
    run_yibao("validate", *paths)
    dup = [r for r in report(tmp_path / "西河村.xlsx") if "身份证号重复（另一工作簿）" in str(r[6])]
    assert [r[4] for r in dup] == ["高春霞"]


def test_notice_with_the_other_ledgers_posts_a_person_on_two_villages_once(demo, tmp_path):
    # 高春霞 is on 北坡社区's and 西河村's ledgers; summary counts her at 北坡社区
    ledgers = demo / "原始数据" / "台账"
    all_ledgers = sorted(map(str, ledgers.glob("*.xlsx")))
    posted = {}
    for village in ("北坡社区", "西河村"):
        out = tmp_path / f"{village}公示.xlsx"
        line = run_yibao("notice", str(ledgers / f"{village}.xlsx"), "-o", str(out), "--others", *all_ledgers).stdout
        posted[village] = ({r[2] for r in openpyxl.load_workbook(out).active.iter_rows(values_only=True)}, line)
    assert "高春霞" in posted["北坡社区"][0] and "高春霞" not in posted["西河村"][0]
    assert "高春霞（本台账第21行，计入北坡社区" in posted["西河村"][1]
    summary = run_yibao("summary", *all_ledgers, "-o", str(tmp_path / "汇总.xlsx"), "--no-pdf").stdout
    assert "高春霞" in summary and "计入北坡社区" in summary
    # without the other ledgers each village posts her (what --others is for)
    out = tmp_path / "单独.xlsx"
    run_yibao("notice", str(ledgers / "西河村.xlsx"), "-o", str(out))
    assert "高春霞" in {r[2] for r in openpyxl.load_workbook(out).active.iter_rows(values_only=True)}


def test_the_demo_posts_a_person_on_two_villages_once(demo):
    posted = [p.stem for p in (demo / "公示名单").glob("*.xlsx")
              if any(r[2] == "高春霞" for r in openpyxl.load_workbook(p).active.iter_rows(values_only=True))]
    assert len(posted) == 1, posted


def test_notice_given_only_the_other_villages_still_posts_a_person_once(demo, tmp_path):
    # the help says --others is 本镇其他村的台账: each village's notice run with the others only
    # must agree where 高春霞 (北坡社区 and 西河村) is posted
    ledgers = sorted((demo / "原始数据" / "台账").glob("*.xlsx"))
    posted = []
    for ledger in ledgers:
        out = tmp_path / f"{ledger.stem}公示.xlsx"
        run_yibao("notice", str(ledger), "-o", str(out), "--others", *[str(p) for p in ledgers if p != ledger])
        if any(r[2] == "高春霞" for r in openpyxl.load_workbook(out).active.iter_rows(values_only=True)):
            posted.append(ledger.stem)
    assert posted == ["北坡社区"], posted
