"""`yibao renewal --last … --this …` (issue 14, command 3): last year's insured who
have not enrolled this year, per village for the village agents. Two villages'
ledgers for each year of the fictional plan shili-2026 (ordinary payable 400元,
低保户 200元, 特困人员 0元); each group planted once and found, nothing else;
inputs keep their bytes."""
from __future__ import annotations

import hashlib
from pathlib import Path

import openpyxl
import pytest

from conftest import make_id, run_yibao

I = {k: make_id("19800101", seq, "430999") for k, seq in
     dict(renewed=11, moved_out=13, dibao=15, dead=17, employee=19, old15=21, lapsed=23, away=25,
          tekun=27, same_name=29, same_name_new=31, newcomer=33, pending=35).items()}
OLD15 = I["old15"][:6] + I["old15"][8:17]          # last year's ledger has the old 15-digit number
BAD = "4309991980010100"                              # 16 digits: cannot be matched
PHONE = "13900001111"


def ledger(path: Path, village: str, people):
    """A village ledger as the template lays it out: title, 填报单位 line, header."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "参保缴费登记表"
    ws.append(["示例县城乡居民基本医疗保险参保缴费登记表"])
    ws.append([f"填报单位：示例镇　{village}", None, None, None, "方案编号", "shili-2026"])
    ws.append(["序号", "家庭编号", "姓名", "身份证号", "身份类别", "个人缴费", "缴费日期", "联系电话", "未缴费原因"])
    for i, (family, name, id_no, identity, paid, reason, *phone) in enumerate(people, 1):
        ws.append([i, family, name, id_no, identity, paid, "2025-10-15" if paid else None,
                   phone[0] if phone else None, reason])
        ws.cell(ws.max_row, 4).data_type = "s"
        if phone:
            ws.cell(ws.max_row, 8).data_type = "s"
    wb.save(path)
    return path


def files(tmp_path):
    (tmp_path / "去年").mkdir()
    (tmp_path / "今年").mkdir()
    last = [
        ledger(tmp_path / "去年" / "东山村.xlsx", "东山村", [
            ("D02", "李二", I["moved_out"], None, 400, None, PHONE),   # not on this year's ledger: chase
            ("D01", "张一", I["renewed"], None, 400, None),            # paid this year: renewed
            ("D02", "王三", I["dibao"], "低保户", 200, None),          # this year unpaid: chase, 200
            ("D03", "赵四", I["dead"], None, 400, None),               # this year 已死亡: not chased
            ("D03", "钱五", I["employee"], None, 400, None),           # this year 职工医保: not chased
            ("D04", "孙六", OLD15, None, 400, None),                   # 15-digit last year, paid this year
            ("D05", "周七", I["lapsed"], None, None, "外出务工"),       # not insured last year
        ]),
        ledger(tmp_path / "去年" / "西山村.xlsx", "西山村", [
            ("X01", "吴八", I["away"], None, 400, None),               # this year 异地参保: not chased
            ("X02", "陈九", I["tekun"], "特困人员", None, None),        # fully subsidized, gone this year: chase, 0
            ("X03", "郑十", BAD, None, 400, None),                     # bad ID: cannot be matched
            ("X04", "何十二", I["same_name"], None, 400, None),         # a namesake paid this year: still chase
            ("X05", "冯十一", I["pending"], None, 400, None),           # this year's row unreadable: 待核实
        ]),
    ]
    this = [
        ledger(tmp_path / "今年" / "东山村.xlsx", "东山村", [
            ("D01", "张一", I["renewed"], None, 400, None),
            ("D02", "王三", I["dibao"], "低保户", None, None),
            ("D03", "赵四", I["dead"], None, None, "已死亡"),
            ("D03", "钱五", I["employee"], None, None, "参加职工医保"),
            ("D04", "孙六", I["old15"], None, 400, None),
            ("D06", "新人", I["newcomer"], None, 400, None),           # new this year: not on the list
        ]),
        ledger(tmp_path / "今年" / "西山村.xlsx", "西山村", [
            ("X01", "吴八", I["away"], None, None, "异地参保"),
            ("X04", "何十二", I["same_name_new"], None, 400, None),
            ("X05", "冯十一", I["pending"], None, "四百元", None),
        ]),
    ]
    return last, this


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def body(ws, first=4) -> list[tuple]:
    return [r for r in ws.iter_rows(min_row=first, values_only=True) if isinstance(r[0], int)]


def test_each_group_is_found_and_nothing_else(tmp_path):
    last, this = files(tmp_path)
    before = {p: digest(p) for p in last + this}
    proc = run_yibao("renewal", "--last", *map(str, last), "--this", *map(str, this), "--policy", "shili-2026")
    assert {p: digest(p) for p in last + this} == before            # inputs never modified
    line = proc.stdout.strip()
    assert "\n" not in line and "去年台账12人" in line and "各类合计相符" in line
    assert "430999" not in proc.stdout + proc.stderr and PHONE not in proc.stdout
    out = this[0].with_name("续保催缴名单.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["汇总", "分村统计", "催缴-东山村", "催缴-西山村", "不需催缴", "待核实"]

    east = body(wb["催缴-东山村"])
    # sorted by household: 李二 (D02, first row of last year's file) and 王三 (D02)
    assert [(r[1], r[2]) for r in east] == [("D02", "李二"), ("D02", "王三")]
    li, wang = east
    assert li[3] == I["moved_out"][:6] + "********" + I["moved_out"][14:]   # masked for the village agent
    assert li[4] == PHONE and (li[5], li[6]) == (400, 400) and li[7] == "2025-12-31"
    assert "本年台账无此人" in li[8]
    assert "等待期" not in str(wb["催缴-东山村"]["A2"].value)           # shili-2026 states no waiting period
    assert (wang[5], wang[6]) == (200, 200) and "未缴费" in wang[8]       # 低保户: this year's PAYABLE 200
    west = body(wb["催缴-西山村"])
    assert [(r[1], r[2]) for r in west] == [("X02", "陈九"), ("X04", "何十二")]
    assert west[0][6] == 0                                               # 特困人员: nothing to pay
    assert west[1][3].endswith(I["same_name"][14:])                      # matched by ID, never by name

    stop = {(r[3], r[7]) for r in body(wb["不需催缴"])}
    assert stop == {("赵四", "已死亡"), ("钱五", "职工医保"), ("吴八", "异地参保")}
    assert [r[3] for r in body(wb["待核实"])] == ["冯十一"]
    for ws in wb.worksheets:
        text = " ".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None)
        assert not any(i in text for i in I.values())                    # every ID masked

    summary = {r[0]: r[1] for r in wb["汇总"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert (summary["未续保（待催缴）"], summary["不需催缴"], summary["本年台账待核实"], summary["已续保"],
            summary["去年未参保"], summary["去年台账身份证号有误"]) == (4, 3, 1, 2, 1, 1)
    assert summary["去年台账合计"] == 12 and any(str(k).startswith("账平") for k in summary)
    per = {r[0]: r[1:] for r in wb["分村统计"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert per["东山村"] == (2, 2, 0, 2, 1, 0, 7) and per["西山村"] == (2, 1, 1, 0, 0, 1, 5)
    assert per["合计"] == (4, 3, 1, 2, 1, 1, 12)


def test_plan_deadline_and_waiting_period_are_the_plans_own(tmp_path):
    """001 三(二)1: 零星征缴期 90-day waiting period; shili-2026 states none, so nothing is said."""
    from yibao.functions import plan as plans
    from yibao.macros.renewal import deadline_of, late_terms
    shuang = plans.load("shuangshui-2025")
    assert str(deadline_of(shuang)) == "2025-02-28"
    assert "待遇等待期90天" in late_terms(shuang) and "001 三(二)1" in late_terms(shuang)
    zao = plans.load("zaozhuang-2022")
    assert "待遇等待期30天" in late_terms(zao)
    # on the chase list: this year under shuangshui-2025, last year's ledgers read with shili-2026
    last, this = files(tmp_path)
    out = tmp_path / "续保.xlsx"
    run_yibao("renewal", "--last", *map(str, last), "--this", *map(str, this), "--policy", "shuangshui-2025",
              "--last-policy", "shili-2026", "-o", str(out))
    ws = openpyxl.load_workbook(out)["催缴-东山村"]
    assert "2025-02-28前" in ws["A2"].value and "待遇等待期90天（001 三(二)1）" in ws["A2"].value
    assert {r[7] for r in body(ws)} == {"2025-02-28"}
    shili = plans.load("shili-2026")
    assert str(deadline_of(shili)) == "2025-12-31" and late_terms(shili) == ""


@pytest.mark.parametrize("args", [
    ("--last", "{missing}", "--this", "{this}"),
    ("--last", "{last}", "--this", "{this}", "-o", "{tmp}/结果.csv"),
    ("--this", "{this}"),                                   # neither last year's ledgers nor an export
    ("--last-export", "{tmp}/名单.csv", "--this", "{this}"),  # an export without an ID column
])
def test_bad_input_is_one_chinese_line_exit_2(tmp_path, args):
    last, this = files(tmp_path)
    (tmp_path / "名单.csv").write_text("姓名,金额\r\n张一,400\r\n", encoding="utf-8")
    names = {"missing": str(tmp_path / "没有这个文件.xlsx"), "this": str(this[0]), "last": str(last[0]),
             "tmp": str(tmp_path)}
    proc = run_yibao("renewal", *[a.format(**names) for a in args], "--policy", "shili-2026", check_rc=2)
    err = proc.stderr.strip()
    assert "\n" not in err and "Traceback" not in err and any("\u4e00" <= ch <= "\u9fff" for ch in err)


def test_the_chase_list_prints_on_a4_readable(tmp_path):
    import pdfcheck
    if not pdfcheck.available():
        pytest.skip("LibreOffice (soffice) not installed")
    last, this = files(tmp_path)
    out = tmp_path / "续保.xlsx"
    run_yibao("renewal", "--last", *map(str, last), "--this", *map(str, this), "--policy", "shili-2026",
              "-o", str(out))
    doc = pdfcheck.read(pdfcheck.render([out], tmp_path / "pdf")[out])
    assert not pdfcheck.problems(doc, min_font=9.0)
    assert doc.count == len(openpyxl.load_workbook(out).sheetnames)


def test_last_years_payment_export_stands_for_last_years_ledgers(tmp_path):
    """A tax-bureau style export (GBK, ="…" IDs, one 15-digit number, a 养老 row) as last year's list."""
    _last, this = files(tmp_path)
    rows = [("张一", I["renewed"], "城乡居民基本医疗保险"), ("李二", I["moved_out"], "城乡居民基本医疗保险"),
            ("孙六", OLD15, "城乡居民基本医疗保险"), ("赵四", I["dead"], "城乡居民基本医疗保险"),
            ("李二", I["moved_out"], "城乡居民基本养老保险"), ("张一", I["renewed"], "城乡居民基本医疗保险")]
    lines = ["序号,缴费人姓名,缴费人证件号码,征收品目,实缴金额,入库日期,村（社区）"]
    lines += [f'{i},{n},="{x}",{k},400.00,2024-10-15 09:00:00,东山村' for i, (n, x, k) in enumerate(rows, 1)]
    export = tmp_path / "去年缴费明细.csv"
    export.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    before = digest(export)
    out = tmp_path / "续保.xlsx"
    proc = run_yibao("renewal", "--last-export", str(export), "--this", *map(str, this), "--policy", "shili-2026",
                     "-o", str(out))
    assert digest(export) == before
    assert "去年台账4人" in proc.stdout and "各类合计相符" in proc.stdout
    wb = openpyxl.load_workbook(out)
    assert [(r[2], r[5], r[6]) for r in body(wb["催缴-东山村"])] == [("李二", 400, 400)]
    assert [r[3] for r in body(wb["不需催缴"])] == ["赵四"]
    summary = {r[0]: r[1] for r in wb["汇总"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert summary["已续保"] == 2 and summary["去年台账合计"] == 4
    assert any(str(k).startswith("去年名单中另有1行与其他行是同一人") for k in summary)   # 张一 twice, once counted


def test_a_person_gone_from_this_years_ledger_but_on_the_death_list_is_not_chased(tmp_path):
    """002 四(四) 资助流程4: the death list strikes 李二 off; 陈九 on it under another name is 待核实."""
    last, this = files(tmp_path)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["死亡人员名单"])
    ws.append(["序号", "姓名", "身份证号", "死亡日期"])
    ws.append([1, "李二", I["moved_out"], "2025-08-01"])
    ws.append([2, "陈久", I["tekun"], "2025-08-02"])
    for r in (3, 4):
        ws.cell(r, 3).data_type = "s"
    deaths = tmp_path / "死亡人员名单.xlsx"
    wb.save(deaths)
    out = tmp_path / "续保.xlsx"
    run_yibao("renewal", "--last", *map(str, last), "--this", *map(str, this), "--policy", "shili-2026",
              "--deceased", str(deaths), "-o", str(out))
    wb = openpyxl.load_workbook(out)
    assert [r[2] for r in body(wb["催缴-东山村"])] == ["王三"]
    assert [r[2] for r in body(wb["催缴-西山村"])] == ["何十二"]
    stop = {r[3]: r for r in body(wb["不需催缴"])}
    assert set(stop) == {"李二", "赵四", "钱五", "吴八"} and "本年台账无此人" in stop["李二"][8]
    assert "已死亡" in stop["李二"][8] and (stop["李二"][6], stop["李二"][7]) == ("无此人", "已死亡")
    assert sorted(r[3] for r in body(wb["待核实"])) == ["冯十一", "陈九"]
    summary = {r[0]: r[1] for r in wb["汇总"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert summary["去年台账合计"] == 12 and any(str(k).startswith("账平") for k in summary)


def test_the_ribbon_button_asks_for_last_years_ledgers_and_reads_the_live_one(tmp_path):
    """renewal.ribbon: the workbook the button is pressed in is this year's ledger (read as
    the Book it is), the user picks last year's; cancelling the first question writes nothing."""
    from yibao.macros import book as books
    from yibao.macros import renewal
    last, this = files(tmp_path)
    asked = []

    def pick(answers):
        def pick_files(title):
            asked.append(title)
            return answers.pop(0)
        return pick_files

    live = books.FileBook(this[0])
    assert "未选择" in renewal.ribbon(live, this[0], pick([None]))
    assert not (tmp_path / "今年" / "续保催缴名单.xlsx").exists()
    before = {p: digest(p) for p in last + this}
    line = renewal.ribbon(live, this[0], pick([[str(p) for p in last], [str(this[1]), str(this[0])]]))
    assert "去年" in asked[1] and "今年" in asked[2]
    assert line.startswith("去年台账12人") and "各类合计相符" in line and "续保催缴名单.xlsx" in line
    assert (tmp_path / "今年" / "续保催缴名单.xlsx").exists()
    assert {p: digest(p) for p in last + this} == before


@pytest.mark.parametrize("seed", [2027, 11])
def test_synth_town_last_years_ledgers_list_exactly_the_planted_persons(tmp_path, seed):
    """The synthetic town's 上年度台账 (plan shili-2025, the examples' and the demo's)
    against this year's ledgers and lists: the persons planted as paid last year and not
    this year are listed, those to chase on the village chase sheets and those who died,
    joined employee insurance or insured elsewhere on 不需催缴; no one else is."""
    from yibao import synth
    folder = tmp_path / "town"
    run_yibao("synth", "--persons", "1000", "--seed", str(seed), "-o", str(folder))
    last = sorted((folder / synth.LAST_FOLDER).glob("*.xlsx"))
    this = sorted((folder / "台账").glob("*.xlsx"))
    assert len(last) == 4
    before = {p: digest(p) for p in last + this}
    out = tmp_path / "续保.xlsx"
    lists = folder / "部门名单"
    proc = run_yibao("renewal", "--last", *map(str, last), "--this", *map(str, this), "-o", str(out),
                     "--deceased", str(lists / "死亡人员名单.xlsx"), "--employee", str(lists / "职工医保参保名单.xlsx"))
    assert "各类合计相符" in proc.stdout and {p: digest(p) for p in before} == before
    wb = openpyxl.load_workbook(out)
    listed = [("未续保（待催缴）", r[2]) for ws in wb.worksheets if ws.title.startswith("催缴-") for r in body(ws)]
    listed += [("不需催缴", r[3]) for r in body(wb["不需催缴"])]
    assert "待核实" not in wb.sheetnames
    planted = synth.town(1000, seed).renewal_planted
    assert sorted(listed) == sorted((g, n) for g, n, _i in planted)
    assert {r[7] for r in body(wb["不需催缴"])} == {"已死亡", "职工医保", "异地参保"}
    assert len([g for g, _n, _i in planted if g == "未续保（待催缴）"]) == 5
    mistakes = (folder / "错误清单.md").read_text(encoding="utf-8").split("## 上年度台账与今年台账")[1]
    for group, name, _i in planted:
        assert f"“{name}”" in mistakes and f"续保：{group}" in mistakes


@pytest.mark.parametrize("which", ["this", "last"])
def test_an_output_named_as_one_of_the_ledgers_is_refused_not_written_over_it(tmp_path, which):
    """`-o 今年/东山村.xlsx`: that ledger was left out of the comparison (its persons all chased)
    and replaced by the chase list. It is refused, nothing written."""
    last, this = files(tmp_path)
    before = {p: digest(p) for p in last + this}
    target = (this if which == "this" else last)[0]
    proc = run_yibao("renewal", "--last", *map(str, last), "--this", *map(str, this), "--policy", "shili-2026",
                     "-o", str(target), check_rc=2)
    assert proc.stderr.count("\n") == 1 and "台账" in proc.stderr and "东山村.xlsx" in proc.stderr
    assert {p: digest(p) for p in last + this} == before
    assert not [p for d in ("去年", "今年") for p in (tmp_path / d).iterdir() if "备份" in p.name]


def test_last_years_payment_export_given_as_a_ledger_is_refused_pointing_to_last_export(tmp_path):
    """`--last 去年缴费明细.csv --last-policy …`: the export was read as a ledger, its payers called
    去年未参保 and never chased. It is refused with the option to use instead."""
    _last, this = files(tmp_path)
    lines = ["序号,缴费人姓名,缴费人证件号码,征收品目,实缴金额,入库日期,所属区划"]
    lines += [f'1,张一,="{I["renewed"]}",城乡居民基本医疗保险,400.00,2024-10-15 09:00:00,示例县',
              f'2,李二,="{I["moved_out"]}",城乡居民基本医疗保险,400.00,2024-10-16 09:00:00,示例县']
    export = tmp_path / "去年缴费明细.csv"
    export.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    proc = run_yibao("renewal", "--last", str(export), "--this", *map(str, this), "--policy", "shili-2026",
                     "--last-policy", "shili-2025", "-o", str(tmp_path / "续保.xlsx"), check_rc=2)
    assert proc.stderr.count("\n") == 1 and "缴费导出" in proc.stderr and "--last-export" in proc.stderr
    assert not (tmp_path / "续保.xlsx").exists()


def test_the_chase_list_left_beside_the_ledgers_is_passed_over_by_the_next_commands_wildcard(tmp_path):
    """renewal writes 续保催缴名单.xlsx beside this year's ledgers by default; the next
    `yibao reconcile 导出.csv 今年/*.xlsx` and `yibao uninsured 户籍.xlsx 今年/*.xlsx` stopped with
    “看起来是一份人员名单”."""
    last, this = files(tmp_path)
    run_yibao("renewal", "--last", *map(str, last), "--this", *map(str, this), "--policy", "shili-2026")
    swept = sorted((tmp_path / "今年").glob("*.xlsx"))
    assert "续保催缴名单.xlsx" in [p.name for p in swept]
    export = tmp_path / "导出.csv"
    export.write_bytes(("姓名,证件号码,实缴金额,缴费日期\r\n"
                        f'张一,="{I["renewed"]}",400.00,2025-10-15\r\n').encode("gbk"))
    line = run_yibao("reconcile", str(export), *map(str, swept), "--policy", "shili-2026",
                     "-o", str(tmp_path / "比对.xlsx")).stdout
    assert "台账9人" in line and "各类合计相符" in line
    register = tmp_path / "户籍.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["户号", "姓名", "与户主关系", "身份证号", "村（居）"])
    wb.active.append(["D01", "张一", "户主", I["renewed"], "东山村"])
    wb.save(register)
    line = run_yibao("uninsured", str(register), *map(str, swept), "--policy", "shili-2026").stdout
    assert "户籍名单1行：参保1" in line
