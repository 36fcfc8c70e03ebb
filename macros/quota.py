"""任务分配 (quota): allocate a town's target across its villages
(004 附件1 筹资任务分配表, 000 附件 任务表) from a chosen base, with exact
totals by the largest-remainder method; villages with a manual figure keep
it, and the rounding is shown.

>>> allocate(10, [1, 1, 1], [None, None, None])
([4, 3, 3], [Fraction(10, 3), Fraction(10, 3), Fraction(10, 3)])
>>> allocate(10, [1, 1, 1], [5, None, None])[0]
[5, 3, 2]
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from . import book as books
from .villages import find_village_table, number, rows_below

__all__ = ["allocate", "run", "add_parser"]

BASES = {
    "target": ("上年目标任务数", lambda h: "目标任务" in h),
    "population": ("户籍人口数", lambda h: "户籍" in h),
    "enrolled": ("已参保人数", lambda h: "参保" in h and "目标" not in h and "率" not in h),
}
OVERRIDE = lambda h: any(w in h for w in ("指定", "手动", "调整"))


def allocate(total: int, bases: list[int], overrides: list[int | None]):
    """Whole numbers summing exactly to ``total``: overrides kept, the rest
    shared in proportion to ``bases`` by largest remainder (ties to the
    earlier village). Returns (allocation, exact shares)."""
    fixed = sum(o for o in overrides if o is not None)
    left = total - fixed
    if left < 0:
        raise books.BookError(f"手动指定的任务数合计{fixed}已超过总任务{total}")
    free = [i for i, o in enumerate(overrides) if o is None]
    weight = sum(bases[i] for i in free)
    if free and weight <= 0:
        raise books.BookError("分配基数合计为0，无法按比例分配")
    exact = [Fraction(o) if o is not None else Fraction(left * bases[i], weight) if free else Fraction(0)
             for i, o in enumerate(overrides)]
    out = [o if o is not None else int(exact[i]) for i, o in enumerate(overrides)]
    short = total - sum(out)
    order = sorted(free, key=lambda i: (-(exact[i] - int(exact[i])), i))
    for i in order[:short]:
        out[i] += 1
    return out, exact


def run(book, plan=None, base: str = "target", total: int | None = None, output: Path | None = None) -> str:
    grids = book.grids()
    label, test = BASES[base]
    for sheet, grid in grids.items():
        try:
            header, village_col, cols = find_village_table(sheet, grid, {"base": test, "override": OVERRIDE})
        except books.BookError:
            continue
        if "base" in cols:
            break
    else:
        raise books.BookError(f"找不到含“村名”和“{label}”列的任务表")
    base_col = cols["base"][0]        # the first: "2019年目标任务数" before "2020年目标任务数"
    override_col = cols.get("override", [None])[0]
    villages, bases, overrides = [], [], []
    for _r, name, row in rows_below(grid, header, village_col):
        villages.append(name)
        bases.append(number(row[base_col] if base_col < len(row) else None, label, name) or 0)
        o = row[override_col] if override_col is not None and override_col < len(row) else None
        overrides.append(number(o, "手动指定任务数", name))
    if not villages:
        raise books.BookError("任务表里没有村（社区）")
    if total is None:
        raise books.BookError("请用 --total 给出全镇目标任务数")
    shares, exact = allocate(total, bases, overrides)
    rows = [[f"任务分配（按{label}，最大余数法取整）"],
            ["村（社区）", label, "比例", "精确份额", "取整", "余数进位", "分配任务数", "来源"]]
    base_sum = sum(bases) or 1
    for name, b, o, s, e in zip(villages, bases, overrides, shares, exact):
        floor = int(e)
        rows.append([name, b, round(b / base_sum, 6), round(float(e), 4), floor if o is None else o,
                     (s - floor) if o is None else 0, s, "手动指定" if o is not None else "按比例"])
    rows.append(["合计", sum(bases), 1, round(float(sum(exact)), 4), None, None, sum(shares), None])
    sheet = books.OutSheet("任务分配", rows, title_rows=1, widths={1: 14, 2: 12, 3: 10, 4: 12, 5: 8, 6: 10, 7: 12, 8: 10},
                           number_formats={3: "0.00%"})
    if output:
        books.write_new_workbook(output, [sheet])
        where = str(output)
    else:
        book.replace_sheet(sheet)
        book.save()
        where = "“任务分配”工作表"
    return f"已把{total}人的任务分到{len(villages)}个村（社区），合计{sum(shares)}；结果在{where}"


def cmd_quota(args) -> int:
    output = Path(args.output) if args.output else None
    print(run(books.FileBook(args.file), base=args.base, total=args.total, output=output))
    return 0


def add_parser(sub):
    p = sub.add_parser("quota", help="把全镇任务按比例分到各村（最大余数法） / allocate a town target",
                       description="按上年任务、户籍人口或已参保人数分配各村任务，合计与总数一致；手动指定的村保持不变。"
                                   " Allocates a town's target across villages by largest remainder; manual figures kept.")
    p.add_argument("file", help="任务表（含村名和基数列） / task table")
    p.add_argument("--total", type=int, required=True, help="全镇目标任务数 / town target")
    p.add_argument("--base", choices=list(BASES), default="target",
                   help="分配基数：target上年任务、population户籍人口、enrolled已参保 / base")
    p.add_argument("-o", "--output", help="写到新文件 / new file")
    p.set_defaults(func=cmd_quota)
