"""Reconcile the ledgers with a payment export (issue 14, command 1).

A payment export is the list of who actually paid, as the tax bureau's
system or the 医保信息平台 gives it (CSV in UTF-8 or GBK with ``="…"`` IDs,
tab-separated text, .xls, .xlsx, an HTML table saved as .xls). Its columns
are found by the header names of ``[payment.*]`` in
``functions/headers.toml`` (:mod:`yibao.macros.table`, the one header
scanner), or named by the user (``--id-col 证件号码``).

Persons are matched by the normalized ID number only (a 15-digit number
through its 18-digit form; never by name; a different name for one number
is reported). The ledger's persons and their enrollment status come from
:func:`yibao.macros.town.ledger_records` / :func:`~yibao.macros.town.unique_persons`
(status decided by :func:`yibao.functions.status.decide`, PAYABLE by the
engine as ``refresh`` computes it).

Pure core: :func:`read_payments` (grids → :class:`Payment` rows) and
:func:`classify` (payments and ledger records → :class:`Outcome`). Every
export row lands in exactly one category of :data:`EXPORT_CATEGORIES`, every
ledger person in exactly one of :data:`LEDGER_CATEGORIES`; money is integer
fen and the totals tie (:meth:`Outcome.ties`). The shell (:func:`run`) reads
the files and writes a new workbook; only with ``--fill`` does it write
into the ledgers, their empty payment cells (:func:`payment_cells`).

Plan clauses this serves: 001 五 (每月月初核对更新人员名单); 002 四(二)
(缴费录入时必须核实); 002 五(三) (导出已参保人员数据明细).
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from pathlib import Path
from typing import Any

from yibao.functions import idno
from yibao.functions import plan as plans
from yibao.functions import status as statuses
from yibao.functions.person import id_of
from yibao.functions.text import name_key
from yibao.functions.values import BadValue, fen, yuan, yuan_text

from . import book as books
from . import town
from .ledger import Record
from .table import HEADER_NOISE, TableError, cell_date, cell_text, column_name, header_key, is_blank, scan_header, synonyms

__all__ = ["Payment", "ExportTable", "find_export", "read_payments", "classify", "Outcome", "sheets_of", "run",
           "EXPORT_CATEGORIES", "LEDGER_CATEGORIES", "add_parser", "payment_cells", "Cell", "refuse_as_export",
           "ribbon"]

# ---------------------------------------------------------------- categories

OK = "一致"
TO_ADD = "已缴费未登记台账"          # paid, on no ledger: add to the ledger
AMOUNT = "金额与应缴不符"            # e.g. a subsidized person who paid the full fee: refund or correct
TWICE = "重复缴费"                  # the same person paid twice for one period
REFUND = "退费冲减"                 # a negative row: money paid back (退费), not a payment
ELSEWHERE = "在外地缴费"            # the export's region is not the plan's
LEDGER_UNPAID = "台账未记缴费"       # on the ledger as not paid, the export says paid: update the ledger
BAD_ID = "证件号码无法识别"
OTHER_ITEM = "非居民医保"            # another insurance (养老…) in the same export: not compared

#: every export row is in exactly one of these (in the order they are decided and listed)
EXPORT_CATEGORIES = (BAD_ID, OTHER_ITEM, ELSEWHERE, REFUND, TWICE, TO_ADD, AMOUNT, LEDGER_UNPAID, OK)

IN_EXPORT = "在导出中"              # matched to an export row (its category says how it compares)
TO_CHASE = "台账已缴费导出无记录"    # to chase: marked paid (or proxy-paid) on the ledger, not in the export
SUBSIDIZED_ABSENT = "全额资助导出无记录"   # payable 0 and not in the export: nothing to pay, listed only
NOT_PAID = "未缴费导出无记录"        # not paid on the ledger, not in the export: agree
LEDGER_BAD_ID = "台账身份证号有误"

#: every ledger person is in exactly one of these
LEDGER_CATEGORIES = (IN_EXPORT, TO_CHASE, SUBSIDIZED_ABSENT, NOT_PAID, LEDGER_BAD_ID)

#: what staff do about each category (the sheets' notes)
ACTION = {
    TO_ADD: "核实后补录到台账",
    TO_CHASE: "核实是否已缴费：未缴的督促缴费，已缴的查缴费凭证",
    AMOUNT: "核对身份和应缴金额：多缴的办理退费或更正",
    TWICE: "同一所属期缴费两次：办理退费",
    REFUND: "导出中的退费（负数金额）：核实是否已全额退费，已退的把台账改为未缴费",
    ELSEWHERE: "在外地参保缴费：核实后按异地参保处理",
    LEDGER_UNPAID: "导出显示已缴费：更新台账的缴费信息",
    BAD_ID: "导出中的证件号码无法识别，无法比对：人工核对",
    OTHER_ITEM: "不是城乡居民医保的缴费，不比对",
    LEDGER_BAD_ID: "台账身份证号有误，无法比对：先改正台账",
}

#: the export fields a user can name with an option (--id-col …)
NAMED_FIELDS = ("name", "id_no", "amount", "pay_date", "region", "village", "insurance", "period")


# ---------------------------------------------------------------- reading the export

@dataclasses.dataclass(frozen=True, slots=True)      # slots: a county's export has 400,000 rows
class Payment:
    """One export row. ``id_no`` compact 18 digits ("" when unreadable,
    then ``id_error`` says why and ``id_text`` is the number as written);
    ``amount`` fen or None; ``pay_date`` a date or None."""
    row: int
    name: str = ""
    id_no: str = ""
    id_text: str = ""
    id_error: str = ""
    amount: int | None = None
    amount_error: str = ""
    pay_date: datetime.date | None = None
    insurance: str = ""
    period: str = ""
    region: str = ""
    village: str = ""
    proxy_type: str = ""
    sheet: str = ""         # set when the export's payments are on several sheets (.xls: 65,536 rows each)

    @property
    def where(self) -> str:
        """第N行, with the sheet when there are several: “明细2”第N行."""
        return f"“{self.sheet}”第{self.row}行" if self.sheet else f"第{self.row}行"


@dataclasses.dataclass
class ExportTable:
    sheet: str
    header_row: int                 # 1-based
    columns: dict[str, int]         # field → 1-based column
    headers: dict[str, str]         # field → header text as written


def _expected() -> str:
    names = synonyms("payment")
    return "；".join(f"{label}：" + "、".join(f"“{n}”" for n in names[field][:4])
                    for field, label in (("id_no", "证件号码"), ("amount", "缴费金额"), ("name", "姓名")))


_NUMBER = re.compile(r"\d{6,}[\dXx]*")


def _hide(found) -> str:
    return "*" * len(found.group(0))


def find_export(grids: dict[str, list[list[Any]]], named: dict[str, str] | None = None,
                label: str = "导出文件", scan_rows: int = 30) -> ExportTable:
    """The payment table of an export: the first sheet and row (within
    ``scan_rows``) whose headers name an ID column, by ``[payment.*]``
    synonyms or ``named`` (field → header text the user gave), through the
    one header scanner (:func:`~yibao.macros.table.scan_header`). Raises
    :class:`~yibao.macros.table.TableError` listing the headers found and
    the names expected (one Chinese line)."""
    named = {f: h for f, h in (named or {}).items() if h}

    def accept(fields, _row) -> bool:
        return "id_no" in fields and (len(fields) >= 2 or "id_no" in named) and all(f in fields for f in named)

    for sheet, grid in grids.items():
        found = scan_header(grid, "payment", accept, scan_rows=scan_rows, named=named)
        if found is not None:
            row, cells = found
            columns: dict[str, int] = {}
            headers: dict[str, str] = {}
            for cell in cells:          # the first column of a field counts
                columns.setdefault(cell.field, cell.column)
                headers.setdefault(cell.field, cell.text)
            return ExportTable(sheet, row + 1, columns, headers)
    # a file without a header shows its first data row: no ID number into a message
    rows = [row for grid in grids.values() for row in grid[:scan_rows]]
    fullest = max(rows, key=lambda row: sum(not is_blank(v) for v in row), default=[])
    texts = [cell_text(v) for v in fullest if not is_blank(v)]
    shown = "".join(f"“{_NUMBER.sub(_hide, t[:20])}”" for t in texts[:15]) or "（空）"
    if named:
        wanted = "、".join(f"“{h}”" for h in named.values())
        raise TableError(f"{label}中找不到指定的列{wanted}；表头写的是：{shown}")
    raise TableError(f"{label}中找不到证件号码列，无法比对；表头写的是：{shown}；应有的列名（{_expected()}），"
                     f"或用 --id-col、--amount-col 指定列名")


def _footer(row: list[Any]) -> bool:
    lead = next((v for v in row if not is_blank(v)), None)
    return isinstance(lead, str) and HEADER_NOISE.sub("", lead).startswith(("合计", "总计", "小计", "制表", "打印"))


def _header_again(raw_id, raw_amount) -> bool:
    """A second header line (field codes, English names) or the header repeated on every printed
    page: no digit where the ID goes and words where the amount goes. Not a payment."""
    if is_blank(raw_id) or is_blank(raw_amount) or re.search(r"\d", cell_text(raw_id)):
        return False
    try:
        fen(raw_amount)
    except BadValue:
        return not re.search(r"\d", cell_text(raw_amount))
    return False


#: a date with a valid time of day as exports write it (2025-10-15 09:31:27): the
#: date is the date part's (:func:`yibao.functions.values.to_date` reads and drops a valid time)
_CLOCK = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]")
_DAY = re.compile(r"[0-9]{4}([-/])[0-9]{2}\1[0-9]{2}")


def read_payments(grid: list[list[Any]], table: ExportTable, today: datetime.date | None = None,
                  sheet: str = "") -> list[Payment]:
    """Every data row below the header as a :class:`Payment` (pure): blank
    rows and 合计 lines without an ID left out, every other row kept, with
    why its ID or amount could not be read."""
    today = today or datetime.date.today()
    cols = table.columns
    # a county's export has 400,000 rows (benchmarks/bench_reconcile.py): the columns looked up once,
    # the amounts and dates an export repeats read once each
    at = {f: cols[f] - 1 for f in cols}
    i_id, i_name, i_amount, i_day = (at.get(f, -1) for f in ("id_no", "name", "amount", "pay_date"))
    others = [at.get(f, -1) for f in ("insurance", "period", "region", "village", "proxy_type")]
    amounts: dict[str, tuple[int | None, str]] = {}
    days: dict[str, datetime.date | None] = {}

    def amount_of(raw) -> tuple[int | None, str]:
        if is_blank(raw):
            return None, ""
        try:
            return fen(raw), ""
        except BadValue as exc:
            return None, str(exc)

    def day_of(raw):
        try:
            return cell_date(raw)
        except BadValue:
            return None

    out = []
    for r in range(table.header_row, len(grid)):
        row = grid[r]
        n = len(row)
        raw_id = row[i_id] if 0 <= i_id < n else None
        if is_blank(raw_id):
            if all(is_blank(v) for v in row):
                continue
            if _footer(row) or is_blank(row[i_name] if 0 <= i_name < n else None):
                continue
        raw_amount = row[i_amount] if 0 <= i_amount < n else None
        id_text = cell_text(raw_id) if not isinstance(raw_id, float) else f"{raw_id:.5E}"
        if not (raw_id.__class__ is str and id_text[:1] in "0123456789" and id_text) \
                and _header_again(raw_id, raw_amount):
            continue
        id_no = id_error = ""
        try:
            id_no = idno.parse(id_of(raw_id), today)[0]
        except (idno.InvalidID, BadValue) as exc:
            id_error = str(exc)
        if raw_amount.__class__ is str:
            found = amounts.get(raw_amount)
            if found is None:
                found = amounts[raw_amount] = amount_of(raw_amount)
            amount, amount_error = found
        else:
            amount, amount_error = amount_of(raw_amount)
        raw_day = row[i_day] if 0 <= i_day < n else None
        if raw_day.__class__ is str:
            key = raw_day[:10] if len(raw_day) == 19 and raw_day[10] == " " and _CLOCK.fullmatch(raw_day, 11) \
                and _DAY.fullmatch(raw_day, 0, 10) else raw_day
            day = days.get(key, days)
            if day is days:
                day = days[key] = day_of(key)
        else:
            day = day_of(raw_day)
        name = cell_text(row[i_name]) if 0 <= i_name < n else ""
        insurance, period, region, village, proxy_type = [cell_text(row[i]) if 0 <= i < n else "" for i in others]
        out.append(Payment(r + 1, name, id_no, id_text, id_error, amount, amount_error,
                           day, insurance, period, region, village, proxy_type, sheet))
    return out


# ---------------------------------------------------------------- classifying (pure)

@dataclasses.dataclass
class Outcome:
    """Every export row and ledger person, each in one category.

    ``export``: (Payment, category, ledger Record or None, note) in file
    order; ``ledger``: (Record, category) for every person once;
    ``duplicates``: ledger rows counted once (town.unique_persons);
    ``names``: (Payment, Record) whose names differ for one ID."""
    export: list[tuple[Payment, str, Record | None, str]]
    ledger: list[tuple[Record, str]]
    duplicates: list[tuple[Record, Record]]
    names: list[tuple[Payment, Record]]

    def _tally(self) -> tuple[dict[str, int], dict[str, int], dict[str, int], int]:
        """(export rows, ledger persons, export fen) per category and the
        export's total fen, counted in one pass over the lists (a county's
        export has 400,000 rows, and the sheets ask for each category) and
        counted again when the lists have grown since."""
        key = (len(self.export), len(self.ledger))
        cached = self.__dict__.get("_tallied")
        if cached is None or cached[0] != key:
            rows: dict[str, int] = {}
            money: dict[str, int] = {}
            total = 0
            for p, c, _r, _n in self.export:
                rows[c] = rows.get(c, 0) + 1
                money[c] = money.get(c, 0) + (p.amount or 0)
                total += p.amount or 0
            persons: dict[str, int] = {}
            for _r, c in self.ledger:
                persons[c] = persons.get(c, 0) + 1
            cached = self.__dict__["_tallied"] = (key, (rows, persons, money, total))
        return cached[1]

    def count(self, category: str) -> int:
        rows, persons, _money, _total = self._tally()
        return rows.get(category, 0) + persons.get(category, 0)

    def money(self, category: str) -> int:
        return self._tally()[2].get(category, 0)

    def ties(self) -> bool:
        """Every export row and ledger person counted once, money to the fen."""
        rows, persons, money, total = self._tally()
        return (sum(rows.get(k, 0) for k in EXPORT_CATEGORIES) == len(self.export)
                and sum(persons.get(k, 0) for k in LEDGER_CATEGORIES) == len(self.ledger)
                and sum(money.get(k, 0) for k in EXPORT_CATEGORIES) == total
                and persons.get(IN_EXPORT, 0) == sum(rows.get(k, 0) for k in (OK, AMOUNT, LEDGER_UNPAID)))


def _medical(insurance: str) -> bool:
    return not insurance or "医" in insurance


def _ours(region: str, ours: tuple[str, ...]) -> bool:
    """A region cell naming the plan's county (``ours`` as :func:`_regions`
    gives them): the name within the cell or the cell within the name, a
    code by its prefix (430999 for 430999000000). Blank: ours."""
    key = header_key(region)
    if not key or not ours:
        return True
    return any(o and (key.startswith(o) if o.isdigit() else (o in key or key in o)) for o in ours)


def expected_fen(rec: Record, proxy_source: str | None = None) -> tuple[int, ...] | None:
    """The amounts an export may show for a ledger person: its PAYABLE, and
    for a 代缴 person also PAYABLE plus the proxy funding; None when the
    engine could not compute it."""
    res = rec.result
    if res is None or not res.ok or res.payable is None:
        return None
    amounts = [res.payable]
    if proxy_source:
        proxy = sum(f for s, f in res.funding if s == proxy_source)
        if proxy:
            amounts.append(res.payable + proxy)
    return tuple(amounts)


def classify(payments: list[Payment], persons: town.Persons, regions: tuple[str, ...] = (),
             proxy_source: str | None = None) -> Outcome:
    """Put every export row and every ledger person in one category (pure).

    ``persons``: the ledgers' persons once each (:func:`town.unique_persons`
    of computed records); ``regions``: the names (as :func:`header_key`
    compares them) an export's region column may carry for the plan's
    county, empty to not compare regions; ``proxy_source``: the plan's 代缴
    funding source. Order of decision per row: :data:`EXPORT_CATEGORIES`."""
    by_id: dict[str, Record] = {}
    for rec in persons.records:
        if rec.id_no and not rec.id_error:
            by_id.setdefault(rec.id_no, rec)
    seen: dict[tuple[str, str], Payment] = {}
    matched: set[str] = set()
    export: list[tuple[Payment, str, Record | None, str]] = []
    names: list[tuple[Payment, Record]] = []
    regions_seen: dict[str, bool] = {}      # an export names a few regions on every row
    for p in payments:
        rec = by_id.get(p.id_no) if p.id_no else None
        if not p.id_no:
            export.append((p, BAD_ID, None, p.id_error))
            continue
        if not _medical(p.insurance):
            export.append((p, OTHER_ITEM, rec, f"险种“{p.insurance}”"))
            continue
        ours = regions_seen.get(p.region)
        if ours is None:
            ours = regions_seen[p.region] = _ours(p.region, regions)
        if not ours:
            export.append((p, ELSEWHERE, rec, f"参保地“{p.region}”"))
            continue
        key = (p.id_no, p.period)
        if p.amount is not None and p.amount < 0:     # a refund: not a second payment, not compared with PAYABLE
            paid = seen.get(key)
            export.append((p, REFUND, rec, f"退费{yuan_text(-p.amount)}元" + (f"，冲减导出{paid.where}的缴费" if paid else "")))
            continue
        first = seen.get(key)
        if first is not None:
            export.append((p, TWICE, rec, f"与导出{first.where}同一人" + (f"（所属期{p.period}）" if p.period else "")))
            continue
        seen[key] = p
        if rec is None:
            export.append((p, TO_ADD, None, ""))
            continue
        matched.add(p.id_no)
        if p.name and rec.name and p.name != rec.name and name_key(p.name) != name_key(rec.name):
            names.append((p, rec))
        expected = expected_fen(rec, proxy_source)
        if p.amount_error:          # an amount that cannot be read is not taken as agreeing
            export.append((p, AMOUNT, rec, p.amount_error))
            continue
        if p.amount is not None and expected is not None and p.amount not in expected:
            export.append((p, AMOUNT, rec, f"缴费{yuan_text(p.amount)}元，应缴{yuan_text(expected[0])}元，"
                                           f"差额{yuan_text(p.amount - expected[0])}元"))
            continue
        if not rec.enrolled:
            status = rec.status.text if rec.status else statuses.PENDING
            export.append((p, LEDGER_UNPAID, rec, f"台账为“{status}”"))
            continue
        export.append((p, OK, rec, ""))
    ledger: list[tuple[Record, str]] = []
    for rec in persons.records:
        if not rec.id_no or rec.id_error:
            ledger.append((rec, LEDGER_BAD_ID))
        elif rec.id_no in matched:
            ledger.append((rec, IN_EXPORT))
        elif rec.status is not None and rec.status.kind in (statuses.PAID, statuses.PROXY):
            ledger.append((rec, TO_CHASE))
        elif rec.status is not None and rec.status.kind == statuses.SUBSIDIZED:
            ledger.append((rec, SUBSIDIZED_ABSENT))
        else:
            ledger.append((rec, NOT_PAID))
    return Outcome(export, ledger, persons.duplicates, names)


# ---------------------------------------------------------------- filling the ledgers (pure)

#: the ledger's payment columns (``[ledger.payment]`` of functions/headers.toml)
#: an export row fills, with the number format of a written cell
FILL_FORMATS = {"paid": "0.00", "pay_date": "yyyy-mm-dd"}
FILL_LABELS = {"paid": "个人缴费", "pay_date": "缴费日期", "unpaid_reason": "未缴费原因"}
#: export categories whose row is this person's payment for the year
_FILLED_FROM = (OK, LEDGER_UNPAID, AMOUNT)
DIFF_SHEET = "台账与导出不一致"
FILLED_SHEET = "已从导出填入"


@dataclasses.dataclass(frozen=True)
class Cell:
    """One payment cell of a ledger against the export: ``typed`` as the
    ledger has it (None: empty, then ``value`` is written there), ``value``
    the export's (yuan or a date), ``note`` why it is listed."""
    payment: Payment
    record: Record
    field: str
    typed: Any
    value: Any
    note: str = ""


def _typed_fen(raw) -> int | None:
    try:
        return fen(raw)
    except BadValue:
        return None         # not an amount: validate reports it, not compared here


def _typed_date(raw) -> datetime.date | None:
    try:
        day = cell_date(raw)
    except BadValue:
        return None
    return day.date() if isinstance(day, datetime.datetime) else day


def payment_cells(outcome: Outcome) -> tuple[list[Cell], list[Cell]]:
    """(cells to fill, typed cells that differ) for the ledgers' payment
    columns (pure). A person whose export row is their payment for the year
    (一致, 台账未记缴费, 金额与应缴不符; the first row of a 重复缴费; none with
    a 退费冲减 row, none on two ledger rows) fills the ledger's 个人缴费 and 缴费日期 where they are
    empty; a typed value that differs from the export is kept and listed
    (the amount of a 金额与应缴不符 person is listed on its own sheet
    already), and so is a typed 未缴费原因 of a person the export says paid."""
    refunded = {p.id_no for p, c, _r, _n in outcome.export if c == REFUND}
    # a person on two ledger rows: which row is right is the first question (validate lists it)
    skip = refunded | {r.id_no for pair in outcome.duplicates for r in pair}
    fills: list[Cell] = []
    differ: list[Cell] = []
    for p, cat, rec, _note in outcome.export:
        if rec is None or cat not in _FILLED_FROM or p.id_no in skip or not rec.book:
            continue
        raw = rec.raw
        if "paid" in rec.columns and p.amount is not None and p.amount >= 0:
            typed = raw.get("paid")
            if is_blank(typed):
                fills.append(Cell(p, rec, "paid", None, yuan(p.amount)))
            elif cat != AMOUNT and _typed_fen(typed) not in (None, p.amount):
                differ.append(Cell(p, rec, "paid", cell_text(typed), yuan(p.amount),
                                   f"台账{yuan_text(_typed_fen(typed))}元，导出{yuan_text(p.amount)}元"))
        if "pay_date" in rec.columns and p.pay_date is not None:
            typed = raw.get("pay_date")
            if is_blank(typed):
                fills.append(Cell(p, rec, "pay_date", None, p.pay_date))
            elif _typed_date(typed) not in (None, p.pay_date):
                differ.append(Cell(p, rec, "pay_date", _typed_date(typed).isoformat(), p.pay_date,
                                   f"台账{_typed_date(typed).isoformat()}，导出{p.pay_date.isoformat()}"))
        reason = cell_text(raw.get("unpaid_reason")) if "unpaid_reason" in rec.columns else ""
        if reason:
            differ.append(Cell(p, rec, "unpaid_reason", reason, None,
                               f"台账写未缴费原因“{reason}”，导出显示已缴费：核实后删去未缴费原因"))
    return fills, differ


# ---------------------------------------------------------------- result sheets

DETAIL_HEADER = ["序号", "村（社区）", "姓名", "身份证号", "台账文件", "台账行", "导出行",
                 "缴费金额（元）", "应缴（元）", "缴费日期", "说明"]
_WIDTHS = {1: 5, 2: 10, 3: 8, 4: 19, 5: 12, 6: 5, 7: 5, 8: 8, 9: 9, 10: 10, 11: 24}
_UNKNOWN_VILLAGE = "（不在台账）"


def _yuan(amount: int | None):
    return None if amount is None else yuan(amount)


def _village(p: Payment | None, rec: Record | None) -> str:
    if rec is not None:
        return rec.village or "（未填村名）"
    return (p.village if p is not None and p.village else _UNKNOWN_VILLAGE)


def _detail(p: Payment | None, rec: Record | None, note: str) -> list:
    """One row of a category sheet: where the person is on the ledger and
    in the export, the money (yuan), why it is listed. The full ID: this
    workbook is for the township's own use, never posted."""
    expected = expected_fen(rec) if rec is not None else None
    return ["", _village(p, rec),
            (rec.name if rec is not None and rec.name else (p.name if p is not None else "")),
            (rec.id_no if rec is not None else (p.id_no or p.id_text)),
            Path(rec.book).name if rec is not None and rec.book else "",
            rec.row if rec is not None else None, p.row if p is not None else None,
            _yuan(p.amount) if p is not None else None, _yuan(expected[0]) if expected else None,
            p.pay_date.isoformat() if p is not None and p.pay_date else "",
            (f"导出工作表“{p.sheet}”；" if p is not None and p.sheet else "") + note]


def _sheet(heading: str, name: str, action: str, rows: list[list]) -> books.OutSheet:
    rows.sort(key=lambda r: (r[1] == _UNKNOWN_VILLAGE, r[1], r[6] or 0, r[5] or 0))
    for i, row in enumerate(rows, 1):
        row[0] = i
    return books.OutSheet(name, [[f"{heading}：{name}（{len(rows)}）"], [f"处理：{action}。本表供内部核对，含完整身份证号，请勿张贴"], DETAIL_HEADER] + rows,
                          title_rows=2, widths=dict(_WIDTHS), merges=[f"A1:{column_name(len(DETAIL_HEADER))}1"])


_SOURCE = {**{c: "导出行" for c in EXPORT_CATEGORIES}, **{c: "台账人员" for c in LEDGER_CATEGORIES}}


def sheets_of(outcome: Outcome, plan_name: str = "", export_name: str = "") -> list[books.OutSheet]:
    """比对汇总 (each category: rows or persons, money, what to do; the tie
    lines), 分村统计 (each village's categories, with subtotals) and one
    sheet per category found (and 姓名不一致), all print-ready."""
    heading = f"{plan_name} 缴费比对（{export_name}）" if export_name else f"{plan_name} 缴费比对"
    by_cat: dict[str, list[list]] = {}
    for p, cat, rec, note in outcome.export:
        if cat != OK:
            by_cat.setdefault(cat, []).append(_detail(p, rec, note))
    for rec, cat in outcome.ledger:
        if cat == TO_CHASE:
            paid = f"，台账个人缴费{yuan_text(rec.paid)}元" if rec.paid else ""
            by_cat.setdefault(cat, []).append(_detail(None, rec, f"台账为“{rec.status.text}”{paid}"))
        elif cat == LEDGER_BAD_ID:
            by_cat.setdefault(cat, []).append(_detail(None, rec, rec.id_error))
    name_rows = [_detail(p, rec, f"导出姓名“{p.name}”，台账姓名“{rec.name}”") for p, rec in outcome.names]

    total_fen = sum(p.amount or 0 for p, *_ in outcome.export)
    rows: list[list] = [[heading], ["类别", "比对对象", "行数/人数", "缴费金额（元）", "处理"]]
    for c in EXPORT_CATEGORIES:
        rows.append([c, "导出行", outcome.count(c), yuan(outcome.money(c)), "" if c == OK else ACTION[c]])
    rows.append(["导出合计", "导出行", len(outcome.export), yuan(total_fen), ""])
    for c in LEDGER_CATEGORIES:
        rows.append([c, "台账人员", outcome.count(c), None,
                     "见上面导出行的类别" if c == IN_EXPORT else ACTION.get(c, "不需处理")])
    rows.append(["台账合计", "台账人员", len(outcome.ledger), None, ""])
    notes = [tie_line(outcome), "本工作簿供乡镇内部核对，含完整身份证号，请勿张贴或外传"]
    if outcome.duplicates:
        notes.append(f"台账中另有{len(outcome.duplicates)}行与其他行是同一人，只计一次")
    if outcome.names:
        notes.append(f"{len(outcome.names)}人导出姓名与台账不同（已计入上面的类别），见“姓名不一致”工作表")
    summary = books.OutSheet("比对汇总", rows + [[n] for n in notes], title_rows=1, footer_rows=len(notes),
                             widths={1: 20, 2: 9, 3: 9, 4: 13, 5: 40}, merges=["A1:E1"])

    villages: dict[str, dict[str, list[int]]] = {}
    for p, cat, rec, _n in outcome.export:
        cell = villages.setdefault(_village(p, rec), {}).setdefault(cat, [0, 0])
        cell[0] += 1
        cell[1] += p.amount or 0
    for rec, cat in outcome.ledger:
        if cat != IN_EXPORT:
            villages.setdefault(_village(None, rec), {}).setdefault(cat, [0, 0])[0] += 1
    per = [[heading + "：分村统计"], ["村（社区）", "类别", "比对对象", "行数/人数", "缴费金额（元）"]]
    for v in sorted(villages, key=lambda v: (v == _UNKNOWN_VILLAGE, v)):
        for c in EXPORT_CATEGORIES + LEDGER_CATEGORIES:
            if c in villages[v]:
                n, money = villages[v][c]
                per.append([v, c, _SOURCE[c], n, yuan(money) if c in EXPORT_CATEGORIES else None])
        export_rows = sum(n for c, (n, _m) in villages[v].items() if c in EXPORT_CATEGORIES)
        ledger_rows = sum(n for c, (n, _m) in villages[v].items() if c in LEDGER_CATEGORIES)
        money = sum(m for c, (_n, m) in villages[v].items() if c in EXPORT_CATEGORIES)
        per.append([v, "小计", f"导出{export_rows}行，台账另{ledger_rows}人", export_rows + ledger_rows, yuan(money)])
    per.append(["合计", "", f"导出{len(outcome.export)}行，台账另{sum(c != IN_EXPORT for _r, c in outcome.ledger)}人",
                len(outcome.export) + sum(c != IN_EXPORT for _r, c in outcome.ledger), yuan(total_fen)])
    by_village = books.OutSheet("分村统计", per, title_rows=1, widths={1: 14, 2: 20, 3: 22, 4: 9, 5: 13},
                                merges=["A1:E1"])
    sheets = [summary, by_village]
    for cat in EXPORT_CATEGORIES + LEDGER_CATEGORIES:
        if cat in by_cat:
            sheets.append(_sheet(heading, cat, ACTION[cat], by_cat[cat]))
    if name_rows:
        sheets.append(_sheet(heading, "姓名不一致", "按证件核实姓名，改正有误的一方", name_rows))
    return sheets


CELL_HEADER = ["序号", "村（社区）", "姓名", "身份证号", "台账文件", "台账行", "导出行", "栏目", "台账填写", "导出", "说明"]
_CELL_WIDTHS = {1: 5, 2: 10, 3: 8, 4: 19, 5: 12, 6: 5, 7: 5, 8: 8, 9: 10, 10: 10, 11: 23}


def _shown(value) -> Any:
    return value.isoformat() if isinstance(value, datetime.date) else ("" if value is None else value)


def cell_sheets(fills: list[Cell], differ: list[Cell], heading: str) -> list[books.OutSheet]:
    """已从导出填入 (each cell written) and 台账与导出不一致 (each typed cell
    kept though the export differs), by village and ledger row."""
    out = []
    for name, cells, action in (
            (FILLED_SHEET, fills, "台账中这些缴费栏原为空，已按导出填入（原文件已备份）；请核对"),
            (DIFF_SHEET, differ, "台账中手填的与导出不同，已保留未改：核对缴费凭证后改正有误的一方")):
        if not cells:
            continue
        rows = [["", c.record.village or "（未填村名）", c.record.name, c.record.id_no, Path(c.record.book).name,
                 c.record.row, c.payment.row, FILL_LABELS[c.field], _shown(c.typed), _shown(c.value), c.note]
                for c in cells]
        rows.sort(key=lambda r: (r[1], r[4], r[5], r[7]))
        for i, row in enumerate(rows, 1):
            row[0] = i
        out.append(books.OutSheet(
            name, [[f"{heading}：{name}（{len(rows)}）"], [f"处理：{action}。本表供内部核对，含完整身份证号，请勿张贴"],
                   CELL_HEADER] + rows, title_rows=2, widths=dict(_CELL_WIDTHS),
            merges=[f"A1:{column_name(len(CELL_HEADER))}1"]))
    return out


def tie_line(outcome: Outcome) -> str:
    """The sentence that says the counts and money tie (or that they do not)."""
    total = sum(p.amount or 0 for p, *_ in outcome.export)
    if outcome.ties():
        return (f"账平：导出{len(outcome.export)}行、台账{len(outcome.ledger)}人，每行每人各归一类；"
                f"导出金额合计{yuan_text(total)}元，与各类合计相符")
    return "账不平：导出行或台账人员未全部归类，请报告此问题"   # a bug, never expected


# ---------------------------------------------------------------- shell

def _regions(plan: plans.Plan, region: str | None) -> tuple[str, ...]:
    names = [region] if region else [plan.county]
    out = []
    for n in names:
        key = header_key(n or "")
        if key:
            out.append(key)
            for suffix in ("县", "区", "市", "旗"):
                if key.endswith(suffix) and len(key) > 2:
                    out.append(key[:-1])
    return tuple(out)


def summary_line(outcome: Outcome, output: Path) -> str:
    parts = [f"{c}{outcome.count(c)}" for c in (OK, TO_ADD, TO_CHASE, AMOUNT, TWICE, REFUND, ELSEWHERE,
                                                 LEDGER_UNPAID, BAD_ID, OTHER_ITEM, LEDGER_BAD_ID)
             if outcome.count(c) or c == OK]
    line = (f"比对导出{len(outcome.export)}行、台账{len(outcome.ledger)}人：" + "，".join(parts))
    if outcome.names:
        line += f"；{len(outcome.names)}人姓名与台账不同"
    total = sum(p.amount or 0 for p, *_ in outcome.export)
    line += f"；金额合计{yuan_text(total)}元，" + ("各类合计相符" if outcome.ties() else "各类合计不符")
    return line + f"；结果已写入 {output.name}"


def _our_result(grids: dict) -> bool:
    """A workbook this command wrote (its 比对汇总 and 分村统计 sheets)."""
    return "比对汇总" in grids and "分村统计" in grids


#: ledger columns no payment export has: the form's own (告知、督促方式, 参保人签字,
#: 未缴费原因) and our 校验 column; not 应缴金额 or 资助类别, which exports may carry
_LEDGER_ONLY = frozenset({"notify", "signature", "unpaid_reason", "calc_check"})


def _is_ledger(grids: dict) -> bool:
    """A ledger (or a department's list in our template): a 方案编号 cell, or
    a header row with a column only ledgers have (headers only: a
    400,000-row export is not read twice)."""
    from .ledger import plan_id_in
    if plan_id_in(grids):
        return True
    return any(scan_header(grid, "ledger", lambda fields, _row: bool(fields & _LEDGER_ONLY)) is not None
               for name, grid in grids.items() if not name.startswith("_yibao"))


def refuse_as_export(path: Path, grids: dict) -> None:
    """Raise :class:`~yibao.macros.book.BookError` (one Chinese line) when
    the file given as the export is our own result workbook or a ledger:
    its persons would be read as payments."""
    if _our_result(grids):
        raise books.BookError(f"“{path.name}”是缴费比对的结果工作簿，不是缴费导出：请把税务或医保信息平台"
                              "导出的缴费明细放在第一个，台账放在后面")
    if _is_ledger(grids):
        raise books.BookError(f"“{path.name}”是台账，不是缴费导出：第一个文件应是税务或医保信息平台导出的"
                              "缴费明细，各村台账放在它后面")


def _split_ledgers(ledgers: list, skip: tuple[Path, ...]) -> tuple[list, list]:
    """(paths, books): the ledger files given (our backups and ``skip`` left
    out, each backup said on stderr) and the Books given (a ribbon button's
    live workbook)."""
    from yibao.atomic import without_backups
    import sys
    paths = [p for p in ledgers if isinstance(p, (str, Path))]
    paths = [p for p in without_backups(paths, lambda text: print(text, file=sys.stderr))
             if Path(p).resolve() not in skip]
    return paths, [b for b in ledgers if not isinstance(b, (str, Path))]


def _read_ahead(ledgers: list, skip: tuple[Path, ...], progress=None):
    """Start reading the ledger files on another thread
    (:func:`yibao.macros.town.read_sources_ahead`); returns the function
    that gives their sources, the given Books' first."""
    paths, given = _split_ledgers(ledgers, skip)
    pending = town.read_sources_ahead(paths, progress) if paths else list
    return lambda: [(str(b.path), b.grids()) for b in given] + pending()


def _ledger_sources(ledgers: list, skip: tuple[Path, ...], progress=None):
    """(sources, books) of ledgers to be filled: the grids of each ledger as
    ``town.read_sources`` gives them, and the
    :class:`~yibao.macros.book.Book` of each (a path is opened for update; a
    Book, the workbook a ribbon button was pressed in, is used as it is)."""
    paths, given = _split_ledgers(ledgers, skip)
    opened = given + [books.FileBook(p, for_update=True) for p in paths]
    sources, by_path = [], {}
    for i, book in enumerate(opened, 1):
        sources.append((str(book.path), book.grids()))
        by_path[str(book.path)] = book
        if progress:
            progress(i, len(opened))
    return sources, by_path


def write_cells(by_path: dict, fills: list[Cell]) -> tuple[int, int]:
    """Write ``fills`` into their ledgers through each Book's
    ``fill_computed`` (never over a typed value; an .xlsx patched in place
    after a timestamped backup beside it), column by column; returns (cells
    written, typed cells the book found and kept)."""
    written = kept = 0
    by_book: dict[str, dict[tuple[str, int], list[Cell]]] = {}
    for cell in fills:
        col = cell.record.columns[cell.field]
        by_book.setdefault(cell.record.book, {}).setdefault((cell.record.sheet, col), []).append(cell)
    for path, columns in by_book.items():      # every book takes its writes (or refuses: .xls) before any is saved
        book = by_path[path]
        for (sheet, col), cells in columns.items():
            cells.sort(key=lambda c: c.record.row)
            book.fill_computed(sheet, [c.record.row for c in cells], {col: [c.value for c in cells]},
                               {col: FILL_FORMATS[cells[0].field]})
    for path, columns in by_book.items():
        stats = by_path[path].save() or {}
        kept += stats.get("skipped", 0)
        written += stats.get("written", sum(len(c) for c in columns.values()) - stats.get("skipped", 0))
    return written, kept


@books.gc_paused()
def run(export: Path, ledgers: list, plan_id: str | None = None, output: Path | None = None,
        named: dict[str, str] | None = None, region: str | None = None, lists=None, progress=None,
        fill: bool = False) -> str:
    """Read ``export`` and the ``ledgers`` (paths, or Books: the live
    workbook of a ribbon button), classify, write ``output`` (default
    比对结果-缴费.xlsx beside the export); returns the one Chinese line.
    The export is only read; the ledgers too, unless ``fill``: then each
    ledger's empty 个人缴费/缴费日期 cells of persons the export shows paid
    are filled from it (:func:`payment_cells`; typed values kept, their
    differences listed on 台账与导出不一致). Raises BookError/TableError
    with a Chinese message."""
    export = Path(export)
    output = Path(output) if output else export.with_name("比对结果-缴费.xlsx")
    # a wildcard (*.xlsx) sweeps in the export and our previous result: their IDs are no ledger's persons
    skip = (output.resolve(), export.resolve())
    # the ledgers are read on the second core while the export is parsed (issue 14: 400,000 rows each);
    # with --fill they are opened for update afterwards, once the export has been accepted
    reading = None if fill else _read_ahead(ledgers, skip, progress)
    grids = books.read_grid_any(export)
    refuse_as_export(export, grids)
    table = find_export(grids, named, f"“{export.name}”")
    # an .xls export longer than 65,536 rows goes on in further sheets with the same header
    tables = [table]
    for name in list(grids)[list(grids).index(table.sheet) + 1:]:
        try:
            more = find_export({name: grids[name]}, named, f"“{export.name}”")
        except TableError:
            continue
        if more.columns == table.columns:
            tables.append(more)
    several = len(tables) > 1
    payments = [p for t in tables for p in read_payments(grids[t.sheet], t, sheet=t.sheet if several else "")]
    del grids       # a county's export: 400,000 rows of cells, not kept while the ledgers are read (peak memory)
    if not payments:
        raise books.BookError(f"“{export.name}”表头下没有缴费记录")
    if not ledgers:
        raise books.BookError("请在导出文件后列出各村台账文件")
    if output.resolve() == export.resolve():
        raise books.BookError(f"结果文件不能是导出文件本身：{output.name}")
    for p in ledgers:       # our previous result under the output's name is passed over; a ledger is never written over
        if isinstance(p, (str, Path)) and Path(p).resolve() == output.resolve() \
                and not _our_result(books.read_grid_any(Path(p))):
            raise books.BookError(f"结果文件不能是台账本身：{output.name}；请用 -o 另写一个文件名")
    if reading is not None:
        sources, by_path = reading(), {}
    else:
        sources, by_path = _ledger_sources(ledgers, skip, progress)
    # a wildcard (*.xlsx) sweeps in our previous results (this command's, renewal's, uninsured's)
    sources = [s for s in sources if not town.comparison_result(s[1])]
    if not sources:
        raise books.BookError("请在导出文件后列出各村台账文件")
    first = sources[0][1]
    plan = town.resolve_plan(plan_id, first, sources[1:])
    records, _notes = town.ledger_records(plan, sources, lists=lists)
    if not records:
        raise books.BookError("台账中没有读到人员（需要“姓名”“身份证号”列）")
    persons = town.unique_persons(records)
    regions = _regions(plan, region) if "region" in table.columns else ()
    notes = []
    if regions and not any(p.region and _ours(p.region, regions) for p in payments):
        # no row names our county (codes, or another spelling): comparing would call everyone 外地
        sample = next((p.region for p in payments if p.region), "")
        notes.append(f"导出的{table.headers['region']}（如“{sample[:20]}”）都不是“{region or plan.county}”，"
                     f"未比对参保地；可用 --region 指定本地名称或区划代码")
        regions = ()
    outcome = classify(payments, persons, regions, plan.proxy_source)
    sheets = sheets_of(outcome, plan.name, export.name)
    filled = ""
    if fill:
        fills, differ = payment_cells(outcome)
        written, kept = write_cells(by_path, fills)
        heading = f"{plan.name} 缴费比对（{export.name}）"
        sheets += cell_sheets(fills, differ, heading)
        people = len({(c.record.book, c.record.row) for c in fills})
        filled = (f"；已从导出填入{people}人的{written}个缴费单元格（原台账已备份）" if written else "；台账缴费栏无需填入")
        if kept:
            filled += f"，{kept}个单元格已有手填内容，未覆盖"
        if differ:
            filled += f"；{len(differ)}处手填与导出不同，已保留，见“{DIFF_SHEET}”"
    books.write_new_workbook(output, sheets)
    line = summary_line(outcome, output) + filled
    if "amount" not in table.columns:
        line += "；导出没有缴费金额列，未比对金额"
    return line + "".join(f"；{n}" for n in notes)


def cmd_reconcile(args) -> int:
    named = {f: getattr(args, f"{f}_col") for f in NAMED_FIELDS if getattr(args, f"{f}_col", None)}
    from yibao.atomic import release
    from ._bar import Bar
    town.refuse_output_over(args.output, args.export, args.deceased, args.employee, args.lists)
    bar = Bar("读取台账")
    try:
        line = run(Path(args.export), list(args.ledgers), args.policy, args.output, named, args.region,
                   lists=town.side_lists(args), progress=bar, fill=args.fill)
    finally:
        bar.close()
        release()
    print(line)
    return 0


def ribbon(live, workbook: Path, pick_files) -> str:
    """The ribbon's 缴费比对 button: ``live`` the workbook it was pressed in
    (a :class:`~yibao.macros.book.Book`, a ledger), ``workbook`` its path,
    ``pick_files(title) -> list[str] | None`` asks for files. Asks for the
    export, then for other villages' ledgers (may be none); reconciles them
    with ``live`` (nothing written into any ledger) and writes
    比对结果-缴费.xlsx beside the export. Returns the Chinese result line."""
    picked = pick_files("选择缴费导出文件（税务或医保信息平台导出的缴费明细）")
    if not picked:
        return "未选择缴费导出文件，未比对"
    others = pick_files("选择其他村的台账一起比对（可不选，只比对本台账）") or []
    others = [p for p in others if Path(p).resolve() != Path(workbook).resolve()]
    return run(Path(picked[0]), [live] + list(others))


_LABELS = {"name": "姓名", "id_no": "证件号码", "amount": "缴费金额", "pay_date": "缴费日期", "region": "参保地",
           "village": "村", "insurance": "险种", "period": "所属期"}


def add_parser(sub):
    p = sub.add_parser(
        "reconcile", help="台账与缴费导出比对 / reconcile ledgers with a payment export",
        description="读入税务或医保信息平台导出的缴费名单（.csv/.txt/.xls/.xlsx，GBK或UTF-8均可），"
                    "按身份证号与各村台账逐人比对：已缴费未登记、台账已缴费导出无记录、金额与应缴不符、重复缴费、"
                    "在外地缴费等，按村列出，写入新工作簿；导出文件不会被修改，台账只在加 --fill 时填入空着的缴费栏（先备份）。"
                    " Matches a payment export with the ledgers by ID number; writes a new workbook.")
    p.add_argument("export", help="缴费导出文件 / payment export")
    p.add_argument("ledgers", nargs="+", help="各村台账文件（只读，可多个） / village ledgers (read only)")
    p.add_argument("--policy", help="方案编号（默认读台账中的“方案编号”） / plan id")
    p.add_argument("-o", "--output", help="结果文件（默认导出文件旁的“比对结果-缴费.xlsx”） / output .xlsx")
    p.add_argument("--region", help="本地参保地名称（默认方案的县名），导出中参保地不同的列为在外地缴费 / our region")
    for field in NAMED_FIELDS:
        p.add_argument(f"--{field.replace('_no', '').replace('_', '-')}-col", dest=f"{field}_col",
                       metavar="列名", help=f"导出中“{_LABELS[field]}”列的列名（表头认不出时指定） / header of the {field} column")
    p.add_argument("--fill", action="store_true",
                   help="把导出的缴费金额、缴费日期填入台账中空着的缴费栏（先备份原台账；手填的不改，"
                        "与导出不同的列在结果的“台账与导出不一致”表） / fill the ledgers' empty payment cells")
    from .validate import add_list_options
    add_list_options(p, roster=False)
    p.set_defaults(func=cmd_reconcile)
