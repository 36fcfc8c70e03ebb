"""奖励测算 (reward): 004 五(三) — the work fee per enrolled person
(``[work_fee] per_person``) and rewards by the date a village reached a rate
of its target (``[[reward]]`` by, rate, per_person), with flags where 六(二)
takes money back (``[deduction]``: rate under ``min_rate``, or 建档立卡
persons under ``min_poor_rate``). Every rate, date and amount comes from the
plan file; a plan without them says so.

A village gets the best single tier it qualifies for (the tiers are
alternatives, not added up): a tier's rate reached on or before its date.
Reaching a higher rate counts as reaching every lower one on the same day.
Rewards and fees are per enrolled person, in fen. The plan does not say how
much a deduction takes back, so deductions are flagged, not computed.

Where the days come from: a 达到95%日期 / 完成100%日期 column typed in the
task table, else the ledgers' pay dates (the day the count of payments
reached the rate × target, rounded up).
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

from yibao.functions import plan as plans
from yibao.functions.values import yuan

from . import book as books
from . import town
from .town import Village

__all__ = ["Tier", "tiers_of", "RewardRow", "compute", "reward_sheet", "run", "add_parser", "SHEET"]

SHEET = "奖励测算"


#: a reward tier of the plan (``[[reward]]``, typed in functions/plan.py)
Tier = plans.Reward


def tiers_of(plan: plans.Plan) -> list[Tier]:
    return list(plan.rewards)


@dataclasses.dataclass
class RewardRow:
    village: Village
    rate: Fraction | None
    tier: Tier | None
    work_fee: int        # fen
    reward: int          # fen
    flags: list[str]

    @property
    def total(self) -> int:
        return self.work_fee + self.reward


def compute(plan: plans.Plan, villages: list[Village]) -> list[RewardRow]:
    """The pure core: work fee, reward tier and deduction flags per village."""
    tiers = tiers_of(plan)
    fee = plan.work_fee.per_person if plan.work_fee else 0
    deduction = plan.deduction
    min_rate = deduction.min_rate if deduction else None
    min_poor = deduction.min_poor_rate if deduction else None
    clause = deduction.clause if deduction else ""
    out = []
    for v in villages:
        rate = town.rate_of(v.enrolled, v.target)
        best = None
        for tier in tiers:
            day = v.reached.get(tier.rate)
            if day is not None and day <= tier.by and (best is None or tier.per_person > best.per_person):
                best = tier
        flags = []
        if v.target is None:
            flags.append("没有目标任务数，无法计算参保率")
        elif min_rate is not None and rate is not None and rate < min_rate:
            flags.append(f"参保率{town.percent_text(rate)}低于{deduction.min_rate_text}，"
                         f"按方案扣减相应筹资工作经费（{clause}）")
        if min_poor is not None and v.poor_total:
            poor_rate = Fraction(v.poor_enrolled or 0, v.poor_total)
            if poor_rate < min_poor:
                flags.append(f"建档立卡贫困人口参保率{town.percent_text(poor_rate)}"
                             f"（{v.poor_enrolled or 0}/{v.poor_total}）低于{deduction.min_poor_rate_text}，"
                             f"按方案扣减（{clause}）")
        out.append(RewardRow(v, rate, best, fee * v.enrolled, (best.per_person if best else 0) * v.enrolled, flags))
    return out


def reward_sheet(plan: plans.Plan, rows: list[RewardRow], notes: list[str]) -> books.OutSheet:
    fee = plan.work_fee
    rates = sorted({t.rate for t in tiers_of(plan)})
    rate_texts = {t.rate: t.rate_text for t in tiers_of(plan)}
    who = plan.town or plan.county
    title = f"{who}{plan.year}年度城乡居民医保筹资工作经费和奖励测算表"
    header = ["序号", town.unit_label(plan), "目标任务数", "实际参保人数", "参保率"]
    header += [f"达到{rate_texts[r]}日期" for r in rates]
    header += [f"工作经费（{fee.per_person_text if fee else '0'}元/人）", "奖励档次", "奖励标准（元/人）", "奖励金额（元）",
               "经费和奖励合计（元）", "建档立卡参保", "扣减提示"]
    table_rows = [[title], [f"依据：{plan.name}（工作经费：{fee.clause if fee else '无'}；"
                            f"奖励：{'、'.join(sorted({t.clause for t in tiers_of(plan)})) or '无'}；"
                            f"扣减：{plan.deduction.clause if plan.deduction else '无'}）"], header]
    fills = {}
    flag_col = len(header)
    for i, r in enumerate(rows, 1):
        v = r.village
        poor = f"{v.poor_enrolled or 0}/{v.poor_total}" if v.poor_total else ""
        line = [i, v.unit, v.target, v.enrolled, town.percent_value(r.rate)]
        line += [v.reached.get(rate) for rate in rates]
        line += [yuan(r.work_fee), r.tier.label if r.tier else "未达奖励条件",
                 yuan(r.tier.per_person) if r.tier else 0, yuan(r.reward), yuan(r.total), poor,
                 "；".join(r.flags)]
        table_rows.append(line)
        if r.flags:
            fills[(len(table_rows), flag_col)] = books.SEVERITY_FILL["警告"]
    targets = [r.village.target for r in rows if r.village.target]
    enrolled_with_target = sum(r.village.enrolled for r in rows if r.village.target)
    total_rate = Fraction(enrolled_with_target, sum(targets)) if targets else None
    n = len(rates)
    table_rows.append([None, town.TOTAL_LABEL, sum(targets) if targets else None,
                       sum(r.village.enrolled for r in rows), town.percent_value(total_rate)]
                      + [None] * n
                      + [yuan(sum(r.work_fee for r in rows)), None, None, yuan(sum(r.reward for r in rows)),
                         yuan(sum(r.total for r in rows)), None, f"{sum(bool(r.flags) for r in rows)}个{town.unit_label(plan)}需扣减"])
    body_end = len(table_rows)
    table_rows.append([])
    table_rows.append(["说明：奖励按所达到的最高一档计发（各档不累加），金额＝奖励标准×实际参保人数；"
                       "工作经费＝经费标准×实际参保人数；达到较高比例即视为同日达到较低比例。"
                       "方案未规定扣减金额，仅作提示。"])
    for note in notes:
        table_rows.append([f"注：{note}"])
    table_rows.append(["填表人：　　　　　　审核人：　　　　　　（盖章）　　　　年　　月　　日"])
    date_cols = {6 + k: "yyyy-mm-dd" for k in range(n)}
    money = {6 + n + k: "#,##0.00" for k in (0, 2, 3, 4)}
    from openpyxl.utils import get_column_letter
    last = get_column_letter(len(header))
    return books.OutSheet(SHEET, table_rows, header_rows=1, title_rows=2, footer_rows=len(table_rows) - body_end,
                          number_formats={3: "#,##0", 4: "#,##0", 5: "0.00%", **date_cols, **money},
                          widths={1: 6, 2: 14, 3: 10, 4: 10, 5: 9, **{c: 12 for c in date_cols},
                                  6 + n: 12, 7 + n: 20, 8 + n: 10, 9 + n: 12, 10 + n: 12, 11 + n: 10, 12 + n: 60},
                          fills=fills, merges=[f"A1:{last}1", f"A2:{last}2"])


def run(book, plan: plans.Plan | None = None, options: dict | None = None) -> str:
    """Reward figures for every village; write the 奖励测算 sheet (or a new file)."""
    options = options or {}
    grids = book.grids()
    plan = plan or town.resolve_plan(options.get("policy"), grids, options.get("ledgers") or [])
    if not plan.rewards and plan.work_fee is None and plan.deduction is None:
        raise books.BookError(f"方案“{plan.name}”没有工作经费和奖励的规定（[work_fee]、[[reward]]、[deduction]），无需测算")
    rates = {t.rate for t in tiers_of(plan)}
    warnings: list[str] = []
    villages, notes, _table = town.gather(plan, grids, options.get("ledgers") or [], None, rates,
                                          options.get("progress"), warnings,
                                          options.get("lists"))
    rows = compute(plan, villages)
    sheet = reward_sheet(plan, rows, notes)
    where = books.deliver(book, sheet, options.get("output"))
    rewarded = sum(r.reward > 0 for r in rows)
    flagged = sum(bool(r.flags) for r in rows)
    return (f"{len(rows)}个{town.unit_label(plan)}：工作经费{yuan(sum(r.work_fee for r in rows))}元，"
            f"{rewarded}个获奖励共{yuan(sum(r.reward for r in rows))}元，{flagged}个需扣减；已写入{where}"
            + town.warning_text(warnings))


def cmd_reward(args) -> int:
    path = Path(args.file)
    options = {"policy": args.policy, "output": town.output_for(path, args.output, SHEET),
               "ledgers": town.read_sources(args.ledgers), "lists": town.side_lists(args)}
    return town.run_command(run, path, options)


def add_parser(sub):
    p = sub.add_parser(
        "reward", help="奖励测算：各村工作经费、按期完成奖励和扣减提示 / work fees, rewards and deductions",
        description="按方案的工作经费标准（每参保一人）、完成时限和奖励标准测算各村经费与奖励，"
                    "并提示参保率或建档立卡参保率不达标需扣减的村；标准和日期全部读自方案文件。"
                    "各村参保人数和达标日期取自台账（按缴费日期），或任务表中的“实际参保数”“达到95%日期”等列。"
                    " Work fee per enrolled person, rewards by the date a village reached each rate, "
                    "deduction flags; all from the plan file.")
    town.add_common_arguments(p, SHEET)
    p.set_defaults(func=cmd_reward)
