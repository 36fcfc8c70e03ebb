"""汇总上报 (summary): the stamped summary a town submits.

Per village, from the ledgers: households and persons enrolled, individual
payments, subsidies by category (persons and amount) and by funding source;
where the plan has a household-type list (004 附件2), the register's page
totals 纯低保户, 纯建档立卡, 纯三四级残疾 (households whose 户属性 is that
one type, and their enrolled persons); the signature lines (收款填表人,
缴费操作人, 卫健工作人员, 日期), the stamp boxes (村委会盖章, 乡镇盖章) and
the number of copies the plan asks for (``[forms] copies``, 004 六(一):
一式三份). A PDF with one page set per copy is made through LibreOffice
where it is installed; without it the summary is still written and the line
says so.

Money is summed in fen and shown in yuan. Enrolled means what
:attr:`yibao.macros.ledger.Record.enrolled` says (paid what the plan asks,
or owes nothing).
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import tempfile
from collections import defaultdict
from pathlib import Path

from yibao.atomic import WriteRefused, commit
from yibao.functions import plan as plans
from yibao.functions import status as _statuses
from yibao.functions.values import yuan

from . import book as books
from . import town
from .ledger import Record
from .table import cell_text
from .xlsxpatch import column_letter as get_column_letter

__all__ = ["VillageSummary", "summarize", "Reconciliation", "reconcile", "read_roster", "summary_sheet",
           "detail_sheet", "roster_sheet", "pure_kind", "to_pdf", "run", "add_parser", "SHEET", "DETAIL_SHEET",
           "ROSTER_CHECK_SHEET"]

SHEET = "汇总上报"
#: 附表 of 核对三: each person on whom the merged roster and the summary differ
ROSTER_CHECK_SHEET = "汇总上报-资助名单核对"
PURE = ("纯低保户", "纯建档立卡", "纯三四级残疾")
_CN = "零一二三四五六七八九十"


def pure_kind(text: str) -> str | None:
    """Which 004 page-total group a household type (户属性) or a subsidy tier
    belongs to, or None (一般户, other types, or a mix such as 建档立卡低保户).

    >>> pure_kind("一般低保户"), pure_kind("脱贫户"), pure_kind("建档立卡低保户"), pure_kind("社会保障兜底户")
    ('纯低保户', '纯建档立卡', None, None)
    """
    t = cell_text(text).replace("、", "")
    if not t:
        return None
    if "三四级残疾" in t:
        return "纯三四级残疾"
    # 脱贫人口 is what plans since 2021 call the former 建档立卡 poor; 004's
    # 社会保障兜底脱贫对象 is a household type of its own
    if "建档立卡" in t or "贫困" in t or ("脱贫" in t and "兜底" not in t):
        return None if ("低保" in t.replace("非低保", "")) else "纯建档立卡"
    if "低保" in t:
        return "纯低保户"
    return None


@dataclasses.dataclass
class VillageSummary:
    village: str
    households: int = 0
    persons: int = 0
    paid: int = 0                                         # fen
    subsidy: int = 0                                      # fen
    by_tier: dict = dataclasses.field(default_factory=lambda: defaultdict(lambda: [0, 0]))   # tier → [persons, fen]
    by_source: dict = dataclasses.field(default_factory=lambda: defaultdict(int))            # source → fen
    pure: dict = dataclasses.field(default_factory=lambda: {k: [0, 0] for k in PURE})      # kind → [households, persons]


def _households(records: list[Record]) -> dict[tuple, list[Record]]:
    """Records grouped by household: the 户编号 where there is one, else a
    new household at each 户主 row (004's register has no 户编号)."""
    groups: dict[tuple, list[Record]] = defaultdict(list)
    counter = 0
    last_sheet = None
    for rec in records:
        where = (rec.book, rec.sheet)
        if where != last_sheet:
            counter += 1
            last_sheet = where
        if rec.family:
            key = (where, rec.village, "户", rec.family)
        else:
            relation = cell_text(rec.raw.get("relation"))
            if relation == "户主" or "relation" not in rec.columns:
                counter += 1
            key = (where, rec.village, "序", counter)
        groups[key].append(rec)
    return groups


def summarize(plan: plans.Plan, records: list[Record]) -> list[VillageSummary]:
    """The pure core: one summary per village, in the order villages appear."""
    out: dict[str, VillageSummary] = {}
    for members in _households(records).values():
        enrolled = [r for r in members if r.enrolled]
        village = members[0].village
        s = out.setdefault(village, VillageSummary(village))
        if not enrolled:
            continue
        s.households += 1
        s.persons += len(enrolled)
        for r in enrolled:
            s.paid += r.paid if r.paid is not None else r.result.payable
            s.subsidy += r.result.subsidy or 0
            if r.result.subsidy and r.result.subsidy_tier:
                s.by_tier[r.result.subsidy_tier][0] += 1
                s.by_tier[r.result.subsidy_tier][1] += r.result.subsidy
            for source, amount in r.result.funding:
                s.by_source[source] += amount
        types = {cell_text(r.raw.get("household_type")) for r in members} - {""}
        if types:
            kinds = {pure_kind(t) for t in types}
        else:
            kinds = {pure_kind(r.result.subsidy_tier or "") for r in enrolled}
        if len(kinds) == 1 and None not in kinds:
            kind = kinds.pop()
            s.pure[kind][0] += 1
            s.pure[kind][1] += len(enrolled)
    return [s for s in out.values() if s.persons or s.village]


# ---------------------------------------------------------------- reconciliation

_KINDS = tuple(k for k in _statuses.KINDS if k not in _statuses.ENROLLED_KINDS)
_SHOWN = 5


@dataclasses.dataclass
class RosterPerson:
    name: str
    id_no: str
    tier: str
    amount: int          # fen


@dataclasses.dataclass
class RosterDiff:
    name: str
    where: str           # 村 第N行 (the file where the village does not say it), or —
    roster: int          # fen on the merged roster
    counted: int         # fen in this summary
    why: str


@dataclasses.dataclass
class Reconciliation:
    """How the summary ties to its inputs (every person and every fen).

    persons on the ledgers = counted + excluded (by status kind) + duplicates;
    个人缴费 on the ledgers = counted + in excluded rows + in duplicate rows
    (fen; rows whose amount cannot be read are listed, ``unread``); with a
    merged roster, its subsidy total = the summary's ± each person in ``diffs``."""

    rows: int
    counted: list[Record]
    excluded: dict[str, list[Record]]
    duplicates: list[tuple[Record, Record]]
    warnings: list[str]
    unread: list[Record]
    roster: list[RosterPerson] | None = None
    diffs: list[RosterDiff] = dataclasses.field(default_factory=list)
    #: units on the task table that no ledger passed belongs to (not in the table above)
    missing: list[str] = dataclasses.field(default_factory=list)

    @staticmethod
    def _money(records) -> int:
        return sum(r.paid or 0 for r in records)

    @property
    def money_rows(self) -> int:
        return self.money_counted + self.money_excluded + self.money_duplicates

    @property
    def money_counted(self) -> int:
        return self._money(self.counted)

    @property
    def money_excluded(self) -> int:
        return sum(self._money(rs) for rs in self.excluded.values())

    @property
    def money_duplicates(self) -> int:
        return self._money(d for d, _k in self.duplicates)

    @property
    def errors(self) -> list[Record]:
        return self.excluded.get("待核实", [])

    @property
    def roster_total(self) -> int:
        return sum(p.amount for p in self.roster or [])

    @property
    def subsidy_counted(self) -> int:
        return sum(r.result.subsidy or 0 for r in self.counted)

    def lines(self) -> list[str]:
        """The Chinese lines printed under the table (no ID numbers)."""
        n_ex = sum(len(v) for v in self.excluded.values())
        kinds = "、".join(f"{k}{len(v)}人" for k, v in self.excluded.items() if v)
        out = [f"核对一：台账共{self.rows}人＝计入本表{len(self.counted)}人＋未计入{n_ex}人"
               + (f"（{kinds}）" if kinds else "") + f"＋重复登记{len(self.duplicates)}人。",
               f"核对二：台账个人缴费共{_yuan(self.money_rows)}元＝计入本表{_yuan(self.money_counted)}元"
               f"＋未计入人员所缴{_yuan(self.money_excluded)}元＋重复登记行{_yuan(self.money_duplicates)}元。"]
        if self.unread:
            out.append(f"另有{len(self.unread)}行个人缴费无法识别，未计入金额：" + _names(self.unread))
        if self.errors:
            out.append(f"待核实{len(self.errors)}人（行内有错误，未计入本表，改正后重新汇总）："
                       + _names(self.errors))
        for w in self.warnings:
            out.append(f"重复登记：{w}。")
        if self.missing:
            out.append(f"未提供台账：{'、'.join(self.missing)}（任务表中有，未汇总，不计入本表）。")
        if self.roster is not None:
            out.append(self.roster_line())
        return out

    def roster_line(self) -> str:
        """核对三 as the stamped page prints it: the totals only, tied to the fen (roster = this
        table ± the difference); the persons are listed on ROSTER_CHECK_SHEET, so a long list
        never pushes the page onto a second sheet of paper."""
        diff = self.roster_total - self.subsidy_counted
        head = (f"核对三：资助名单合计{_yuan(self.roster_total)}元（{len(self.roster or [])}人）"
                f"＝本表资助合计{_yuan(self.subsidy_counted)}元")
        if not self.diffs and not diff:
            return head + "，一致。"
        return (head + f"{'＋' if diff >= 0 else '－'}差额{_yuan(abs(diff))}元"
                f"（涉及{len(self.diffs)}人，逐人列于附表“{ROSTER_CHECK_SHEET}”）。")

    def message(self) -> str:
        """What the command's line adds: the ties, and what was not counted."""
        text = (f"核对：台账{self.rows}人＝计入{len(self.counted)}＋未计入{sum(len(v) for v in self.excluded.values())}"
                f"＋重复{len(self.duplicates)}，个人缴费{_yuan(self.money_rows)}元＝{_yuan(self.money_counted)}"
                f"＋{_yuan(self.money_excluded)}＋{_yuan(self.money_duplicates)}")
        if self.missing:
            text += f"；未提供台账：{'、'.join(self.missing)}（任务表中有，未计入本表）"
        if self.errors:
            text += f"；{len(self.errors)}人有错误未计入（{_names(self.errors, 3)}），请改正后重新汇总"
        if self.unread:
            text += f"；{len(self.unread)}行个人缴费无法识别"
        if self.duplicates:
            text += f"；{len(self.duplicates)}人重复登记只计一次（{self.warnings[0]}" + \
                ("等" if len(self.warnings) > 1 else "") + "）"
        if self.roster is not None:
            diff = self.roster_total - self.subsidy_counted
            text += (f"；资助名单合计{_yuan(self.roster_total)}元，与本表一致" if not self.diffs else
                     f"；资助名单合计{_yuan(self.roster_total)}元，本表{_yuan(self.subsidy_counted)}元，"
                     f"{_more(diff)}，涉及{len(self.diffs)}人（逐人见“{ROSTER_CHECK_SHEET}”）")
        return text


def _more(diff: int) -> str:
    """roster − summary, in words."""
    return f"本表比名单多{_yuan(-diff)}元" if diff < 0 else f"本表比名单少{_yuan(diff)}元"


def _yuan(amount: int) -> str:
    value = yuan(amount)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"


def _names(records: list[Record], shown: int = _SHOWN) -> str:
    text = "、".join(town.row_label(r) for r in records[:shown])
    return text + (f"等{len(records)}人" if len(records) > shown else "")


def reconcile(records: list[Record], persons: town.Persons,
              roster: list[RosterPerson] | None = None) -> Reconciliation:
    """The pure core of the reconciliation: ``records`` every ledger row,
    ``persons`` the same rows with each person once (:func:`town.unique_persons`)."""
    counted, excluded = [], {k: [] for k in _KINDS}
    for rec in persons.records:
        why = town.exclusion(rec)
        if why is None:
            counted.append(rec)
        else:
            excluded.setdefault(why, []).append(rec)
    unread = [r for r in records if r.paid_error]
    out = Reconciliation(len(records), counted, excluded, list(persons.duplicates), list(persons.warnings), unread)
    if roster is not None:
        out.roster = roster
        out.diffs = _roster_diffs(roster, persons, counted)
    return out


def _roster_diffs(roster: list[RosterPerson], persons: town.Persons, counted: list[Record]) -> list[RosterDiff]:
    on_ledgers = {r.id_no: r for r in persons.records if r.id_no and not r.id_error}
    counted_ids = {r.id_no: r for r in counted if r.id_no}
    listed = {}
    for p in roster:
        listed[p.id_no] = listed.get(p.id_no, 0) + p.amount
    names = {p.id_no: p.name for p in roster}
    out = []
    for id_no, amount in listed.items():
        rec = counted_ids.get(id_no)
        got = (rec.result.subsidy or 0) if rec is not None else 0
        if got == amount:
            continue
        if rec is not None:
            why = f"本表按台账身份“{rec.result.subsidy_tier or '无'}”计算，金额不同"
            where = _annex_place(rec)
        elif id_no in on_ledgers:
            other = on_ledgers[id_no]
            why = f"未计入本表（{town.exclusion(other)}）"
            where = _annex_place(other)
        else:
            why, where = "不在台账上", "—"
        out.append(RosterDiff(names[id_no], where, amount, got, why))
    for id_no, rec in counted_ids.items():
        if id_no not in listed and rec.result.subsidy:
            out.append(RosterDiff(rec.name, _annex_place(rec), 0, rec.result.subsidy,
                                  f"不在资助名单上，台账身份“{rec.result.subsidy_tier or ''}”"))
    return out


#: sheet names that say nothing beyond "the ledger" (the template's, Excel's defaults)
_PLAIN_SHEET = re.compile(r"(Sheet|工作表|台账|登记表|参保缴费.*)\d*")


def _annex_place(rec: Record) -> str:
    """Where a row is, short enough for one line of the 附表's 村（社区）及台账位置
    column: "东山村 第209行", the file (and sheet) added only where the
    village's name and a plain sheet name do not say it
    ("东山村 第9行（东山村 - 副本.xlsx“_二组”）"); never the ID number."""
    village = rec.village or "（未填村名）"
    book = Path(rec.book).name if rec.book else ""
    extra = book if book and Path(book).stem != rec.village else ""
    if rec.sheet and not _PLAIN_SHEET.fullmatch(rec.sheet) and rec.sheet != Path(book).stem:
        extra += f"“{rec.sheet}”"
    return f"{village} 第{rec.row}行" + (f"（{extra}）" if extra else "")


def missing_units(table, records: list[Record]) -> list[str]:
    """The units (村) of a task table (:class:`~yibao.macros.tasks.TaskTable`,
    or None) that no ledger row belongs to, in the table's order: named in
    the summary, never shown as a village of 0. Pure."""
    if table is None:
        return []
    seen = {town.unit_key(r.village) for r in records}
    return [row.unit for row in table.rows if town.unit_key(row.unit) not in seen]


ROSTER_SHEET = "资助名单汇总"


def read_roster(path: Path) -> list[RosterPerson]:
    """The persons of a merged roster, read by :func:`yibao.macros.lists.read_roster`
    (the one reader of the lists beside the ledgers): name, ID, category,
    amount in fen. Raises BookError (Chinese)."""
    from .lists import read_roster as read_rows
    return roster_persons(read_rows(path))


def roster_persons(rows) -> list[RosterPerson]:
    """:class:`RosterPerson` of roster rows (``lists.SideRow``); an ID that
    cannot be read stays as written, so its money is still listed. Pure."""
    from .lists import id_text
    return [RosterPerson(r.name, r.number or id_text(r.raw_id), r.tier, r.amount or 0) for r in rows]


def _copies_text(n: int) -> str:
    return _CN[n] if 0 < n <= 10 else str(n)


DETAIL_SHEET = "汇总上报-资助明细"
_CHAR_UNITS = 11 / 7.05       # width units one CJK character takes at 11 pt (book.UNIT_PT)


def _wrap(text: str, units: float) -> list[str]:
    """``text`` cut into lines that fit ``units`` of column width at 11 pt
    (CJK one em, others about half), so notes print inside the page."""
    room = units / _CHAR_UNITS * 0.95       # LibreOffice's glyphs are a little wider than an em
    lines, line, used = [], "", 0.0
    for ch in text:
        w = 1.0 if ord(ch) > 0x2E7F else 0.55
        if used + w > room and line:
            # never inside a figure or a file name: move its start to the next line
            run = re.search(r"[0-9A-Za-z,.／\-]*$", line).group(0)
            keep = line[:len(line) - len(run)] if run and len(run) < len(line) - 1 else line
            carry = line[len(keep):]
            lines.append(keep)
            line = "　" + carry
            used = 1.0 + sum(1.0 if ord(c) > 0x2E7F else 0.55 for c in carry)
        line += ch
        used += w
    if line.strip():
        lines.append(line)
    return lines


def _copy_label(copy) -> str:
    """'第k份／共n份' of a printed copy (k, n), for the page header of every
    page of it (a continuation page has no title rows); '' for none."""
    return f"第{copy[0]}份／共{copy[1]}份" if copy else ""


def _heading(plan: plans.Plan, town_name: str, what: str, width: int, copy) -> tuple[list, list[str]]:
    """Title and 填报单位 line: rows and merges (``copy`` is labelled in the page header)."""
    last = get_column_letter(width)
    where = town_name or plan.town
    title = f"{plan.county}{where}{plan.year}年度城乡居民基本医疗保险{what}"
    unit = f"填报单位：{where or '　　　　乡镇（街道）'}（盖章）　　单位：户、人、元"
    row2 = [unit] + [None] * (width - 1)
    merges = [f"A1:{last}1"]
    # 第k份／共n份 is in the page header (OutSheet.page_label), top right of every page of the copy
    merges.append(f"A2:{last}2")
    return [[title], row2], merges


def _total(summaries: list[VillageSummary]) -> VillageSummary:
    total = VillageSummary(town.TOTAL_LABEL)
    for s in summaries:
        total.households += s.households
        total.persons += s.persons
        total.paid += s.paid
        total.subsidy += s.subsidy
        for t, (p, a) in s.by_tier.items():
            total.by_tier[t][0] += p
            total.by_tier[t][1] += a
        for src, a in s.by_source.items():
            total.by_source[src] += a
        for k in PURE:
            total.pure[k][0] += s.pure[k][0]
            total.pure[k][1] += s.pure[k][1]
    return total


def summary_sheet(plan: plans.Plan, summaries: list[VillageSummary], town_name: str = "",
                  copy: tuple[int, int] | None = None, name: str = SHEET,
                  check: Reconciliation | None = None) -> books.OutSheet:
    """The stamped summary: per village households, persons, 个人缴费,
    subsidy total, funding sources and 004's page totals, the reconciliation
    under it, signatures and stamp boxes. Sized to print on A4 landscape at
    full size (11 pt); subsidies by category are on :func:`detail_sheet`.
    ``copy`` = (k, n) labels the k-th of n printed copies (top right)."""
    sources = sorted({src for s in summaries for src in s.by_source})
    with_pure = any(c.startswith("纯") for c in plan.forms.page_counts)
    head1 = ["序号", "村（社区）", "参保户数", "参保人数", "个人缴费（元）", "资助合计（元）"]
    head2 = [None] * 6
    merges = [f"{get_column_letter(c)}3:{get_column_letter(c)}4" for c in range(1, 7)]
    widths = {1: 5, 2: 13, 3: 8, 4: 8, 5: 13, 6: 12}
    col = 7
    if sources:
        head1 += ["资助资金来源（元）"] + [None] * (len(sources) - 1)
        head2 += sources
        if len(sources) > 1:
            merges.append(f"{get_column_letter(col)}3:{get_column_letter(col + len(sources) - 1)}3")
        for k in range(len(sources)):
            widths[col + k] = 12
        col += len(sources)
    if with_pure:
        for k in PURE:
            head1 += [k, None]
            head2 += ["户", "人"]
            merges.append(f"{get_column_letter(col)}3:{get_column_letter(col + 1)}3")
            widths[col] = widths[col + 1] = 6
            col += 2
    width = len(head1)
    units = sum(widths.values())
    top, more = _heading(plan, town_name, "参保缴费汇总表", width, copy)
    rows = top + [head1, head2]
    merges += more

    def line(seq, label, values: VillageSummary):
        row = [seq, label, values.households, values.persons, yuan(values.paid), yuan(values.subsidy)]
        row += [yuan(values.by_source.get(src, 0)) for src in sources]
        if with_pure:
            for k in PURE:
                row += values.pure[k]
        return row

    for i, s in enumerate(summaries, 1):
        rows.append(line(i, s.village, s))
    rows.append(line(None, town.TOTAL_LABEL, _total(summaries)))
    body_end = len(rows)
    notes = ["资助人数和金额按资助类别分列，见附表“" + DETAIL_SHEET + "”。"]
    if check is not None:
        notes += check.lines()
    for text in notes:
        rows += [[part] for part in _wrap(text, units)]
    rows.append([])
    sign = [None] * width
    spots = sorted({0, width // 4, width // 2, (3 * width) // 4}) if width >= 8 else [0, 2, 4, 5]
    labels = ["收款填表人（签字）：", "缴费操作人（签字）：", "卫健工作人员（签字）：", "日期：　　年　　月　　日"]
    if len(spots) < 4:
        sign = [None] * max(width, 8)
        spots = [0, 2, 4, 6]
    for spot, label in zip(spots, labels):
        sign[spot] = label
    rows.append(sign)
    rows.append([])
    box = len(rows) + 1
    mid = max(2, width // 2)
    stamp = [None] * max(width, 4)
    stamp[0] = "村委会（盖章）"
    stamp[mid] = "乡镇（盖章）"
    rows.append(stamp)
    for _ in range(3):
        rows.append([])
    right = get_column_letter(max(width, mid + 2))
    boxes = [f"A{box}:{get_column_letter(mid)}{box + 3}", f"{get_column_letter(mid + 1)}{box}:{right}{box + 3}"]
    merges += boxes
    clause = plan.forms.clause
    copies = plan.forms.copies
    tail = [f"注：本表一式{_copies_text(copies)}份，签字并加盖村委会、乡镇公章后上报"
            + (f"（{plan.name} {clause}）" if clause else "") + "。金额单位：元。"]
    if with_pure:
        tail.append("纯低保户、纯建档立卡、纯三四级残疾：户属性只是该一种类型的户数，及其中的参保人数（004 附件2 页计）。")
    for text in tail:
        rows += [[part] for part in _wrap(text, units)]
    money = {5: "#,##0.00", 6: "#,##0.00", **{7 + k: "#,##0.00" for k in range(len(sources))}}
    return books.OutSheet(name, rows, header_rows=2, title_rows=2, footer_rows=len(rows) - body_end,
                          merges=merges, boxes=boxes, number_formats=money, widths=widths,
                          page_label=_copy_label(copy))


def detail_sheet(plan: plans.Plan, summaries: list[VillageSummary], town_name: str = "",
                 copy: tuple[int, int] | None = None, name: str = DETAIL_SHEET) -> books.OutSheet:
    """附表: subsidies by category (persons and amount) per village, the
    table that would not fit beside the main one at a readable size."""
    tier_order = {c.name: i for i, c in enumerate(plan.categories)}
    tiers = sorted({t for s in summaries for t in s.by_tier}, key=lambda t: (tier_order.get(t, 99), t))
    head1 = ["序号", "村（社区）"]
    head2 = [None, None]
    merges = ["A3:A4", "B3:B4"]
    widths = {1: 5, 2: 13}
    col = 3
    for t in tiers:
        head1 += [t, None]
        head2 += ["人数", "金额（元）"]
        merges.append(f"{get_column_letter(col)}3:{get_column_letter(col + 1)}3")
        widths[col], widths[col + 1] = 4.5, 9
        col += 2
    width = max(len(head1), 6)
    top, more = _heading(plan, town_name, "参保缴费汇总表附表：资助类别明细", width, copy)
    rows = top + [head1, head2]
    merges += more

    def line(seq, label, values: VillageSummary):
        row = [seq, label]
        for t in tiers:
            persons, amount = values.by_tier.get(t, (0, 0))
            row += [persons, yuan(amount)]
        return row

    for i, s in enumerate(summaries, 1):
        rows.append(line(i, s.village, s))
    total = _total(summaries)
    rows.append(line(None, town.TOTAL_LABEL, total))
    body_end = len(rows)
    rows.append([])
    rows += [[part] for part in _wrap(f"资助合计{_yuan(total.subsidy)}元，与主表“资助合计”一致；"
                                      "每人只按一种类别资助（就高不重复）。", sum(widths.values()))]
    money = {4 + 2 * k: "#,##0.00" for k in range(len(tiers))}
    return books.OutSheet(name, rows, header_rows=2, title_rows=2, footer_rows=len(rows) - body_end,
                          merges=merges, number_formats=money, widths=widths, page_label=_copy_label(copy))


def roster_sheet(plan: plans.Plan, check: Reconciliation, town_name: str = "",
                 copy: tuple[int, int] | None = None, name: str = ROSTER_CHECK_SHEET) -> books.OutSheet:
    """附表 of 核对三: each person on whom the merged roster and this summary differ (name, village
    and ledger row, amount on the roster, amount here, the difference, why; no ID numbers), a
    合计 row, and under it the tie: roster total − this table's subsidy total = the differences.
    The header row repeats atop every printed page. ``check`` must carry a roster."""
    header = ["序号", "姓名", "村（社区）及台账位置", "名单金额", "本表金额", "差额", "原因"]
    # the table across the page; 第k份／共n份 is in the page header
    widths = {1: 5, 2: 9, 3: 28, 4: 11, 5: 11, 6: 10, 7: 30}
    top, merges = _heading(plan, town_name, "参保缴费汇总表附表：资助名单核对明细", len(header), copy)
    rows = top + [header]
    for i, d in enumerate(check.diffs, 1):
        rows.append([i, d.name, d.where, yuan(d.roster), yuan(d.counted), yuan(d.roster - d.counted), d.why])
    listed = sum(d.roster for d in check.diffs)
    counted = sum(d.counted for d in check.diffs)
    rows.append([None, town.TOTAL_LABEL, None, yuan(listed), yuan(counted), yuan(listed - counted), None])
    body_end = len(rows)
    rows.append([])
    diff = check.roster_total - check.subsidy_counted
    tie = (f"资助名单{len(check.roster or [])}人合计{_yuan(check.roster_total)}元，本表资助合计"
           f"{_yuan(check.subsidy_counted)}元，相差{_yuan(diff)}元"
           + ("，即上表差额合计（汇总表核对三）。" if diff == listed - counted else
              f"；上表差额合计{_yuan(listed - counted)}元，另有{_yuan(diff - (listed - counted))}元未能逐人列出，请核对。"))
    if not check.diffs:
        tie = f"资助名单{len(check.roster or [])}人合计{_yuan(check.roster_total)}元，与本表资助合计逐人一致。"
    rows += [[part] for part in _wrap(tie, sum(widths.values()))]
    money = {4: "#,##0.00", 5: "#,##0.00", 6: "#,##0.00"}
    return books.OutSheet(name, rows, header_rows=1, title_rows=2, footer_rows=len(rows) - body_end,
                          merges=merges, number_formats=money, widths=widths, page_label=_copy_label(copy))


def to_pdf(sheets: list[books.OutSheet], target: Path, timeout: int = 180) -> tuple[Path | None, str]:
    """Print ``sheets`` to one PDF through LibreOffice (a private profile, so
    parallel runs do not clash). Returns (path or None, why not)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        return None, "未找到LibreOffice，未生成PDF（可在Excel中“另存为PDF”）"
    with tempfile.TemporaryDirectory(prefix="yibao-pdf-") as tmp:
        tmp = Path(tmp)
        xlsx = tmp / "汇总上报.xlsx"
        books.write_new_workbook(xlsx, sheets)
        profile = (tmp / "profile").as_uri()
        try:
            proc = subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore",
                                   "--convert-to", "pdf", "--outdir", str(tmp), str(xlsx)],
                                  capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, "LibreOffice转换PDF超时，未生成PDF"
        made = tmp / "汇总上报.pdf"
        if proc.returncode != 0 or not made.exists():
            return None, "LibreOffice未能生成PDF"
        try:
            books.check_writable(target)
            fd, part = tempfile.mkstemp(prefix=".~yibao-", suffix=".pdf", dir=target.parent)
            os.close(fd)
            shutil.copyfile(made, part)
            commit(part, target)
        except WriteRefused as exc:
            if os.path.exists(part):
                os.unlink(part)
            return None, str(exc)
        except (PermissionError, books.BookError):
            if "part" in locals() and os.path.exists(part):
                os.unlink(part)
            return None, f"“{target.name}”正被其他程序打开，未能更新PDF"
    return target, ""


def run(book, plan: plans.Plan | None = None, options: dict | None = None) -> str:
    """Summarize the ledgers (the workbook's own ledger sheets and any ledger
    files); write the 汇总上报 sheet (or a new file) and the PDF."""
    options = options or {}
    grids = book.grids()
    plan = plan or town.resolve_plan(options.get("policy"), grids, options.get("ledgers") or [])
    sources = [(str(book.path), grids)] + list(options.get("ledgers") or [])
    records, _notes = town.ledger_records(plan, sources, options.get("progress"), options.get("lists"))
    if not records:
        raise books.BookError("没有找到台账（需要“身份证号”列）：请把各村台账文件一并列出")
    persons = town.unique_persons(records)
    roster = options.get("roster")
    check = reconcile(records, persons, roster)
    check.missing = missing_units(town.find_task_table(grids, plan), records)
    summaries = summarize(plan, persons.records)
    town_name = options.get("town") or ""
    sheet = summary_sheet(plan, summaries, town_name, check=check)
    detail = detail_sheet(plan, summaries, town_name)
    # 核对三's persons on a 附表 of their own (written whenever a roster is given, so a rerun
    # replaces an earlier list), printed with each copy where there is a difference
    annexes = [detail] + ([roster_sheet(plan, check, town_name)] if roster is not None else [])
    output = options.get("output")
    if output:
        books.write_new_workbook(Path(output), [sheet, *annexes])
        where = f"新文件“{Path(output).name}”"
    else:
        book.replace_sheet(sheet)
        for annex in annexes:
            book.replace_sheet(annex)
        book.save()
        where = "".join(f"“{s.name}”" for s in [sheet, *annexes]) + "工作表"
    pdf_target = (Path(output).with_suffix(".pdf") if output
                  else Path(book.path).with_name(f"{Path(book.path).stem}-{SHEET}.pdf"))
    persons = sum(s.persons for s in summaries)
    line = f"{len(summaries)}个村（社区）参保{sum(s.households for s in summaries)}户{persons}人，汇总表已写入{where}"
    if options.get("pdf", True):
        copies = plan.forms.copies
        listed = roster is not None and bool(check.diffs)
        pages = [page for k in range(1, copies + 1)
                 for page in (summary_sheet(plan, summaries, town_name, (k, copies), f"第{k}份", check),
                              detail_sheet(plan, summaries, town_name, (k, copies), f"第{k}份附表"))
                 + ((roster_sheet(plan, check, town_name, (k, copies), f"第{k}份核对"),) if listed else ())] \
            if copies > 1 else [sheet, *annexes[:2 if listed else 1]]
        if hasattr(book, "export_pdf") and not output:
            # inside Excel: its own PDF export of the sheet just written (no
            # LibreOffice needed on Windows); the copies are printed from it
            pdf = book.export_pdf(sheet.name, pdf_target)
            line += f"，PDF：{pdf.name}（打印{copies}份）" if copies > 1 else f"，PDF：{pdf.name}"
        else:
            pdf, why = to_pdf(pages, pdf_target)
            line += f"，PDF（{copies}份）：{pdf.name}" if pdf else f"；{why}"
    return line + "。" + check.message()


def cmd_summary(args) -> int:
    path = Path(args.file)
    output = town.output_for(path, args.output, SHEET)
    if output is not None and output.exists() and args.output and not args.force:
        raise books.BookError(f"{output} 已存在；要覆盖请加 --force（原文件会备份）")
    from .lists import read_roster as read_roster_rows, with_rows
    lists = town.side_lists(args)
    roster = None
    if args.roster:
        # one reading of the roster: the subsidy total is tied to it, and the statuses use it as validate's do
        rows = read_roster_rows(Path(args.roster))
        roster = roster_persons(rows)
        lists = with_rows(lists, rows)
    options = {"policy": args.policy, "output": output, "town": args.town or "",
               "ledgers": town.read_sources(args.ledgers), "pdf": not args.no_pdf,
               "roster": roster, "lists": lists}
    return town.run_command(run, path, options)


def add_parser(sub):
    p = sub.add_parser(
        "summary", help="汇总上报：按村汇总参保户数、人数、缴费、资助，附签字盖章栏和PDF / stamped summary",
        description="按村汇总参保户数、人数、个人缴费、各类资助（人数、金额）和资金来源，"
                    "附004的页计（纯低保户、纯建档立卡、纯三四级残疾）、签字栏、盖章栏和方案要求的份数；"
                    "装有LibreOffice时同时生成PDF（每份一套）。 Per-village totals by category and funding "
                    "source, signature lines, stamp boxes, the plan's copies, and a PDF through LibreOffice.")
    town.add_common_arguments(p, SHEET)
    p.add_argument("--town", help="乡镇（街道）名称（默认取方案） / town name")
    p.add_argument("--no-pdf", action="store_true", help="不生成PDF / skip the PDF")
    p.add_argument("--roster", help="资助名单比对结果.xlsx（资助名单合并的结果）：核对资助合计 / merged roster to tie the subsidy total to")
    p.add_argument("--force", action="store_true", help="-o 文件已存在时覆盖（先备份） / overwrite the -o file")
    p.set_defaults(func=cmd_summary)
