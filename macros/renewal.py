"""Who has not renewed: last year's insured against this year's ledgers (issue 14, command 3).

``yibao renewal --last LAST_YEAR… --this THIS_YEAR…`` reads last year's
village ledgers and this year's (both read only) and writes a new workbook:
a chase list per village for the village agents (户, 姓名, masked ID, phone,
last year's payment, this year's PAYABLE, the plan's deadline and, where
the plan states one, the waiting period for paying late), the persons not
to chase with the reason (已死亡, 职工医保, 异地参保), and a summary sheet
whose counts tie to last year's persons.

Persons are matched by the normalized ID number only (a 15-digit number
through its 18-digit form, :mod:`yibao.functions.idno`; never by name).
Statuses come from :func:`yibao.macros.town.ledger_records` /
:func:`~yibao.macros.town.unique_persons` (decided by
:func:`yibao.functions.status.decide`, the one place); this year's PAYABLE
is the engine's, as ``refresh`` computes it: a person on this year's
ledger takes the row's result, a person not on it is computed with this
year's plan from last year's row (same identities, no pay date: the
plan's default pay date, as for an unpaid row).

Pure core: :func:`classify` (last year's and this year's persons →
:class:`Outcome`), :func:`deadline_of` and :func:`late_terms` (plan →
the window end and the waiting-period sentence). The shell :func:`run`
reads the files and writes the workbook.

Plan clauses this serves: 001 三(一) 集中征缴期 and 001 三(二)1 零星征缴期
(待遇等待期90天); 000 二(三) 逾期参保 (缴费30日后方可享受); 002 四(一)
(已参加职工医保、异地参保的不再重复参保).
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path

from yibao.functions import engine, idno
from yibao.functions import plan as plans
from yibao.functions import status as statuses
from yibao.functions.values import yuan

from . import book as books
from . import town
from .ledger import Record
from .table import cell_text, column_name

__all__ = ["Outcome", "classify", "deadline_of", "late_terms", "sheets_of", "run", "add_parser", "ribbon",
           "GROUPS", "NOT_CHASED"]

RENEWED = "已续保"
CHASE = "未续保（待催缴）"
NOT_CHASED = "不需催缴"                    # 已死亡 / 职工医保 / 异地参保 this year
PENDING = "本年台账待核实"                  # this year's row cannot be decided: check it first
NOT_INSURED = "去年未参保"                  # on last year's ledger, not enrolled: not on this list
BAD_ID = "去年台账身份证号有误"

#: every last-year person is in exactly one of these
GROUPS = (CHASE, NOT_CHASED, PENDING, RENEWED, NOT_INSURED, BAD_ID)
#: this year's statuses that end the chase (002 四(一): not insured twice)
STOP_KINDS = (statuses.DECEASED, statuses.EMPLOYEE, statuses.ELSEWHERE)


@dataclasses.dataclass(frozen=True)
class Entry:
    """One last-year person: the last-year row, this year's row (or None),
    this year's PAYABLE in fen (or None when the engine could not say), the
    group and the reason shown."""
    last: Record
    this: Record | None
    group: str
    payable: int | None = None
    reason: str = ""
    kind: str = ""             # this year's status kind, where one was decided


@dataclasses.dataclass
class Outcome:
    entries: list[Entry]
    last_count: int            # last year's persons (each once)
    duplicates: int = 0        # further rows of last year's persons (counted once)

    def of(self, group: str) -> list[Entry]:
        return [e for e in self.entries if e.group == group]

    def ties(self) -> bool:
        """Every last-year person in exactly one group."""
        ids = [e.last.id_no for e in self.entries if e.group != BAD_ID]
        return (len(self.entries) == self.last_count and len(ids) == len(set(ids))
                and sum(len(self.of(g)) for g in GROUPS) == self.last_count)


def _payable(rec: Record | None) -> int | None:
    res = rec.result if rec is not None else None
    return res.payable if res is not None and res.ok else None


def classify(last: town.Persons, this: town.Persons, renew_results: dict[str, engine.Result] | None = None,
             absent: dict[str, statuses.Enrollment] | None = None) -> Outcome:
    """Put every last-year person in one of :data:`GROUPS` (pure).

    ``last``/``this``: each year's persons once (:func:`town.unique_persons`
    of computed records); ``renew_results``: ID → this year's engine result
    for last-year persons not on this year's ledgers (:func:`renew_payables`);
    ``absent``: ID → the status :func:`absent_statuses` decided for them from
    this year's death and employee lists (已死亡/职工医保 stop the chase; 待核实
    when a list names the ID under another name). Matching by the compact
    18-digit ID only."""
    renew_results = renew_results or {}
    absent = absent or {}
    now: dict[str, Record] = {}
    for rec in this.records:
        if rec.id_no and not rec.id_error:
            now.setdefault(rec.id_no, rec)
    entries: list[Entry] = []
    for rec in last.records:
        if not rec.id_no or rec.id_error:
            entries.append(Entry(rec, None, BAD_ID, reason=rec.id_error))
            continue
        if not rec.enrolled:
            entries.append(Entry(rec, now.get(rec.id_no), NOT_INSURED,
                                 reason=rec.status.text if rec.status else statuses.PENDING))
            continue
        cur = now.get(rec.id_no)
        if cur is None:
            res = renew_results.get(rec.id_no)
            pay = res.payable if res is not None and res.ok else None
            known = absent.get(rec.id_no)
            if known is not None and known.kind in STOP_KINDS:
                entries.append(Entry(rec, None, NOT_CHASED, None, f"本年台账无此人；{known.text}", known.kind))
            elif known is not None and known.kind == statuses.PENDING:
                entries.append(Entry(rec, None, PENDING, pay, f"本年台账无此人；{known.text}", known.kind))
            else:
                entries.append(Entry(rec, None, CHASE, pay, "本年台账无此人"))
            continue
        kind = cur.status.kind if cur.status else statuses.PENDING
        if cur.enrolled:
            entries.append(Entry(rec, cur, RENEWED, _payable(cur), cur.status.text))
        elif kind in STOP_KINDS:
            entries.append(Entry(rec, cur, NOT_CHASED, None, cur.status.text))
        elif kind == statuses.PENDING:
            entries.append(Entry(rec, cur, PENDING, _payable(cur), cur.status.text))
        else:
            entries.append(Entry(rec, cur, CHASE, _payable(cur), f"本年台账为“{cur.status.text}”"))
    return Outcome(entries, len(last.records), len(last.duplicates))


def _general(rule: plans.Rule) -> bool:
    """A window for everyone (no type, identity, event or birth condition)."""
    return (rule.types is None and not rule.holds_any and not rule.subsidized_only and rule.event is None
            and rule.born_between is None and rule.event_between is None)


def deadline_of(plan: plans.Plan) -> datetime.date | None:
    """The end of the plan's collection window for everyone: the latest end
    of the general windows without a waiting period (001 三(一) 集中征缴期;
    000 二(三)), or None when the plan has none."""
    ends = [r.end for r in plan.rules if _general(r) and not r.wait_days]
    return max(ends) if ends else None


def late_terms(plan: plans.Plan) -> str:
    """What paying after the deadline costs, as the plan states it: each
    general window with a waiting period ('零星征缴期（普通群众）2025-03-01至
    2025-09-30缴费：按筹资标准全额缴费，待遇等待期90天（001 三(二)1）'), '' when
    the plan states none."""
    out = []
    for r in plan.rules:
        if _general(r) and r.wait_days:
            full = "按筹资标准全额缴费、不享受资助，" if r.amount == "full_standard" else ""
            out.append(f"逾期在{r.name}（{r.start.isoformat()}至{r.end.isoformat()}）缴费的，{full}"
                       f"待遇等待期{r.wait_days}天" + (f"（{r.clause}）" if r.clause else ""))
    return "；".join(out)


# ---------------------------------------------------------------- result sheets

CHASE_HEADER = ["序号", "户号", "姓名", "身份证号", "联系电话", "去年缴费（元）", "今年应缴（元）", "缴费截止", "说明"]
_CHASE_WIDTHS = {1: 5, 2: 9, 3: 8, 4: 19, 5: 12, 6: 9, 7: 9, 8: 11, 9: 30}
LIST_HEADER = ["序号", "村（社区）", "户号", "姓名", "身份证号", "去年台账", "本年台账", "类别", "原因"]
_LIST_WIDTHS = {1: 5, 2: 10, 3: 8, 4: 8, 5: 19, 6: 14, 7: 14, 8: 12, 9: 26}


def _village(rec: Record) -> str:
    return rec.village or "（未填村名）"


def _where(rec: Record | None) -> str:
    return f"{Path(rec.book).name if rec.book else ''} 第{rec.row}行".strip() if rec is not None else ""


def _order(e: Entry):
    return (_village(e.last), not e.last.family, e.last.family, Path(e.last.book).name, e.last.row)


def _money(value) -> object:
    return None if value is None else yuan(value)


def sheets_of(outcome: Outcome, plan: plans.Plan, last_name: str = "") -> list[books.OutSheet]:
    """汇总 (each group's count, the tie line), 分村统计 (each village's
    groups, adding up to 汇总), one 催缴-村 sheet per
    village (IDs masked: it goes to the village agents), 不需催缴 and
    待核实 lists (IDs masked too). Print-ready (A4, >= 9 pt)."""
    deadline = deadline_of(plan)
    late = late_terms(plan)
    due = deadline.isoformat() if deadline else "见方案"
    heading = f"{plan.name} 续保催缴"
    rows = [[heading], ["类别", "人数", "处理"]]
    action = {CHASE: "村协管员逐户催缴（见各“催缴-村名”表）", NOT_CHASED: "不催缴，核实原因（见“不需催缴”表）",
              PENDING: "先核实本年台账（见“待核实”表）", RENEWED: "不需处理", NOT_INSURED: "去年未参保，不在续保名单",
              BAD_ID: "去年台账身份证号有误，无法比对：先改正"}
    for g in GROUPS:
        rows.append([g, len(outcome.of(g)), action[g]])
    rows.append(["去年台账合计", outcome.last_count, ""])
    tie = (f"账平：去年台账{outcome.last_count}人，每人各归一类，按身份证号比对（15位号码按18位比对），不按姓名"
           if outcome.ties() else "账不平：去年人员未全部归类，请报告此问题")
    notes = [tie, f"缴费截止：{due}" + (f"；{late}" if late else ""),
             "今年应缴按今年方案计算；本年台账无此人的，按去年台账的身份计算，身份有变化的以核实为准"]
    if outcome.duplicates:
        notes.append(f"去年名单中另有{outcome.duplicates}行与其他行是同一人，只计一次")
    summary = books.OutSheet("汇总", rows + [[n] for n in notes], title_rows=1, footer_rows=len(notes),
                             widths={1: 22, 2: 8, 3: 50}, merges=["A1:C1"], landscape=False)
    counts: dict[str, dict[str, int]] = {}
    for e in outcome.entries:
        cell = counts.setdefault(_village(e.last), dict.fromkeys(GROUPS, 0))
        cell[e.group] += 1
    per = [[heading + "：分村统计"], ["村（社区）", *GROUPS, "合计"]]
    for v in sorted(counts):
        per.append([v, *counts[v].values(), sum(counts[v].values())])
    per.append(["合计", *(len(outcome.of(g)) for g in GROUPS), outcome.last_count])
    by_village = books.OutSheet("分村统计", per, title_rows=1,
                                widths={1: 14, **{c: 11 for c in range(2, len(GROUPS) + 3)}},
                                merges=[f"A1:{column_name(len(GROUPS) + 2)}1"])
    sheets = [summary, by_village]
    chase = sorted(outcome.of(CHASE), key=_order)
    villages: dict[str, list[Entry]] = {}
    for e in chase:
        villages.setdefault(_village(e.last), []).append(e)
    note_late = late
    for v, group in villages.items():
        body = []
        for i, e in enumerate(group, 1):
            phone = cell_text((e.this or e.last).raw.get("phone")) or cell_text(e.last.raw.get("phone"))
            body.append([i, e.last.family, e.last.name, idno.mask(e.last.id_no), phone,
                         _money(e.last.paid or 0), _money(e.payable), due, e.reason])
        title = [f"{heading}：{v}（{len(group)}人）",
                 f"请在{due}前催缴。" + (note_late + "。" if note_late else "") + "身份证号已隐去中间8位"]
        sheets.append(books.OutSheet(f"催缴-{v}"[:31], [*[[t] for t in title], CHASE_HEADER] + body,
                                     title_rows=2, widths=dict(_CHASE_WIDTHS),
                                     merges=[f"A1:{column_name(len(CHASE_HEADER))}1",
                                             f"A2:{column_name(len(CHASE_HEADER))}2"]))
    for name, group, words in (("不需催缴", NOT_CHASED, "今年已死亡、参加职工医保或异地参保，不催缴"),
                               ("待核实", PENDING, "本年台账此人无法判定，先核实")):
        listed = sorted(outcome.of(group), key=_order)
        if not listed:
            continue
        body = [[i, _village(e.last), e.last.family, e.last.name, idno.mask(e.last.id_no), _where(e.last),
                 _where(e.this) or "无此人",
                 e.kind or (e.this.status.kind if e.this is not None and e.this.status else ""), e.reason]
                for i, e in enumerate(listed, 1)]
        sheets.append(books.OutSheet(name, [[f"{heading}：{name}（{len(listed)}人）"], [words], LIST_HEADER] + body,
                                     title_rows=2, widths=dict(_LIST_WIDTHS),
                                     merges=[f"A1:{column_name(len(LIST_HEADER))}1"]))
    return sheets


# ---------------------------------------------------------------- shell

def renew_payables(plan: plans.Plan, persons: list[Record], today: datetime.date | None = None
                   ) -> dict[str, engine.Result]:
    """This year's engine result for last-year rows: same identities, an
    ordinary renewal (普通), no pay date (the plan's default, as for an
    unpaid row)."""
    targets = [r for r in persons if r.person is not None and r.id_no and not r.id_error]
    people = [r.person._replace(pay_date=None, enroll_type="普通", event_date=None) for r in targets]
    return {r.id_no: res for r, res in zip(targets, engine.compute_many(plan, people, today))}


def export_persons(path: Path) -> list[Record]:
    """Last year's payers from a payment export (read only; columns found as
    ``reconcile`` finds them): one record per readable row, 已缴费, the
    amount paid, village from the export's 村 column when it has one.
    Rows of another insurance are left out. Raises TableError/BookError."""
    from .reconcile import _medical, find_export, read_payments
    grids = books.read_grid_any(path)
    table = find_export(grids, None, f"“{path.name}”")
    paid = statuses.enrollment(statuses.PAID)
    unpaid = statuses.enrollment(statuses.UNPAID, "缴费导出中此行无缴费金额")
    has_amount = "amount" in table.columns
    out = []
    for p in read_payments(grids[table.sheet], table):
        if not _medical(p.insurance):
            continue
        rec = Record(table.sheet, p.row, {}, {}, village=p.village or "（导出未写村）", name=p.name,
                     id_no=p.id_no or p.id_text, id_error=p.id_error, paid=p.amount, book=str(path),
                     status=paid if not has_amount or (p.amount or 0) > 0 else unpaid)
        if p.id_no:
            rec.person = engine.Person(p.id_no)
        out.append(rec)
    if not out:
        raise books.BookError(f"“{path.name}”表头下没有缴费记录")
    return out


def absent_statuses(plan: plans.Plan, persons: list[Record], results: dict[str, engine.Result],
                    lists: statuses.SideLists | None) -> dict[str, statuses.Enrollment]:
    """For last-year persons on no ledger of this year and on this year's
    death or employee list: the status :func:`yibao.functions.status.decide`
    gives them (the one place that decides), by ID."""
    if lists is None or not (lists.deceased or lists.employee):
        return {}
    out = {}
    for rec in persons:
        if rec.id_no not in lists.deceased and rec.id_no not in lists.employee:
            continue
        res = results.get(rec.id_no)
        status, _ = statuses.decide(ok=res is not None and res.ok, payable=res.payable if res else None,
                                    subsidy=res.subsidy if res else None, funding=res.funding if res else (),
                                    tier=res.subsidy_tier if res else None, message=res.message if res else "",
                                    id_no=rec.id_no, lists=lists, proxy_source=plan.proxy_source, name=rec.name)
        out[rec.id_no] = status
    return out


def _our_result(grids: dict) -> bool:
    """A chase list this command wrote (its 汇总 and 催缴- sheets)."""
    return "汇总" in grids and any(n.startswith("催缴-") for n in grids)


def _payment_export(grids: dict) -> bool:
    """A tax or platform payment export (not a ledger, and columns only
    exports have: 险种, 所属期, 所属区划, 人员编号): read as a ledger its
    payers would all be 去年未参保."""
    from .reconcile import _is_ledger, find_export
    from .table import TableError
    if _is_ledger(grids):
        return False
    try:
        table = find_export(grids)
    except TableError:
        return False
    return any(f in table.columns for f in ("insurance", "period", "region", "person_no"))


def _sources(paths: list, label: str, output: Path) -> list[tuple[str, dict]]:
    """The grids of ``paths`` (file paths, or a Book: the workbook a ribbon
    button was pressed in), our own earlier result left out."""
    given = [b for b in paths if not isinstance(b, (str, Path))]
    paths = [p for p in paths if isinstance(p, (str, Path))]
    for p in paths:         # our earlier result under the output's name is passed over; a ledger is never written over
        if Path(p).resolve() == output.resolve() and not _our_result(books.read_grid_any(Path(p))):
            raise books.BookError(f"结果文件不能是台账本身：{output.name}；请用 -o 另写一个文件名")
    paths = [p for p in paths if Path(p).resolve() != output.resolve()]
    if not paths and not given:
        raise books.BookError(f"请列出{label}的台账文件")
    read = [(str(b.path), b.grids()) for b in given] + town.read_sources(paths)
    sources = [s for s in read if not town.comparison_result(s[1])]
    for path, grids in sources:
        if _payment_export(grids):
            raise books.BookError(f"“{Path(path).name}”是缴费导出，不是{label}的台账：去年的缴费导出请用 --last-export 给出")
    if not sources:
        raise books.BookError(f"请列出{label}的台账文件")
    return sources


@books.gc_paused()
def run(last: list[str], this: list[str], policy: str | None = None, last_policy: str | None = None,
        output: Path | None = None, lists=None, last_export: str | None = None) -> str:
    """Read last year's and this year's ledgers (read only), classify, write
    ``output`` (default 续保催缴名单.xlsx beside the first of this year's
    files); returns the one Chinese line. Raises BookError with a Chinese
    message."""
    if not this:
        raise books.BookError("请用 --this 列出今年的台账文件")
    if not last and not last_export:
        raise books.BookError("请用 --last 列出去年的台账文件，或用 --last-export 给出去年的缴费导出")
    first = this[0] if isinstance(this[0], (str, Path)) else this[0].path
    output = Path(output) if output else Path(first).with_name("续保催缴名单.xlsx")
    if output.suffix.lower() != ".xlsx":
        raise books.BookError(f"结果文件应为.xlsx：{output.name}")
    exported = export_persons(Path(last_export)) if last_export else []
    last_sources = _sources(last, "去年", output) if last or not exported else []
    this_sources = _sources(this, "今年", output)
    plan = town.resolve_plan(policy, this_sources[0][1], this_sources[1:])
    last_records: list[Record] = []
    if last_sources:
        try:
            last_plan = town.resolve_plan(last_policy, last_sources[0][1], last_sources[1:])
        except books.BookError:
            raise books.BookError("不知道去年按哪个方案计算：请加 --last-policy 方案编号，或在去年台账“方案编号”旁填写")
        last_records, _ = town.ledger_records(last_plan, last_sources)
    # a payer in last year's export who is on no ledger of last year is one more person to renew
    on_ledgers = {r.id_no for r in last_records if not r.id_error}
    last_records += [r for r in exported if r.id_error or r.id_no not in on_ledgers]
    this_records, _ = town.ledger_records(plan, this_sources, lists=lists)
    if not last_records:
        raise books.BookError("去年台账中没有读到人员（需要“姓名”“身份证号”列）")
    last_persons = town.unique_persons(last_records)
    this_persons = town.unique_persons(this_records)
    on_this = {r.id_no for r in this_persons.records}
    gone = [r for r in last_persons.records if r.id_no not in on_this]
    renew = renew_payables(plan, gone)
    outcome = classify(last_persons, this_persons, renew, absent_statuses(plan, gone, renew, lists))
    books.write_new_workbook(output, sheets_of(outcome, plan))
    parts = "，".join(f"{g}{len(outcome.of(g))}" for g in GROUPS)
    return (f"去年台账{outcome.last_count}人：{parts}；" + ("各类合计相符" if outcome.ties() else "各类合计不符")
            + f"；结果已写入 {output.name}")


def cmd_renewal(args) -> int:
    town.refuse_output_over(args.output, args.last_export, args.deceased, args.employee, args.lists)
    print(run(list(args.last or ()), list(args.this), args.policy, args.last_policy, args.output,
              lists=town.side_lists(args), last_export=args.last_export))
    return 0


def ribbon(live, workbook: Path, pick_files) -> str:
    """The ribbon's 续保催缴 button: ``live`` the workbook it was pressed in
    (a :class:`~yibao.macros.book.Book`, this year's ledger), ``workbook``
    its path, ``pick_files(title) -> list[str] | None`` asks for files.
    Asks for last year's ledgers, then for this year's other ledgers (may be
    none); writes 续保催缴名单.xlsx beside ``workbook`` (no ledger is
    written). Returns the Chinese result line."""
    last = pick_files("选择去年的各村台账（可多选）")
    if not last:
        return "未选择去年的台账，未生成催缴名单"
    others = pick_files("选择今年其他村的台账一起比对（可不选，只比对本台账）") or []
    others = [p for p in others if Path(p).resolve() != Path(workbook).resolve()]
    return run(list(last), [live] + list(others), output=Path(workbook).with_name("续保催缴名单.xlsx"))


def add_parser(sub):
    p = sub.add_parser(
        "renewal", help="续保催缴名单 / who has not renewed since last year",
        description="按身份证号比对去年和今年的各村台账：去年参保、今年还没参保缴费的人，按村、按户列出催缴名单"
                    "（身份证号隐去中间8位，含今年应缴、缴费截止和方案规定的待遇等待期）；今年已死亡、参加职工医保、"
                    "异地参保的另列，不催缴；写入新工作簿，台账不会被修改。"
                    " Last year's insured not yet enrolled this year, per village; writes a new workbook.")
    p.add_argument("--last", nargs="+", metavar="去年台账", help="去年的各村台账文件（只读） / last year's ledgers")
    p.add_argument("--last-export", metavar="去年缴费导出",
                   help="去年的缴费导出（税务或医保信息平台，只读；可代替或补充去年台账） / last year's payment export")
    p.add_argument("--this", nargs="+", required=True, metavar="今年台账", help="今年的各村台账文件（只读） / this year's ledgers")
    p.add_argument("--policy", help="今年的方案编号（默认读今年台账中的“方案编号”） / this year's plan id")
    p.add_argument("--last-policy", help="去年的方案编号（默认读去年台账中的“方案编号”） / last year's plan id")
    p.add_argument("-o", "--output", help="结果文件（默认今年第一个台账旁的“续保催缴名单.xlsx”） / output .xlsx")
    from .validate import add_list_options
    add_list_options(p, roster=False)
    p.set_defaults(func=cmd_renewal)
