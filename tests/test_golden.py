"""Golden cases written as data (tests/cases/<plan>.toml), each naming the
clause of the plan it checks, run through the real `yibao calc` command."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import calc_lines

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CASES = Path(__file__).parent / "cases"
PLANS = ["zaozhuang-2022", "shuangshui-2025", "xinqiao-2021", "xxzhen-2020"]
#: the fictional demo plan: each entry copies a clause of a real plan ("仿 004 四")
DEMO_PLANS = ["shili-2026"]


def load_cases(plan_id):
    """Every case file of a plan: ``<plan>.toml`` and ``<plan>.<part>.toml``."""
    cases = []
    for path in sorted(CASES.glob(f"{plan_id}*.toml")):
        with open(path, "rb") as handle:
            cases += tomllib.load(handle)["case"]
    return cases


@pytest.mark.parametrize("plan_id", PLANS + DEMO_PLANS)
def test_each_plan_has_at_least_15_cases_with_clauses(plan_id):
    cases = load_cases(plan_id)
    assert len(cases) >= 15
    seed = {"zaozhuang-2022": "000", "shuangshui-2025": "001", "xinqiao-2021": "002",
            "xxzhen-2020": "004", "shili-2026": "仿 00"}[plan_id]
    for case in cases:
        assert case["clause"].startswith(seed), case["title"]


@pytest.mark.parametrize("plan_id", PLANS + DEMO_PLANS)
def test_golden_cases(plan_id):
    cases = load_cases(plan_id)
    results = calc_lines(plan_id, [dict(c["input"]) for c in cases])
    assert len(results) == len(cases)
    failures = []
    for case, got in zip(cases, results):
        for key, want in case["expect"].items():
            if key == "message_contains":
                if want not in got["message"]:
                    failures.append(f"[{case['clause']}] {case['title']}: message {got['message']!r} lacks {want!r}")
            elif got.get(key) != want:
                failures.append(f"[{case['clause']}] {case['title']}: {key} = {got.get(key)!r}, want {want!r}")
        for key in case.get("expect_null", []):     # TOML has no null
            if got.get(key) is not None:
                failures.append(f"[{case['clause']}] {case['title']}: {key} = {got.get(key)!r}, want null")
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- which day decides age

from conftest import run_yibao  # noqa: E402
from yibao.functions import plan as plans  # noqa: E402


@pytest.mark.parametrize("plan_id", PLANS + DEMO_PLANS)
def test_every_plan_states_which_day_decides_age_and_policy_show_prints_it(plan_id):
    with open(plans.find_plan_file(plan_id), "rb") as handle:
        age = tomllib.load(handle)["age"]
    assert age["on"] in plans.AGE_ON and age["clause"] and age["interpretation"]
    shown = run_yibao("policy", "show", plan_id).stdout
    line = next(x for x in shown.splitlines() if x.startswith("年龄按"))
    assert "缴费之日" in line and f"[{age['clause']}]" in line
    assert age["interpretation"] in shown


def _variant(tmp_path, on: str) -> str:
    """shuangshui-2025 with another ``[age] on`` reading (what a county writes)."""
    text = plans.find_plan_file("shuangshui-2025").read_text(encoding="utf-8")
    assert 'on = "pay_date"' in text
    path = tmp_path / f"shuangshui-2025-{on}.toml"
    path.write_text(text.replace('on = "pay_date"', f'on = "{on}"', 1), encoding="utf-8")
    return str(path)


# 001 四(二)2: 低保边缘家庭人口 turning 60 on 2025-05-10 (the case) and 60 on 2025-12-31
TURNS_60_IN_MAY = {"id_no": "430999196505100110", "identities": ["低保边缘家庭人口"], "pay_date": "2025-06-01"}
TURNS_60_ON_NEW_YEARS_EVE = {"id_no": "430999196512310175", "identities": ["低保边缘家庭人口"], "pay_date": "2024-11-01"}


@pytest.mark.parametrize("on,may,december", [
    # the preset: payment day; a payment before 2025 counts on 2025-01-01
    ("pay_date", (280, "2025-06-01"), 400),
    # "以参保年度1月1日为准": 59 on 1 January, whenever he pays
    ("year_start", (1070, "2025-08-30"), 400),
    # "当年年满60周岁": 60 during 2025, whenever he pays
    ("year_reached", (280, "2025-06-01"), 280),
])
def test_each_reading_of_the_age_day_gives_its_answer(tmp_path, on, may, december):
    got = calc_lines(_variant(tmp_path, on), [TURNS_60_IN_MAY, TURNS_60_ON_NEW_YEARS_EVE])
    assert (got[0]["payable"], got[0]["benefit_start"]) == may
    assert got[1]["payable"] == december


def test_a_wrong_age_reading_is_refused_by_policy_check(tmp_path):
    path = _variant(tmp_path, "birthday")
    proc = run_yibao("policy", "check", path, check_rc=1)
    assert "[age] 年龄计算：on 为“birthday”，只能是：pay_date、year_start、year_reached" in proc.stdout
