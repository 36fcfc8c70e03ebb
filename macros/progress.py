"""进度通报 (progress): enrolled against target per village, rate, rank,
the plan's milestones (001 七(七): 90% by 2024-12-31; 004 一(二): 95% by
2019-12-31 and 100% by 2020-02-29) and a native Excel bar chart.

Input: a per-village table (村名, 目标任务数, 参保人数), or enrollment
ledgers, whose enrolled persons are counted per village against targets
given in a village table in the same workbook.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

from yibao.functions import plan as plans
from yibao.functions.plan import parse_share

from . import book as books
from .villages import find_village_table, number, rows_below

__all__ = ["run", "add_parser"]

WANTED = {
    "target": lambda h: "目标任务" in h or h in ("任务数", "目标"),
    "enrolled": lambda h: "参保人数" in h and "建档" not in h and "贫困" not in h and "应" not in h,
}


def milestone_text(plan: plans.Plan, rate: Decimal, on: datetime.date) -> tuple[str, bool]:
    """The plan's next or missed milestone for a village at ``rate`` on ``on``."""
    behind = False
    parts = []
    for m in sorted(plan.data.get("milestone", []), key=lambda m: m["date"]):
        need = parse_share(m["rate"])
        if rate >= need:
            parts.append(f"已达{m['rate']}")
        elif on > m["date"]:
            parts.append(f"未按期（{m['date']:%m月%d日}前{m['rate']}）")
            behind = True
        else:
            parts.append(f"{m['date']:%Y年%m月%d日}前须达{m['rate']}")
    return "；".join(parts), behind


def run(book, plan: plans.Plan, on: datetime.date | None = None, output: Path | None = None) -> str:
    on = on or datetime.date.today()
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
    tcol, ecol = cols["target"][-1], cols["enrolled"][0]
    data = []
    for _r, name, row in rows_below(grid, header, village_col):
        target = number(row[tcol] if tcol < len(row) else None, "目标任务数", name) or 0
        enrolled = number(row[ecol] if ecol < len(row) else None, "参保人数", name) or 0
        data.append((name, target, enrolled, Decimal(enrolled) / target if target else Decimal(0)))
    if not data:
        raise books.BookError("进度表里没有村（社区）")
    ranked = sorted(range(len(data)), key=lambda i: -data[i][3])
    rank = {i: ranked.index(i) + 1 for i in ranked}
    for i in ranked:   # equal rates share a rank
        same = [j for j in ranked if data[j][3] == data[i][3]]
        rank[i] = min(rank[j] for j in same)
    rows = [[f"{plan.name} 参保进度通报（截至{on:%Y年%m月%d日}）"],
            ["村（社区）", "目标任务数", "已参保人数", "参保率", "排名", "进度要求"]]
    behind_count = 0
    for i, (name, target, enrolled, rate) in enumerate(data):
        text, behind = milestone_text(plan, rate, on)
        behind_count += behind
        rows.append([name, target, enrolled, float(round(rate, 4)), rank[i], text])
    total_t = sum(d[1] for d in data)
    total_e = sum(d[2] for d in data)
    rows.append(["合计", total_t, total_e, float(round(Decimal(total_e) / total_t, 4)) if total_t else 0, None,
                 milestone_text(plan, Decimal(total_e) / total_t if total_t else Decimal(0), on)[0]])
    first, last = 3, 2 + len(data)
    sheet = books.OutSheet(
        "进度通报", rows, title_rows=1, number_formats={4: "0.0%"},
        widths={1: 14, 2: 12, 3: 12, 4: 10, 5: 6, 6: 50},
        chart={"title": "各村参保率", "categories": (1, first, last), "values": (4, first - 1, last),
               "y_title": "参保率", "anchor": "H2", "direction": "bar"})
    if output:
        books.write_new_workbook(output, [sheet])
        where = str(output)
    else:
        book.replace_sheet(sheet)
        book.save()
        where = "“进度通报”工作表"
    rate = Decimal(total_e) / total_t if total_t else Decimal(0)
    return f"{len(data)}个村（社区）合计参保率{rate:.1%}，{behind_count}个未按期达到进度要求；结果在{where}"


def cmd_progress(args) -> int:
    output = Path(args.output) if args.output else None
    on = datetime.date.fromisoformat(args.date) if args.date else None
    print(run(books.FileBook(args.file), plans.load(args.policy), on, output))
    return 0


def add_parser(sub):
    p = sub.add_parser("progress", help="各村参保进度、排名和图表 / progress by village",
                       description="按各村目标任务和已参保人数计算参保率、排名和方案规定的进度节点，附条形图。"
                                   " Rate, rank and milestones per village, with a native bar chart.")
    p.add_argument("file", help="各村进度表 / progress table")
    p.add_argument("--policy", required=True, help="方案编号 / plan id")
    p.add_argument("--date", help="统计截止日期 YYYY-MM-DD（默认今天） / as-of date")
    p.add_argument("-o", "--output", help="写到新文件 / new file")
    p.set_defaults(func=cmd_progress)
