"""Town-level actions on real workbooks: quota (任务分配), reward (奖励测算),
progress (进度通报) and summary (汇总上报).

Every test builds real files with openpyxl, runs the real `yibao` command and
opens what it wrote as a user would; input cells are compared before and after.
"""
from __future__ import annotations

import datetime
import os
import shutil
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest

from conftest import make_id, run_yibao
from yibao.macros.book import Book, FileBook

# 004 附件1: 2019 户籍人口数, 2019 目标任务数, 2020 预计净增, 2020 目标任务数
TABLE_004 = [
    (2931, 2787, 23, 2810), (4998, 4529, 37, 4566), (5808, 5143, 43, 5186), (3421, 3167, 25, 3192),
    (5954, 5705, 47, 5752), (3168, 2979, 24, 3003), (4579, 4329, 36, 4365), (4957, 4839, 39, 4878),
    (2252, 2115, 20, 2135), (5723, 5426, 45, 5471), (6229, 5849, 48, 5897), (3650, 3303, 27, 3330),
    (1483, 405, 15, 420),
]
NAMES = [f"=第{i + 1}村" for i in range(12)] + ["社区"]     # formula-looking names stay text


def snapshot(path: Path, skip=("任务分配", "奖励测算", "进度通报", "汇总上报", "汇总上报-资助明细")) -> dict:
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate): c.value for ws in wb if ws.title not in skip
            for row in ws.iter_rows() for c in row if c.value is not None}


def task_table(path: Path, fixed: dict | None = None, targets=True, as_text=False, plan="xxzhen-2020"):
    """004 附件1 as a town would type it: titles above the header, the
    header not on row 1, a merged title, a 指定任务数 column, the 合计 row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "任务分配表"
    ws.append(["XX镇2020年城乡居民基本医疗保险筹资任务分配表"])
    ws.merge_cells("A1:F1")
    ws.append(["单位：人", None, None, None, "方案编号", plan])
    ws.append([])
    ws.append(["村  名", "2019年派出所户籍人口数", "2019年目标任务数", "2020预计净增数", "2020年目标任务数",
               "指定任务数"])
    for name, row in zip(NAMES, TABLE_004):
        values = [f"{v:,}" if as_text else v for v in row]
        if not targets:
            values[3] = None
        ws.append([name, *values, (fixed or {}).get(name)])
        ws.cell(ws.max_row, 1).data_type = "s"
    ws.append(["合  计", 55153, 50576, 429, 51005 if targets else None])
    ws.append(["填表人：", None, "审核人："])
    wb.save(path)
    return path


def quota_rows(path: Path):
    ws = openpyxl.load_workbook(path)["任务分配"]
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    body = [r for r in rows if isinstance(r[0], int)]
    total = next(r for r in rows if r[1] == "合计")
    return ws, body, total


# ---------------------------------------------------------------- quota

def test_the_seed_table_sums_to_its_own_totals():
    assert sum(r[0] for r in TABLE_004) == 55153
    assert sum(r[1] for r in TABLE_004) == 50576
    assert sum(r[3] for r in TABLE_004) == 51005


def test_quota_allocates_51005_from_the_2019_base_exactly_and_keeps_the_fixed_figure(tmp_path):
    path = task_table(tmp_path / "任务.xlsx", fixed={"社区": 420})
    before = snapshot(path)
    proc = run_yibao("quota", str(path))            # plan and total read from the table itself
    assert proc.stdout.count("\n") == 1 and "合计51005人" in proc.stdout and "保留指定任务数1个" in proc.stdout
    assert snapshot(path) == before
    ws, body, total = quota_rows(path)
    assert len(body) == 13 and total[7] == 51005
    assert sum(r[7] for r in body) == 51005
    by_name = {r[1]: r for r in body}
    assert by_name["社区"][7] == 420 and by_name["社区"][8].startswith("指定")
    assert by_name["=第1村"][1] == "=第1村"
    cell = next(c for c in ws["B"] if c.value == "=第1村")
    assert cell.data_type == "s"
    weight = 50576 - 405
    floors = 0
    for name, (_p, t19, _n, _t) in zip(NAMES[:12], TABLE_004[:12]):
        r = by_name[name]
        exact = Fraction(50585 * t19, weight)
        assert r[5] == int(exact) and r[6] in (0, 1) and r[7] == r[5] + r[6]
        assert abs(Fraction(r[7]) - exact) < 1
        floors += r[5]
    # the persons left after the whole parts went to the largest fractional parts
    left = 50585 - floors
    plus = sorted((Fraction(50585 * t19, weight) - int(Fraction(50585 * t19, weight)), n)
                  for n, (_p, t19, _n, _t) in zip(NAMES[:12], TABLE_004[:12]))[::-1]
    assert {n for _f, n in plus[:left]} == {r[1] for r in body if r[6] == 1}
    assert total[6] == left
    # the plan's milestones: 95% by 12-31 and 100% by 02-29, rounded up
    header = [c.value for c in ws[3]]
    assert "12月31日前应完成（95%）" in header and "2月29日前应完成（100%）" in header
    col95 = header.index("12月31日前应完成（95%）")
    assert by_name["社区"][col95] == 399            # ceil(420 * 0.95)
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    assert "最大余数法" in text and f"余下{left}人按小数部分从大到小各加1人" in text
    backups = list(tmp_path.glob("任务.备份-*.xlsx"))
    assert len(backups) == 1 and snapshot(backups[0]) == before


def test_quota_by_population_with_a_fix_option_and_a_rerun_replaces_the_sheet(tmp_path):
    path = task_table(tmp_path / "任务.xlsx", targets=False, as_text=True)   # numbers stored as text
    for _ in range(2):
        run_yibao("quota", str(path), "--total", "51005", "--base", "population", "--fix", "社区=500",
                  "--policy", "xxzhen-2020")
    wb = openpyxl.load_workbook(path)
    assert [ws.title for ws in wb if ws.sheet_state == "visible"] == ["任务分配表", "任务分配"]
    _ws, body, total = quota_rows(path)
    assert sum(r[7] for r in body) == 51005 == total[7]
    assert {r[1]: r[7] for r in body}["社区"] == 500
    assert body[0][2] == 2931 and "户籍人口" in str(_ws["C3"].value)


def test_quota_refusals_are_one_chinese_line_and_write_nothing(tmp_path):
    path = task_table(tmp_path / "任务.xlsx", fixed={"社区": 60000})
    before = path.read_bytes()
    proc = run_yibao("quota", str(path), check_rc=2)
    assert proc.stderr.startswith("错误：") and "超过了目标任务总数51005人" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_yibao("quota", str(path), "--fix", "五村=1", check_rc=2)
    assert "不在任务表中" in proc.stderr
    proc = run_yibao("quota", str(path), "--base", "栋数", check_rc=2)
    assert "不认识的分配基数" in proc.stderr
    no_total = task_table(tmp_path / "无合计.xlsx", targets=False)
    proc = run_yibao("quota", str(no_total), check_rc=2)
    assert "--total" in proc.stderr
    # a workbook Excel has open: refused, nothing written, no backup
    ok = task_table(tmp_path / "打开中.xlsx")
    lock = tmp_path / "~$打开中.xlsx"
    lock.write_bytes(b"")
    original = ok.read_bytes()
    proc = run_yibao("quota", str(ok), check_rc=2)
    assert "正被Excel或WPS打开" in proc.stderr
    assert ok.read_bytes() == original and not list(tmp_path.glob("打开中.备份-*"))
    assert path.read_bytes() == before


def test_quota_reads_csv_and_writes_a_new_workbook_beside_it(tmp_path):
    src = tmp_path / "任务.csv"
    lines = ["村名,2019年目标任务数,2020年目标任务数"] + [f"{n},{r[1]}," for n, r in zip(NAMES, TABLE_004)]
    lines.append("合计,50576,51005")
    src.write_text("\n".join(lines) + "\n", encoding="gb18030")
    original = src.read_bytes()
    proc = run_yibao("quota", str(src), "--policy", "xxzhen-2020")
    out = tmp_path / "任务-任务分配.xlsx"
    assert out.exists() and "任务-任务分配.xlsx" in proc.stdout
    assert src.read_bytes() == original
    body = [r for r in openpyxl.load_workbook(out)["任务分配"].iter_rows(min_row=4, values_only=True)
            if isinstance(r[0], int)]
    assert sum(r[7] for r in body) == 51005


# ---------------------------------------------------------------- reward and progress from a typed table

def typed_progress(path: Path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "进度表"
    ws.append(["各村参保进度", None, None, "方案编号", "xxzhen-2020"])
    ws.append(["村名", "目标任务数", "实际参保数", "达到95%日期", "达到100%日期", "建档立卡应参保人数",
               "建档立卡已参保人数"])
    ws.append(["一村", 1000, 1000, "2019.12.05", "2019年12月09日", 50, 50])   # 100% by 12-10: 1.2
    ws.append(["二村", 1000, 960, datetime.date(2019, 12, 8), None, 40, 40])  # 95% by 12-10: 1.0
    ws.append(["三村", 1000, 1000, "2019-12-15", "2019-12-28", 30, 29])      # 0.8, poor 29/30 flagged
    ws.append(["四村", 1000, 900, None, None, 10, 10])                       # nothing, rate < 95%
    ws.append(["五村", "1,000", "1000", None, "2019-12-19", None, None])      # 100% by 12-20: 1.0 (95% too)
    wb.save(path)
    return path


def sheet_rows(path: Path, name: str, key_col: int = 1) -> dict:
    ws = openpyxl.load_workbook(path)[name]
    header = next(r for r in ws.iter_rows(values_only=True) if r[1] in ("村（社区）",))
    return {r[key_col]: dict(zip(header, r)) for r in ws.iter_rows(values_only=True) if r[key_col]}


def test_reward_follows_004_rates_dates_and_deductions_from_the_plan_file(tmp_path):
    path = typed_progress(tmp_path / "进度.xlsx")
    before = snapshot(path)
    proc = run_yibao("reward", str(path))
    assert "5个村（社区）" in proc.stdout and "2个需扣减" in proc.stdout
    assert snapshot(path) == before
    rows = sheet_rows(path, "奖励测算")
    fee = "工作经费（0.2元/人）"
    assert rows["一村"]["奖励标准（元/人）"] == 1.2 and rows["一村"]["奖励金额（元）"] == 1200
    assert rows["一村"][fee] == 200 and rows["一村"]["奖励档次"] == "12月10日前完成100%"
    assert rows["二村"]["奖励标准（元/人）"] == 1 and rows["二村"]["奖励金额（元）"] == 960
    assert rows["二村"][fee] == 192
    assert rows["三村"]["奖励标准（元/人）"] == 0.8 and "建档立卡" in rows["三村"]["扣减提示"]
    assert rows["四村"]["奖励金额（元）"] == 0 and "参保率90.0%低于95%" in rows["四村"]["扣减提示"]
    assert rows["五村"]["奖励档次"] == "12月20日前完成100%" and rows["五村"]["奖励金额（元）"] == 1000
    assert not rows["一村"]["扣减提示"] and not rows["五村"]["扣减提示"]
    total = rows["合计"]
    assert total[fee] == 200 + 192 + 200 + 180 + 200
    assert total["奖励金额（元）"] == 1200 + 960 + 800 + 1000
    assert total["经费和奖励合计（元）"] == total[fee] + total["奖励金额（元）"]


def test_reward_for_a_plan_without_rewards_says_so(tmp_path):
    path = typed_progress(tmp_path / "进度.xlsx")
    proc = run_yibao("reward", str(path), "--policy", "shuangshui-2025", check_rc=2)
    assert "没有工作经费和奖励的规定" in proc.stderr
    assert "奖励测算" not in openpyxl.load_workbook(path).sheetnames


def test_progress_rates_shared_ranks_milestones_and_a_native_bar_chart(tmp_path):
    path = typed_progress(tmp_path / "进度.xlsx")
    before = snapshot(path)
    proc = run_yibao("progress", str(path), "--date", "2020.01.05")
    assert "截至2020年1月5日" in proc.stdout and "参保率97.2%" in proc.stdout
    run_yibao("progress", str(path), "--date", "2020年1月5日")              # rerun: replaced
    wb = openpyxl.load_workbook(path)
    assert [ws.title for ws in wb] == ["进度表", "进度通报"]
    assert snapshot(path) == before
    rows = sheet_rows(path, "进度通报")
    assert [rows[v]["排名"] for v in ("一村", "三村", "五村", "二村", "四村")] == [1, 1, 1, 4, 5]
    assert rows["二村"]["参保率"] == 0.96
    assert "未按期完成（12月31日前完成95%，差50人）" in rows["四村"]["进度情况"]
    assert "已达95%" in rows["二村"]["进度情况"] and "距2月29日前完成100%还差40人" in rows["二村"]["进度情况"]
    assert rows["四村"]["12月31日前应完成（95%）"] == 950
    ws = wb["进度通报"]
    assert len(ws._charts) == 1 and ws._charts[0].tagname == "barChart"
    ordered = [r[1] for r in ws.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    assert ordered == ["一村", "三村", "五村", "二村", "四村"]


def test_progress_for_001_uses_its_90_percent_milestone(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["社区", "2025年目标任务数", "已参保人数"])
    ws.append(["双水社区", 2000, 1700])
    ws.append(["红桥社区", 1000, 950])
    path = tmp_path / "双水.xlsx"
    wb.save(path)
    run_yibao("progress", str(path), "--policy", "shuangshui-2025", "--date", "2025-01-02")
    rows = sheet_rows(path, "进度通报")
    assert rows["双水社区"]["12月31日前应完成（90%）"] == 1800
    assert "未按期完成（12月31日前完成90%，差100人）" in rows["双水社区"]["进度情况"]
    assert rows["红桥社区"]["排名"] == 1


# ---------------------------------------------------------------- from ledgers

LEDGER_HEADER = ["序号", "户编号", "户属性", "户主关系", "姓名", "身份证号", "个人缴费", "缴费日期", "村"]


def ledger(path: Path, village: str, people, plan="xxzhen-2020", unit_line=False):
    """people: (family, household type, relation, name, id, paid, pay date)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "登记表"
    ws.append(["XX区2020年度城乡居民基本医疗保险参保缴费基本信息登记表"])
    ws.append([f"填报单位：XX镇　{village}" if unit_line else "填报单位：XX镇", None, None, None, None,
               "方案编号", plan])
    ws.append(LEDGER_HEADER if not unit_line else LEDGER_HEADER[:-1])
    for i, p in enumerate(people, 1):
        row = [i, *p] + ([] if unit_line else [village])
        ws.append(row)
    ws.append(["页计：参加居民医保户数：　户"])
    wb.save(path)
    return path


def many(village_seq: int, count: int, start: datetime.date, step_days=1, poor_unpaid=0):
    out = []
    for k in range(count):
        id_no = make_id("19800101", village_seq * 100 + k, "430111")
        out.append((f"{village_seq}{k:03d}", "一般户", "户主", f"人{village_seq}-{k}", id_no, 250,
                    (start + datetime.timedelta(days=k * step_days)).isoformat()))
    for k in range(poor_unpaid):
        id_no = make_id("19700101", village_seq * 100 + 90 + k, "430111")
        out.append((f"{village_seq}9{k}", "建档立卡贫困户", "户主", f"贫{k}", id_no, None, None))
    return out


def town_book(path: Path, targets: dict):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "任务分配表"
    ws.append(["XX镇2020年城乡居民基本医疗保险筹资任务分配表"])     # the plan id is on the ledgers
    ws.append(["村名", "2020年目标任务数", "实际参保数"])
    for name, target in targets.items():
        ws.append([name, target, None])
    wb.save(path)
    return path


def test_reward_and_progress_count_the_ledgers_by_pay_date(tmp_path):
    book = town_book(tmp_path / "全镇.xlsx", {"甲村": 4, "乙村": 20, "丙村": 10})
    a = ledger(tmp_path / "甲村.xlsx", "甲村", many(1, 4, datetime.date(2019, 12, 1)))          # 100% on 12-04
    b = ledger(tmp_path / "乙村.xlsx", "乙村", many(2, 19, datetime.date(2019, 11, 27), poor_unpaid=1),
               unit_line=True)                                                                 # 95% on 12-15
    c = ledger(tmp_path / "丙村.xlsx", "丙村", many(3, 5, datetime.date(2019, 12, 1)))           # 50%
    inputs = {p: snapshot(p) for p in (book, a, b, c)}
    proc = run_yibao("reward", str(book), str(a), str(b), str(c))
    assert "3个村（社区）" in proc.stdout
    rows = sheet_rows(book, "奖励测算")
    assert rows["甲村"]["实际参保人数"] == 4 and rows["甲村"]["达到100%日期"] == datetime.datetime(2019, 12, 4)
    assert rows["甲村"]["奖励档次"] == "12月10日前完成100%" and rows["甲村"]["奖励金额（元）"] == 4.8
    assert rows["甲村"]["工作经费（0.2元/人）"] == 0.8
    assert rows["乙村"]["达到95%日期"] == datetime.datetime(2019, 12, 15) and rows["乙村"]["达到100%日期"] is None
    assert rows["乙村"]["奖励档次"] == "12月20日前完成95%" and rows["乙村"]["奖励金额（元）"] == 15.2
    assert "建档立卡贫困人口参保率0.0%（0/1）" in rows["乙村"]["扣减提示"]
    assert rows["丙村"]["奖励金额（元）"] == 0 and "参保率50.0%" in rows["丙村"]["扣减提示"]
    run_yibao("progress", str(book), str(a), str(b), str(c), "--date", "2019-12-02")
    prog = sheet_rows(book, "进度通报")
    assert prog["甲村"]["已参保人数"] == 2 and prog["乙村"]["已参保人数"] == 6 and prog["丙村"]["已参保人数"] == 2
    assert prog["甲村"]["排名"] == 1 and prog["甲村"]["数据来源"] == "台账"
    for p, snap in inputs.items():
        assert snapshot(p) == snap


# ---------------------------------------------------------------- help

@pytest.mark.parametrize("action", ["quota", "reward", "progress", "summary"])
def test_help_is_in_chinese_and_english(action):
    text = run_yibao(action, "--help").stdout
    assert "方案编号" in text and "plan id" in text


# ---------------------------------------------------------------- summary

def register(path: Path, village: str, people, with_family=False):
    """004 附件2 as villages fill it: no 户编号, 户属性 merged over a household,
    交费 split into 实交额 and 资助额 on a second header row."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "参保缴费登记表"
    ws.append(["XX区2020年度城乡居民基本医疗保险参保缴费基本信息登记表"])
    ws.append([f"填报单位：XX镇　{village}　　组", None, None, None, None, None, None, None, "方案编号", "xxzhen-2020"])
    ws.append(["序号", "户属性★", "户主关系★", "姓名★", "身份证号★", "交费★", None, "缴费日期"]
              + (["户编号"] if with_family else []))
    ws.append([None, None, None, None, None, "实交额", "资助额", None])
    start = None
    for i, p in enumerate(people, 1):
        household, relation, name, id_no, paid, subsidy = p[:6]
        ws.append([i, household, relation, name, id_no, paid, subsidy, "2019-12-01"] + list(p[6:]))
        ws.cell(ws.max_row, 4).data_type = "s"
        if relation == "户主":
            start = ws.max_row
        elif household is None and start:
            ws.merge_cells(f"B{start}:B{ws.max_row}")
    ws.append(["页计：参加居民医保户数：　户"])
    ws.append(["收款填表人（签字）：", None, None, "缴费操作人（签字）："])
    wb.save(path)
    return path


def _ids(*seqs):
    return [make_id("19700101", s, "430111") for s in seqs]


def summary_inputs(tmp_path):
    i = _ids(11, 12, 13, 14, 15, 16, 17)
    a = register(tmp_path / "一村.xlsx", "一村", [
        ("一般低保户", "户主", "甲", i[0], 125, 125),
        (None, "配偶", "=乙", i[1], 125, 125),            # formula-looking name
        ("一般户", "户主", "丙", i[2], 250, None),
        ("一般户", "户主", "丁", i[3], None, None),        # not paid: not enrolled
    ])
    b = register(tmp_path / "二村.xlsx", "二村", [
        ("社会保障兜底户", "户主", "戊", i[4], 0, 250),
        ("三四级残疾", "户主", "己", i[5], "125", 125),     # paid stored as text
        ("建档立卡贫困户", "户主", "庚", i[6], 125, 125),
    ])
    return a, b


def summary_table(path: Path, sheet=None):
    ws = openpyxl.load_workbook(path)[sheet or "汇总上报"]
    head1 = [c.value for c in ws[3]]
    head2 = [c.value for c in ws[4]]
    names, group = [], None
    for h1, h2 in zip(head1, head2):
        group = h1 or group
        names.append(f"{group}/{h2}" if h2 else group)
    rows = {r[1]: dict(zip(names, r)) for r in ws.iter_rows(min_row=5, values_only=True) if r[1]}
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    return ws, rows, text


def test_summary_per_village_with_categories_sources_004_page_totals_signatures_stamps_and_pdf(tmp_path):
    a, b = summary_inputs(tmp_path)
    inputs = {p: snapshot(p) for p in (a, b)}
    out = tmp_path / "汇总.xlsx"
    proc = run_yibao("summary", str(a), str(b), "-o", str(out), "--town", "XX镇")
    assert "2个村（社区）参保5户6人" in proc.stdout and proc.stdout.count("\n") == 1
    ws, rows, text = summary_table(out)
    one, two, total = rows["一村"], rows["二村"], rows["合计"]
    assert (one["参保户数"], one["参保人数"], one["个人缴费（元）"], one["资助合计（元）"]) == (2, 3, 500, 250)
    _ws, detail, _t = summary_table(out, "汇总上报-资助明细")      # categories on their own printed table
    assert detail["一村"]["城乡低保对象/人数"] == 2 and detail["一村"]["城乡低保对象/金额（元）"] == 250
    assert one["资助资金来源（元）/医疗救助"] == 250 and one["纯低保户/户"] == 1 and one["纯低保户/人"] == 2
    assert (two["参保户数"], two["参保人数"], two["个人缴费（元）"], two["资助合计（元）"]) == (3, 3, 250, 500)
    assert detail["二村"]["社会保障兜底脱贫对象/金额（元）"] == 250
    assert sum(v for k, v in detail["合计"].items() if k.endswith("金额（元）")) == total["资助合计（元）"]
    assert two["资助资金来源（元）/财政"] == 125 + 125 + 125 and two["资助资金来源（元）/医疗救助"] == 125
    assert two["纯三四级残疾/户"] == 1 and two["纯建档立卡/户"] == 1 and two["纯低保户/户"] == 0
    assert total["参保人数"] == 6 and total["个人缴费（元）"] == 750 and total["资助合计（元）"] == 750
    for words in ("收款填表人（签字）", "缴费操作人（签字）", "卫健工作人员（签字）", "日期：",
                  "村委会（盖章）", "乡镇（盖章）", "一式三份", "填报单位：XX镇"):
        assert words in text, words
    stamp = next(c for row in ws.iter_rows() for c in row if c.value == "村委会（盖章）")
    assert any(stamp.coordinate in r and r.max_row - r.min_row >= 3 for r in ws.merged_cells.ranges)
    for p, snap in inputs.items():
        assert snapshot(p) == snap
    pdf = out.with_suffix(".pdf")
    if shutil.which("soffice") or os.environ.get("CI") == "true":
        assert pdf.read_bytes()[:5] == b"%PDF-" and "PDF（3份）" in proc.stdout
        assert pdf.read_bytes().count(b"/Type /Page\n") + pdf.read_bytes().count(b"/Type/Page/") >= 3 \
            or b"/Count 3" in pdf.read_bytes()
    else:
        assert "未找到LibreOffice" in proc.stdout


def test_summary_in_place_on_a_town_workbook_and_a_rerun_replaces(tmp_path):
    a, b = summary_inputs(tmp_path)
    before = snapshot(a)
    for _ in range(2):
        run_yibao("summary", str(a), str(b), "--no-pdf")
    wb = openpyxl.load_workbook(a)
    assert [ws.title for ws in wb if ws.sheet_state == "visible"] == ["参保缴费登记表", "汇总上报", "汇总上报-资助明细"]
    assert snapshot(a) == before
    assert wb["参保缴费登记表"]["D6"].value == "=乙" and wb["参保缴费登记表"]["D6"].data_type == "s"
    _ws, rows, _text = summary_table(a)
    assert rows["合计"]["参保人数"] == 6
    assert not list(tmp_path.glob("*.pdf"))


def test_summary_with_no_ledger_or_a_locked_output_is_refused(tmp_path):
    book = typed_progress(tmp_path / "进度.xlsx")
    proc = run_yibao("summary", str(book), check_rc=2)
    assert "没有找到台账" in proc.stderr
    a, b = summary_inputs(tmp_path)
    (tmp_path / "~$一村.xlsx").write_bytes(b"")
    original = a.read_bytes()
    proc = run_yibao("summary", str(a), str(b), check_rc=2)
    assert "正被Excel或WPS打开" in proc.stderr and a.read_bytes() == original
    assert not list(tmp_path.glob("*.pdf")) and not list(tmp_path.glob("一村.备份-*"))


def test_summary_reads_a_csv_ledger_and_writes_beside_it(tmp_path):
    i = _ids(21, 22)
    src = tmp_path / "三村.csv"
    src.write_text("姓名,身份证号,户属性,个人缴费,村\n"
                   f"壬,{i[0]},一般户,250,三村\n癸,{i[1]},一般低保户,125,三村\n", encoding="utf-8-sig")
    proc = run_yibao("summary", str(src), "--policy", "xxzhen-2020", "--no-pdf")
    out = tmp_path / "三村-汇总上报.xlsx"
    assert out.exists() and "参保2户2人" in proc.stdout
    _ws, rows, _t = summary_table(out)
    assert rows["三村"]["个人缴费（元）"] == 375 and rows["三村"]["纯低保户/户"] == 1


# ---------------------------------------------------------------- the contract the live Excel backend relies on

class MemoryBook(Book):
    """The workbook interface (book.Book) over cells in memory: result sheets
    and marks are recorded, nothing is written."""

    def __init__(self, path: Path):
        from yibao.macros.book import read_grid_any
        self.path = path
        self._grids = read_grid_any(path)
        self.sheets = {}
        self.marks = []
        self.computed = {}

    def grids(self):
        return self._grids

    def replace_sheet(self, sheet):
        self.sheets[sheet.name] = sheet

    def mark(self, sheet, row, col, severity, note):
        self.marks.append((sheet, row, col, severity, note))

    def clear_marks(self, sheet):
        self.marks = [m for m in self.marks if m[0] != sheet]

    def fill_computed(self, sheet, rows, columns, number_formats=None):
        for col, values in columns.items():
            for row, value in zip(rows, values):
                self.computed[(sheet, row, col)] = value

    def save(self, backup=True):
        return {"skipped": 0}


def test_each_action_runs_on_any_book_with_grids_replace_sheet_and_save(tmp_path):
    from yibao.macros import progress, quota, reward, summary
    table = task_table(tmp_path / "任务.xlsx", fixed={"社区": 420})
    typed = typed_progress(tmp_path / "进度.xlsx")
    a, _b = summary_inputs(tmp_path)
    originals = {p: p.read_bytes() for p in (table, typed, a)}
    book = MemoryBook(table)
    assert "合计51005人" in quota.run(book)
    assert sum(r[7] for r in book.sheets["任务分配"].rows if r and isinstance(r[0], int)) == 51005
    book = MemoryBook(typed)
    assert "2个需扣减" in reward.run(book)
    assert "截至2020年1月5日" in progress.run(book, None, {"date": datetime.date(2020, 1, 5)})
    assert book.sheets["进度通报"].chart["values"][0] == 5
    book = MemoryBook(a)
    assert "参保2户3人" in summary.run(book, None, {"pdf": False})
    assert {p: p.read_bytes() for p in originals} == originals


def test_quota_and_progress_on_our_own_task_template(tmp_path):
    """The `tasks` template of 004: 村　名 with an ideographic space, the target a formula
    without a cached value (taken as last year's target plus the net increase)."""
    src = Path(__file__).parent.parent / "templates" / "built" / "xxzhen-2020" / "tasks.xlsx"
    wb = openpyxl.load_workbook(src)
    ws = wb["任务分配表"]
    for i, (name, row) in enumerate(zip(NAMES[-3:], TABLE_004[-3:])):
        ws.cell(4 + i, 1).value = name.lstrip("=")
        ws.cell(4 + i, 2).value, ws.cell(4 + i, 3).value, ws.cell(4 + i, 4).value = row[:3]
    path = tmp_path / "任务分配表.xlsx"
    wb.save(path)
    # no ledgers and no typed counts: nothing to measure, an error rather than 0%
    proc = run_yibao("progress", str(path), "--date", "2019-12-31", check_rc=2)
    assert "台账" in proc.stderr and "实际参保数" in proc.stderr
    from yibao.functions import plan as plans
    from yibao.macros import town
    table = town.find_task_table(FileBook(path).grids(), plans.load("xxzhen-2020"))
    assert {r.unit: r.target for r in table.rows}["社区"] == 420   # 405 + 15: the formula had no cached value
    proc = run_yibao("quota", str(path), check_rc=2)
    assert "--total" in proc.stderr
    run_yibao("quota", str(path), "--total", "9000")
    _ws, body, total = quota_rows(path)
    assert [r[1] for r in body] == ["第11村", "第12村", "社区"]
    assert total[7] == 9000 == sum(r[7] for r in body)
    assert [r[9] for r in body] == [5849, 3303, 405]          # last year's targets read from the template
    # once the town's total is allocated, progress measures each village against its allocation
    grids = FileBook(path).grids()
    assert {name: town.allocated_targets(grids)[name] for name in ("第11村", "第12村", "社区")} == \
        {r[1]: r[7] for r in body}
    table = town.find_task_table(grids, plans.load("xxzhen-2020"))
    for row in table.rows:
        row.allocated = town.allocated_targets(grids)[row.unit]
    assert sum(row.target for row in table.rows) == 9000


@pytest.mark.skipif(shutil.which("soffice") is None and os.environ.get("CI") != "true",
                    reason="LibreOffice not installed")
def test_quota_reads_an_xls_task_table(tmp_path):
    import subprocess
    path = task_table(tmp_path / "任务.xlsx", fixed={"社区": 420})
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless",
                    "--convert-to", "xls", "--outdir", str(tmp_path / "xls"), str(path)],
                   check=True, capture_output=True, timeout=180)
    xls = tmp_path / "xls" / "任务.xls"
    original = xls.read_bytes()
    proc = run_yibao("quota", str(xls))
    out = tmp_path / "xls" / "任务-任务分配.xlsx"
    assert "任务-任务分配.xlsx" in proc.stdout and xls.read_bytes() == original
    _ws, body, total = quota_rows(out)
    assert total[7] == 51005 and {r[1]: r[7] for r in body}["社区"] == 420


def test_quota_by_enrolled_counts_the_ledgers_when_they_are_listed(tmp_path):
    """--base enrolled with ledger files: each village's base is the persons
    enrolled on its ledgers (the table has no 实际参保数 column)."""
    examples = Path(__file__).resolve().parent.parent / "examples" / "示例镇"
    tasks = tmp_path / "任务分配表.xlsx"
    shutil.copyfile(examples / "任务分配表.xlsx", tasks)
    proc = run_yibao("quota", str(tasks), "--base", "enrolled", check_rc=2)
    assert "列出各村台账文件" in proc.stderr
    ledgers = sorted((examples / "台账").glob("*.xlsx"))
    proc = run_yibao("quota", str(tasks), *map(str, ledgers), "--base", "enrolled")
    assert "按台账已参保人数" in proc.stdout
    _ws, body, total = quota_rows(tasks)
    bases = {r[1]: r[2] for r in body}
    run_yibao("progress", str(tasks), *map(str, ledgers), "--date", "2026-12-31", "-o", str(tmp_path / "p.xlsx"))
    enrolled = {name: row["已参保人数"] for name, row in sheet_rows(tmp_path / "p.xlsx", "进度通报").items()
                if name in bases}
    assert bases == enrolled and total[7] == sum(r[7] for r in body)


def test_summary_inside_excel_uses_excels_own_pdf_export(tmp_path):
    """In Excel (the live backend has export_pdf) the summary's PDF comes from
    Excel's ExportAsFixedFormat of the sheet just written, not LibreOffice,
    which Windows users seldom have; it names the copies to print (004: 三份)."""
    from yibao.macros import summary
    a, _b = summary_inputs(tmp_path)
    exported = []

    class ExcelLike(MemoryBook):
        def export_pdf(self, sheet_name, target):
            assert sheet_name in self.sheets          # the sheet is written first
            exported.append((sheet_name, Path(target)))
            return Path(target)

    book = ExcelLike(a)
    line = summary.run(book, None, {})
    assert exported == [("汇总上报", a.with_name(f"{a.stem}-汇总上报.pdf"))]
    assert "打印3份" in line
    from yibao.macros import _excel
    assert hasattr(_excel.ExcelBook, "export_pdf")
