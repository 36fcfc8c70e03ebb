"""The lists a town receives beside its ledgers: what kind each one is, and
the persons on the death and employee-insurance lists.

A folder of 部门名单 holds three kinds of list that look alike (a name and an
ID number per row): the departments' 资助名单 (who gets a subsidy), the
死亡人员名单 (who is to be struck off, 002 资助流程4) and the
职工医保参保名单 (who is already insured as an employee and gets no resident
subsidy, [scope] of each plan). Staff pass them all at once
(``yibao dedupe 部门名单/*.xlsx``), so the kind is read from the content:
the header row, the title rows above it, then the sheet and file names.

:func:`classify` is pure (one sheet's grid in, a :class:`Kind` out);
:func:`read_side_lists` reads death and employee lists (and a merged roster)
into the :class:`SideLists` the enrollment status is decided from, with
every row it could not use and why.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from pathlib import Path
from typing import Callable, NamedTuple

from yibao.functions import idno
from yibao.functions.text import name_key as _name_key
from yibao.functions.values import BadValue, fen

from . import book as books
from .table import AmbiguousColumns, TableError, cell_text, find_table, header_key, is_blank

__all__ = ["SUBSIDY", "DECEASED", "EMPLOYEE", "ROSTER", "KIND_NAMES", "Kind", "classify", "classify_book",
           "unclassified_message", "Unread", "SideLists", "SideRow", "read_side_rows", "read_side_lists",
           "upgrade_15", "read_roster", "with_rows", "id_digits", "id_text", "match_unread", "MATCH_DIGITS", "name_key",
           "LEDGER_FIELDS", "not_a_ledger", "refuse_lists_as_ledgers",
           "Nearby", "nearby_list_files", "find_nearby_lists"]

SUBSIDY, DECEASED, EMPLOYEE, ROSTER = "subsidy", "deceased", "employee", "roster"
#: each kind as staff call it
KIND_NAMES = {SUBSIDY: "资助名单", DECEASED: "死亡人员名单", EMPLOYEE: "职工医保参保名单", ROSTER: "资助名单汇总（合并结果）"}

#: header texts (as compared by table.header_key) that only one kind of list has.
#: A subsidy form's own 是否死亡 flag column is not here: it marks a row of a
#: subsidy list, it does not make the list a death list.
_HEADERS = {
    DECEASED: frozenset(map(header_key, (
        "死亡日期", "死亡时间", "死亡原因", "注销原因", "注销日期", "注销时间", "户籍注销日期", "火化日期",
        "死亡地点", "殡葬日期"))),
    EMPLOYEE: frozenset(map(header_key, (
        "参保单位", "单位名称", "单位编号", "参保单位名称", "缴费单位", "工作单位", "险种", "险种类型", "参保险种",
        "险种名称", "职工医保", "职工医保参保状态", "参保状态", "职工医保参保日期", "单位参保日期"))),
    SUBSIDY: frozenset(map(header_key, (
        "身份类别", "资助类别", "救助类型", "救助类别", "人员类别", "困难类别", "资助身份", "身份属性",
        "人员身份", "资助金额", "认定日期", "资助对象类别", "优抚类别", "残疾等级"))),
}
#: words in a title row, the sheet name or the file name
_TITLES = {
    DECEASED: ("死亡", "注销户籍", "户籍注销", "销户", "火化"),
    EMPLOYEE: ("职工医保", "职工基本医疗", "职工医疗保险", "城镇职工"),
    SUBSIDY: ("资助", "救助", "低保", "特困", "脱贫", "优抚", "残疾", "孤儿", "监测"),
}
#: our own merged roster (dedupe's 资助名单汇总): both of these headers
_ROSTER_HEADERS = (header_key("资助类别"), header_key("确定理由"))


@dataclasses.dataclass(frozen=True)
class Kind:
    """What one sheet is: ``kind`` one of SUBSIDY, DECEASED, EMPLOYEE,
    ROSTER, or None when the content does not say; ``why`` the evidence
    (Chinese, for messages); ``header_row`` the 1-based header row, 0 when
    the sheet has no table."""
    kind: str | None
    why: str
    header_row: int = 0
    headers: tuple = ()    # the header row's texts as written


def classify(grid: list[list], sheet: str = "", file: str = "",
             is_category: Callable[[str], bool] | None = None) -> Kind:
    """The kind of list one sheet holds, from its content.

    The header row decides when only one kind's columns are there; then the
    rows above it (the title), the sheet name, the file name; last, a sheet
    or file named after one of the plan's categories (``is_category``) is a
    subsidy list of that category. Pure: no files.

    >>> classify([["姓名", "身份证号", "死亡日期"], ["甲", "430999198010169158", "2025-07-03"]]).kind
    'deceased'
    >>> classify([["姓名", "身份证号", "参保单位"]]).kind
    'employee'
    >>> classify([["某县2026年资助名单"], ["序号", "姓名", "身份证号", "身份类别", "是否死亡"]]).kind
    'subsidy'
    >>> classify([["2025年死亡人员花名册"], ["姓名", "身份证号", "备注"]]).kind
    'deceased'
    >>> classify([["姓名", "身份证号"]], sheet="Sheet1", file="职工医保参保名单.xlsx").kind
    'employee'
    >>> classify([["姓名", "身份证号"]], file="低保.xlsx", is_category=lambda t: t == "低保").kind
    'subsidy'
    >>> found = classify([["姓名", "身份证号"]], sheet="Sheet1", file="名单.xlsx")
    >>> found.kind is None, found.header_row
    (True, 1)
    >>> classify([["说明"], ["本表下拉列表"]]).header_row
    0
    """
    try:
        # the header is within find_table's first 30 rows: the data rows below are not read here
        table = find_table(sheet or "Sheet1", grid[:32], required=("id_no",))
    except AmbiguousColumns:
        raise          # two ID columns: an error, never a sheet to pass over
    except TableError:
        return Kind(None, "没有身份证号列", 0)
    header_row = table.header_row      # 1-based, the last header row
    headers = {header_key(v) for v in grid[header_row - 1]} | set(map(header_key, table.headers.values()))
    headers.discard("")
    if all(h in headers for h in _ROSTER_HEADERS):
        return Kind(ROSTER, "有“资助类别”“确定理由”列", header_row)
    hits = {kind: sorted(headers & names) for kind, names in _HEADERS.items()}
    found = [kind for kind, names in hits.items() if names]
    if len(found) == 1:
        return Kind(found[0], "表头有“" + "”“".join(hits[found[0]]) + "”列", header_row)
    # the title above the header, then the names
    above = " ".join(cell_text(v) for r in grid[:header_row - 1] for v in r if isinstance(v, str))
    stem = Path(file).stem if file else ""
    for where, text in (("标题", above), ("工作表名", sheet), ("文件名", stem)):
        if not text:
            continue
        words = {kind: [w for w in _TITLES[kind] if w in text] for kind in (found or _TITLES)}
        said = [kind for kind, ws in words.items() if ws]
        if len(said) == 1:
            return Kind(said[0], f"{where}“{text.strip()[:40]}”含“{words[said[0]][0]}”", header_row)
    if is_category is not None:
        for text in (sheet, stem, *re.split(r"[-_－ ]", stem)):
            if text and is_category(text):
                return Kind(SUBSIDY, f"名称“{text}”是本方案的身份类别", header_row)
    written = tuple(cell_text(v) for v in grid[header_row - 1] if cell_text(v))
    if found:
        listed = "；".join(KIND_NAMES[k] + "：" + "、".join(hits[k]) for k in found)
        return Kind(None, f"表头同时像几种名单（{listed}）", header_row, written)
    return Kind(None, "表头、标题和文件名都看不出是哪种名单", header_row, written)


def classify_book(grids: dict[str, list[list]], file: str,
                  is_category: Callable[[str], bool] | None = None) -> dict[str, Kind]:
    """:func:`classify` for every sheet of one workbook that has a table
    (sheets without an ID column, such as a form's option list, left out;
    in our merge result only its 资助名单汇总)."""
    out = {}
    for sheet, grid in grids.items():
        found = classify(grid, sheet, file, is_category)
        if found.header_row:
            out[sheet] = found
    if any(k.kind == ROSTER for k in out.values()):
        # our merge result: its 异常名单 and 反馈 sheets are not lists to read
        out = {sheet: k for sheet, k in out.items() if k.kind == ROSTER}
    return out


def unclassified_message(file: str, sheet: str, kind: Kind) -> str:
    """The one Chinese line for a list :func:`classify` could not place."""
    seen = "，表头为“" + "”“".join(kind.headers) + "”" if kind.headers else ""
    return (f"“{file}”的工作表“{sheet}”看不出是哪种名单（{kind.why}{seen}）：找不到“身份类别”列，资助名单请加“身份类别”列"
            f"（或以身份类别命名文件、工作表）；死亡人员名单请用 --deceased 指定；"
            f"职工医保参保名单请用 --employee 指定；也可以在文件名里写明“资助名单”“死亡”或“职工医保”")


# ---------------------------------------------------------------- lists passed as ledgers

#: fields only a ledger has (a payment, why there is none, what our ledger template
#: computes, the signature and notice columns of 002 附件2 / 004 附件2): a
#: table of persons without any of them is a list, not a ledger
LEDGER_FIELDS = ("paid", "pay_date", "unpaid_reason", "subsidy_paid", "deposit_date", "pay_method",
                 "signature", "notify", "calc_payable")


def not_a_ledger(grid: list[list], sheet: str = "", file: str = "") -> str | None:
    """Why one sheet with person rows is not a ledger, or None when it is
    one (or holds no table of persons). A sheet whose header names none of
    :data:`LEDGER_FIELDS` (no 个人缴费, 缴费日期, 未缴费原因…) is a list: the
    Chinese reason says what it looks like (:func:`classify`). Pure.

    >>> not_a_ledger([["姓名", "身份证号", "救助类型"], ["甲", "430999198010169158", "低保"]], "Sheet1", "民政.xlsx")
    '看起来是资助名单（表头有“救助类型”列），不是参保缴费台账：表头没有“个人缴费”“缴费日期”“未缴费原因”等台账列'
    >>> not_a_ledger([["姓名", "身份证号", "个人缴费"], ["甲", "430999198010169158", 400]]) is None
    True
    """
    try:
        table = find_table(sheet or "Sheet1", grid[:32], required=("id_no",))
    except TableError:
        return None
    if any(f in table.columns for f in LEDGER_FIELDS):
        return None
    try:
        found = classify(grid, sheet, file)
    except AmbiguousColumns:
        found = Kind(None, "")
    what = (f"看起来是{KIND_NAMES[found.kind]}（{found.why}）" if found.kind
            else "看起来是一份人员名单" + (f"（表头为“{'”“'.join(table.found[:8])}”）" if table.found else ""))
    return what + "，不是参保缴费台账：表头没有“个人缴费”“缴费日期”“未缴费原因”等台账列"


def refuse_lists_as_ledgers(sources) -> None:
    """Raise ``books.BookError`` (Chinese, naming the file and sheet) when
    any sheet of ``sources`` ((label, grids), ...: the ledgers a town
    command was given) is a list rather than a ledger (:func:`not_a_ledger`),
    instead of counting it as a village with nobody enrolled."""
    from .ledger import RESULT_SHEETS
    for label, grids in sources:
        for sheet, grid in grids.items():
            if sheet in RESULT_SHEETS or sheet.startswith(("_yibao", "反馈-")):
                continue
            why = not_a_ledger(grid, sheet, Path(label).name)
            if why:
                shown = f"“{Path(label).name}”" + (f"的工作表“{sheet}”" if len(grids) > 1 else "")
                raise books.BookError(f"{shown}{why}。请只列出各村台账；死亡人员名单、职工医保参保名单用"
                                      " --deceased、--employee 或 --lists 给出，资助名单先合并（yibao dedupe）")


# ---------------------------------------------------------------- ID numbers

def upgrade_15(digits: str) -> str | None:
    """The 18-digit number of an old 15-digit one (GB 11643-1999: the
    century 19 inserted after the region code, a check digit appended), or
    None when ``digits`` is not 15 digits with a real birth date.

    >>> upgrade_15("430999800101915")
    '430999198001019158'
    >>> upgrade_15("430999801301915") is None
    True
    """
    try:
        return idno.upgrade_15(digits)      # the one upgrade, also done by idno.parse
    except idno.InvalidID:
        return None


def id_text(raw) -> str:
    """An ID cell as shown in our sheets (a float as Excel shows it)."""
    return f"{raw:.5E}" if isinstance(raw, float) else cell_text(raw)


def id_digits(raw) -> str:
    """The digits of an ID cell that can still be trusted: all of them for
    text (any other character dropped), the significant ones of a number
    Excel stored as a float (15 at most, or as many as its scientific text
    shows), for matching a damaged entry against a name's ID.

    >>> id_digits(4.30999198010169e17), id_digits("4.30999195E+17"), id_digits("4309991980\\u200b10169158")
    ('430999198010169', '430999195', '430999198010169158')
    """
    if isinstance(raw, float):
        return f"{raw:.14e}".split("e")[0].replace(".", "").rstrip("0")[:15]
    text = cell_text(raw)
    sci = re.match(r"^\s*(\d)\.(\d+)[eE]\+?\d+\s*$", text)
    if sci:
        return (sci.group(1) + sci.group(2)).rstrip("0")
    return "".join(ch for ch in text.translate(str.maketrans("０１２３４５６７８９", "0123456789")) if ch.isdigit())


_FULLWIDTH_X = str.maketrans("０１２３４５６７８９ｘＸ", "0123456789XX")


def read_id(raw, today: datetime.date | None = None) -> tuple[str | None, str]:
    """(the 18-digit number, a note) of an ID cell, or (None, why not).
    Old 15-digit numbers are upgraded; a number wrapped in other characters
    (a CSV's ="…", an invisible character) is taken when its check digit
    agrees; everything else is ``idno.parse``'s.

    >>> read_id('="430999198010169158"')[0], read_id("430999800101915")[0]
    ('430999198010169158', '430999198001019158')
    >>> read_id("4309991980101691")
    (None, '身份证号应为18位，现为16位')
    """
    try:
        number = idno.parse(raw, today)[0]
        return number, idno.upgrade_note(raw, number)      # an old 15-digit number is upgraded by parse
    except idno.InvalidID as exc:
        if isinstance(raw, (int, float)):
            return None, str(exc)
        # a CSV's ="…" wrapper, an invisible or stray character: the number
        # is taken when what is left is a valid number (its check digit agrees)
        kept = re.sub(r"[^0-9X]", "", cell_text(raw).translate(_FULLWIDTH_X).upper())
        if kept != idno.compact(raw):
            try:
                return idno.parse(kept, today)[0], f"身份证号“{cell_text(raw)}”去除多余字符后为{kept}"
            except idno.InvalidID:
                pass
        upgraded = upgrade_15(kept)
        if upgraded:
            return upgraded, f"15位旧号码{kept}按规则升为18位"
        return None, str(exc)


#: at least this many readable leading digits (region code and birth year)
#: for a damaged number to be taken as a named person's
MATCH_DIGITS = 9


def name_key(name) -> str:
    """A name as compared (:func:`yibao.functions.text.name_key` of the cell).

    >>> name_key(" 肖 桂娟 ") == name_key("肖桂娟"), name_key("阿依·木合") == name_key("阿依•木合")
    (True, True)
    """
    return _name_key(cell_text(name))


def match_unread(name: str, digits: str, person_name: str, number: str) -> str | None:
    """How an unreadable list row (its ``name`` and readable ``digits``)
    bears on a person (``person_name``, valid ``number``): "same" when the
    names agree and the digits left are the start of the number (at least
    :data:`MATCH_DIGITS`), "pending" (待核实) when only the names agree,
    None otherwise.

    >>> match_unread("甲", "430999198010169", "甲", "430999198010169158")
    'same'
    >>> match_unread("甲", "430999198010160", "甲", "430999198010169158")
    'pending'
    >>> match_unread("乙", "430999198010169", "甲", "430999198010169158") is None
    True
    """
    if not name_key(name) or name_key(name) != name_key(person_name):
        return None
    if len(digits) >= MATCH_DIGITS and number.startswith(digits):
        return "same"
    return "pending"


# ---------------------------------------------------------------- reading

class Unread(NamedTuple):
    """A row of a list that could not be used: ``kind`` (a KIND_NAMES key),
    file, sheet, 1-based row, name, the ID as written, the Chinese reason,
    and the digits of the ID that can still be trusted (:func:`id_digits`)."""
    kind: str
    file: str
    sheet: str
    row: int
    name: str
    id_text: str
    reason: str
    digits: str = ""

    @property
    def place(self) -> str:
        return f"{self.file} 第{self.row}行"


@dataclasses.dataclass(frozen=True)
class SideRow:
    """One person row of a death or employee list: the number read (None
    when unreadable), the source text "file 第N行", and the raw cell."""
    kind: str
    file: str
    sheet: str
    row: int
    name: str
    raw_id: object
    number: str | None
    note: str           # the normalization applied, or why the ID is unreadable
    tier: str = ""      # a roster's 资助类别
    #: why a readable row is not used (an employee list's 参保状态 终止参保), or ""
    skipped: str = ""
    #: a roster's 资助金额 in fen (None on other lists, or when blank)
    amount: int | None = None

    @property
    def place(self) -> str:
        return f"{self.file} 第{self.row}行"


try:   # the lead's one shape (functions/status.py), once it exists
    from yibao.functions.status import SideLists   # type: ignore
except ImportError:      # until then the same shape here
    @dataclasses.dataclass(frozen=True)
    class SideLists:
        """Death list, employee list and merged roster by ID: deceased and
        employee map ID → "file 第N行"; roster maps ID → subsidy tier;
        unreadable holds an :class:`Unread` for every row not used."""
        deceased: dict[str, str]
        employee: dict[str, str]
        roster: dict[str, str]
        unreadable: tuple


def read_side_rows(path: Path, kind: str, grids: dict | None = None, sheets: dict[str, Kind] | None = None,
                   today: datetime.date | None = None) -> list[SideRow]:
    """Every person row of one death, employee or roster workbook, each
    with its ID read (``kind`` forces the kind of every sheet with a table;
    otherwise ``sheets`` says which sheets are which)."""
    path = Path(path)
    grids = books.read_grid_any(path) if grids is None else grids
    out = []
    for sheet, grid in grids.items():
        mine = kind if kind else (sheets or {}).get(sheet, Kind(None, "")).kind
        if mine not in (DECEASED, EMPLOYEE, ROSTER):
            continue
        try:
            table = find_table(sheet, grid, required=("id_no",))
        except AmbiguousColumns as exc:
            raise books.BookError(f"“{path.name}”：{exc}") from None
        except TableError:
            continue
        tier_col = status_col = amount_col = None
        if mine == ROSTER:
            tier_col = next((c for c, h in table.headers.items() if header_key(h) == "资助类别"), None)
            amount_col = next((c + 1 for c, h in enumerate(grid[table.header_row - 1])
                               if header_key(h).startswith("资助金额")), None)
        if mine == EMPLOYEE:
            status_col = next((c + 1 for c, h in enumerate(grid[table.header_row - 1])
                               if header_key(h) in _STATUS_HEADERS), None)
        for row in table.rows:
            raw = row.values.get("id_no")
            number, note = read_id(raw, today)
            tier = skipped = ""
            line = grid[row.number - 1]
            if tier_col:
                tier = cell_text(line[tier_col - 1]) if tier_col - 1 < len(line) else ""
            if status_col and status_col - 1 < len(line):
                status = cell_text(line[status_col - 1])
                if any(word in status for word in _ENDED):
                    skipped = f"参保状态为“{status}”，不按已参加职工医保处理"
            amount = None
            if amount_col and amount_col - 1 < len(line) and not is_blank(line[amount_col - 1]):
                try:
                    amount = fen(line[amount_col - 1])
                except BadValue as exc:
                    raise books.BookError(f"“{path.name}”工作表“{sheet}”第{row.number}行资助金额：{exc}") from None
            out.append(SideRow(mine, path.name, sheet, row.number, cell_text(row.values.get("name")),
                               raw, number, note, tier, skipped, amount))
    return out


#: an employee list's status column, and the words that say the person is
#: no longer insured as an employee (who may then enroll as a resident)
_STATUS_HEADERS = frozenset(map(header_key, ("参保状态", "人员参保状态", "职工医保参保状态", "缴费状态",
                                             "参保缴费状态", "人员状态")))
_ENDED = ("终止", "暂停", "停保", "中断", "注销", "退保", "中止")


def read_side_lists(paths, deceased=(), employee=(), today: datetime.date | None = None) -> SideLists:
    """The death list(s), employee list(s) and merged roster among ``paths``
    (kind read from the content; ``deceased`` and ``employee`` paths are
    taken as that kind whatever they look like).

    Returns :class:`SideLists`; every row whose ID cannot be read is in
    ``unreadable`` as an :class:`Unread`. Raises ``books.BookError``
    (Chinese) for a file that is a department subsidy list (merge it first)
    or cannot be classified.
    """
    rows: list[SideRow] = []
    for path in paths:
        path = Path(path)
        grids, kinds = _read_classified(path)
        for sheet, found in kinds.items():
            if found.kind is None:
                raise books.BookError(unclassified_message(path.name, sheet, found))
            if found.kind == SUBSIDY:
                raise books.BookError(f"“{path.name}”是部门资助名单（{found.why}）：请先用“合并资助名单”"
                                      "（yibao dedupe）合并，再用合并结果")
        rows += read_side_rows(path, "", grids, kinds, today)
    for kind, extra in ((DECEASED, deceased), (EMPLOYEE, employee)):
        for path in extra:
            rows += read_side_rows(Path(path), kind, today=today)
    return side_lists(rows)


def _read_classified(path: Path):
    """(grids, kinds by sheet) of a list file; ``books.BookError`` (Chinese)
    when a sheet has two columns that could each be the ID or identity."""
    grids = books.read_grid_any(path)
    try:
        return grids, classify_book(grids, path.name)
    except AmbiguousColumns as exc:
        raise books.BookError(f"“{path.name}”：{exc}") from None


def read_roster(path) -> list[SideRow]:
    """The person rows of a merged roster (the 资助名单汇总 of dedupe's
    资助名单比对结果.xlsx, or the same table saved as .xls/.csv or under
    another sheet name: found by its 资助类别 and 确定理由 columns), each
    with its tier and 资助金额 in fen (``SideRow.amount``).

    Raises ``books.BookError`` (Chinese) when the file holds no such table,
    or the table has no 资助金额 column, or an amount cannot be read."""
    path = Path(path)
    grids, kinds = _read_classified(path)
    sheets = {sheet: k for sheet, k in kinds.items() if k.kind == ROSTER}
    if not sheets:
        raise books.BookError(f"“{path.name}”不是资助名单合并结果（没有含“资助类别”“确定理由”列的“资助名单汇总”表）："
                              "请给出资助名单合并（yibao dedupe）的结果文件")
    for sheet in sheets:
        headers = {header_key(v) for row in grids[sheet][:32] for v in row}
        if not any(h.startswith("资助金额") for h in headers):
            raise books.BookError(f"“{path.name}”的“{sheet}”中没有“资助金额”列，无法核对资助合计")
    return read_side_rows(path, "", grids, sheets)


def with_rows(lists: SideLists | None, rows: list[SideRow]) -> SideLists:
    """``lists`` (or none) with more rows read (a roster given on its own
    option): the first place an ID is listed is kept. Pure."""
    more = side_lists(rows)
    if lists is None:
        return more
    names = dict(lists.names)
    for number, entries in more.names.items():
        names[number] = names.get(number, ()) + entries
    return SideLists({**more.deceased, **lists.deceased}, {**more.employee, **lists.employee},
                     {**more.roster, **lists.roster}, tuple(lists.unreadable) + tuple(more.unreadable), names)


def side_lists(rows: list[SideRow]) -> SideLists:
    """:class:`SideLists` of rows read (pure); ``names`` holds, for an ID
    listed with a name, (list, "file 第N行", name) of each row it is on, for
    :func:`yibao.functions.status.decide` to compare with the ledger's name."""
    found: dict[str, dict[str, str]] = {DECEASED: {}, EMPLOYEE: {}, ROSTER: {}}
    names: dict[str, tuple] = {}
    unread = []
    for r in rows:
        if r.skipped:
            continue
        if r.number is None:
            unread.append(Unread(r.kind, r.file, r.sheet, r.row, r.name, id_text(r.raw_id), r.note,
                                 id_digits(r.raw_id)))
            continue
        target = found[r.kind]
        if r.number not in target:
            target[r.number] = r.tier if r.kind == ROSTER else r.place
        if r.name:
            names[r.number] = names.get(r.number, ()) + ((_LIST_WORDS[r.kind], r.place, r.name),)
    return SideLists(found[DECEASED], found[EMPLOYEE], found[ROSTER], tuple(unread), names)


#: each side list as a finding names it
_LIST_WORDS = {DECEASED: "死亡人员名单", EMPLOYEE: "职工医保参保名单", ROSTER: "资助名单汇总"}


# ---------------------------------------------------------------- lists beside a ledger (the ribbon)

#: the file kinds a list may come in
LIST_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".et")
#: a subfolder staff keep the departments' lists in
LISTS_FOLDER = "部门名单"
#: files larger than this are not opened to see whether they are a list
MAX_LIST_BYTES = 64 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Nearby:
    """The side lists found beside a workbook (:func:`find_nearby_lists`):
    ``lists`` (None when none was found), every row read (``rows``, for a
    roster's amounts), ``used`` as (shown path, kind names) and ``passed``
    (shown path, why it was not used) for lists found but not usable."""
    lists: SideLists | None
    rows: tuple
    used: tuple
    passed: tuple = ()

    def roster_rows(self) -> list[SideRow]:
        return [r for r in self.rows if r.kind == ROSTER]

    def note(self) -> str:
        """What the result line adds: which lists were used (Chinese)."""
        if not self.used:
            text = (f"；台账旁未找到死亡人员名单、职工医保参保名单或资助名单比对结果（放在台账所在文件夹、上一级文件夹"
                    f"或其中的“{LISTS_FOLDER}”文件夹可自动比对），只按台账本身判断")
        else:
            text = "；已比对台账旁的名单：" + "、".join(f"{shown}（{kinds}）" for shown, kinds in self.used)
        if self.passed:
            text += "；未用：" + "、".join(f"{shown}（{why}）" for shown, why in self.passed[:3])
        return text


def nearby_list_files(workbook: Path) -> list[Path]:
    """The files a list beside ``workbook`` may be: table files in its
    folder, the folder above, and a :data:`LISTS_FOLDER` subfolder of
    either, in that order; not the workbook itself, office lock files, our
    backups or hidden files."""
    from yibao.atomic import is_backup, is_lock_file
    workbook = Path(workbook)
    here = workbook.parent
    folders = []
    for folder in (here, here / LISTS_FOLDER, here.parent, here.parent / LISTS_FOLDER):
        if folder.is_dir() and folder.resolve() not in [f.resolve() for f in folders]:
            folders.append(folder)
    out = []
    try:
        me = workbook.resolve()
    except OSError:
        me = workbook
    for folder in folders:
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for path in entries:
            if (path.suffix.lower() not in LIST_SUFFIXES or path.name.startswith(".") or is_backup(path)
                    or is_lock_file(path) or not path.is_file() or path.resolve() == me):
                continue
            out.append(path)
    return out


def find_nearby_lists(workbook: Path, read: Callable = books.read_grid_any,
                      today: datetime.date | None = None) -> Nearby:
    """The death lists, employee-insurance lists and merged rosters among
    the files beside ``workbook`` (:func:`nearby_list_files`), each told by
    its content (:func:`classify`), as the ribbon's 校验 and 公示名单 use
    them: what ``yibao validate --lists`` is told on the command line, found
    where staff keep the files (dedupe writes 资助名单比对结果.xlsx beside the
    workbook it is run from). Ledgers (a sheet with payment columns),
    department subsidy lists and files that are no list are passed over
    silently; a list that cannot be read is named in ``passed``. Never raises
    for a file it finds."""
    rows: list[SideRow] = []
    used, passed = [], []
    base = Path(workbook).parent
    if not Path(workbook).is_absolute() or not Path(workbook).is_file():
        return Nearby(None, (), ())     # a workbook never saved (工作簿1) has no folder to look in
    for path in nearby_list_files(workbook):
        shown = _shown(path, base)
        try:
            if path.stat().st_size > MAX_LIST_BYTES:
                continue
            grids = read(path)
            kinds = classify_book(grids, path.name)
        except (books.BookError, TableError, OSError):
            continue       # not a table file we can read: no list of ours
        sheets = {sheet: k for sheet, k in kinds.items() if k.kind in (DECEASED, EMPLOYEE, ROSTER)
                  and not _has_ledger_columns(grids[sheet], sheet)}
        if not sheets:
            continue
        try:
            found = read_side_rows(path, "", grids, sheets, today)
        except books.BookError as exc:
            passed.append((shown, str(exc)))
            continue
        rows += found
        names = "、".join(dict.fromkeys("合并后的资助名单" if k.kind == ROSTER else KIND_NAMES[k.kind]
                                        for k in sheets.values()))
        used.append((shown, names))
    return Nearby(side_lists(rows) if rows else None, tuple(rows), tuple(used), tuple(passed))


def _has_ledger_columns(grid: list[list], sheet: str) -> bool:
    try:
        table = find_table(sheet, grid[:32], required=("id_no",))
    except TableError:
        return False
    return any(f in table.columns for f in LEDGER_FIELDS)


def _shown(path: Path, base: Path) -> str:
    """A found file as staff read it: its name, with the folder when it is
    not beside the workbook (部门名单/…, 上一级文件夹的…)."""
    path, base = Path(path), Path(base)
    if path.parent == base:
        return path.name
    if path.parent == base / LISTS_FOLDER:
        return f"{LISTS_FOLDER}/{path.name}"
    if path.parent == base.parent:
        return f"上一级文件夹的{path.name}"
    return f"上一级文件夹的{LISTS_FOLDER}/{path.name}"
