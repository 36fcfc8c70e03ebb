"""Plan files: a county officer copies last year's plan, edits it, checks it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import calc_lines, make_id, run_yibao
from yibao.functions import plan as plans

PRESETS = ["zaozhuang-2022", "shuangshui-2025", "xinqiao-2021", "xxzhen-2020"]


@pytest.mark.parametrize("plan_id", PRESETS)
def test_presets_pass_their_own_check_and_cite_clauses(plan_id):
    path = plans.find_plan_file(plan_id)
    assert plans.check_file(path) == []
    p = plans.load(plan_id)
    seed = p.seed
    for cat in p.categories:
        assert cat.clause.startswith(seed), cat.name
    for rule in p.rules:
        assert rule.clause.startswith(seed), rule.name


def test_policy_list_show_and_check_from_the_command_line(user_home):
    listing = run_yibao("policy", "list").stdout
    for plan_id in PRESETS:
        assert plan_id in listing
    shown = run_yibao("policy", "show", "xxzhen-2020").stdout
    assert "社会保障兜底脱贫对象：全额资助（医疗救助125元、财政125元）" in shown
    assert "[004 四]" in shown
    checked = run_yibao("policy", "check", str(plans.find_plan_file("xinqiao-2021")))
    assert "检查通过" in checked.stdout


def test_new_plan_from_last_years_without_code(user_home):
    made = run_yibao("policy", "new", "shuangshui-2026", "--from", "shuangshui-2025")
    target = user_home / "plans" / "shuangshui-2026.toml"
    assert target.is_file() and str(target) in made.stdout
    # the copy still carries last year's year: the check says so
    assert "year = 2025 不一致" in run_yibao("policy", "check", str(target), check_rc=1).stdout
    # the county edits next year's year and fee: 400 → 420
    text = target.read_text(encoding="utf-8")
    text = text.replace('individual = "400"', 'individual = "420"').replace("year = 2025", "year = 2026")
    target.write_text(text, encoding="utf-8")
    assert "检查通过" in run_yibao("policy", "check", str(target)).stdout
    assert "shuangshui-2026" in run_yibao("policy", "list").stdout
    [row] = calc_lines("shuangshui-2026", [{"id_no": make_id("19800101"), "pay_date": "2024-10-10"}])
    assert row["payable"] == 420
    # a second `new` to the same id refuses rather than overwrite the edits
    again = run_yibao("policy", "new", "shuangshui-2026", "--from", "shuangshui-2025", check_rc=2)
    assert "已存在" in again.stderr
    assert 'individual = "420"' in target.read_text(encoding="utf-8")


def _broken(tmp_path, plan_id, old, new, count=1):
    text = plans.find_plan_file(plan_id).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


@pytest.mark.parametrize("plan_id,old,new,expected", [
    ("shuangshui-2025", '"稳定脱贫人口",\n]', '"稳定脱贫人口", "五保老人",\n]',
     "[selection] 多重身份：order中的“五保老人”不是本方案的身份类别"),
    ("shuangshui-2025", 'subsidy = "200"', 'subsidy = "-200"', "金额不能为负数"),
    ("zaozhuang-2022", 'funding = { "市财政" = "50%", "镇(街)财政" = "50%" }',
     'funding = { "市财政" = "80%", "镇(街)财政" = "50%" }', "合计应为100%，现为130%"),
    ("zaozhuang-2022", 'subsidy = "50%"', 'subsidy = "150%"', "资助比例150%应在0%到100%之间"),
    ("zaozhuang-2022", "start = 2021-12-21", "start = 2021-12-01", "缴费期重叠（2021-12-01至2021-12-20）"),
    ("xinqiao-2021", '"计生失独(伤残)人员",\n  "年中动态调整新增贫困人员",', '"计生失独(伤残)人员",',
     "严格顺序（rule = \"order\"）须列出全部资助身份，缺：年中动态调整新增贫困人员"),
    ("xxzhen-2020", 'funding = { "医疗救助" = "125", "财政" = "125" }',
     'funding = { "医疗救助" = "125", "财政" = "100" }', "与资助金额250元不符"),
    ("xxzhen-2020", "end = 2019-12-31\namount", "end = 2019-08-31\namount", "晚于结束"),
    # a misspelled key would otherwise be ignored: cash could go undeposited unchecked
    ("shili-2026", "same_day = true", "same_dya = true", "[cash]：不认识的键“same_dya”"),
    ("shili-2026", "[[milestone]]\ndate", "[[milstone]]\ndate", "不认识的项“milstone”"),
    ("xxzhen-2020", 'per_person = "1.2"', 'per_persn = "1.2"', "[[reward]] 第1项：不认识的键“per_persn”"),
    ("shili-2026", 'id = "shili-2026"', 'id = "shili 2026"', "不含空格"),
])
def test_check_names_the_entry_and_the_problem(tmp_path, plan_id, old, new, expected):
    path = _broken(tmp_path, plan_id, old, new)
    problems = plans.check_file(path)
    assert problems, "a broken plan must not pass"
    assert any(expected in p for p in problems), problems
    proc = run_yibao("policy", "check", str(path), check_rc=1)
    assert "处错误" in proc.stdout


def test_overlapping_windows_for_the_same_people_are_an_error(tmp_path):
    # 000: make the late-payment window start inside... a second identical rule
    text = plans.find_plan_file("zaozhuang-2022").read_text(encoding="utf-8")
    block = text[text.index("[[rule]]\nname = \"集中征缴期\""):text.index("[[rule]]\nname = \"集中征缴期（政府")]
    clone = block.replace('name = "集中征缴期"', 'name = "补充征缴期"').replace(
        "start = 2021-11-01\nend = 2021-12-20", "start = 2021-12-15\nend = 2021-12-25")
    path = tmp_path / "overlap.toml"
    path.write_text(text + "\n" + clone, encoding="utf-8")
    problems = plans.check_file(path)
    assert any("缴费期重叠（2021-12-15至2021-12-20）" in p and "补充征缴期" in p for p in problems), problems


def test_unknown_policy_and_broken_file_are_one_line_errors(tmp_path):
    proc = run_yibao("calc", "--policy", "no-such-plan", stdin="", check_rc=2)
    assert proc.stderr.count("\n") == 1 and "没有名为“no-such-plan”的方案" in proc.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("id = \n", encoding="utf-8")
    proc = run_yibao("policy", "check", str(bad), check_rc=1)
    assert "格式错误" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("plan_id", PRESETS + ["shili-2026"])
def test_next_year_moves_year_and_every_date_on_and_keeps_amounts_and_citations(tmp_path, plan_id):
    """`policy new X --from Y --next-year`: the draft of next year's plan passes
    its check at once; only the year, the dates and "2025年" in names move."""
    old = plans.load(plan_id)
    new_id = plan_id.rsplit("-", 1)[0] + f"-{old.year + 1}"
    target = tmp_path / f"{new_id}.toml"
    made = run_yibao("policy", "new", new_id, "--from", plan_id, "--next-year", "-o", str(target))
    assert "顺延一年" in made.stdout
    assert "检查通过" in run_yibao("policy", "check", str(target)).stdout
    new = plans.load_file(target)
    assert new.id == new_id and new.year == old.year + 1
    assert (new.individual, new.fiscal) == (old.individual, old.fiscal)
    assert str(old.year + 1) in new.name and str(old.year) not in new.name.replace(str(old.year + 1), "")

    def moved(day):
        try:
            return day.replace(year=day.year + 1)
        except ValueError:          # 29 Feb
            return day.replace(year=day.year + 1, day=28)

    assert [(moved(r.start), moved(r.end)) for r in old.rules] == [(r.start, r.end) for r in new.rules]
    assert new.year_start == moved(old.year_start)
    assert [c.name for c in new.categories] == [c.name for c in old.categories]
    assert [c.clause for c in new.categories] == [c.clause for c in old.categories]


def test_policy_show_lists_the_sections_the_actions_read_with_their_clauses():
    shown = run_yibao("policy", "show", "shili-2026").stdout
    for line in ("现金代收：当日缴库，最迟收款后3天内缴库，2025-12-31前全部缴库  [仿 002 四(二)]",
                 "工作经费：每参保一人0.2元  [仿 004 五(三)1]",
                 "奖励：2025年12月10日前参保率达到100%，每参保一人奖励1.2元  [仿 004 五(三)2]",
                 "进度节点：2026年02月28日前完成100%  [仿 004 一(二)]",
                 "表格：汇总表一式3份",
                 "日程：缴费公示阶段 2026-01-01 至 2026-02-28  [仿 002 五(三)]"):
        assert line in shown, line
