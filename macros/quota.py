"""任务分配 (quota): divide a town's target among its villages (004 附件1
筹资任务分配表, 000 附件 各镇街征缴任务表).

The base is chosen: last year's target (上年目标任务数), registered
population (户籍人口数) or enrolled (实际参保数). Villages given a fixed
number (a 指定任务数 column in the task table, or ``--fix 村=人数``) keep it;
the rest of the total is divided in proportion to the base with the
largest-remainder method, so the villages add up to the total exactly:
each village first gets the whole part of its exact share, then the persons
still unassigned go one each to the largest fractional parts (ties: larger
base first, then table order). Every step is shown in the result sheet.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction
from pathlib import Path

from yibao.functions import plan as plans

from . import book as books
from . import town
from .town import TaskTable

__all__ = ["Allocation", "allocate", "quota_sheet", "run", "add_parser", "BASES", "SHEET"]

SHEET = "任务分配"
#: base name → (TaskRow attribute, Chinese name)
BASES = {
    "prev_target": ("prev_target", "上年目标任务数"),
    "population": ("population", "户籍人口数"),
    "enrolled": ("enrolled", "实际参保数"),
}
#: the enrolled base when it is counted on the ledgers, not typed in the table
COUNTED_BASE = "台账已参保人数"
_BASE_ALIASES = {"target": "prev_target", "上年任务": "prev_target", "上年目标任务数": "prev_target", "上年": "prev_target",
                 "户籍人口": "population", "户籍人口数": "population", "人口": "population",
                 "已参保": "enrolled", "实际参保数": "enrolled", "参保": "enrolled"}


@dataclasses.dataclass
class Allocation:
    unit: str
    base: int
    fixed: bool
    exact: Fraction          # the exact proportional share (the fixed number when fixed)
    whole: int               # its whole part
    plus: int                # 1 when it got one of the remaining persons
    rank: int | None = None  # order of its fractional part among the proportional

    @property
    def target(self) -> int:
        return self.whole + self.plus


def allocate(total: int, bases: list[tuple[str, int]], fixed: dict[str, int] | None = None) -> list[Allocation]:
    """Divide ``total`` over ``bases`` ((unit, base), ...) by the largest
    remainder; units in ``fixed`` get exactly that number.

    >>> [a.target for a in allocate(10, [("甲", 1), ("乙", 1), ("丙", 1)])]
    [4, 3, 3]
    >>> [a.target for a in allocate(10, [("甲", 5), ("乙", 3)], {"乙": 2})]
    [8, 2]
    """
    fixed = fixed or {}
    if total < 0:
        raise books.BookError(f"目标任务总数不能为负数（{total}）")
    unknown = [u for u in fixed if u not in {b[0] for b in bases}]
    if unknown:
        raise books.BookError(f"指定任务数的“{'、'.join(unknown)}”不在任务表中")
    for unit, base in bases:
        if base < 0:
            raise books.BookError(f"“{unit}”的分配基数为负数（{base}）")
    for unit, value in fixed.items():
        if value < 0:
            raise books.BookError(f"“{unit}”的指定任务数不能为负数（{value}）")
    rest = total - sum(fixed.values())
    if rest < 0:
        raise books.BookError(f"指定任务数合计{sum(fixed.values())}人，超过了目标任务总数{total}人")
    free = [(u, b) for u, b in bases if u not in fixed]
    base_sum = sum(b for _u, b in free)
    if rest > 0 and base_sum == 0:
        raise books.BookError(f"还有{rest}人要分配，但未指定任务数的村分配基数都是0或空")
    out: list[Allocation] = []
    for unit, base in bases:
        if unit in fixed:
            out.append(Allocation(unit, base, True, Fraction(fixed[unit]), fixed[unit], 0))
        else:
            exact = Fraction(rest * base, base_sum) if base_sum else Fraction(0)
            out.append(Allocation(unit, base, False, exact, math.floor(exact), 0))
    left = rest - sum(a.whole for a in out if not a.fixed)
    order = sorted((i for i, a in enumerate(out) if not a.fixed),
                   key=lambda i: (-(out[i].exact - out[i].whole), -out[i].base, i))
    for rank, i in enumerate(order, 1):
        out[i].rank = rank
        if rank <= left:
            out[i].plus = 1
    assert sum(a.target for a in out) == total
    return out


def _parse_fix(items: list[str]) -> dict[str, int]:
    fixed = {}
    for item in items or []:
        unit, sep, number = item.replace("＝", "=").partition("=")
        value = town.count_of(number.strip(), f"--fix {item}：") if sep else None
        if not sep or value is None:
            raise books.BookError(f"--fix 应写成 村名=人数，如 社区=420（见到“{item}”）")
        fixed[unit.strip()] = value
    return fixed


def choose_base(table: TaskTable, base: str | None, counted: bool = False) -> str:
    """The base to allocate by: as asked, else the first the table has.
    ``counted``: enrolled persons were counted on the ledgers."""
    if base:
        key = _BASE_ALIASES.get(base, base)
        if key not in BASES:
            raise books.BookError(f"不认识的分配基数“{base}”：可选 prev_target（上年任务）、"
                                  "population（户籍人口）、enrolled（已参保）")
        attr, name = BASES[key]
        if key == "enrolled" and counted:
            return key
        if not table.any_value(attr):
            hint = "；按已参保人数分配时也可以在命令后列出各村台账文件" if key == "enrolled" else ""
            raise books.BookError(f"任务表“{table.sheet}”没有“{name}”数据，无法按它分配{hint}")
        return key
    for key in ("prev_target", "population", "enrolled"):
        if table.any_value(BASES[key][0]):
            return key
    raise books.BookError(f"任务表“{table.sheet}”没有可作分配基数的数据（上年目标任务数、户籍人口数或实际参保数）")


def quota_sheet(plan: plans.Plan, table: TaskTable, allocations: list[Allocation], total: int,
                base_key: str) -> books.OutSheet:
    base_name = table.headers.get(base_key) or BASES[base_key][1]
    marks = town.milestones(plan)
    who = plan.town or plan.county
    unit_label = "镇街" if not plan.town else "村（社区）"
    title = f"{who}{plan.year}年城乡居民基本医疗保险参保任务分配表"
    fixed_sum = sum(a.target for a in allocations if a.fixed)
    rest = total - fixed_sum
    free_whole = sum(a.whole for a in allocations if not a.fixed)
    left = rest - free_whole
    subtitle = (f"目标任务总数{total}人，按“{base_name}”比例分配（最大余数法）"
                + (f"；{sum(a.fixed for a in allocations)}个单位指定任务数共{fixed_sum}人，"
                   f"其余{rest}人按比例分配" if fixed_sum or any(a.fixed for a in allocations) else ""))
    header = ["序号", unit_label, f"分配基数（{base_name}）", "占比", "按比例应分（精确值）", "取整数部分",
              "余数加1", "分配任务数", "分配方式", "上年目标任务数", "比上年增减"]
    header += [m.header for m in marks]
    rows = [[title], [subtitle], header]
    free_base = sum(a.base for a in allocations if not a.fixed)
    prev = {r.unit: r.prev_target for r in table.rows}
    fills = {}
    for i, a in enumerate(allocations, 1):
        share = Fraction(a.base, free_base) if (free_base and not a.fixed) else None
        how = "指定（保留）" if a.fixed else (f"余数第{a.rank}大，加1" if a.plus else "按比例")
        p = prev.get(a.unit)
        row = [i, a.unit, a.base, town.percent_value(share, 6) if share is not None else None,
               None if a.fixed else float(a.exact), None if a.fixed else a.whole,
               None if a.fixed else a.plus, a.target, how, p, (a.target - p) if p is not None else None]
        row += [m.need(a.target) for m in marks]
        rows.append(row)
        if a.fixed:
            fills[(len(rows), 8)] = "FFFFEB9C"
        elif a.plus:
            fills[(len(rows), 7)] = "FFDDEBF7"
    prev_total = sum(p for p in prev.values() if p is not None) if any(prev.values()) else None
    rows.append([None, TOWN_TOTAL, sum(a.base for a in allocations), 1 if free_base else None,
                 float(Fraction(rest)) if rest else 0, free_whole, left, total, None, prev_total,
                 (total - prev_total) if prev_total is not None else None]
                + [sum(m.need(a.target) for a in allocations) for m in marks])
    body_end = len(rows)
    rows.append([])
    rows.append([f"取整说明：未指定任务数的各单位按比例应分{rest}人，先各取整数部分共{free_whole}人，"
                 f"余下{left}人按小数部分从大到小各加1人（小数部分相同时基数大的优先），合计正好{total}人。"])
    if any(a.fixed for a in allocations):
        rows.append(["指定任务数的单位（黄色）不参与按比例分配，数字原样保留。"])
    rows.append([f"依据：{plan.name}；“应完成”栏＝分配任务数×时间节点比例，向上取整。"])
    rows.append(["填表人：　　　　　　审核人：　　　　　　（盖章）　　　　年　　月　　日"])
    width = len(header)
    formats = {3: "#,##0", 4: "0.0000%", 5: "0.0000", 6: "#,##0", 8: "#,##0", 10: "#,##0", 11: "+0;-0;0"}
    return books.OutSheet(SHEET, rows, header_rows=1, title_rows=2, footer_rows=len(rows) - body_end,
                          widths={1: 6, 2: 14, 3: 14, 4: 10, 5: 14, 6: 10, 7: 8, 8: 11, 9: 16, 10: 12, 11: 10,
                                  **{c: 14 for c in range(12, width + 1)}},
                          number_formats=formats, fills=fills,
                          merges=[f"A1:{_col(width)}1", f"A2:{_col(width)}2"])


TOWN_TOTAL = town.TOTAL_LABEL


def _col(n: int) -> str:
    from openpyxl.utils import get_column_letter
    return get_column_letter(n)


def run(book, plan: plans.Plan | None = None, options: dict | None = None) -> str:
    """Allocate the town total; write the 任务分配 sheet (or a new file)."""
    options = options or {}
    grids = book.grids()
    plan = plan or town.resolve_plan(options.get("policy"), grids, options.get("ledgers") or [])
    table = town.find_task_table(grids, plan)
    if table is None:
        raise books.BookError("没有找到任务表：需要“村名”（或“镇街”）列和“目标任务数”“户籍人口数”等人数列")
    if not table.rows:
        raise books.BookError(f"任务表“{table.sheet}”里没有村（社区）")
    total = options.get("total")
    if total is None and table.total is not None:
        total = table.total.target_typed
    if total is None:
        raise books.BookError("不知道全镇目标任务总数：请在任务表“合计”行的本年目标任务数中填写，或加 --total 人数")
    counted = None
    warnings: list[str] = []
    wanted = options.get("base")
    if wanted and _BASE_ALIASES.get(wanted, wanted) == "enrolled":
        counted = _enrolled_on_ledgers(plan, grids, options, warnings)
    base_key = choose_base(table, wanted, counted is not None)
    attr = BASES[base_key][0]
    fixed = {r.unit: r.override for r in table.rows if r.override is not None}
    fixed.update(options.get("fix") or {})
    if counted is not None:
        # persons enrolled so far, counted on the ledgers, not as typed in the table
        bases = [(r.unit, counted.get(town._key(r.unit), 0)) for r in table.rows]
        table.headers["enrolled"] = COUNTED_BASE
    else:
        bases = [(r.unit, getattr(r, attr) or 0) for r in table.rows]
    allocations = allocate(int(total), bases, fixed)
    sheet = quota_sheet(plan, table, allocations, int(total), base_key)
    where = books.deliver(book, sheet, options.get("output"))
    left = sum(a.plus for a in allocations)
    kept = sum(a.fixed for a in allocations)
    base_name = COUNTED_BASE if counted is not None else BASES[base_key][1]
    return (f"已将{total}人分配到{len(allocations)}个单位（按{base_name}，最大余数法补{left}人"
            + (f"，保留指定任务数{kept}个" if kept else "") + f"），合计{total}人，已写入{where}"
            + "".join(f"；注意：{w}" for w in warnings))


def _enrolled_on_ledgers(plan, grids, options, warnings: list[str]) -> dict[str, int] | None:
    """village → persons enrolled on the ledgers (the workbook's own ledger
    sheets and the files listed; each person once, see
    :func:`town.unique_persons`, whose warnings are appended to
    ``warnings``), or None when there are no ledgers."""
    sources = [("本工作簿", grids)] + list(options.get("ledgers") or [])
    records, _notes = town.ledger_records(plan, sources, options.get("progress"), options.get("lists"))
    if not records:
        return None
    persons = town.unique_persons(records)
    warnings += persons.warnings
    records = persons.records
    return {town._key(v): c.enrolled for v, c in town.count_villages(records).items()}


def cmd_quota(args) -> int:
    path = Path(args.file)
    book = books.FileBook(path)
    output = town.output_for(path, args.output, SHEET)
    options = {"policy": args.policy, "base": args.base, "total": args.total,
               "fix": _parse_fix(args.fix), "output": output, "ledgers": town.read_sources(args.ledgers),
               "lists": town.side_lists(args)}
    print(run(book, None, options))
    return 0


def add_parser(sub):
    p = sub.add_parser(
        "quota", help="任务分配：把全镇目标任务按比例分到各村（最大余数法） / allocate the town target to villages",
        description="读取任务表（村名、上年目标任务数、户籍人口数……），把全镇目标任务按所选基数分到各村，"
                    "最大余数法取整使合计正好等于总数；“指定任务数”列或 --fix 指定的村保留原数。"
                    "结果写入“任务分配”工作表。 Allocates a town's target across its villages by the "
                    "largest-remainder method; fixed numbers are kept; the rounding is shown.")
    p.add_argument("file", help="含任务表的工作簿（.xlsx/.xls/.csv） / workbook with the task table")
    p.add_argument("ledgers", nargs="*",
                   help="各村台账文件（只读；--base enrolled 时按台账统计已参保人数） / ledgers for --base enrolled")
    p.add_argument("--policy", help="方案编号（默认读表中的“方案编号”） / plan id")
    p.add_argument("--total", type=int, help="全镇目标任务总数（默认读“合计”行） / town total")
    p.add_argument("--base", help="分配基数：prev_target（或target）上年目标任务数（默认）、population 户籍人口数、"
                                  "enrolled 已参保人数 / base: last year's target, population or enrolled")
    p.add_argument("--fix", action="append", metavar="村名=人数",
                   help="指定某村任务数（可多次） / fixed number for a village (repeatable)")
    p.add_argument("-o", "--output", help="写到新文件（默认写入本工作簿的“任务分配”工作表） / new .xlsx file")
    p.set_defaults(func=cmd_quota)
