"""Reading enrollment ledgers (参保缴费台账) into person records, and
computing each person with the engine.

Pure over grids (lists of rows of cell values): the file or Excel backend
supplies the grids. Every sheet with an ID-number column is a ledger sheet;
the rest (notes, our own result sheets) are ignored.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from typing import Any, Iterable

from yibao.functions import engine, idno, status as statuses
from yibao.functions import person as reading
from yibao.functions import plan as plans
from yibao.functions.status import Enrollment, SideLists
from yibao.functions.text import name_key
from yibao.functions.values import BadValue, fen

from .table import AmbiguousColumns, Row, Table, TableError, cell_text, find_table, is_blank

__all__ = ["Record", "read_ledger_tables", "records_of", "compute_records", "plan_id_in", "RESULT_SHEETS"]

#: sheets our actions write; never read back as ledgers
RESULT_SHEETS = ("校验报告", "资助名单汇总", "异常名单", "部门反馈", "分类统计", "任务分配",
                 "奖励测算", "进度通报", "汇总上报", "汇总上报-资助明细", "公示名单")


@dataclasses.dataclass(slots=True)      # slots: 100,000 of these, built and read in hot loops
class Record:
    """One person row of a ledger, with what could be read from it."""

    sheet: str
    row: int
    columns: dict[str, int]
    raw: dict[str, Any]
    village: str = ""
    family: str = ""
    name: str = ""
    id_no: str = ""                  # compact when valid, else as typed
    id_error: str = ""
    person: engine.Person | None = None
    input_error: str = ""            # a field we could not read (date, flag...)
    paid: int | None = None          # fen actually paid (个人缴费/实交额)
    paid_error: str = ""
    result: engine.Result | None = None
    book: str = ""                   # the workbook it came from, where the town actions read several
    #: the enrollment status (functions/status.py), set by :func:`compute_records`
    status: Enrollment | None = None
    #: where the row's sources disagree (Chinese, each naming both sources)
    contradictions: tuple = ()

    @property
    def enrolled(self) -> bool:
        """Enrolled for the year, as :func:`yibao.functions.status.decide`
        says (已缴费, 资助参保, 代缴); False before :func:`compute_records`."""
        return self.status is not None and self.status.enrolled


_PLAN_LABEL = re.compile(r"^\s*方案编号\s*[:：]?\s*$")


def plan_id_in(grids: dict[str, list[list[Any]]]) -> str | None:
    """The plan id a template carries next to its 方案编号 label, if any."""
    for grid in grids.values():
        for row in grid[:40]:
            for c, value in enumerate(row[:-1]):
                if isinstance(value, str) and _PLAN_LABEL.match(value):
                    found = cell_text(row[c + 1])
                    if found:
                        return found
    return None


def read_ledger_tables(grids: dict[str, list[list[Any]]]) -> tuple[list[Table], list[str]]:
    """Every ledger table, and a note for each sheet skipped.

    Every sheet with an ID column is read, whatever its name (``_二组``);
    skipped are our hidden sheets (``_yibao…``) and the sheets our actions
    wrote: a sheet named as one (:data:`RESULT_SHEETS`) with no person rows,
    masked IDs (公示名单) or our merge's header row. Raises
    :class:`~yibao.macros.table.TableError` for a sheet with two ID columns.
    """
    tables, skipped = [], []
    for name, grid in grids.items():
        if name.startswith("_yibao"):
            continue
        try:
            table = find_table(name, grid)
        except AmbiguousColumns:
            raise
        except TableError as exc:
            skipped.append(str(exc))
            continue
        if (name in RESULT_SHEETS or name.startswith("反馈-")) and _ours(table):
            continue
        tables.append(table)
    return tables, skipped


def _ours(table: Table) -> bool:
    """A result sheet of ours: no rows, masked IDs (430999********0213), or
    the header row of the merge's output."""
    from .dedupe import EXCEPTION_HEADER, FEEDBACK_HEADER, ROSTER_HEADER
    if not table.rows or table.found in (ROSTER_HEADER, EXCEPTION_HEADER, FEEDBACK_HEADER):
        return True
    return any("*" in cell_text(row.values.get("id_no")) for row in table.rows[:20])


class _Memo(dict):
    """A function's results by argument, for the cell values that repeat
    down a ledger (amounts, identity texts); errors are not kept."""

    def __init__(self, func):
        super().__init__()
        self.func = func

    def __missing__(self, key):
        value = self.func(key[1])
        if len(self) < 65536:
            self[key] = value
        return value


def _record(table: Table, row: Row, today: datetime.date, fen_of: _Memo,
            person_of: reading.PersonReader) -> Record:
    v = row.values
    get = v.get
    rec = Record(table.sheet, row.number, table.columns, v,
                 cell_text(get("village")), cell_text(get("family")), cell_text(get("name")))
    raw_id = v.get("id_no")
    try:
        rec.id_no = idno.parse(reading.id_of(raw_id), today)[0]
    except (idno.InvalidID, BadValue) as exc:     # BadValue: an error value (#N/A) in the cell
        rec.id_no = cell_text(raw_id) if not isinstance(raw_id, float) else f"{raw_id:.5E}"
        rec.id_error = str(exc)
    paid = get("paid")
    if not is_blank(paid):
        try:
            try:
                # keyed by type too: True == 1 but is no amount
                rec.paid = fen_of[(paid.__class__, paid)]
            except TypeError:           # unhashable: not from a cell, read it as it is
                rec.paid = fen(paid)
        except BadValue as exc:
            rec.paid_error = str(exc)
    try:
        # the one reading of a row, as =PAYABLE() and `yibao calc` read it (issue 12 item 8)
        rec.person = person_of(rec.id_no, get("identities"), get("pay_date"), get("enroll_type"),
                                    get("event_date"), get("employee_insured"), get("household_type"))
    except BadValue as exc:
        rec.input_error = str(exc)
    return rec


def records_of(tables: Iterable[Table]) -> list[Record]:
    today = datetime.date.today()
    fen_of = _Memo(fen)
    person_of = reading.PersonReader()
    return [_record(t, row, today, fen_of, person_of) for t in tables for row in t.rows]


def compute_records(plan: plans.Plan, records: list[Record], today: datetime.date | None = None,
                    lists: SideLists | None = None):
    """Attach the engine's result to every readable record, and to every
    record its enrollment status and contradictions (in place), decided by
    :func:`yibao.functions.status.decide` from the row and ``lists`` (death
    list, employee list, merged roster). Returns ``records``."""
    today = today or datetime.date.today()
    people, births, targets = [], [], []
    for rec in records:
        if rec.person is not None and not rec.id_error:
            people.append(rec.person)
            # the number was validated on reading (against the same day): no second parse
            births.append(idno.birth_of_valid(rec.id_no))
            targets.append(rec)
    for rec, result in zip(targets, engine.compute_many(plan, people, today, births=births)):
        rec.result = result
    decide_all(plan, records, lists)
    return records


_PLAIN = statuses.enrollment(statuses.PAID)
_FULL = statuses.enrollment(statuses.SUBSIDIZED)


def _same_names(entries: tuple, name: str) -> bool:
    """Every list that names this ID gives the ledger's name (or none)."""
    return all(not other or other == name or name_key(other) == name_key(name) for _w, _p, other in entries)


def decide_all(plan: plans.Plan, records: list[Record], lists: SideLists | None = None):
    """Set ``status`` and ``contradictions`` of every computed record (in
    place). The common rows (read cleanly, no 未缴费原因 or flags, on no
    list, fully paid or fully subsidized without proxy) take a shared
    Enrollment without a call; the rest go through ``status.decide``."""
    proxy = plan.proxy_source
    lists = lists if lists is not None and (lists.deceased or lists.employee or lists.roster) else None
    dead_ids = lists.deceased if lists is not None else {}
    employee_ids = lists.employee if lists is not None else {}
    listed_names = lists.names if lists is not None else {}
    decide = statuses.decide
    for rec in records:
        raw = rec.raw
        reason = raw.get("unpaid_reason")
        dead_cell = raw.get("deceased")
        result = rec.result
        person = rec.person
        # (the roster matters only against a 未缴费原因, which the common row has not)
        if (result is not None and result.ok and not rec.paid_error
                and rec.id_no not in dead_ids and rec.id_no not in employee_ids
                and (rec.id_no not in listed_names or _same_names(listed_names[rec.id_no], rec.name))
                and is_blank(reason) and is_blank(dead_cell) and not rec.input_error):
            payable = result.payable
            if payable == 0:
                if not rec.paid and not (proxy and result.funding and any(s == proxy for s, _ in result.funding)):
                    rec.status, rec.contradictions = _FULL, ()
                    continue
            elif rec.paid is not None and rec.paid >= payable:
                rec.status, rec.contradictions = _PLAIN, ()
                continue
        read_error = rec.id_error or rec.input_error or rec.paid_error
        deceased = False
        if not is_blank(dead_cell):
            try:
                deceased = cell_text(dead_cell) in ("已死亡", "死亡") or reading.flag(dead_cell, "是否死亡")
            except BadValue as exc:
                read_error = read_error or str(exc)
        ok = result is not None and result.ok
        rec.status, rec.contradictions = decide(
            ok=ok,
            payable=result.payable if result is not None else None,
            subsidy=result.subsidy if result is not None else None,
            funding=result.funding if result is not None else (),
            tier=result.subsidy_tier if result is not None else None,
            message=result.message if result is not None else "",
            paid=rec.paid, unpaid_reason=cell_text(reason),
            employee=bool(person and person.employee_insured), deceased=deceased,
            read_error=read_error, id_no="" if rec.id_error else rec.id_no, lists=lists,
            proxy_source=proxy, enroll_type=person.enroll_type if person else cell_text(raw.get("enroll_type")),
            name=rec.name)
