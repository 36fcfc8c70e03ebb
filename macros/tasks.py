"""The town's task table (筹资任务分配表, 004 附件1 / 000 附件): its
columns, found by the one header scanner (:func:`.table.scan_header`, with
the names and word rules of ``functions/headers.toml`` [task]), and its
rows; the 任务分配 sheet quota wrote.

Headers carry years ("2019年目标任务数", "2020年目标任务数"), so a year is
compared with the plan's year to tell last year's target from this year's
(the rule's ``earlier`` field).
Pure over grids (lists of rows of cell values).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from typing import Any, Iterable

from yibao.functions import plan as plans
from yibao.functions.values import BadValue

from . import book as books
from .ledger import RESULT_SHEETS
from .table import cell_date, cell_text, field_of, header_key, is_blank, scan_header

__all__ = ["TaskRow", "TaskTable", "find_task_table", "count_of", "allocated_targets", "unit_key"]

_TOTAL_ROW = re.compile(r"^(合计|总计|小计|全镇|全乡|全街道)")


def count_of(value, where: str = "") -> int | None:
    """A head count from a cell: numbers, numbers stored as text ("2,810",
    " 2810人"), None when blank; raises BadValue naming the cell."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise BadValue(f"{where}应为人数，见到真/假值")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise BadValue(f"{where}人数“{value:g}”不是整数")
        number = int(value)
    else:
        text = re.sub(r"[,，\s人]", "", unicodedata.normalize("NFKC", str(value)))
        if re.fullmatch(r"\d+(\.0+)?", text):
            number = int(float(text))
        else:
            raise BadValue(f"{where}无法识别的人数“{str(value).strip()}”")
    if number < 0:
        raise BadValue(f"{where}人数不能为负数（{number}）")
    return number


# ---------------------------------------------------------------- the task table

@dataclasses.dataclass
class TaskRow:
    unit: str                       # 村名 (or 镇街 for a city plan)
    row: int                        # 1-based sheet row
    population: int | None = None   # 户籍人口数
    prev_target: int | None = None  # last year's 目标任务数
    net_increase: int | None = None  # 预计净增数
    target_typed: int | None = None  # this year's 目标任务数 as typed
    override: int | None = None     # 指定任务数 (kept by quota)
    enrolled: int | None = None     # 实际参保数 (typed)
    poor_total: int | None = None   # 建档立卡（贫困）人口数
    poor_enrolled: int | None = None
    reached: dict = dataclasses.field(default_factory=dict)   # Fraction rate → date typed
    allocated: int | None = None    # this year's figure from our 任务分配 sheet

    @property
    def target(self) -> int | None:
        """This year's target: as typed, else as allocated by 任务分配 (quota),
        else last year's plus the net increase."""
        if self.target_typed is not None:
            return self.target_typed
        if self.allocated is not None:
            return self.allocated
        if self.prev_target is not None or self.net_increase is not None:
            return (self.prev_target or 0) + (self.net_increase or 0)
        return None


@dataclasses.dataclass
class TaskTable:
    sheet: str
    header_row: int
    columns: dict[str, int]         # field → 1-based column
    headers: dict[str, str]         # field → header as written
    rows: list[TaskRow]
    total: TaskRow | None           # the 合计 row, when there is one

    def has(self, field: str) -> bool:
        return field in self.columns

    def any_value(self, attr: str) -> bool:
        return any(getattr(r, attr) is not None for r in self.rows)


def find_task_table(grids: dict[str, list[list[Any]]], plan: plans.Plan,
                    skip: Iterable[str] = ()) -> TaskTable | None:
    """The first sheet holding a task table (a unit column and a count
    column), or None. Our own result sheets are never read back."""
    skip = set(skip) | set(RESULT_SHEETS)
    for name, grid in grids.items():
        if name in skip or name.startswith("_"):
            continue
        found = _task_table_in(name, grid, plan.year)
        if found is not None:
            return found
    return None


#: the fields of a task table that hold a count (one is needed besides the unit)
_NUMBERS = frozenset({"population", "prev_target", "target", "enrolled", "override"})


def _is_task_header(fields: set, row: list) -> bool:
    """A task table's header row: a unit column, a count column, and no ID
    number column (a person table with a 村 column is a ledger)."""
    return "unit" in fields and bool(_NUMBERS & fields) and not any(field_of(v) == "id_no" for v in row)


def _task_table_in(sheet: str, grid: list[list[Any]], year: int) -> TaskTable | None:
    """The task table of one sheet: its header row found by the one header
    scanner (:func:`.table.scan_header`, the names and word rules of
    ``functions/headers.toml`` [task]), or None."""
    found = scan_header(grid, "task", _is_task_header, year)
    if found is None:
        return None
    r, cells = found
    fields, headers, reached = {}, {}, {}
    for cell in cells:
        if cell.field == "reached":
            reached[cell.extra] = cell.column
        elif cell.field not in fields:
            fields[cell.field] = cell.column
            headers[cell.field] = cell.text
    return _read_task_rows(sheet, grid, r, fields, headers, reached)


def _read_task_rows(sheet, grid, r0, fields, headers, reached) -> TaskTable:
    rows: list[TaskRow] = []
    total = None
    attrs = {"population": "population", "prev_target": "prev_target", "net_increase": "net_increase",
             "target": "target_typed", "override": "override", "enrolled": "enrolled",
             "poor_total": "poor_total", "poor_enrolled": "poor_enrolled"}
    for r in range(r0 + 1, len(grid)):
        raw = grid[r]

        def at(c):
            return raw[c - 1] if c - 1 < len(raw) else None
        unit = re.sub(r"\s+", "", unicodedata.normalize("NFKC", cell_text(at(fields["unit"]))))
        if not unit:
            continue
        if unit.startswith(("填表", "审核", "注", "说明", "制表")):
            break
        item = TaskRow(unit, r + 1)
        for field, attr in attrs.items():
            if field in fields:
                header = headers[field]
                setattr(item, attr, count_of(at(fields[field]), f"“{sheet}”第{r + 1}行“{header}”"))
        for rate, c in reached.items():
            try:
                day = cell_date(at(c))
            except BadValue as exc:
                raise BadValue(f"“{sheet}”第{r + 1}行：{exc}") from None
            if day:
                item.reached[rate] = day
        if _TOTAL_ROW.match(unit):
            total = item
            continue
        rows.append(item)
    seen = set()
    for item in rows:
        if item.unit in seen:
            raise books.BookError(f"任务表“{sheet}”中“{item.unit}”出现了两次（第{item.row}行），请合并后再试")
        seen.add(item.unit)
    columns = dict(fields)
    return TaskTable(sheet, r0 + 1, columns, headers, rows, total)


def allocated_targets(grids: dict[str, list[list[Any]]]) -> dict[str, int]:
    """unit → 分配任务数 from the 任务分配 sheet quota wrote, if there is one."""
    grid = grids.get("任务分配")
    if not grid:
        return {}
    found = scan_header(grid, "task", lambda _fields, row: _ALLOCATED in {header_key(v) for v in row},
                        scan_rows=10)
    if found is None:
        return {}
    r, cells = found
    col = [header_key(v) for v in grid[r]].index(_ALLOCATED)
    unit_col = next((cell.column - 1 for cell in cells if cell.field == "unit"), 1)
    out: dict[str, int] = {}
    for line in grid[r + 1:]:
        unit = cell_text(line[unit_col]) if unit_col < len(line) else ""
        if not unit or header_key(unit) == "合计":
            break
        value = count_of(line[col]) if col < len(line) else None
        if value is not None:
            out[unit_key(unit)] = value
    return out


#: quota's own column (its 任务分配 sheet)
_ALLOCATED = "分配任务数"


def unit_key(name: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name or ""))
