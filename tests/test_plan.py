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


# ---------------------------------------------------------------- the typed plan (issue 12)

_ROOT = Path(__file__).resolve().parent.parent
_PACKAGES = ("functions", "macros", "cli", "templates", "addin")


def _modules():
    for folder in _PACKAGES:
        for path in sorted((_ROOT / folder).rglob("*.py")):
            if path.relative_to(_ROOT).as_posix() != "functions/plan.py":
                yield path


def _raw_reads(source: str, where: str = "") -> list[str]:
    """What in ``source`` reads the plan file other than through the typed
    plan: ``plan.data[...]``, ``p.data.get(...)``, ``plans.load(x).data``,
    calls of plan.py's private readers, its own Milestone/Tier classes or
    rate parsers, tomllib (except macros/table.py's headers.toml)."""
    import ast
    bad = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in ("data", "raw", "_raw", "table"):
            if re.search(r"(^|\.|_)(plan|p|pl|policy)$|plans?\.load\(", ast.unparse(node.value)):
                bad.append(f"{where}:{node.lineno} {ast.unparse(node)}")
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if re.search(r"(^|\.)(_read|_build|_build_work)$", name) and "plan" in name:
                bad.append(f"{where}:{node.lineno} {name}()")
        if isinstance(node, ast.ClassDef) and node.name in ("Milestone", "Tier", "Reward", "Cash", "Forms"):
            bad.append(f"{where}:{node.lineno} class {node.name}")
        if isinstance(node, ast.FunctionDef) and node.name in ("parse_rate", "_rate", "parse_share"):
            bad.append(f"{where}:{node.lineno} def {node.name}")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if any(n in ("tomllib", "tomli") for n in names) and where != "macros/table.py":
                bad.append(f"{where}:{node.lineno} import tomllib")
    return bad


def test_no_module_outside_plan_py_reads_the_raw_plan_file():
    """Issue 12: the plan is read, typed and checked once, in functions/plan.py.
    Anything else reading the file's dictionary (``plan.data["cash"]``) or
    parsing plan TOML or rates itself skips the check and drifts from it
    (before: 29 reads in 8 modules, three rate parsers, two Milestone classes)."""
    import dataclasses
    bad = []
    for path in _modules():
        bad += _raw_reads(path.read_text(encoding="utf-8"), path.relative_to(_ROOT).as_posix())
    assert bad == []
    # and there is no dictionary left on a plan to read
    for plan_id in PRESETS + ["shili-2026"]:
        p = plans.load(plan_id)
        assert not hasattr(p, "data")
        assert not [f.name for f in dataclasses.fields(p) if isinstance(getattr(p, f.name), dict)]


def test_the_scan_catches_the_old_raw_reads():
    """The scan is not vacuous: the reads this issue removed are found."""
    old = ('cash = plan.data.get("cash")\n'
           'fee = plans.load("x").data["work_fee"]\n'
           "text = p.data['fee'].get('clause', '')\n"
           "def _rate(text):\n    return text\n"
           "class Milestone:\n    pass\n")
    assert sorted(b.split(" ", 1)[1] for b in _raw_reads(old)) == sorted([
        "class Milestone", "plan.data", "plans.load('x').data", "p.data", "def _rate"])


def test_000_four_two_is_two_targets_coverage_above_98_and_everything_by_12_20():
    """000 四(二): “确保覆盖率超过98%” and “确保12月20日前全面完成征缴任务”."""
    import datetime
    from yibao.macros import progress
    from yibao.macros.town import Village
    p = plans.load("zaozhuang-2022")
    by_date, standing = p.milestones
    assert (by_date.date, by_date.rate, by_date.above, by_date.clause) == (
        datetime.date(2021, 12, 20), 1, False, "000 四(二)")
    assert (standing.date, standing.rate_text, standing.above, standing.clause) == (None, "98%", True, "000 四(二)")
    # "超过98%" of 1,000 is 981, not 980; "全面完成" is all 1,000
    assert standing.need(1000) == 981 and by_date.need(1000) == 1000
    # a town at exactly 98% on 12-25: the 12-20 target missed, the 98% one not yet exceeded
    town = Village("东城街道", target=1000, enrolled=980, source="任务表")
    [line] = progress.compute(p, [town], datetime.date(2021, 12, 25))
    assert line.needs == [(1000, 20), (981, 1)]
    assert "未按期完成（12月20日前完成100%，差20人）" in line.status
    assert "距参保率超过98%还差1人" in line.status
    shown = run_yibao("policy", "show", "zaozhuang-2022").stdout
    assert "进度节点：2021年12月20日前完成100%（原文：确保12月20日前全面完成征缴任务）  [000 四(二)]" in shown
    assert "进度节点：参保率超过98%（常年目标）（原文：确保覆盖率超过98%）  [000 四(二)]" in shown


def test_004_six_one_cash_is_deposited_the_same_day(tmp_path):
    """004 六(一): 代收的保险费“必须当日收取当天缴存”: a deposit the next day
    is an error for 004, as a deposit on day 5 is for 002 四(二)."""
    import openpyxl
    p = plans.load("xxzhen-2020")
    assert (p.cash.same_day, p.cash.max_days, p.cash.deadline, p.cash.clause) == (True, 0, None, "004 六(一)")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "登记表"
    ws.append(["XX区2020年度城乡居民基本医疗保险参保缴费基本信息登记表"])
    ws.append(["序号", "户属性★", "户主关系★", "姓名★", "身份证号★", "实交额", "缴费日期", "缴库日期"])
    ws.append([1, "一般户", "户主", "张三", make_id("19800101", 11), 250, "2019-11-04", "2019-11-04"])
    ws.append([2, "一般户", "配偶", "李四", make_id("19820202", 22), 250, "2019-11-04", "2019-11-05"])
    path = tmp_path / "登记表.xlsx"
    wb.save(path)
    run_yibao("validate", str(path), "--policy", "xxzhen-2020", "--no-mark")
    report = [r for r in openpyxl.load_workbook(path)["校验报告"].iter_rows(min_row=2, values_only=True)]
    late = [r for r in report if "缴库" in str(r[6] or "")]
    assert [(r[3], r[6]) for r in late] == [("H4", "现金收款后第1天才缴库，方案要求当天缴存（004 六(一)）")]
    shown = run_yibao("policy", "show", "xxzhen-2020").stdout
    assert "现金代收：收款当天必须缴存  [004 六(一)]" in shown


def test_policy_show_gives_every_condition_and_exclusion_with_its_clause():
    """001 四(二)2 低保边缘 only for 60+, under 18 or 重度残疾; 004 四 建档立卡
    not when also 低保; 000 二(二)(2) ages from the ID."""
    shown = run_yibao("policy", "show", "shuangshui-2025").stdout
    assert ("  低保边缘家庭人口：资助120元（医疗救助基金100%）；也写作：低保边缘家庭成员、低保边缘户、低保边缘  [001 四(二)2]\n"
            "     条件：仅限年满60周岁、未满18周岁或同时为重度残疾人的  [001 四(二)2]") in shown
    shown = run_yibao("policy", "show", "xxzhen-2020").stdout
    assert "     排除：同时是城乡低保对象的，不按本类资助（按城乡低保对象）  [004 四]" in shown
    shown = run_yibao("policy", "show", "zaozhuang-2022").stdout
    assert "     条件：按身份证号算出的年龄自动认定：60至69周岁  [000 二(二)(2)]" in shown


def test_forms_and_schedules_the_plans_print():
    """004 附件2 页计 and signatures; 002 附件1 four 排查, two 督查, the 12-20
    deadline for new enrollees; 002 四(四)资助流程 lists by 9-30, deaths by 12-20."""
    import datetime
    from yibao.templates import content
    f = plans.load("xxzhen-2020").forms
    assert f.page_counts == ("参加居民医保户数", "参加居民医保人数", "纯低保户", "纯建档立卡", "纯三四级残疾")
    assert f.signatures == ("收款填表人", "缴费操作人", "卫健工作人员") and f.copies == 3
    p = plans.load("xinqiao-2021")
    steps = {s.name: (s.start, s.end, s.clause) for s in p.steps}
    d = datetime.date
    assert [n for n in steps if "排查" in n] == [f"第{k}次参保缴费情况排查" for k in "一二三四"]
    assert steps["第四次参保缴费情况排查"] == (d(2020, 12, 10), d(2020, 12, 31), "002 附件1")
    assert steps["县政府第一次督查"][:2] == (d(2020, 11, 20), d(2020, 11, 30))
    assert steps["县政府第二次督查"][:2] == (d(2020, 12, 10), d(2020, 12, 20))
    assert steps["新增参保人员缴费截止"] == (None, d(2020, 12, 20), "002 附件1")
    assert steps["资助名单报送截止"][:2] == (None, d(2020, 9, 30))
    assert steps["已死亡人员名单报送截止"] == (None, d(2020, 12, 20), "002 四(四)资助流程4")
    items = content.schedule_items(p)
    text = "\n".join(f"{i.stage}|{i.when}|{i.what}" for i in items)
    assert "参保缴费阶段|2020年12月20日前|新增参保人员缴费截止：" in text
    assert "参保缴费阶段|2020年12月10日至12月20日|县政府第二次督查：" in text
    shown = run_yibao("policy", "show", "xinqiao-2021").stdout
    assert "工作步骤：2020年9月30日前 资助名单报送截止：" in shown
    shown = run_yibao("policy", "show", "xxzhen-2020").stdout
    assert ("每页页计：参加居民医保户数、参加居民医保人数、纯低保户、纯建档立卡、纯三四级残疾；"
            "签字：收款填表人、缴费操作人、卫健工作人员  [004 六(一)、附件2]") in shown


def _with_open(tmp_path, plan_id, key, value):
    """The plan with ``[open.<key>] value`` changed (added when absent)."""
    text = plans.find_plan_file(plan_id).read_text(encoding="utf-8")
    block = re.search(rf"\[open\.{key}\]\nvalue = [^\n]*\n", text)
    if block:
        text = text.replace(block.group(0), f"[open.{key}]\nvalue = {value}\n")
    else:
        text += f'\n[open.{key}]\nvalue = {value}\nclause = "测试"\n'
    path = tmp_path / f"{plan_id}.toml"
    path.write_text(text, encoding="utf-8")
    return plans.load_file(path)


def _one(p, **person):
    import datetime
    from yibao.functions import engine
    person.setdefault("pay_date", None)
    if isinstance(person["pay_date"], str):
        person["pay_date"] = datetime.date.fromisoformat(person["pay_date"])
    if isinstance(person.get("event_date"), str):
        person["event_date"] = datetime.date.fromisoformat(person["event_date"])
    return engine.compute(p, engine.Person(**person), datetime.date(2026, 6, 1))


@pytest.mark.parametrize("plan_id,ids,default,shared", [
    # 000 二(二)(1)/(3): 低保 (市财政 all) and 计生 (市、镇街 50% each), both the whole 280
    ("zaozhuang-2022", ("低保对象", "农村独女双女及独生子女伤亡病残家庭"),
     [("市财政", 28000)], [("市财政", 21000), ("镇(街)财政", 7000)]),
    # 001 四(一)1/2: 特困 (医疗救助基金) and 计生两户 (县级财政), both the whole 400
    ("shuangshui-2025", ("特困人员", "农村计生两户及计生特殊家庭成员"),
     [("医疗救助基金", 40000)], [("医疗救助基金", 20000), ("县级财政", 20000)]),
    # 004 四: 三四级残疾 (财政125) and 低保 (医疗救助125)
    ("xxzhen-2020", ("三四级残疾人", "城乡低保对象"),
     [("财政", 12500)], [("财政", 6250), ("医疗救助", 6250)]),
])
def test_open_tie_funding_decides_who_pays_equal_subsidies(tmp_path, plan_id, ids, default, shared):
    """[open.tie_funding]: the plans say 就高不重复 but not who funds a tie."""
    person = dict(id_no=make_id("19800101"), identities=ids)
    p = plans.load(plan_id)
    assert p.answer("tie_funding") == "order"
    assert list(_one(p, **person).funding) == default
    r = _one(_with_open(tmp_path, plan_id, "tie_funding", '"shared"'), **person)
    assert sorted(r.funding) == sorted(shared) and r.subsidy == sum(f for _s, f in shared)


@pytest.mark.parametrize("plan_id,pay,default,civil", [
    ("zaozhuang-2022", "2022-03-01", "2022-03-31", "2022-04-01"),     # 000 二(三) 缴费30日后
    ("shuangshui-2025", "2025-03-01", "2025-05-30", "2025-05-31"),    # 001 三(二)1 等待期90天
])
def test_open_wait_count_counts_the_waiting_days(tmp_path, plan_id, pay, default, civil):
    """[open.wait_count]: pay day + N (default), or 民法典第二百零一条 (pay day not counted)."""
    person = dict(id_no=make_id("19800101"), pay_date=pay)
    assert _one(plans.load(plan_id), **person).benefit_start.isoformat() == default
    p = _with_open(tmp_path, plan_id, "wait_count", '"civil_code"')
    assert _one(p, **person).benefit_start.isoformat() == civil


def test_open_proxy_windows_limits_001_veterans_proxy_to_the_windows_listed(tmp_path):
    """001 四(三) 代缴 names no window: by default it applies in every subsidized
    window (here 三(二)2, 职工医保转入 within 90 days); listing only 集中征缴期
    leaves the person to pay the 400 themselves."""
    person = dict(id_no=make_id("19700101"), identities=("烈士遗属",), enroll_type="职工医保转入",
                  pay_date="2025-05-01", event_date="2025-04-01")
    r = _one(plans.load("shuangshui-2025"), **person)
    assert (r.payable, list(r.funding)) == (0, [("县级财政(区退役军人事务局代缴)", 40000)])
    p = _with_open(tmp_path, "shuangshui-2025", "proxy_windows", '["集中征缴期"]')
    r = _one(p, **person)
    assert (r.payable, list(r.funding)) == (40000, [])
    # inside the centralized window the proxy still pays
    r = _one(p, **dict(person, enroll_type="普通", event_date=None, pay_date="2024-10-15"))
    assert r.payable == 0


@pytest.mark.parametrize("plan_id", PRESETS)
def test_every_plan_states_its_open_questions_and_show_prints_them(plan_id):
    p = plans.load(plan_id)
    shown = run_yibao("policy", "show", plan_id).stdout
    assert "方案未写明、由县里决定的问题" in shown
    for q in p.open_questions:
        if q.written:
            assert q.clause.startswith(p.seed) and q.interpretation, q.key
            assert f"{q.key} = " in shown and f"[{q.clause}]" in shown
    relevant = {"tie_funding": p.selection == "highest", "wait_count": any(r.wait_days for r in p.rules),
                "proxy_windows": bool(p.proxy_source)}
    assert {q.key for q in p.open_questions if q.written} == {k for k, v in relevant.items() if v}


@pytest.mark.parametrize("plan_id,old,new,expected", [
    # issue 11: the second definition silently won (低保 200 元 → full subsidy)
    ("shuangshui-2025", "# 不单独资助、只作为条件的身份",
     '[[category]]\nname = "低保对象"\nsubsidy = "full"\nfunding = { "医疗救助基金" = "100%" }\nclause = "001 四(二)1"\n\n'
     "# 不单独资助、只作为条件的身份",
     "身份“低保对象”定义了两次（第7项和第13项）"),
    ("shuangshui-2025", 'aliases = ["低保边缘家庭成员"', 'aliases = ["低保", "低保边缘家庭成员"',
     "名称“低保”与身份“低保对象”重复"),
    ("zaozhuang-2022", '[open.tie_funding]\nvalue = "order"', '[open.tie_funding]\nvalue = "split"',
     "[open.tie_funding] 同额资助、资金来源不同的身份重叠时，资助资金由谁承担：value 为“split”，只能是：order、shared"),
    ("shuangshui-2025", 'value = "all"', 'value = ["集中缴费期"]', "“集中缴费期”不是本方案的缴费期"),
    ("zaozhuang-2022", "[open.wait_count]", "[open.wait_days]", "不认识的问题“wait_days”"),
    ("zaozhuang-2022", 'rate = "98%"\nabove = true', 'rate = "100%"\nabove = true', "above = true（超过）不能与100%同用"),
    ("xxzhen-2020", '"纯三四级残疾"]', '"纯特困户"]', "page_counts 中的“纯特困户”无法统计"),
    ("xxzhen-2020", "max_days = 0", "max_days = -1", "max_days 不能小于0"),
])
def test_check_catches_duplicates_and_bad_new_keys(tmp_path, plan_id, old, new, expected):
    path = _broken(tmp_path, plan_id, old, new)
    problems = plans.check_file(path)
    assert any(expected in p for p in problems), problems
    assert "处错误" in run_yibao("policy", "check", str(path), check_rc=1).stdout


def test_policy_show_never_ends_on_a_heading_over_nothing():
    """002 (strict order, no waiting period, no 代缴) leaves none of the open
    questions of issue 12 item 7 to decide: `policy show` says so instead of
    a heading with nothing under it; a plan with questions lists them."""
    shown = run_yibao("policy", "show", "xinqiao-2021").stdout.rstrip().splitlines()
    heading = shown.index("方案未写明、由县里决定的问题（改方案文件的 [open.键名] 即可）：")
    assert shown[heading + 1:] == ["  无：本方案不涉及同额资助由谁出资、待遇等待期怎么数、代缴适用哪些缴费期"]
    shown = run_yibao("policy", "show", "shuangshui-2025").stdout
    assert "  无：" not in shown and "wait_count = pay_date_plus" in shown
