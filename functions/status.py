"""One enrollment status per person, decided in one place.

Every town action (validate, summary, progress, reward, quota, notice) asks
:func:`decide` — through ``Record.status`` — whether a ledger person is
enrolled for the year, and why not. Pure: plain facts in (the engine's
result, what the row says, the death and employee lists), an
:class:`Enrollment` and the contradictions found out. No workbook here.

The order (first that applies wins; clauses from /work/shared/seeds):

1. 待核实 — the row cannot be read (ID, date, amount, flag) or the plan
   cannot place the person (engine error): nobody can say yet. Also when a
   death list, employee list or merged roster lists the person's ID under
   another name (after :func:`yibao.functions.text.name_key`): a mistyped ID
   on a list must not strike a living person off (the list is not applied).
2. 已死亡 — on the death list, 是否死亡 = 是, or 未缴费原因 says so
   (002 四(四) 资助流程4: deaths are struck from the subsidy roster).
3. 职工医保 — 是否参加职工医保, 未缴费原因 or the employee list says the person
   is insured as an employee (002 四(一) 已经参加职工医保…不再重复参保;
   001 二 参加职工医保除外), unless the row enrolls them as a transfer from
   employee insurance (参保类型 职工医保转入, 001 三(二)2).
4. 异地参保 — 未缴费原因 says enrolled elsewhere (异地/外地/户籍地以外)
   (002 四(一), 附件4 异地参保信息登记表).
5. 未缴费（原因） — any other 未缴费原因 (002 附件2 未缴费原因 column).
6. 已缴费 — paid at least what is payable, payable > 0 (002 附件2 个人缴费).
7. 代缴 — nothing payable and the funding includes the plan's proxy source
   (001 四(三) 代缴).
8. 资助参保 — nothing payable: the subsidy pays it all (002 四(四) 资助政策1;
   001 四(一)).
9. 未缴费（未缴/少缴 X 元） — owes and has not paid it all (002 附件2).
"""

from __future__ import annotations

import dataclasses
import functools

from .text import name_key
from .values import yuan_text

__all__ = ["PAID", "SUBSIDIZED", "PROXY", "UNPAID", "DECEASED", "EMPLOYEE", "ELSEWHERE", "PENDING",
           "KINDS", "ENROLLED_KINDS", "CLAUSES", "Enrollment", "SideLists", "decide", "enrollment"]

PAID, SUBSIDIZED, PROXY = "已缴费", "资助参保", "代缴"
UNPAID, DECEASED, EMPLOYEE, ELSEWHERE, PENDING = "未缴费", "已死亡", "职工医保", "异地参保", "待核实"
#: every kind, in the order reports list them
KINDS = (PAID, SUBSIDIZED, PROXY, UNPAID, DECEASED, EMPLOYEE, ELSEWHERE, PENDING)
ENROLLED_KINDS = frozenset((PAID, SUBSIDIZED, PROXY))

#: the clause each kind rests on (seeds: 001 水城区, 002 衡山县)
CLAUSES = {
    PENDING: "台账校验",
    DECEASED: "002 四(四) 资助流程4",
    EMPLOYEE: "002 四(一)；001 二",
    ELSEWHERE: "002 四(一)、附件4",
    UNPAID: "002 附件2",
    PAID: "002 附件2",
    PROXY: "001 四(三)",
    SUBSIDIZED: "002 四(四) 资助政策1；001 四(一)",
}

#: 未缴费原因 words that say the person is dead / an employee / enrolled elsewhere
_DEATH_WORDS = ("已死亡", "死亡", "去世", "已故", "病故", "注销户籍", "户籍注销")
_EMPLOYEE_WORDS = ("职工医保", "职工基本医疗", "职工医疗保险", "城镇职工")
_ELSEWHERE_WORDS = ("异地", "外地", "外省", "外县", "外市", "户籍地以外", "其他统筹区", "在外参保")
#: 参保类型 values that enroll an employee-insured person here on purpose
_TRANSFER_WORDS = ("职工医保转", "职工转居民")
#: 未缴费原因 texts that say nothing (left in from a template)
_EMPTY_REASONS = frozenset(("", "无", "/", "-", "—", "无原因", "已缴费", "已缴", "正常"))


@dataclasses.dataclass(frozen=True)
class Enrollment:
    """One person's enrollment status for the year.

    ``kind`` one of :data:`KINDS`; ``reason`` the Chinese detail staff see
    (the 未缴费原因 text, which list and row says deceased, why 待核实);
    ``clause`` the plan clause it rests on (:data:`CLAUSES`)."""
    kind: str
    reason: str = ""
    clause: str = ""

    @property
    def enrolled(self) -> bool:
        """Enrolled for the year: 已缴费, 资助参保 or 代缴."""
        return self.kind in ENROLLED_KINDS

    @property
    def text(self) -> str:
        """'未缴费（本人不愿参保）' for a cell."""
        return f"{self.kind}（{self.reason}）" if self.reason else self.kind


@dataclasses.dataclass(frozen=True)
class SideLists:
    """The lists beside the ledgers, by compact ID number.

    ``deceased`` and ``employee``: ID → where it is listed
    ("死亡人员名单.xlsx 第5行"); ``roster`` (the merged 资助名单汇总):
    ID → subsidy tier; ``unreadable``: the rows whose ID could not be read
    (``macros.lists.Unread``), reported, never silently dropped; ``names``:
    ID → ((list, "file 第N行", name written there), ...) for the rows that
    carry a name, compared with the ledger's name."""
    deceased: dict = dataclasses.field(default_factory=dict)
    employee: dict = dataclasses.field(default_factory=dict)
    roster: dict = dataclasses.field(default_factory=dict)
    unreadable: tuple = ()
    names: dict = dataclasses.field(default_factory=dict)


@functools.lru_cache(maxsize=4096)
def enrollment(kind: str, reason: str = "") -> Enrollment:
    """The one (shared, immutable) :class:`Enrollment` of a kind and reason:
    a 100,000-row ledger holds a handful of distinct ones."""
    return Enrollment(kind, reason, CLAUSES[kind])


def _yuan(fen: int) -> str:
    return yuan_text(fen)


def _has(text: str, words) -> bool:
    return any(w in text for w in words)


_NO_LISTS = SideLists()


def decide(*, ok: bool, payable: int | None = None, subsidy: int | None = None, funding: tuple = (),
           tier: str | None = None, message: str = "", paid: int | None = None, unpaid_reason: str = "",
           employee: bool = False, deceased: bool = False, read_error: str = "", id_no: str = "",
           lists: SideLists | None = None, proxy_source: str | None = None, enroll_type: str = "",
           name: str = "") -> tuple[Enrollment, tuple[str, ...]]:
    """The enrollment status of one person and the contradictions between
    its sources (Chinese, each naming both sources; empty when none).

    ``ok, payable, subsidy, funding, tier, message``: the engine's result
    (fen; funding ``((source, fen), ...)``); ``paid``: fen in 个人缴费, None
    when blank; ``unpaid_reason``: the 未缴费原因 text; ``employee``: the
    是否参加职工医保 flag; ``deceased``: the 是否死亡 flag; ``read_error``: why
    the row could not be read ("" when it could); ``id_no``: the compact ID
    looked up in ``lists``; ``proxy_source``: the plan's 代缴 funding source
    (``Plan.proxy_source``); ``enroll_type``: 参保类型; ``name``: the
    ledger's 姓名, compared with the name each list gives the ID. Order and
    clauses: module docstring. Raises nothing.

    >>> decide(ok=True, payable=0, subsidy=40000, paid=None)[0].kind
    '资助参保'
    >>> decide(ok=True, payable=40000, subsidy=0, paid=20000)[0].text
    '未缴费（少缴200元）'
    >>> s, found = decide(ok=True, payable=0, subsidy=40000, unpaid_reason="本人不愿参保")
    >>> s.text, len(found)
    ('未缴费（本人不愿参保）', 1)
    """
    lists = lists or _NO_LISTS
    reason = unpaid_reason.strip() if unpaid_reason else ""
    if reason in _EMPTY_REASONS:
        reason = ""
    found: list[str] = []
    on_roster = lists.roster.get(id_no) if id_no and lists.roster else None
    subsidized = bool(ok and subsidy and subsidy > 0) or on_roster is not None
    subsidy_source = (f"按方案享受{tier}资助" if ok and subsidy and tier else
                      f"资助名单汇总列为{on_roster}" if on_roster else "享受资助")
    listed_dead = lists.deceased.get(id_no) if id_no and lists.deceased else None
    listed_employee = lists.employee.get(id_no) if id_no and lists.employee else None
    # a list that gives the ID another name: reported, and that list not applied
    mismatched = [(which, place, other) for which, place, other in lists.names.get(id_no, ())
                  if name and other and name_key(other) != name_key(name)] if id_no and lists.names else []
    for which, _place, _other in mismatched:
        if which == "死亡人员名单":
            listed_dead = None
        elif which == "职工医保参保名单":
            listed_employee = None
        elif which == "资助名单汇总":
            on_roster = None
    if mismatched:
        subsidized = bool(ok and subsidy and subsidy > 0) or on_roster is not None
        subsidy_source = f"按方案享受{tier}资助" if ok and subsidy and tier else "享受资助"

    # contradictions: facts that cannot both be true
    if listed_dead is not None:
        if paid:
            found.append(f"死亡人员名单（{listed_dead}）有此人，台账却填了个人缴费{_yuan(paid)}元")
        if subsidized:
            found.append(f"死亡人员名单（{listed_dead}）有此人，台账却{subsidy_source}"
                         "（002 四(四) 资助流程4：已死亡人员应从资助名单剔除）")
    if reason:
        if subsidized and (_has(reason, _ELSEWHERE_WORDS) or "不愿" in reason or "拒" in reason):
            found.append(f"未缴费原因填“{reason}”，却{subsidy_source}")
        if paid:
            found.append(f"未缴费原因填“{reason}”，个人缴费却填了{_yuan(paid)}元")
    if listed_employee is not None and paid and not _has(enroll_type, _TRANSFER_WORDS):
        found.append(f"职工医保参保名单（{listed_employee}）有此人，台账却填了个人缴费{_yuan(paid)}元"
                     "（002 四(一)：已参加职工医保的不再重复参保）")
    for which, place, other in mismatched:
        found.append(f"姓名不符：{which}（{place}）此身份证号的姓名为“{other}”，台账姓名为“{name}”，"
                     f"请核对身份证号（未按{which}处理，暂列待核实）")
    contradictions = tuple(found)

    if read_error:
        return enrollment(PENDING, read_error), contradictions
    if mismatched:
        which, place, other = mismatched[0]
        return enrollment(PENDING, f"{which} {place} 姓名为“{other}”，与台账姓名“{name}”不符"), contradictions
    if listed_dead is not None:
        return enrollment(DECEASED, f"死亡人员名单 {listed_dead}"), contradictions
    if deceased:
        return enrollment(DECEASED, "台账“是否死亡”填是"), contradictions
    if reason and _has(reason, _DEATH_WORDS):
        return enrollment(DECEASED, f"未缴费原因：{reason}"), contradictions
    transfer = _has(enroll_type, _TRANSFER_WORDS)
    if not transfer:
        if employee:
            return enrollment(EMPLOYEE, "台账“是否参加职工医保”填是"), contradictions
        if reason and _has(reason, _EMPLOYEE_WORDS):
            return enrollment(EMPLOYEE, f"未缴费原因：{reason}"), contradictions
        if listed_employee is not None:
            return enrollment(EMPLOYEE, f"职工医保参保名单 {listed_employee}"), contradictions
    if reason:
        if _has(reason, _ELSEWHERE_WORDS):
            return enrollment(ELSEWHERE, reason), contradictions
        return enrollment(UNPAID, reason), contradictions
    if not ok or payable is None:
        return enrollment(PENDING, message or "方案无法计算"), contradictions
    if payable > 0:
        if paid is not None and paid >= payable:
            return enrollment(PAID), contradictions
        if not paid:
            return enrollment(UNPAID, f"未缴{_yuan(payable)}元"), contradictions
        return enrollment(UNPAID, f"少缴{_yuan(payable - paid)}元"), contradictions
    if proxy_source and any(source == proxy_source for source, _f in funding):
        return enrollment(PROXY), contradictions
    return enrollment(SUBSIDIZED), contradictions
