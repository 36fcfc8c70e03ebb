"""Who on the household register is not insured, and why (issue 14, command 2).

``yibao uninsured ROSTER LEDGERS… [--export F] [--employee F] [--deaths F]
[--elsewhere F]`` reads the household register (户籍人口名单: 户号, 姓名,
与户主关系, 身份证号, 村（居）, 人口状态, 是否在校学生, 备注…) and everything
that says who is insured (the village ledgers, the payment export, the
employee-insurance list, the death list, the 异地参保信息登记表 of 002 附件4),
all read only, and writes a new workbook: the 未参保原因汇总 per village and
reason (the figures the county asks for), one 应参未参 list per village, the
persons insured here who are not on the register, and names that differ.

Persons are matched by the normalized ID number only (a 15-digit number
through its 18-digit form, :mod:`yibao.functions.idno`; never by name; a
different name for one number is reported). The register's columns are
found by header text (:mod:`yibao.macros.table`; its own columns under
``[roster.*]`` in ``functions/headers.toml``). The ledgers' persons and
their enrollment status come from :func:`yibao.macros.town.ledger_records`
(status decided by :func:`yibao.functions.status.decide`, the one place).

Every register row lands in exactly one category of :data:`CATEGORIES`, or
is a repeated row of a person already counted; the first rule that applies
wins, and the workbook names the rule's source for each person:

1. 身份证号有误 — the register's number cannot be read (no match possible).
2. 参保 — enrolled on a ledger (已缴费, 资助参保, 代缴: ``status.decide``), or
   a resident-insurance payment in the export in our county.
3. 死亡 — the death list (--deaths), the ledger's status 已死亡 (是否死亡,
   未缴费原因, the death list: ``status.decide``), or the register's
   人口状态/备注 (死亡, 已故…).
4. 迁出 — the register's 人口状态/备注 (迁出, 外迁…) or the ledger's 未缴费原因.
5. 服兵役 — the same texts (服兵役, 入伍, 现役…).
6. 服刑 — the same texts (服刑, 在押, 羁押…).
7. 职工医保 — the employee-insurance list (--employee), or the ledger's status
   职工医保 (002 四(一); 001 二 参加职工医保除外).
8. 异地参保 — the 异地参保信息登记表 (--elsewhere, 002 附件4), a payment in
   the export in another county, or the ledger's status 异地参保 (002 四(一)).
9. 在校学生 — the register's 是否在校学生 flag, 就读学校, 人口状态/备注 or the
   ledger's 未缴费原因 (在校, 学生, 就读…); 002 四 镇中心学校 督促.
10. 新生儿未登记 — born within the plan's newborn window (the birth dates of
    its 新生儿 rules: ``born_between``, or the window of a rule from birth)
    and on no ledger (002 四(四) 新生儿出生后90天内…参保登记).
11. 原因不明 — none of the above (the ledger's 未缴费原因 or 待核实 is shown).

A death or employee list that names the number under another name is not
applied (as :func:`yibao.functions.status.decide` does for the ledgers: a
mistyped number on a list must not strike a person off); the person is
placed by the other rules and the name is reported.

Coverage (interpretation; the plans set the target, 000 四(二) 覆盖率超过98%,
004 一(二) 参保率100%, without a denominator): 应参保人数 is the register's
persons less those who are not to be insured here — 死亡, 迁出, 服兵役, 服刑
(not residents to insure), 职工医保 and 异地参保 (insured elsewhere, 002 四(一)
不再重复参保) — and 参保率 = 参保 ÷ 应参保人数. 在校学生, 新生儿未登记, 原因不明
and 身份证号有误 stay in the denominator: they are the 应参未参 to follow up
(医保发〔2020〕33号: 以户籍人口为基础比对, 找出应参未参人员).

Pure core: :func:`read_register` (grids → :class:`Resident` rows) and
:func:`classify` (residents and what each source says → :class:`Outcome`);
:func:`sheets_of` lays out the workbook. The shell :func:`run` reads the
files (never writes them) and writes a new workbook; :func:`ribbon` is the
button's entry.

Plan clauses this serves: 000 四(二) (覆盖率超过98%); 001 五 (每月月初核对
更新人员名单, 精准确定征缴身份); 002 四(二) (核实…是否已参加职工医疗保险)
and 附件4 (异地参保信息登记表); 004 一(二) (参保率100%).
"""

from __future__ import annotations

import dataclasses
import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

from yibao.functions import idno
from yibao.functions import plan as plans
from yibao.functions import status as statuses
from yibao.functions.person import flag, id_of
from yibao.functions.text import name_key
from yibao.functions.values import BadValue

from . import book as books
from . import town
from .ledger import Record
from .table import (AmbiguousColumns, TableError, cell_text, column_name, find_table, header_match)

__all__ = ["Resident", "Entry", "Outcome", "Evidence", "read_register", "find_register", "read_elsewhere",
           "newborn_windows", "classify", "sheets_of", "run", "ribbon", "add_parser", "CATEGORIES", "EXEMPT",
           "INSURED", "BAD_ID"]

# ---------------------------------------------------------------- categories

INSURED = "参保"
DEAD, MOVED, SOLDIER, PRISON = "死亡", "迁出", "服兵役", "服刑"
EMPLOYEE, ELSEWHERE, STUDENT = "职工医保", "异地参保", "在校学生"
NEWBORN, UNKNOWN, BAD_ID = "新生儿未登记", "原因不明", "身份证号有误"

#: the reasons a person is not insured here, in the order they are decided
REASONS = (DEAD, MOVED, SOLDIER, PRISON, EMPLOYEE, ELSEWHERE, STUDENT, NEWBORN, UNKNOWN)
#: every register person is in exactly one of these (the order of the summary's columns)
CATEGORIES = (INSURED, EMPLOYEE, ELSEWHERE, STUDENT, SOLDIER, PRISON, DEAD, MOVED, NEWBORN, UNKNOWN, BAD_ID)
#: not counted among those to be insured here (see the module text)
EXEMPT = frozenset((DEAD, MOVED, SOLDIER, PRISON, EMPLOYEE, ELSEWHERE))

#: where each category comes from (printed under the summary)
RULE_SOURCES = {
    INSURED: "台账已缴费、资助参保或代缴（与“校验”判定相同），或缴费导出中有本县居民医保缴费",
    DEAD: "死亡人员名单、台账判定已死亡，或户籍名单人口状态/备注写死亡",
    MOVED: "户籍名单人口状态/备注或台账未缴费原因写迁出",
    SOLDIER: "户籍名单人口状态/备注或台账未缴费原因写服兵役、入伍",
    PRISON: "户籍名单人口状态/备注或台账未缴费原因写服刑、在押",
    EMPLOYEE: "职工医保参保名单，或台账判定职工医保（002 四(一)）",
    ELSEWHERE: "异地参保信息登记表（002 附件4）、缴费导出中在外县缴费，或台账判定异地参保",
    STUDENT: "户籍名单“是否在校学生”“就读学校”、人口状态/备注或台账未缴费原因写在校、学生",
    NEWBORN: "按身份证号出生日期在方案新生儿参保的出生期间内，且不在任何台账上",
    UNKNOWN: "以上都不是（列出台账的未缴费原因或待核实原因）",
    BAD_ID: "户籍名单上的身份证号无法识别，无法比对",
}

#: words in a register's 人口状态/备注 or a ledger's 未缴费原因, per reason (checked in :data:`REASONS` order)
WORDS = {
    DEAD: ("死亡", "已故", "去世", "病故", "身故"),
    MOVED: ("迁出", "外迁", "迁往", "迁移", "出国定居", "出境定居"),
    SOLDIER: ("服兵役", "入伍", "现役", "参军", "服役"),
    PRISON: ("服刑", "在押", "羁押", "监狱", "劳教", "看守所"),
    STUDENT: ("在校", "学生", "就读", "读书", "上学", "读大学", "上大学"),
}
#: register status texts that say nothing about a reason
_PLAIN = frozenset(("", "正常", "在册", "户籍人口", "常住", "现住"))


def words_reason(text: str) -> str | None:
    """The reason a 人口状态, 备注 or 未缴费原因 text states, or None.

    >>> words_reason("迁出"), words_reason("服兵役注销"), words_reason("在外地读大学"), words_reason("正常")
    ('迁出', '服兵役', '在校学生', None)
    """
    text = cell_text(text)
    if text in _PLAIN:
        return None
    for reason in REASONS:
        if any(w in text for w in WORDS.get(reason, ())):
            return reason
    return None


# ---------------------------------------------------------------- the register

@dataclasses.dataclass(frozen=True)
class Resident:
    """One register row: ``id_no`` the compact 18 digits ("" when unreadable,
    then ``id_error`` says why; ``id_text`` as written), ``born`` from the
    number, the register's own texts as written."""
    row: int
    village: str
    family: str
    name: str
    relation: str
    id_no: str
    id_text: str
    id_error: str = ""
    born: datetime.date | None = None
    population_status: str = ""
    student: str = ""
    school: str = ""
    note: str = ""
    sheet: str = ""

    @property
    def where(self) -> str:
        return f"第{self.row}行" if not self.sheet else f"“{self.sheet}”第{self.row}行"


def _roster_columns(grid: list[list[Any]], header_row: int) -> dict[str, int]:
    """The register's own columns ([roster.*] of headers.toml) on its header row (and the one above)."""
    found: dict[str, int] = {}
    for r in (header_row - 1, header_row - 2):
        if r < 0 or r >= len(grid):
            continue
        for c, value in enumerate(grid[r], 1):
            hit = header_match(value, "roster")
            if hit and hit[0] and hit[0] not in found:
                found[hit[0]] = c
    return found


def find_register(grids: dict[str, list[list[Any]]], label: str = "户籍人口名单"):
    """(sheet, table, roster columns) of the register: the first sheet with
    姓名 and 身份证号 columns. Raises :class:`~yibao.macros.table.TableError`
    (Chinese) when there is none, or when it is a ledger (it has payment
    columns: the arguments are in the wrong order)."""
    from .lists import LEDGER_FIELDS
    if "未参保原因汇总" in grids:
        raise TableError(f"{label}是未参保核查的结果文件，不是户籍人口名单：请给出派出所或村里的户籍人口名单")
    first_error = None
    for sheet, grid in grids.items():
        try:
            table = find_table(sheet, grid, required=("id_no", "name"))
        except AmbiguousColumns as exc:
            raise TableError(f"{label}：{exc}") from None
        except TableError as exc:
            first_error = first_error or exc
            continue
        if any(f in table.columns for f in LEDGER_FIELDS):
            raise TableError(f"{label}看起来是参保缴费台账（有“个人缴费”“缴费日期”等列），不是户籍人口名单："
                             "请把户籍人口名单写在第一个，各村台账写在后面")
        return sheet, table, _roster_columns(grid, table.header_row)
    raise TableError(f"{label}中找不到户籍人员表（需要“姓名”“身份证号”列）" + (f"：{first_error}" if first_error else ""))


def read_register(grids: dict[str, list[list[Any]]], label: str = "户籍人口名单",
                  today: datetime.date | None = None) -> list[Resident]:
    """Every person row of the register (pure): the number read as the
    ledgers read it (15 digits upgraded), the village from its 村 column,
    else the 填报单位 line, else the sheet name. Raises TableError."""
    sheet, table, extra = find_register(grids, label)
    grid = grids[sheet]
    fallback = town.village_of_sheet(grid) or sheet
    out = []
    for row in table.rows:
        values = row.values
        line = grid[row.number - 1]

        def own(field):
            c = extra.get(field)
            return cell_text(line[c - 1]) if c and c - 1 < len(line) else ""

        raw = values.get("id_no")
        id_no = id_error = ""
        born = None
        try:
            id_no, born = idno.parse(id_of(raw), today)
        except (idno.InvalidID, BadValue) as exc:
            id_error = str(exc)
        out.append(Resident(row.number, cell_text(values.get("village")) or fallback, cell_text(values.get("family")),
                            cell_text(values.get("name")), cell_text(values.get("relation")), id_no,
                            cell_text(raw) if not isinstance(raw, float) else f"{raw:.5E}", id_error, born,
                            own("population_status"), own("student"), own("school"),
                            cell_text(values.get("note"))))
    if not out:
        raise TableError(f"{label}表头下没有人员")
    return out


def read_elsewhere(grids: dict[str, list[list[Any]]], label: str, today: datetime.date | None = None
                   ) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """The 异地参保信息登记表 (002 附件4; the ``elsewhere`` template):
    ID → (name, "参保地 参保类型 (file 第N行)"), and a Chinese note for each
    row whose number cannot be read. Raises TableError when no sheet has
    姓名 and 身份证号 columns."""
    found: dict[str, tuple[str, str]] = {}
    unread: list[str] = []
    tables = 0
    for sheet, grid in grids.items():
        try:
            table = find_table(sheet, grid, required=("id_no", "name"))
        except TableError:
            continue
        tables += 1
        header = grid[table.header_row - 1]
        place_col = next((c for c, v in enumerate(header) if "参保地" in cell_text(v)), None)
        kind_col = next((c for c, v in enumerate(header) if "参保类型" in cell_text(v)), None)
        for row in table.rows:
            line = grid[row.number - 1]
            try:
                number = idno.parse(id_of(row.values.get("id_no")), today)[0]
            except (idno.InvalidID, BadValue) as exc:
                unread.append(f"{label}第{row.number}行（{cell_text(row.values.get('name'))}）：{exc}")
                continue
            place = " ".join(cell_text(line[c]) for c in (place_col, kind_col) if c is not None and c < len(line))
            found.setdefault(number, (cell_text(row.values.get("name")),
                                      f"{place.strip() or '异地参保'}（{label}第{row.number}行）"))
    if not tables:
        raise TableError(f"{label}中找不到异地参保登记表（需要“姓名”“身份证号码”列）")
    return found, unread


def newborn_windows(plan: plans.Plan) -> tuple[tuple[datetime.date, datetime.date], ...]:
    """The birth dates the plan's 新生儿 rules cover: each rule's
    ``born_between``, or for a rule counted from birth (``event = "birth"``)
    its window. Empty when the plan has no newborn rule."""
    out = []
    for rule in plan.rules:
        if not rule.types or "新生儿" not in rule.types:
            continue
        if rule.born_between:
            out.append(tuple(rule.born_between))
        elif rule.event == "birth":
            out.append((rule.start, rule.end))
    return tuple(dict.fromkeys(out))


# ---------------------------------------------------------------- classifying (pure)

@dataclasses.dataclass(frozen=True)
class Evidence:
    """What the sources other than the register and the ledgers say, by ID:
    ``paid`` export rows of a resident-insurance payment in our county
    (ID → "导出第N行"), ``paid_away`` the same in another county (ID →
    text), ``deceased``/``employee`` the lists (ID → "file 第N行"),
    ``elsewhere`` the 附件4 form (ID → (name, text)), ``names`` ID →
    ((source, name), …) for names to compare."""
    paid: dict[str, str] = dataclasses.field(default_factory=dict)
    paid_away: dict[str, str] = dataclasses.field(default_factory=dict)
    deceased: dict[str, str] = dataclasses.field(default_factory=dict)
    employee: dict[str, str] = dataclasses.field(default_factory=dict)
    elsewhere: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    names: dict[str, tuple] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Entry:
    """One register person: the category, the source of the rule that placed
    them, the Chinese detail, the ledger row (or None)."""
    resident: Resident
    category: str
    source: str = ""
    note: str = ""
    record: Record | None = None

    @property
    def to_follow(self) -> bool:
        """应参未参: not insured and not exempt (see :data:`EXEMPT`)."""
        return self.category not in EXEMPT and self.category != INSURED


@dataclasses.dataclass
class Outcome:
    """``entries`` one per register person (first row of a number);
    ``repeats`` (later row, first row) of a number listed twice; ``rows``
    the register's row count; ``outside`` persons on a ledger or in the
    export who are not on the register (Record or (name, id, where)), with
    their status; ``names`` (Resident, source, other name)."""
    entries: list[Entry]
    repeats: list[tuple[Resident, Resident]]
    rows: int
    outside: list[tuple[str, str, str, str, str]]      # (village, name, id, where, status)
    names: list[tuple[Resident, str, str]]

    def of(self, category: str) -> list[Entry]:
        return [e for e in self.entries if e.category == category]

    def to_insure(self) -> int:
        """应参保人数: the register's persons less the exempt ones."""
        return sum(1 for e in self.entries if e.category not in EXEMPT)

    def rate(self) -> Fraction | None:
        base = self.to_insure()
        return Fraction(len(self.of(INSURED)), base) if base else None

    def ties(self) -> bool:
        """Every register row counted once: each person in one category, each
        repeated row as a repeat, per village and in total."""
        if sum(len(self.of(c)) for c in CATEGORIES) + len(self.repeats) != self.rows:
            return False
        if len(self.entries) + len(self.repeats) != self.rows:
            return False
        ids = [e.resident.id_no for e in self.entries if e.resident.id_no]
        return len(ids) == len(set(ids))


def _ledger_reason(rec: Record) -> tuple[str, str, str] | None:
    """(reason, source, detail) a not-enrolled ledger row gives, or None."""
    st = rec.status
    where = f"{Path(rec.book).name if rec.book else rec.sheet} 第{rec.row}行"
    if st is None:
        return None
    kinds = {statuses.DECEASED: DEAD, statuses.EMPLOYEE: EMPLOYEE, statuses.ELSEWHERE: ELSEWHERE}
    if st.kind in kinds:
        return kinds[st.kind], f"台账（{where}）", st.text
    if st.kind == statuses.UNPAID:
        said = words_reason(st.reason)
        if said:
            return said, f"台账未缴费原因（{where}）", st.text
    return None


def classify(residents: list[Resident], persons: town.Persons, evidence: Evidence | None = None,
             windows: tuple = (), payments_outside: list[tuple[str, str, str, str, str]] = ()) -> Outcome:
    """Put every register person in one of :data:`CATEGORIES` (pure), the
    rules in the order of the module text.

    ``persons``: the ledgers' persons once each (:func:`town.unique_persons`
    of computed records); ``evidence``: what the export, lists and 附件4 form
    say; ``windows``: :func:`newborn_windows`; ``payments_outside``: export
    payers on no ledger (village, name, id, where, status), reported with
    the ledger persons off the register."""
    ev = evidence or Evidence()
    by_id: dict[str, Record] = {}
    for rec in persons.records:
        if rec.id_no and not rec.id_error:
            by_id.setdefault(rec.id_no, rec)
    bad_rows: dict[tuple[str, str], Record] = {}
    for rec in persons.records:
        if rec.id_error and rec.name:
            bad_rows.setdefault((rec.village, name_key(rec.name)), rec)
    entries: list[Entry] = []
    repeats: list[tuple[Resident, Resident]] = []
    first: dict[str, Resident] = {}
    names: list[tuple[Resident, str, str]] = []
    for res in residents:
        if not res.id_no:
            entries.append(Entry(res, BAD_ID, "户籍名单", res.id_error))
            continue
        if res.id_no in first:
            repeats.append((res, first[res.id_no]))
            continue
        first[res.id_no] = res
        rec = by_id.get(res.id_no)
        upgraded = "；户籍名单为15位旧号码，按18位比对" if len(idno.compact(res.id_text)) == 15 else ""
        if rec is not None and rec.name and res.name and name_key(rec.name) != name_key(res.name):
            names.append((res, f"台账（{Path(rec.book).name if rec.book else rec.sheet} 第{rec.row}行）", rec.name))
        for source, other in ev.names.get(res.id_no, ()):
            if other and res.name and name_key(other) != name_key(res.name):
                names.append((res, source, other))
        if rec is not None and rec.enrolled:
            entries.append(Entry(res, INSURED, f"台账（{Path(rec.book).name if rec.book else rec.sheet} 第{rec.row}行）",
                                 rec.status.text + upgraded, rec))
            continue
        if res.id_no in ev.paid:
            entries.append(Entry(res, INSURED, f"缴费导出（{ev.paid[res.id_no]}）",
                                 ("台账未记缴费" if rec is not None else "不在台账上") + upgraded, rec))
            continue
        found: dict[str, tuple[str, str]] = {}

        def say(reason, source, note=""):
            found.setdefault(reason, (source, note))

        # a list naming the number under another name is not applied (as status.decide does for
        # the ledgers: a mistyped number on a list must not strike a person off); the name is reported
        other_name = {source.split("（")[0] for source, other in ev.names.get(res.id_no, ())
                      if other and res.name and name_key(other) != name_key(res.name)}
        unused = []
        for listed, reason, word in ((ev.deceased, DEAD, "死亡人员名单"), (ev.employee, EMPLOYEE, "职工医保参保名单")):
            if res.id_no not in listed:
                continue
            if word in other_name:
                unused.append(f"{word}（{listed[res.id_no]}）姓名不同，未采用，请核实")
            else:
                say(reason, f"{word}（{listed[res.id_no]}）")
        if res.id_no in ev.elsewhere:
            say(ELSEWHERE, "异地参保登记表", ev.elsewhere[res.id_no][1])
        if res.id_no in ev.paid_away:
            say(ELSEWHERE, "缴费导出", ev.paid_away[res.id_no])
        for text, what in ((res.population_status, "户籍名单人口状态"), (res.note, "户籍名单备注")):
            said = words_reason(text)
            if said:
                say(said, what, f"“{text}”")
        if res.school:
            say(STUDENT, "户籍名单就读学校", f"“{res.school}”")
        if res.student:
            try:
                if flag(res.student, "是否在校学生"):
                    say(STUDENT, "户籍名单是否在校学生", f"“{res.student}”")
            except BadValue:
                if words_reason(res.student) == STUDENT:
                    say(STUDENT, "户籍名单是否在校学生", f"“{res.student}”")
        if rec is not None:
            given = _ledger_reason(rec)
            if given:
                say(*given)
        if rec is None and res.born and any(a <= res.born <= b for a, b in windows):
            say(NEWBORN, "身份证号出生日期", f"{res.born.isoformat()}出生，不在任何台账上")
        reason = next((r for r in REASONS if r in found), None)
        if reason is None:
            if rec is not None:
                st = rec.status
                note = f"台账为“{st.text}”" if st is not None else "台账此行无法计算"
                source = f"台账（{Path(rec.book).name if rec.book else rec.sheet} 第{rec.row}行）"
            else:
                source, note = "", "不在任何台账上"
                near = bad_rows.get((res.village, name_key(res.name)))
                if near is not None:
                    note += f"；台账有同名人员身份证号有误（{Path(near.book).name if near.book else near.sheet} 第{near.row}行），先改正台账"
            entries.append(Entry(res, UNKNOWN, source, "；".join([note, *unused]) + upgraded, rec))
            continue
        source, note = found[reason]
        entries.append(Entry(res, reason, source, note + upgraded, rec))
    on_register = set(first)
    outside = []
    for rec in persons.records:
        if rec.id_no and not rec.id_error and rec.id_no in on_register:
            continue
        status = (rec.status.text if rec.status else statuses.PENDING)
        where = f"台账（{Path(rec.book).name if rec.book else rec.sheet} 第{rec.row}行）"
        if rec.id_error:
            status = f"台账身份证号有误：{rec.id_error}"
        outside.append((rec.village or "（未填村名）", rec.name, rec.id_no, where, status))
    outside += [p for p in payments_outside if p[2] not in on_register]
    return Outcome(entries, repeats, len(residents), outside, names)


# ---------------------------------------------------------------- result sheets

def percent(value: Fraction | None) -> str:
    """A rate as staff read it, two places, half up (:func:`town.percent_text`); “—” without a base."""
    return town.percent_text(value, 2) if value is not None else "—"


LIST_HEADER = ["序号", "户号", "姓名", "与户主关系", "身份证号", "未参保原因", "应参未参", "依据", "说明"]
_LIST_WIDTHS = {1: 5, 2: 7, 3: 8, 4: 7, 5: 19, 6: 10, 7: 6, 8: 26, 9: 30}
_UNKNOWN_VILLAGE = "（未填村名）"


def _village(res: Resident) -> str:
    return res.village or _UNKNOWN_VILLAGE


def sheets_of(outcome: Outcome, plan_name: str = "", roster_name: str = "") -> list[books.OutSheet]:
    """未参保原因汇总 (village × category, 应参保人数, 参保率, the tie line,
    the rule sources), one 应参未参-村 sheet per village (every person not
    insured, with the reason and its source; full IDs: for the township's
    own follow-up, never posted), 不在户籍名单, 姓名不一致 and 户籍名单重复行
    where there are any. Print-ready (A4, >= 9 pt)."""
    heading = f"{plan_name} 户籍人口参保情况核查" + (f"（{roster_name}）" if roster_name else "")
    villages: dict[str, dict[str, int]] = {}
    for e in outcome.entries:
        villages.setdefault(_village(e.resident), dict.fromkeys(CATEGORIES, 0))[e.category] += 1
    repeats: dict[str, int] = {}
    for res, _first in outcome.repeats:
        villages.setdefault(_village(res), dict.fromkeys(CATEGORIES, 0))
        repeats[_village(res)] = repeats.get(_village(res), 0) + 1
    header = ["村（社区）", "户籍名单行数", *CATEGORIES, "重复行", "应参保人数", "参保率"]
    rows: list[list] = [[heading + "：未参保原因汇总"], header]
    for v in sorted(villages):
        counts = villages[v]
        base = sum(n for c, n in counts.items() if c not in EXEMPT)
        total = sum(counts.values()) + repeats.get(v, 0)
        rows.append([v, total, *counts.values(), repeats.get(v, 0), base,
                     percent(Fraction(counts[INSURED], base) if base else None)])
    rows.append(["合计", outcome.rows, *(len(outcome.of(c)) for c in CATEGORIES), len(outcome.repeats),
                 outcome.to_insure(), percent(outcome.rate())])
    if outcome.ties():
        tie = (f"账平：户籍名单{outcome.rows}行，每人各归一类（重复行只计一次），各村各类合计与户籍名单行数相符；"
               "按身份证号比对（15位号码按18位比对），不按姓名")
    else:
        tie = "账不平：户籍名单有行未归类，请报告此问题"      # a bug, never expected
    notes = [tie,
             "应参保人数 = 户籍人数 − 职工医保、异地参保、服兵役、服刑、死亡、迁出；参保率 = 参保 ÷ 应参保人数"
             "（方案要求覆盖率超过98%或参保率100%，未写分母，按此口径；在校学生、新生儿未登记、原因不明为应参未参）"]
    notes += [f"{c}：{RULE_SOURCES[c]}" for c in CATEGORIES]
    if outcome.outside:
        notes.append(f"另有{len(outcome.outside)}人在台账或缴费导出中、不在户籍名单上（外来人员、挂靠等），"
                     "不计入上表，见“不在户籍名单”工作表")
    if outcome.names:
        notes.append(f"{len(outcome.names)}处姓名与户籍名单不同（已计入上表），见“姓名不一致”工作表")
    notes.append("本工作簿供乡镇内部核对，含完整身份证号，请勿张贴或外传")
    width = len(header)
    summary = books.OutSheet("未参保原因汇总", rows + [[n] for n in notes], title_rows=1, footer_rows=len(notes),
                             widths={1: 11, 2: 7, **{c: 6 for c in range(3, width - 1)}, width - 1: 7, width: 7},
                             merges=[f"A1:{column_name(width)}1"])
    sheets = [summary]
    for v in sorted(villages):
        listed = [e for e in outcome.entries if _village(e.resident) == v and e.category != INSURED]
        if not listed:
            continue
        listed.sort(key=lambda e: (REASONS.index(e.category) if e.category in REASONS else len(REASONS),
                                   e.resident.family, e.resident.row))
        body = [[i, e.resident.family, e.resident.name, e.resident.relation,
                 e.resident.id_no or e.resident.id_text, e.category, "是" if e.to_follow else "否",
                 e.source, e.note] for i, e in enumerate(listed, 1)]
        follow = sum(e.to_follow for e in listed)
        title = [f"{heading}：{v}未参保人员（{len(listed)}人，其中应参未参{follow}人）",
                 "“应参未参”为“是”的请逐户核实、动员参保；本表供内部核对，含完整身份证号，请勿张贴"]
        sheets.append(books.OutSheet(f"应参未参-{v}"[:31], [*[[t] for t in title], LIST_HEADER] + body,
                                     title_rows=2, widths=dict(_LIST_WIDTHS),
                                     merges=[f"A1:{column_name(len(LIST_HEADER))}1",
                                             f"A2:{column_name(len(LIST_HEADER))}2"]))
    if outcome.outside:
        head = ["序号", "村（社区）", "姓名", "身份证号", "来源", "参保状态"]
        body = [[i, *o] for i, o in enumerate(sorted(outcome.outside), 1)]
        sheets.append(books.OutSheet("不在户籍名单", [[f"{heading}：在台账或缴费导出中、不在户籍名单上（{len(body)}人）"],
                                                ["外来人员、挂靠等不是错误，请核实户籍；“台账身份证号有误”的先改正台账；不计入汇总"], head] + body,
                                     title_rows=2, widths={1: 5, 2: 10, 3: 8, 4: 19, 5: 26, 6: 30},
                                     merges=["A1:F1", "A2:F2"]))
    if outcome.names:
        head = ["序号", "村（社区）", "户号", "户籍名单姓名", "身份证号", "其他来源", "其他来源姓名"]
        body = [[i, _village(r), r.family, r.name, r.id_no, src, other]
                for i, (r, src, other) in enumerate(outcome.names, 1)]
        sheets.append(books.OutSheet("姓名不一致", [[f"{heading}：同一身份证号姓名不同（{len(body)}处）"],
                                               ["按证件核实姓名，改正有误的一方"], head] + body,
                                     title_rows=2, widths={1: 5, 2: 10, 3: 8, 4: 10, 5: 19, 6: 28, 7: 10},
                                     merges=["A1:G1", "A2:G2"]))
    if outcome.repeats:
        head = ["序号", "村（社区）", "姓名", "身份证号", "重复的行", "首次出现"]
        body = [[i, _village(r), r.name, r.id_no, r.where, f.where] for i, (r, f) in enumerate(outcome.repeats, 1)]
        sheets.append(books.OutSheet("户籍名单重复行", [[f"{heading}：户籍名单中同一人出现多次（{len(body)}行，只计一次）"],
                                                  ["请核对户籍名单"], head] + body,
                                     title_rows=2, widths={1: 5, 2: 10, 3: 8, 4: 19, 5: 12, 6: 12},
                                     merges=["A1:F1", "A2:F2"]))
    return sheets


def summary_line(outcome: Outcome, output: Path) -> str:
    parts = "，".join(f"{c}{len(outcome.of(c))}" for c in CATEGORIES if outcome.of(c) or c == INSURED)
    line = f"户籍名单{outcome.rows}行：{parts}"
    if outcome.repeats:
        line += f"，重复行{len(outcome.repeats)}"
    line += "；" + ("各村各类合计与户籍名单行数相符" if outcome.ties() else "各类合计不符")
    line += f"；应参保{outcome.to_insure()}人，参保率{percent(outcome.rate())}"
    follow = sum(e.to_follow for e in outcome.entries)
    line += f"，应参未参{follow}人"
    if outcome.outside:
        line += f"；另有{len(outcome.outside)}人不在户籍名单"
    if outcome.names:
        line += f"；{len(outcome.names)}处姓名不一致"
    return line + f"；结果已写入 {output.name}"


# ---------------------------------------------------------------- shell

def _export_evidence(path: Path, plan: plans.Plan, on_ledgers: set[str]):
    """(paid, paid_away, names, payers on no ledger) from a payment export,
    read as ``reconcile`` reads it (read only)."""
    from .reconcile import _medical, _ours, _regions, find_export, read_payments
    grids = books.read_grid_any(path)
    table = find_export(grids, None, f"“{path.name}”")
    payments = read_payments(grids[table.sheet], table)
    regions = _regions(plan, None) if "region" in table.columns else ()
    if regions and not any(p.region and _ours(p.region, regions) for p in payments):
        regions = ()
    paid: dict[str, str] = {}
    away: dict[str, str] = {}
    names: dict[str, tuple] = {}
    outside = []
    for p in payments:
        if not p.id_no or not _medical(p.insurance) or (p.amount is not None and p.amount <= 0):
            continue
        where = f"{path.name} {p.where}"
        if p.name:
            names[p.id_no] = names.get(p.id_no, ()) + ((f"缴费导出（{where}）", p.name),)
        if not _ours(p.region, regions):
            away.setdefault(p.id_no, f"在“{p.region}”缴费（{where}）")
            continue
        if p.id_no not in paid and p.id_no not in on_ledgers:
            outside.append((p.village or "（导出未写村）", p.name, p.id_no, f"缴费导出（{where}）", "已缴费"))
        paid.setdefault(p.id_no, where)
    return paid, away, names, outside


def _read_roster(roster) -> tuple[str, dict]:
    if isinstance(roster, tuple):
        return roster
    return str(roster), books.read_grid_any(Path(roster))


@books.gc_paused()
def run(roster, ledgers: list, plan_id: str | None = None, output: Path | None = None, export: str | None = None,
        lists=None, elsewhere: list[str] = (), progress=None) -> str:
    """Read the register ``roster`` (a path, or (label, grids) of a live
    workbook), the ``ledgers`` (paths or (label, grids)), the export, lists
    and 附件4 forms (all read only); classify; write ``output`` (default
    未参保原因-户籍比对.xlsx beside the register); returns the one Chinese
    line. Raises BookError/TableError with a Chinese message."""
    label, grids = _read_roster(roster)
    shown = Path(label).name
    output = Path(output) if output else Path(label).with_name("未参保原因-户籍比对.xlsx")
    if output.suffix.lower() != ".xlsx":
        raise books.BookError(f"结果文件应为.xlsx：{output.name}")
    if output.resolve() == Path(label).resolve():
        raise books.BookError(f"结果文件不能是户籍名单本身：{output.name}")
    residents = read_register(grids, f"“{shown}”")
    paths = [p for p in ledgers if not isinstance(p, tuple)]
    for p in paths:         # our earlier result under the output's name is passed over; a ledger is never written over
        if Path(p).resolve() == output.resolve() and "未参保原因汇总" not in books.read_grid_any(Path(p)):
            raise books.BookError(f"结果文件不能是台账本身：{output.name}；请用 -o 另写一个文件名")
    paths = [p for p in paths if Path(p).resolve() not in (output.resolve(), Path(label).resolve())]
    sources = [p for p in ledgers if isinstance(p, tuple)] + town.read_sources(paths, progress)
    sources = [s for s in sources if not town.comparison_result(s[1])]
    if not sources:
        raise books.BookError("请在户籍人口名单后列出各村台账文件")
    from .lists import refuse_lists_as_ledgers
    refuse_lists_as_ledgers(sources)        # a death list given as a ledger: said before the plan is asked for
    plan = town.resolve_plan(plan_id, sources[0][1], sources[1:])
    records, _notes = town.ledger_records(plan, sources, lists=lists)
    if not records:
        raise books.BookError("台账中没有读到人员（需要“姓名”“身份证号”列）")
    persons = town.unique_persons(records)
    on_ledgers = {r.id_no for r in persons.records if r.id_no and not r.id_error}
    ev_names: dict[str, tuple] = {}
    paid: dict[str, str] = {}
    away: dict[str, str] = {}
    outside: list = []
    if export:
        paid, away, ev_names, outside = _export_evidence(Path(export), plan, on_ledgers)
    forms: dict[str, tuple[str, str]] = {}
    unread: list[str] = []
    for path in elsewhere or ():
        path = Path(path)
        found, bad = read_elsewhere(books.read_grid_any(path), f"“{path.name}”")
        for number, value in found.items():
            forms.setdefault(number, value)
            ev_names[number] = ev_names.get(number, ()) + ((f"异地参保登记表：{value[1]}", value[0]),)
        unread += bad
    for number, entries in (lists.names.items() if lists is not None else ()):
        ev_names[number] = ev_names.get(number, ()) + tuple((f"{word}（{place}）", name) for word, place, name in entries)
    evidence = Evidence(paid, away, dict(lists.deceased) if lists else {}, dict(lists.employee) if lists else {},
                        forms, ev_names)
    outcome = classify(residents, persons, evidence, newborn_windows(plan), outside)
    books.write_new_workbook(output, sheets_of(outcome, plan.name, shown))
    line = summary_line(outcome, output)
    if unread:
        line += f"；异地参保登记表有{len(unread)}行身份证号无法识别，未用：{unread[0]}"
    return line


def ribbon(live: books.Book, workbook: Path, pick_files: Callable[[str], list[str] | None]) -> str:
    """The button: ``live`` is the workbook it is pressed in (the register or
    a village ledger), ``workbook`` its path; ``pick_files(title)`` asks for
    the other files (None when cancelled). Death and employee lists beside
    the workbook are used (:func:`yibao.macros.lists.find_nearby_lists`).
    Returns the Chinese result line; raises BookError when cancelled."""
    from .lists import find_nearby_lists
    grids = live.grids()
    workbook = Path(workbook)
    try:
        find_register(grids, f"“{workbook.name}”")
        is_register = True
    except TableError:
        is_register = False
    if is_register:
        picked = pick_files("选择各村参保缴费台账（可多选）")
        if not picked:
            raise books.BookError("没有选择台账，未比对")
        roster, ledgers = (str(workbook), grids), list(picked)
    else:
        picked = pick_files("选择户籍人口名单")
        if not picked:
            raise books.BookError("没有选择户籍人口名单，未比对")
        others = pick_files("选择其他村的参保缴费台账（可多选，可取消）") or []
        skip = {workbook.resolve(), Path(picked[0]).resolve()}
        roster, ledgers = str(picked[0]), [(str(workbook), grids)] + [p for p in others if Path(p).resolve() not in skip]
    nearby = find_nearby_lists(workbook)
    output = workbook.with_name("未参保原因-户籍比对.xlsx")
    return run(roster, ledgers, None, output, lists=nearby.lists) + nearby.note()


def cmd_uninsured(args) -> int:
    from ._bar import Bar
    town.refuse_output_over(args.output, args.export, args.elsewhere, args.deceased, args.employee, args.lists)
    bar = Bar("读取台账")
    line = run(Path(args.roster), list(args.ledgers), args.policy, args.output, args.export,
               lists=town.side_lists(args), elsewhere=list(args.elsewhere or ()), progress=bar)
    bar.close()
    print(line)
    return 0


def add_parser(sub):
    p = sub.add_parser(
        "uninsured", help="户籍人口应参未参核查 / who on the household register is not insured, and why",
        description="按身份证号把户籍人口名单与各村台账、缴费导出、职工医保参保名单、死亡人员名单、异地参保登记表逐人比对，"
                    "找出未参保的人并归类（职工医保、异地参保、在校学生、服兵役、服刑、死亡、迁出、新生儿未登记、原因不明），"
                    "按村列出应参未参名单，按村按原因汇总人数和参保率，写入新工作簿；所有输入文件都不会被修改。"
                    " The household register against everyone enrolled; writes a new workbook.")
    p.add_argument("roster", help="户籍人口名单（只读） / household register")
    p.add_argument("ledgers", nargs="+", help="各村台账文件（只读，可多个） / village ledgers (read only)")
    p.add_argument("--export", metavar="缴费导出", help="税务或医保信息平台的缴费导出（只读） / payment export")
    p.add_argument("--elsewhere", action="append", metavar="异地参保登记表",
                   help="异地参保信息登记表（002 附件4，可多个） / 附件4 forms")
    p.add_argument("--policy", help="方案编号（默认读台账中的“方案编号”） / plan id")
    p.add_argument("-o", "--output", help="结果文件（默认户籍名单旁的“未参保原因-户籍比对.xlsx”） / output .xlsx")
    from .validate import add_list_options
    add_list_options(p, roster=False)
    p.add_argument("--deaths", action="append", dest="deceased", metavar="死亡人员名单",
                   help="同 --deceased / same as --deceased")
    p.set_defaults(func=cmd_uninsured)
