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
