"""进度通报 (progress): enrolled against target per village, rate, rank,
the plan's milestones (``[[milestone]]``: 001 七(七) 90% by 2024-12-31;
004 一(二) 95% by 2019-12-31 and 100% by 2020-02-29) and a native Excel bar
chart of the rates.

Targets come from the task table; enrolled persons are counted on the
ledgers (the workbook's own ledger sheets and any ledger files given),
counting payments up to the report date, or read from the task table's
实际参保数 column where a village has no ledger. Villages are listed by rank
(equal rates share a rank: 1, 1, 3); without a target a village is listed
last, unranked.
"""

from __future__ import annotations

import dataclasses
import datetime
from fractions import Fraction
from pathlib import Path

from yibao.functions import plan as plans

from . import book as books
from . import town
from .town import Milestone, Village

__all__ = ["Line", "compute", "progress_sheet", "run", "add_parser", "SHEET"]

SHEET = "进度通报"


@dataclasses.dataclass
class Line:
    village: Village
    rate: Fraction | None
    rank: int | None
    needs: list[tuple[int, int]]     # per milestone: (persons needed, still short)
    status: str


def _status(rate: Fraction | None, short: list[int], marks: list[Milestone], on: datetime.date) -> str:
    if rate is None:
        return "无目标任务数"
    parts = []
    for m, gap in zip(marks, short):
        if gap == 0:
            parts.append(f"已达{m.text}")
        elif m.due(on):
            parts.append(f"未按期完成（{m.label}，差{gap}人）")
        else:
            parts.append(f"距{m.label}还差{gap}人")
    return "；".join(parts)


def compute(plan: plans.Plan, villages: list[Village], on: datetime.date) -> list[Line]:
    """The pure core: rate, shared rank and milestone gaps, sorted by rank."""
    marks = town.milestones(plan)
    lines = []
    for v in villages:
        rate = town.rate_of(v.enrolled, v.target)
        needs = []
        for m in marks:
            need = m.need(v.target) if v.target else None
            # a milestone already due is measured at its own date, from the pay dates
            done = v.enrolled_on(m.date) if m.due(on) else v.enrolled
            typed = v.reached.get(m.rate)
            if v.source != "台账" and typed is not None and (m.date is None or typed <= m.date) and not m.above:
                done = max(done, need or 0)
            needs.append((need, max(0, need - done) if need is not None else None))
        lines.append(Line(v, rate, None, needs, _status(rate, [n[1] for n in needs], marks, on)))
    ranked = sorted((ln for ln in lines if ln.rate is not None), key=lambda ln: -ln.rate)
    previous, place = None, 0
    for i, ln in enumerate(ranked, 1):
        if ln.rate != previous:
            place, previous = i, ln.rate
        ln.rank = place
    order = {id(ln): i for i, ln in enumerate(lines)}
    return sorted(lines, key=lambda ln: (ln.rank is None, ln.rank or 0, order[id(ln)]))


def progress_sheet(plan: plans.Plan, lines: list[Line], on: datetime.date, notes: list[str]) -> books.OutSheet:
    marks = town.milestones(plan)
    who = plan.town or plan.county
    title = f"{who}{plan.year}年度城乡居民医保参保进度通报"
    targets = sum(ln.village.target for ln in lines if ln.village.target)
    enrolled_t = sum(ln.village.enrolled for ln in lines if ln.village.target)
    total_rate = Fraction(enrolled_t, targets) if targets else None
    header = ["排名", town.unit_label(plan), "目标任务数", "已参保人数", "参保率", "尚未参保"]
    for m in marks:
        header += [m.header, "差额"]
    header += ["进度情况", "数据来源"]
    rows = [[title], [f"统计截至{town.day_text(on)}，全{'镇' if plan.town else '市'}目标任务{targets}人，"
                      f"已参保{enrolled_t}人，参保率{town.percent_text(total_rate)}"], header]
    fills = {}
    status_col = 7 + 2 * len(marks)
    for ln in lines:
        v = ln.village
        row = [ln.rank, v.unit, v.target, v.enrolled, town.percent_value(ln.rate),
               max(0, v.target - v.enrolled) if v.target else None]
        for need, short in ln.needs:
            row += [need, short]
        row += [ln.status, v.source]
        rows.append(row)
        if "未按期" in ln.status:
            fills[(len(rows), status_col)] = books.SEVERITY_FILL["错误"]
    first, last = 4, len(rows)
    total_needs = []
    for k, m in enumerate(marks):
        need = m.need(targets) if targets else None
        total_needs += [need, max(0, need - enrolled_t) if need is not None else None]
    rows.append(["", town.TOTAL_LABEL, targets or None, sum(ln.village.enrolled for ln in lines),
                 town.percent_value(total_rate), max(0, targets - enrolled_t) if targets else None]
                + total_needs + [_status(total_rate, total_needs[1::2], marks, on) if targets else "", None])
    body_end = len(rows)
    rows.append([])
    rows.append([f"进度节点（{'；'.join(f'{m.label}，{m.clause}' for m in marks) or '方案未规定'}）。"
                 "排名按参保率从高到低，参保率相同的并列。"])
    for note in notes:
        rows.append([f"注：{note}"])
    from openpyxl.utils import get_column_letter
    width = len(header)
    chart = None
    if last >= first:
        chart = {"type": "bar", "direction": "bar", "title": f"各{town.unit_label(plan)}参保率",
                 "categories": (2, first, last), "values": (5, first - 1, last), "y_title": "参保率",
                 "y_min": 0, "y_format": "0%",
                 # under the notes, on the first printed section (beside the table it was cut by a page edge)
                 "anchor": f"B{len(rows) + 2}", "height": max(6.5, 0.6 * (last - first + 1) + 2.5),
                 "width": 16}
    counts = {c: "#,##0" for c in (3, 4, 6)}
    counts.update({7 + 2 * k: "#,##0" for k in range(len(marks))})
    counts.update({8 + 2 * k: "#,##0" for k in range(len(marks))})
    return books.OutSheet(SHEET, rows, header_rows=1, title_rows=2, footer_rows=len(rows) - body_end,
                          number_formats={5: "0.00%", **counts}, fills=fills,
                          widths={1: 6, 2: 14, 3: 10, 4: 10, 5: 9, 6: 9,
                                  **{7 + k: 12 if k % 2 == 0 else 7 for k in range(2 * len(marks))},
                                  status_col: 44, status_col + 1: 8},
                          merges=[f"A1:{get_column_letter(width)}1", f"A2:{get_column_letter(width)}2"],
                          chart=chart)


def run(book, plan: plans.Plan | None = None, options: dict | None = None) -> str:
    """Progress by village; write the 进度通报 sheet with its chart (or a new file)."""
    options = options or {}
    grids = book.grids()
    plan = plan or town.resolve_plan(options.get("policy"), grids, options.get("ledgers") or [])
    on = options.get("date") or datetime.date.today()
    warnings: list[str] = []
    villages, notes, _table = town.gather(plan, grids, options.get("ledgers") or [], on, (),
                                          options.get("progress"), warnings,
                                          options.get("lists"))
    lines = compute(plan, villages, on)
    sheet = progress_sheet(plan, lines, on, notes)
    where = books.deliver(book, sheet, options.get("output"))
    targets = sum(ln.village.target for ln in lines if ln.village.target)
    enrolled = sum(ln.village.enrolled for ln in lines if ln.village.target)
    late = sum("未按期" in ln.status for ln in lines)
    return (f"截至{town.day_text(on)}，{len(lines)}个{town.unit_label(plan)}参保{sum(ln.village.enrolled for ln in lines)}人，"
            f"参保率{town.percent_text(Fraction(enrolled, targets)) if targets else '（无目标任务数）'}，"
            f"{late}个未按期完成进度要求；已写入{where}（含条形图）"
            + town.warning_text(warnings))


def cmd_progress(args) -> int:
    from yibao.functions.values import BadValue, to_date
    path = Path(args.file)
    on = None
    if args.date:
        try:
            on = to_date(args.date)
        except BadValue as exc:
            raise BadValue(f"--date：{exc}") from None
    options = {"policy": args.policy, "output": town.output_for(path, args.output, SHEET), "date": on,
               "ledgers": town.read_sources(args.ledgers), "lists": town.side_lists(args)}
    return town.run_command(run, path, options)


def add_parser(sub):
    p = sub.add_parser(
        "progress", help="进度通报：各村参保率、排名、进度节点和条形图 / progress by village with a chart",
        description="按各村目标任务和已参保人数计算参保率、排名，对照方案规定的进度节点（如12月31日前95%），"
                    "写入“进度通报”工作表并附条形图。已参保人数取自台账（按缴费日期统计到截止日），"
                    "或任务表的“实际参保数”列。 Rate, rank and the plan's milestones per village, "
                    "with a native Excel bar chart.")
    town.add_common_arguments(p, SHEET)
    p.add_argument("--date", help="统计截止日期，如2019-12-31（默认今天） / as-of date")
    p.set_defaults(func=cmd_progress)
