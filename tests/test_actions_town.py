"""Town-level actions on real workbooks: quota (任务分配)."""
from __future__ import annotations

import openpyxl

from conftest import run_yibao

# 004 附件1: 2019 户籍人口数, 2019 目标任务数, 2020 预计净增, 2020 目标任务数
TABLE_004 = [
    (2931, 2787, 23, 2810), (4998, 4529, 37, 4566), (5808, 5143, 43, 5186), (3421, 3167, 25, 3192),
    (5954, 5705, 47, 5752), (3168, 2979, 24, 3003), (4579, 4329, 36, 4365), (4957, 4839, 39, 4878),
    (2252, 2115, 20, 2135), (5723, 5426, 45, 5471), (6229, 5849, 48, 5897), (3650, 3303, 27, 3330),
    (1483, 405, 15, 420),
]


def task_table(path, override=None):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "任务分配表"
    ws.append(["XX镇2020年城乡居民基本医疗保险筹资任务分配表"])
    ws.append(["村  名", "2019年派出所户籍人口数", "2019年目标任务数", "2020预计净增数", "2020年目标任务数", "手动指定任务数"])
    for i, row in enumerate(TABLE_004):
        name = "社区" if i == 12 else f"=第{i + 1}村"      # a formula-looking name stays text
        ws.append([name, *row, override if (override and i == 0) else None])
        ws.cell(ws.max_row, 1).data_type = "s"
    ws.append(["合  计", 55153, 50576, 429, 51005])
    wb.save(path)
    return path


def test_the_seed_table_sums_to_its_own_totals():
    assert sum(r[0] for r in TABLE_004) == 55153
    assert sum(r[1] for r in TABLE_004) == 50576
    assert sum(r[3] for r in TABLE_004) == 51005


def test_quota_allocates_the_town_target_exactly_and_keeps_overrides(tmp_path):
    path = task_table(tmp_path / "任务.xlsx", override=3000)
    before = {(c.coordinate): c.value for row in openpyxl.load_workbook(path).active.iter_rows() for c in row}
    proc = run_yibao("quota", str(path), "--total", "51005", "--base", "target")
    assert "合计51005" in proc.stdout
    wb = openpyxl.load_workbook(path)
    after = {(c.coordinate): c.value for row in wb["任务分配表"].iter_rows() for c in row}
    assert after == before
    rows = list(wb["任务分配"].iter_rows(min_row=3, values_only=True))
    body, total = rows[:-1], rows[-1]
    assert len(body) == 13 and total[0] == "合计" and total[6] == 51005
    assert sum(r[6] for r in body) == 51005
    assert body[0][6] == 3000 and body[0][7] == "手动指定"
    assert body[0][0] == "=第1村"
    # the others share 48005 in proportion to their 2019 targets, each within 1 of the exact share
    weight = 50576 - 2787
    for r, (_p, target19, _n, _t) in zip(body[1:], TABLE_004[1:]):
        exact = 48005 * target19 / weight
        assert abs(r[6] - exact) < 1 and r[5] in (0, 1)


def test_quota_by_population_and_a_rerun_replaces_the_sheet(tmp_path):
    path = task_table(tmp_path / "任务.xlsx")
    run_yibao("quota", str(path), "--total", "51005", "--base", "population")
    run_yibao("quota", str(path), "--total", "51005", "--base", "population")
    wb = openpyxl.load_workbook(path)
    assert [ws.title for ws in wb if ws.sheet_state == "visible"] == ["任务分配表", "任务分配"]
    body = list(wb["任务分配"].iter_rows(min_row=3, values_only=True))[:-1]
    assert sum(r[6] for r in body) == 51005
    assert body[0][1] == 2931


def test_quota_refuses_overrides_beyond_the_total(tmp_path):
    path = task_table(tmp_path / "任务.xlsx", override=60000)
    proc = run_yibao("quota", str(path), "--total", "51005", check_rc=2)
    assert "已超过总任务" in proc.stderr


def progress_table(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["村名", "目标任务数", "参保人数", "达到95%日期", "达到100%日期", "建档立卡应参保人数", "建档立卡已参保人数"])
    ws.append(["一村", 1000, 1000, "2019.12.05", "2019年12月09日", 50, 50])   # 100% by 12-10: 1.2
    ws.append(["二村", 1000, 960, "2019-12-08", None, 40, 40])               # 95% by 12-10: 1.0
    ws.append(["三村", 1000, 1000, "2019-12-15", "2019-12-28", 30, 29])      # 100% by 12-31 (0.8) beats 95% by 12-20 (0.8)
    ws.append(["四村", 1000, 900, None, None, 10, 10])                       # nothing, rate < 95%
    wb.save(path)
    return path


def test_reward_follows_004_rates_and_dates(tmp_path):
    path = progress_table(tmp_path / "进度.xlsx")
    proc = run_yibao("reward", str(path), "--policy", "xxzhen-2020")
    assert "2个需扣减" in proc.stdout
    rows = {r[0]: r for r in openpyxl.load_workbook(path)["奖励测算"].iter_rows(min_row=3, values_only=True)}
    assert rows["一村"][7] == 1.2 and rows["一村"][6] == 200 and rows["一村"][8] == 1200
    assert rows["二村"][7] == 1 and rows["二村"][8] == 960 and rows["二村"][6] == 192
    assert rows["三村"][7] == 0.8 and "建档立卡" in rows["三村"][11]
    assert rows["四村"][7] == 0 and "参保率低于95%" in rows["四村"][11]
    assert rows["合计"][6] == 200 + 192 + 200 + 180 and rows["合计"][8] == 1200 + 960 + 800


def test_reward_for_a_plan_without_rewards_says_so(tmp_path):
    path = progress_table(tmp_path / "进度.xlsx")
    proc = run_yibao("reward", str(path), "--policy", "shuangshui-2025", check_rc=2)
    assert "没有工作经费和奖励的规定" in proc.stderr


def test_progress_rates_ranks_milestones_and_a_native_chart(tmp_path):
    path = progress_table(tmp_path / "进度.xlsx")
    proc = run_yibao("progress", str(path), "--policy", "xxzhen-2020", "--date", "2020-01-05")
    assert "合计参保率96.5%" in proc.stdout
    wb = openpyxl.load_workbook(path)
    ws = wb["进度通报"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=3, values_only=True)}
    assert rows["一村"][3] == 1 and rows["一村"][4] == 1 and rows["三村"][4] == 1   # equal rates share a rank
    assert rows["二村"][4] == 3 and rows["四村"][4] == 4
    assert "未按期（12月31日前95%）" in rows["四村"][5]
    assert "已达95%" in rows["二村"][5] and "2020年02月29日前须达100%" in rows["二村"][5]
    assert len(ws._charts) == 1 and ws._charts[0].tagname == "barChart"


def test_summary_per_village_with_004_page_totals_signatures_and_pdf(tmp_path):
    import shutil as _shutil
    import os
    from conftest import make_id
    def ledger(path, village, rows):
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(["XX区2020年度城乡居民基本医疗保险参保缴费基本信息登记表"])
        ws.append(["户编号", "户属性★", "户主关系★", "姓名", "身份证号★", "个人交费★", "村"])
        for r in rows:
            ws.append(list(r) + [village])
        wb.save(path)
        return path
    a = ledger(tmp_path / "一村.xlsx", "一村", [
        ("01", "一般低保户", "户主", "甲", make_id("19700101", 11, "430111"), 125),
        ("01", "一般低保户", "配偶", "乙", make_id("19720101", 22, "430111"), 125),
        ("02", "一般户", "户主", "丙", make_id("19800101", 33, "430111"), 250),
        ("03", "一般户", "户主", "丁", make_id("19800101", 35, "430111"), None),      # not paid: not enrolled
    ])
    b = ledger(tmp_path / "二村.xlsx", "二村", [
        ("11", "社会保障兜底户", "户主", "戊", make_id("19600101", 44, "430111"), 0),
        ("12", "三四级残疾", "户主", "己", make_id("19650101", 55, "430111"), 125),
    ])
    out = tmp_path / "汇总.xlsx"
    proc = run_yibao("summary", str(a), str(b), "--policy", "xxzhen-2020", "-o", str(out), "--town", "XX镇")
    assert "2个村（社区）参保5人" in proc.stdout
    ws = openpyxl.load_workbook(out).active
    header = [c.value for c in ws[3]]
    rows = {r[0]: dict(zip(header, r)) for r in ws.iter_rows(min_row=4, values_only=True) if r[0] in ("一村", "二村", "合计")}
    assert rows["一村"]["参保户数"] == 2 and rows["一村"]["参保人数"] == 3
    assert rows["一村"]["个人缴费（元）"] == 500 and rows["一村"]["资助合计（元）"] == 250
    assert rows["一村"]["纯低保户（户）"] == 1 and rows["一村"]["医疗救助（元）"] == 250
    assert rows["二村"]["社会保障兜底脱贫对象（人）"] == 1 and rows["二村"]["纯三四级残疾（户）"] == 1
    assert rows["二村"]["财政（元）"] == 125 + 125 and rows["二村"]["医疗救助（元）"] == 125
    assert rows["合计"]["参保人数"] == 5 and rows["合计"]["个人缴费（元）"] == 625
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    for words in ("收款填表人（签字）", "缴费操作人（签字）", "卫健工作人员（签字）", "村（居）委会（盖章）",
                  "乡镇（街道）（盖章）", "一式三份"):
        assert words in text
    if _shutil.which("soffice") or os.environ.get("CI") == "true":
        assert out.with_suffix(".pdf").exists() and "PDF" in proc.stdout
