"""The `yibao calc` contract other tools depend on, run as a real process."""
from __future__ import annotations

import json

from conftest import make_id, run_yibao

ADULT = make_id("19850101", 33)
KEYS = {"ok", "payable", "subsidy", "subsidy_tier", "funding", "benefit_start", "message"}


def test_one_output_line_per_input_line_in_order():
    rows = [
        {"id_no": ADULT, "identities": ["低保户"]},
        {"id_no": "110105194912310021"},
        {"id_no": ADULT, "employee_insured": True},
        {"id_no": ADULT, "pay_date": "2025-10-08"},
        {"id_no": ADULT, "pay_date": "not a date"},
        {"id_no": ADULT, "enroll_type": "学生"},
        {"id_no": ADULT, "identities": ["低保户", "特困人员"]},
    ]
    stdin = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n"
    proc = run_yibao("calc", "--policy", "shuangshui-2025", stdin=stdin)
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(out) == len(rows)
    assert all(set(o) == KEYS for o in out)
    assert out[0]["ok"] and out[0]["payable"] == 200 and out[0]["funding"] == {"医疗救助基金": 200}
    assert not out[1]["ok"] and "校验位" in out[1]["message"] and out[1]["payable"] is None
    assert not out[2]["ok"] and "职工医保" in out[2]["message"]
    assert not out[3]["ok"] and "2025年9月30日" in out[3]["message"]
    assert not out[4]["ok"] and "日期" in out[4]["message"]
    assert not out[5]["ok"] and "未知参保类型“学生”" in out[5]["message"]
    assert out[6]["subsidy_tier"] == "特困人员" and out[6]["payable"] == 0


def test_unreadable_input_exits_non_zero_with_one_line():
    proc = run_yibao("calc", "--policy", "shuangshui-2025", stdin='{"id_no": "1"}\n{oops\n', check_rc=2)
    assert proc.stderr.strip().startswith("错误：第2行不是有效的JSON")
    assert "Traceback" not in proc.stderr
    assert not any(word in proc.stderr for word in ("Expecting", "property name", "delimiter")), proc.stderr


def test_calc_over_the_bundled_example_file():
    from pathlib import Path
    example = Path(__file__).parent.parent / "examples" / "persons-shuangshui-2025.jsonl"
    proc = run_yibao("calc", "--policy", "shuangshui-2025", "--input", str(example))
    lines = example.read_text(encoding="utf-8").splitlines()
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(out) == len([x for x in lines if x.strip()])
    assert any(o["ok"] for o in out) and any(not o["ok"] for o in out)


def test_help_is_bilingual():
    text = run_yibao("calc", "--help").stdout
    assert "方案编号" in text and "plan id" in text


def test_an_unknown_input_key_fails_that_line_naming_it():
    # "identity" (singular) was ignored, so a 低保 person came out owing the full fee (issue 11)
    rows = [{"id_no": ADULT, "identity": ["低保户"]},
            {"id_no": ADULT, "identities": ["低保户"], "pay_date": "2025-10-08", "Pay_Date": "x"},
            {"id_no": ADULT, "identities": ["低保户"]}]
    stdin = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n"
    out = [json.loads(x) for x in run_yibao("calc", "--policy", "shuangshui-2025", stdin=stdin).stdout.splitlines()]
    assert len(out) == 3
    assert not out[0]["ok"] and out[0]["payable"] is None
    assert "“identity”" in out[0]["message"] and "identities" in out[0]["message"]
    assert not out[1]["ok"] and "“Pay_Date”" in out[1]["message"]
    assert out[2]["ok"] and out[2]["subsidy"] == 200      # the lines after are still computed
