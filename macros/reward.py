"""奖励测算 (reward): 004 五(三) — the work fee per enrolled person and the
rewards by the date a village reached 95% and 100% of its target, with flags
where 六(二) takes money back (rate under 95%, or poor households under
100%). Every rate, date and amount comes from the plan file
(``[work_fee]``, ``[[reward]]``, ``[deduction]``).

A village gets the best reward tier it qualifies for: the tier's rate
reached on or before its date. Rewards and fees are per enrolled person.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

from yibao.functions import plan as plans
from yibao.functions.plan import parse_share
from yibao.functions.values import fen, yuan

from . import book as books
from .villages import date_or_none, find_village_table, number, rows_below

__all__ = ["reward_of", "run", "add_parser"]

WANTED = {
    "target": lambda h: "目标任务" in h or h in ("任务数", "目标"),
    "enrolled": lambda h: "参保人数" in h and "建档" not in h and "贫困" not in h,
    "d95": lambda h: "95" in h and "日期" in h,
    "d100": lambda h: "100" in h and "日期" in h,
    "poor_target": lambda h: ("建档立卡" in h or "贫困" in h) and ("应参保" in h or "人数" in h and "已" not in h),
    "poor_enrolled": lambda h: ("建档立卡" in h or "贫困" in h) and "已参保" in h,
}


def reward_of(plan: plans.Plan, d95: datetime.date | None, d100: datetime.date | None):
    """(per-person reward in fen, the tier's words) for the dates reached."""
    best, why = 0, "未在奖励时限内完成"
    for tier in plan.data.get("reward", []):
        rate = parse_share(tier["rate"])
        reached = d100 if rate >= 1 else min(d for d in (d95, d100) if d) if (d95 or d100) else None
        if reached and reached <= tier["by"]:
            amount = fen(tier["per_person"])
            if amount > best:
                best, why = amount, f"{tier['by']:%m月%d日}前完成{tier['rate']}（{tier['clause']}）"
    return best, why


def run(book, plan: plans.Plan, output: Path | None = None) -> str:
    if not plan.data.get("reward") and "work_fee" not in plan.data:
        raise books.BookError(f"方案“{plan.name}”没有工作经费和奖励的规定")
    grids = book.grids()
    for sheet, grid in grids.items():
        try:
            header, village_col, cols = find_village_table(sheet, grid, WANTED)
        except books.BookError:
            continue
        if "target" in cols and "enrolled" in cols:
            break
    else:
        raise books.BookError("找不到含“村名”“目标任务数”“参保人数”列的进度表")
    col = {k: v[-1] if k == "target" else v[0] for k, v in cols.items()}
    fee = fen(plan.data.get("work_fee", {}).get("per_person", "0"))
    deduction = plan.data.get("deduction", {})
    min_rate = parse_share(deduction.get("min_rate", "0%"))
    min_poor = parse_share(deduction.get("min_poor_rate", "0%"))
    get = lambda row, key: row[col[key]] if key in col and col[key] < len(row) else None
    rows = [[f"{plan.name} 工作经费和奖励测算"],
            ["村（社区）", "目标任务数", "参保人数", "参保率", "达到95%日期", "达到100%日期",
             f"工作经费（{yuan(fee)}元/人）", "奖励标准（元/人）", "奖励金额", "合计（元）", "依据", "扣减提示"]]
    totals = [0, 0, 0, 0]
    flagged = 0
    for _r, name, row in rows_below(grid, header, village_col):
        target = number(get(row, "target"), "目标任务数", name) or 0
        enrolled = number(get(row, "enrolled"), "参保人数", name) or 0
        d95 = date_or_none(get(row, "d95"), "达到95%日期", name)
        d100 = date_or_none(get(row, "d100"), "达到100%日期", name)
        per, why = reward_of(plan, d95, d100)
        rate = Decimal(enrolled) / target if target else Decimal(0)
        flags = []
        if target and rate < min_rate:
            flags.append(f"参保率低于{deduction.get('min_rate')}，扣减相应筹资工作资金（{deduction.get('clause', '')}）")
        poor_t = number(get(row, "poor_target"), "建档立卡应参保人数", name)
        poor_e = number(get(row, "poor_enrolled"), "建档立卡已参保人数", name)
        if poor_t and (poor_e or 0) / poor_t < min_poor:
            flags.append(f"建档立卡贫困户参保率低于{deduction.get('min_poor_rate')}，扣减（{deduction.get('clause', '')}）")
        flagged += bool(flags)
        work, bonus = fee * enrolled, per * enrolled
        totals = [totals[0] + target, totals[1] + enrolled, totals[2] + work, totals[3] + bonus]
        rows.append([name, target, enrolled, float(round(rate, 4)), d95, d100, yuan(work), yuan(per),
                     yuan(bonus), yuan(work + bonus), why, "；".join(flags)])
    rows.append(["合计", totals[0], totals[1], float(round(Decimal(totals[1]) / totals[0], 4)) if totals[0] else 0,
                 None, None, yuan(totals[2]), None, yuan(totals[3]), yuan(totals[2] + totals[3]), None, None])
    sheet = books.OutSheet("奖励测算", rows, title_rows=1, number_formats={4: "0.00%", 5: "yyyy-mm-dd", 6: "yyyy-mm-dd"},
                           widths={1: 14, 2: 10, 3: 10, 4: 9, 5: 12, 6: 12, 7: 14, 8: 12, 9: 12, 10: 12, 11: 34, 12: 50})
    if output:
        books.write_new_workbook(output, [sheet])
        where = str(output)
    else:
        book.replace_sheet(sheet)
        book.save()
        where = "“奖励测算”工作表"
    return (f"{len(rows) - 3}个村（社区）：工作经费{yuan(totals[2])}元，奖励{yuan(totals[3])}元，"
            f"{flagged}个需扣减；结果在{where}")


def cmd_reward(args) -> int:
    output = Path(args.output) if args.output else None
    print(run(books.FileBook(args.file), plans.load(args.policy), output))
    return 0


def add_parser(sub):
    p = sub.add_parser("reward", help="测算各村工作经费和奖励 / work fees and rewards",
                       description="按方案的工作经费标准、完成时限和奖励标准测算各村经费与奖励，并提示扣减情形。"
                                   " Work fee per enrolled person and rewards by the dates a village reached 95%/100%.")
    p.add_argument("file", help="各村进度表（村名、目标任务数、参保人数、达到95%%/100%%日期） / progress table")
    p.add_argument("--policy", required=True, help="方案编号 / plan id")
    p.add_argument("-o", "--output", help="写到新文件 / new file")
    p.set_defaults(func=cmd_reward)
