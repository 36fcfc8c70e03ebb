"""What the town-level actions (quota, reward, progress, summary) share:
ledger rows read for the town (:func:`ledger_records`), each person once
(:func:`unique_persons`) with why a row is not counted (:func:`exclusion`),
per-village counts and the :class:`Village` figures reward and progress use
(:func:`gather`), and small helpers for the command line.

Split by job: the task table is in :mod:`.tasks`, rate arithmetic and the
plan's milestones in :mod:`.rates`; their names are re-exported here.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import unicodedata
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable

from yibao.functions import plan as plans
from yibao.functions import status as statuses
from yibao.functions.values import BadValue

from . import book as books
from .ledger import Record, compute_records, read_ledger_tables, records_of
from .rates import (Milestone, day_text, milestones, need_for, parse_rate, percent_text, percent_value,  # noqa: F401
                    rate_of, reach_date, unit_label)
from .table import HEADER_NOISE, cell_date, cell_text
from .tasks import TaskRow, TaskTable, allocated_targets, count_of, find_task_table, unit_key  # noqa: F401

__all__ = ["TaskRow", "TaskTable", "find_task_table", "count_of", "unit_of_sheet", "village_of_sheet",
           "ledger_records", "VillageCount", "count_villages", "rate_of", "need_for",
           "percent_text", "milestones", "resolve_plan", "output_for", "TOTAL_LABEL",
           "exclusion", "place", "row_label", "Persons", "unique_persons", "Village", "gather", "warning_text"]

_key = unit_key

TOTAL_LABEL = "合计"
# ---------------------------------------------------------------- ledgers → villages

_UNIT_LINE = re.compile(r"^\s*填报单位\s*[:：]?(.*)$")
_PLACEHOLDER = {"村", "村居委会", "村社区", "组", "乡镇", "乡镇街道", "村组社区", "村组"}


def unit_of_sheet(grid: list[list[Any]]) -> tuple[str, str]:
    """(town, village) a sheet names in its 填报单位 line ("" for either not
    named; blanks such as 村（居委会） are not names)."""
    town = village = ""
    for row in grid[:6]:
        for value in row:
            if not isinstance(value, str):
                continue
            found = _UNIT_LINE.match(value)
            if not found:
                continue
            parts = re.split(r"[\s\u3000]+", unicodedata.normalize("NFKC", found.group(1)).replace("\u3000", " "))
            for part in parts:
                key = HEADER_NOISE.sub("", part)
                if not key or key in _PLACEHOLDER:
                    continue
                if key.endswith(("乡", "镇", "街道", "乡镇", "组")):
                    if not town and not key.endswith("组"):
                        town = key
                    continue
                if not village and (key.endswith(("村", "社区", "居委会")) or "村" in key):
                    village = key
            if village:
                return town, village
    return town, village


def village_of_sheet(grid: list[list[Any]]) -> str:
    """The village a ledger sheet names in its 填报单位 line ("" if none)."""
    return unit_of_sheet(grid)[1]


def ledger_records(plan: plans.Plan, sources: list[tuple[str, dict[str, list[list[Any]]]]],
                   progress=None, lists=None) -> tuple[list[Record], list[str]]:
    """Every person row of every ledger in ``sources`` ((label, grids), ...),
    computed with the plan, each with its enrollment status decided against
    ``lists`` (:class:`yibao.functions.status.SideLists`: death, employee
    and roster lists; None: the ledger rows alone); a record's village comes
    from its 村 column, else the sheet's 填报单位 line, else the sheet or file name."""
    from .lists import refuse_lists_as_ledgers
    refuse_lists_as_ledgers(sources)    # a department list passed as a ledger is refused, not a village of 0
    records: list[Record] = []
    notes: list[str] = []
    for i, (label, grids) in enumerate(sources, 1):
        tables, _skipped = read_ledger_tables(grids)
        for table in tables:
            found = records_of([table])
            fallback = village_of_sheet(grids[table.sheet])
            if not fallback:
                name = table.sheet
                fallback = name if not re.fullmatch(r"(Sheet|工作表|台账|登记表|参保缴费.*)\d*", name) \
                    else Path(label).stem
            for rec in found:
                rec.book = label
                if not rec.village:
                    rec.village = fallback
            records += found
        if progress:
            progress(i, len(sources))
    compute_records(plan, records, lists=lists)
    return records, notes


# ---------------------------------------------------------------- one count per person

def exclusion(rec: Record) -> str | None:
    """Why a ledger row is not counted as enrolled: its status kind
    (未缴费, 已死亡, 职工医保, 异地参保, 待核实; :mod:`yibao.functions.status`
    decides, :attr:`Record.status`), or None when it is counted. A row that
    could not be read or computed has no status: 待核实 (listed, never dropped)."""
    if rec.status is None:
        return statuses.PENDING
    return None if rec.status.enrolled else rec.status.kind


def place(rec: Record) -> str:
    """Where a row is, for staff: 村（文件 第N行）; never the ID number."""
    book = Path(rec.book).name if rec.book else ""
    where = f"{book}“{rec.sheet}”" if book and rec.sheet and rec.sheet not in (Path(book).stem, "Sheet1") \
        else (book or rec.sheet)
    return f"{rec.village or '（未填村名）'}（{where} 第{rec.row}行）"


def row_label(rec: Record) -> str:
    """村 姓名 第N行 (no ID number): how a row is named in printed sheets."""
    return f"{rec.village or '（未填村名）'} {rec.name or '（无姓名）'} 第{rec.row}行"


@dataclasses.dataclass
class Persons:
    """Ledger rows with every person once: ``records`` keeps one row per
    valid ID (the enrolled one where a person has several), rows without a
    valid ID stay as they are; ``duplicates`` are (dropped, kept) pairs;
    ``warnings`` name both places in Chinese."""

    records: list[Record]
    duplicates: list[tuple[Record, Record]]
    warnings: list[str]


def unique_persons(records: list[Record]) -> Persons:
    """Count each person once across villages and files: a person on two
    villages' ledgers, a ledger passed twice or a copy of it (东山村 - 副本.xlsx)
    gives one row, and a warning naming both places (the largest groups
    first). Persons are matched by valid ID; a row whose ID cannot be read by
    its name and the number as typed. Pure; order kept."""
    first: dict[str, int] = {}
    kept: list[Record | None] = []
    pairs: list[tuple[Record, Record]] = []
    for rec in records:
        if rec.id_no and not rec.id_error:
            key = rec.id_no
        else:       # an unreadable number: the same name with the same text is the same row
            typed = cell_text(rec.raw.get("id_no"))
            key = f"{rec.name}\t{typed}" if rec.name and typed else ""
        if not key:
            kept.append(rec)
            continue
        at = first.get(key)
        if at is None:
            first[key] = len(kept)
            kept.append(rec)
            continue
        other = kept[at]
        if rec.enrolled and not other.enrolled:       # keep the enrolled row
            kept[at] = rec
            pairs.append((other, rec))
        else:
            pairs.append((rec, other))
    groups: dict[tuple, list[tuple[Record, Record]]] = {}
    for dropped, keep in pairs:
        groups.setdefault((dropped.book, keep.book), []).append((dropped, keep))
    warnings = []
    for (book_a, book_b), members in sorted(groups.items(), key=lambda g: -len(g[1])):
        dropped, keep = members[0]
        if len(members) == 1:
            warnings.append(f"{keep.name or dropped.name}在{place(keep)}和{place(dropped)}重复登记，"
                            f"只计一次（计入{keep.village or '（未填村名）'}）")
            continue
        names = "、".join(d.name or "（无姓名）" for d, _k in members[:3])
        a, b = Path(book_a).name, Path(book_b).name
        if book_a == book_b:
            what = f"“{a}”中（或同一文件传入两次）有{len(members)}人重复登记"
        else:
            what = f"“{a}”与“{b}”有{len(members)}人重复（是否传入了同一台账的副本？）"
        warnings.append(f"{what}，如{names}，每人只计一次")
    return Persons([r for r in kept if r is not None], pairs, warnings)


_POOR = ("建档立卡", "贫困", "脱贫")


def _identity_texts(rec: Record) -> tuple[str, ...]:
    if rec.person is not None:
        return tuple(rec.person.identities)
    return (cell_text(rec.raw.get("identities")), cell_text(rec.raw.get("household_type")))


def is_poor(rec: Record) -> bool:
    """A 建档立卡 (registered poor) person, by identity or household type."""
    return any(any(p in text for p in _POOR) for text in _identity_texts(rec))


@dataclasses.dataclass
class VillageCount:
    village: str
    registered: int = 0          # person rows on the ledgers
    enrolled: int = 0
    poor_total: int = 0
    poor_enrolled: int = 0
    dated: list = dataclasses.field(default_factory=list)   # pay dates of the enrolled
    undated: int = 0             # enrolled without a readable pay date


def _pay_date(rec: Record):
    try:
        return cell_date(rec.raw.get("pay_date"))
    except BadValue:
        return None


def count_villages(records: list[Record], as_of: datetime.date | None = None) -> dict[str, VillageCount]:
    """Per village: persons registered and enrolled (as of a date when the
    ledgers carry pay dates), and the same for 建档立卡 persons."""
    out: dict[str, VillageCount] = {}
    for rec in records:
        if rec.id_error and not rec.name:
            continue
        vc = out.setdefault(rec.village, VillageCount(rec.village))
        vc.registered += 1
        poor = is_poor(rec)
        vc.poor_total += poor
        if not rec.enrolled:
            continue
        day = _pay_date(rec)
        if as_of is not None and day is not None and day > as_of:
            continue
        vc.enrolled += 1
        vc.poor_enrolled += poor
        if day is None:
            vc.undated += 1
        else:
            vc.dated.append(day)
    return out


# ---------------------------------------------------------------- command-line helpers

def resolve_plan(policy: str | None, grids, extra: list[tuple[str, dict]] = ()) -> plans.Plan:
    """The plan named by ``--policy``, else by the 方案编号 cell of the
    workbook, else of the first ledger file that names one."""
    from .ledger import plan_id_in
    plan_id = policy or plan_id_in(grids)
    for _label, other in extra:
        plan_id = plan_id or plan_id_in(other)
    if not plan_id:
        raise books.BookError("不知道按哪个方案计算：请加 --policy 方案编号，或在表中“方案编号”旁填写")
    return plans.load(plan_id)


def output_for(path: Path, output: str | None, sheet_name: str) -> Path | None:
    """Where a result goes: the ``-o`` file; for a .xls/.csv/.ods input a new
    .xlsx beside it (we never write into those); else None (in place)."""
    if output:
        out = Path(output)
        if out.suffix.lower() != ".xlsx":
            raise books.BookError(f"结果文件应为.xlsx：{out.name}")
        return out
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return path.with_name(f"{path.stem}-{sheet_name}.xlsx")
    return None


def read_sources(paths: list[str], progress=None) -> list[tuple[str, dict]]:
    """Grids of extra ledger files (read only); our own backups are skipped."""
    import sys
    from yibao.atomic import without_backups
    paths = without_backups(paths, lambda text: print(text, file=sys.stderr))
    out = []
    for i, p in enumerate(paths, 1):
        out.append((str(p), books.read_grid_any(Path(p))))
        if progress:
            progress(i, len(paths))
    return out


def read_sources_ahead(paths: list[str], progress=None):
    """:func:`read_sources` started on a background thread, for a command
    with other work to do meanwhile (reconcile parses its export): calamine
    parses a sheet without holding the GIL, so the reading takes the second
    core. Returns a function that waits for the reading and returns what
    :func:`read_sources` returns, or raises what it raised (a daemon
    thread: a command that fails first does not wait for it)."""
    import threading
    box: dict[str, Any] = {}

    def work():
        try:
            box["sources"] = read_sources(paths, progress)
        except BaseException as exc:        # re-raised in the caller's thread, where it would have been
            box["error"] = exc

    thread = threading.Thread(target=work, name="yibao-ledgers", daemon=True)
    thread.start()

    def result() -> list[tuple[str, dict]]:
        thread.join()
        if "error" in box:
            raise box["error"]
        return box["sources"]
    return result


def warning_text(warnings: list[str], shown: int = 2) -> str:
    """The warnings for a command's one line: the first few, and how many more."""
    if not warnings:
        return ""
    more = f"等{len(warnings)}处" if len(warnings) > shown else ""
    return "；注意：" + "；".join(warnings[:shown]) + more


def run_command(run, path: Path, options: dict) -> int:
    """Run an action from the command line with a progress bar while ledgers are read."""
    from ._bar import Bar
    import sys
    from yibao.atomic import without_backups
    if not without_backups([path], lambda text: print(text, file=sys.stderr)):
        # a wildcard put an office lock file or our backup first: the next file is the workbook
        extra = list(options.get("ledgers") or [])
        if not extra:
            raise books.BookError(f"“{Path(path).name}”是锁定文件或备份，不是工作簿：请给出任务表或台账文件")
        path = Path(extra[0][0])
        options["ledgers"] = extra[1:]
    bar = Bar("读取台账")
    options["progress"] = bar
    line = run(books.FileBook(path), None, options)
    bar.close()
    print(line)
    return 0


def add_common_arguments(p, result_sheet: str, ledgers: bool = True):
    p.add_argument("file", help="乡镇工作簿（含任务表或台账，.xlsx/.xls/.csv） / town workbook")
    if ledgers:
        p.add_argument("ledgers", nargs="*",
                       help="各村台账文件（只读，可多个） / village ledger files (read only)")
    p.add_argument("--policy", help="方案编号（默认读表中的“方案编号”） / plan id")
    p.add_argument("-o", "--output",
                   help=f"写到新文件（默认写入本工作簿的“{result_sheet}”工作表） / write a new .xlsx instead")
    if ledgers:
        from .validate import add_list_options
        add_list_options(p, roster=False)


def comparison_result(grids: dict) -> bool:
    """A workbook one of the town comparisons wrote: 缴费比对 (比对汇总 and
    分村统计), 续保催缴 (汇总 and 催缴-村 sheets) or 未参保核查 (未参保原因汇总).
    Never a ledger: passed over when a wildcard (``台账/*.xlsx``) sweeps one in."""
    return (("比对汇总" in grids and "分村统计" in grids) or "未参保原因汇总" in grids
            or ("汇总" in grids and any(n.startswith("催缴-") for n in grids)))


def refuse_output_over(output, *inputs) -> None:
    """Raise BookError when the result file ``output`` (a path given with
    -o; None: the command's default name) is one of the ``inputs`` (paths,
    lists of paths or None; a folder: the files in it), so that no list the
    command reads is written over by its result."""
    if not output:
        return
    target = Path(output).resolve()
    for given in inputs:
        for p in ([given] if isinstance(given, (str, Path)) else list(given or ())):
            p = Path(p).resolve()
            if p == target or (p.is_dir() and target.parent == p and target.exists()):
                raise books.BookError(f"结果文件不能是输入的文件本身：{Path(output).name}；请用 -o 另写一个文件名")


def side_lists(args):
    """The death, employee and roster lists a town command was given
    (--deceased, --employee, --lists), read as validate reads them, so that
    every town action decides each person's status as validate does; None
    when none was given."""
    import argparse
    import sys
    from .validate import side_lists_of
    only = argparse.Namespace(deceased=getattr(args, "deceased", None), employee=getattr(args, "employee", None),
                              lists=getattr(args, "lists", None), roster=None)
    return side_lists_of(only, lambda text: print(text, file=sys.stderr))


# ---------------------------------------------------------------- villages for reward and progress

@dataclasses.dataclass
class Village:
    """One village's figures for reward and progress, and where they came from."""

    unit: str
    target: int | None = None
    enrolled: int = 0
    registered: int | None = None    # persons on its ledgers (None without ledgers)
    poor_total: int | None = None
    poor_enrolled: int | None = None
    reached: dict = dataclasses.field(default_factory=dict)   # Fraction rate → date
    undated: int = 0                 # enrolled on the ledgers without a pay date
    source: str = ""                 # "台账" | "任务表"
    dated: list = dataclasses.field(default_factory=list)   # pay dates of the enrolled (ledgers)

    def enrolled_on(self, day: datetime.date) -> int:
        """Persons enrolled by the end of ``day`` (payments made on it
        included): from the ledgers' pay dates, those without one counted
        as paid; for typed counts the count as typed."""
        if self.source != "台账":
            return self.enrolled
        return sum(d <= day for d in self.dated) + self.undated


def gather(plan: plans.Plan, grids: dict[str, list[list[Any]]], extra: list[tuple[str, dict]] = (),
           as_of: datetime.date | None = None, rates: Iterable[Fraction] = (),
           progress=None, warnings: list[str] | None = None,
           lists=None) -> tuple[list[Village], list[str], TaskTable | None]:
    """Per village: the target from the task table; enrolled persons counted
    on the ledgers (the workbook's own ledger sheets and ``extra`` files)
    where there are any, else as typed in the task table; and, for each of
    ``rates``, the day the village reached it (typed in a 达到95%日期 column,
    or from the ledgers' pay dates). Each person is counted once
    (:func:`unique_persons`; its warnings go to ``notes`` and ``warnings``).
    Returns (villages, notes, task table). Raises BookError when there is
    nothing to count (no ledgers, no typed counts) or a rate exceeds 100%."""
    table = find_task_table(grids, plan)
    used = 0
    if table is not None:
        allocated = allocated_targets(grids)
        for row in table.rows:
            if row.target_typed is None and _key(row.unit) in allocated:
                row.allocated = allocated[_key(row.unit)]
                used += 1
    sources = [("本工作簿", grids)] + list(extra)
    records, notes = ledger_records(plan, sources, progress, lists)
    persons = unique_persons(records)
    records = persons.records
    notes += persons.warnings
    if warnings is not None:
        warnings += persons.warnings
    if table is not None and used:
        notes.append(f"{used}个单位的目标任务数取自“任务分配”工作表（任务表中未填本年目标任务数）")
    counts = count_villages(records, as_of)
    rates = sorted(set(rates))
    out: list[Village] = []
    by_unit: dict[str, Village] = {}
    for row in (table.rows if table else []):
        v = Village(row.unit, row.target, row.enrolled or 0, None, row.poor_total, row.poor_enrolled,
                    dict(row.reached), source="任务表")
        out.append(v)
        by_unit[_key(row.unit)] = v
    for name, vc in counts.items():
        v = by_unit.get(_key(name))
        if v is None:
            if table is not None:
                notes.append(f"台账中的“{name or '（未填村名）'}”不在任务表中，没有目标任务数")
            v = Village(name or "（未填村名）")
            out.append(v)
            by_unit[_key(name)] = v
        v.source = "台账"
        v.enrolled, v.registered, v.undated = vc.enrolled, vc.registered, vc.undated
        v.poor_total, v.poor_enrolled = vc.poor_total, vc.poor_enrolled
        v.dated = list(vc.dated)
        if v.target:
            for rate in rates:
                if rate not in v.reached:
                    day = reach_date(vc.dated, need_for(v.target, rate))
                    if day:
                        v.reached[rate] = day
        if vc.undated:
            notes.append(f"“{v.unit}”有{vc.undated}名参保人员没有缴费日期，计入人数，但不计入达到比例的日期")
    if counts and table is not None:
        # a village on the task table whose ledger was not given is not a village of 0 enrolled
        # without a word (issue 11: nothing silently left out); typed 实际参保数 counts as given
        absent = [row.unit for row in table.rows
                  if _key(row.unit) not in {_key(n) for n in counts} and row.enrolled is None]
        if absent:
            text = f"未提供台账：{'、'.join(absent)}（任务表中有，没有台账也没有填实际参保数，按0人计）"
            notes.insert(0, text)
            if warnings is not None:
                warnings.insert(0, text)
    if not out:
        raise books.BookError("没有找到任务表（村名、目标任务数等列）或台账（身份证号列）")
    if not counts and not (table is not None and (table.any_value("enrolled")
                                                  or any(row.reached for row in table.rows))):
        raise books.BookError("没有参保人数可统计：未找到台账（身份证号列），任务表也没有填“实际参保数”；"
                              "请在命令后列出各村台账文件，或在任务表中填写实际参保数")
    # Persons are counted once by now (unique_persons), so a rate above 100%
    # is a village that enrolled more than its target (超额完成, e.g. people
    # living there registered elsewhere), or a target typed wrong: said in the
    # message and under the table, never refused (the work fee and reward
    # still have to be computed).
    for v in out:
        if v.target and v.enrolled > v.target:
            text = (f"“{v.unit}”参保{v.enrolled}人，超过目标任务数{v.target}人（参保率"
                    f"{percent_text(Fraction(v.enrolled, v.target))}），请核对任务表中的目标任务数")
            notes.append(text)
            if warnings is not None:
                warnings.append(text)
    # a rate reached means every lower rate was reached too, no later
    for v in out:
        for rate in rates:
            later = [d for r, d in v.reached.items() if r >= rate]
            if later:
                v.reached[rate] = min(later)
    return out, notes, table


