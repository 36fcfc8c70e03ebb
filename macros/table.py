"""Finding the table in a sheet staff made: header not on row 1, merged
cells, blank rows, extra or reordered columns, footers.

Columns are matched by header text, never by position. A header is
normalized (stars ★/* for required cells, spaces, punctuation, line breaks
dropped) and looked up among the names each field goes by.

>>> field_of('身份证号★'), field_of('户主关系*'), field_of('告知、督促方式'), field_of('户关系')
('id_no', 'relation', 'notify', 'relation')
"""

from __future__ import annotations

import dataclasses
import datetime
import operator
import re
import unicodedata
from typing import Any

from yibao.functions.values import to_date

__all__ = ["FIELDS", "Table", "Row", "field_of", "find_table", "TableError", "is_blank", "header_key",
           "HEADER_NOISE"]

#: canonical field → header texts it goes by (after normalization)
FIELDS: dict[str, tuple[str, ...]] = {
    "seq": ("序号",),
    "village": ("村", "村社区", "村居委会", "所在村", "村名", "村组"),
    "family": ("家庭编号", "户编号", "户号"),
    "name": ("姓名", "参保人姓名", "名"),
    "relation": ("户主关系", "与户主关系", "户关系"),
    "gender": ("性别",),
    "id_no": ("身份证号", "身份证号码", "公民身份号码", "公民身份证号码", "证件号码", "身份证"),
    "phone": ("联系电话", "电话", "手机号", "手机号码"),
    "notify": ("告知督促方式", "告知方式", "督促方式"),
    "household_type": ("户属性",),
    "identities": ("身份类别", "人员类别", "困难类别", "资助身份", "身份属性", "人员身份"),
    "enroll_type": ("参保类型",),
    "pay_date": ("缴费日期", "缴费时间", "交费日期"),
    "event_date": ("事件日期", "职工医保终止日期", "退役日期", "职工医保待遇结束日期"),
    "employee_insured": ("是否参加职工医保", "职工医保", "已参加职工医保"),
    "paid": ("个人缴费", "个人交费", "实交额", "缴费金额", "实缴金额"),
    "subsidy_paid": ("资助额",),
    "unpaid_reason": ("未缴费原因",),
    "signature": ("参保人签字", "参保签字"),
    "agent": ("经办人",),
    "deposit_date": ("缴库日期", "存入日期", "入库日期"),
    "pay_method": ("缴费方式", "收款方式"),
    "deceased": ("是否死亡", "死亡", "死亡标识"),
    "department": ("部门", "提供部门", "资助部门"),
    "note": ("备注",),
    # our computed columns (templates add them beside the plan's own)
    "calc_payable": ("应缴", "应缴金额"),
    "calc_tier": ("资助类别",),
    "calc_subsidy": ("资助金额",),
    "calc_funding": ("资金来源",),
    "calc_benefit": ("待遇起始", "待遇起始日期"),
    "calc_check": ("校验", "校验结果"),
}

#: what a header or label is compared without: spaces, the stars of
#: required cells, punctuation, line breaks
HEADER_NOISE = re.compile(r"[\s★☆*＊、,，.。:：()（）\[\]【】/\\\-—_'\"“”]")
_LOOKUP = {}
for _field, _names in FIELDS.items():
    for _name in _names:
        _LOOKUP[HEADER_NOISE.sub("", _name)] = _field

#: fields whose merged cells mean "same as above" (a household's rows)
FILL_DOWN = ("family", "village", "household_type")
_FOOTER = re.compile(r"^\s*(填表|填报人|收款填表|注[:：]|页计|合计|小计|说明|填表说明|\d+[.、]\s*标注)")


def field_of(header) -> str | None:
    """The field a header names, or None."""
    if header is None:
        return None
    text = HEADER_NOISE.sub("", unicodedata.normalize("NFKC", str(header)))
    return _LOOKUP.get(text)


class TableError(Exception):
    """No usable table in a sheet (Chinese message)."""


@dataclasses.dataclass(slots=True)
class Row:
    number: int                 # 1-based sheet row
    values: dict[str, Any]      # field → raw cell value


@dataclasses.dataclass
class Table:
    sheet: str
    header_row: int             # 1-based, last header row when two are used
    columns: dict[str, int]     # field → 1-based column
    headers: dict[int, str]     # 1-based column → header text as written
    rows: list[Row]
    unknown_headers: list[str]

    def has(self, field: str) -> bool:
        return field in self.columns


def is_blank(value) -> bool:
    """An empty cell: nothing, or only white space."""
    return value is None or (isinstance(value, str) and not value.strip())


def header_key(value) -> str:
    """A header or label as compared: full-width folded (NFKC), without
    :data:`HEADER_NOISE`.

    >>> header_key('村（社区）★'), header_key('合 计')
    ('村社区', '合计')
    """
    return HEADER_NOISE.sub("", unicodedata.normalize("NFKC", cell_text(value)))


def find_table(sheet: str, grid: list[list[Any]], required=("id_no",), scan_rows: int = 30,
               carry: tuple[str, ...] | None = None) -> Table:
    """Locate the header row (the row naming the most known fields within
    the first ``scan_rows``), map columns, and read the data rows below;
    each row carries the values of the fields in ``carry`` only, when given (the merge
    reads five of a department form's twelve columns)."""
    best, best_score = None, 0
    for r, row in enumerate(grid[:scan_rows]):
        fields = {field_of(v) for v in row} - {None}
        if len(fields) > best_score:
            best, best_score = r, len(fields)
    if best is None or best_score < 2:
        raise TableError(f"工作表“{sheet}”里找不到表头（需要“姓名”“身份证号”等列名）")
    columns: dict[str, int] = {}
    headers: dict[int, str] = {}
    unknown = []
    header_rows = [best]
    # a second header row under a merged parent (004 附件2: 交费 → 实交额/资助额)
    if best + 1 < len(grid):
        below = grid[best + 1]
        known_below = [c for c, v in enumerate(below) if field_of(v)]
        if known_below and not any(field_of(v) == "id_no" for v in below) and \
                all(is_blank(v) or field_of(v) for v in below):
            header_rows.append(best + 1)
    for r in header_rows:
        for c, value in enumerate(grid[r]):
            field = field_of(value)
            if field and field not in columns:
                columns[field] = c + 1
                headers[c + 1] = str(value).strip()
            elif not is_blank(value) and not field and r == best:
                unknown.append(str(value).strip())
    missing = [f for f in required if f not in columns]
    if missing:
        names = "、".join(FIELDS[f][0] for f in missing)
        raise TableError(f"工作表“{sheet}”缺少列：{names}")
    carried = columns if carry is None else {f: c for f, c in columns.items()
                                             if f in carry or f in ("id_no", "name") or f in FILL_DOWN}
    return Table(sheet, header_rows[-1] + 1, columns, headers,
                 _data_rows(grid, header_rows[-1] + 1, carried), unknown)


def _data_rows(grid: list[list[Any]], first: int, columns: dict[str, int]) -> list[Row]:
    """The person rows from grid row ``first`` (0-based) on: blank rows,
    footers and rows with neither ID nor name left out, household cells
    filled down. (The hot loop of every action on a large ledger.)"""
    fields = list(columns)
    indexes = [c - 1 for c in columns.values()]
    width = max(indexes) + 1
    pick = operator.itemgetter(*indexes) if len(indexes) > 1 else (lambda raw: (raw[indexes[0]],))
    fill_down = [f for f in FILL_DOWN if f in columns]
    has_id, has_name = "id_no" in columns, "name" in columns
    rows = []
    last = {}
    for r in range(first, len(grid)):
        raw = grid[r]
        for lead in raw:                 # the first non-blank cell; none: a blank row
            if not is_blank(lead):
                break
        else:
            continue
        if len(raw) >= width:
            values = dict(zip(fields, pick(raw)))
        else:
            values = {f: (raw[c] if c < len(raw) else None) for f, c in zip(fields, indexes)}
        id_blank = not has_id or is_blank(values["id_no"])
        if id_blank and isinstance(lead, str) and _FOOTER.match(lead):
            continue
        if id_blank and (not has_name or is_blank(values["name"])):
            continue   # page totals, signature lines, notes
        for field in fill_down:
            if is_blank(values[field]):
                values[field] = last.get(field)
            else:
                last[field] = values[field]
        rows.append(Row(r + 1, values))
    return rows


def cell_text(value) -> str:
    """A cell as text: numbers without a trailing .0, dates as ISO."""
    if value.__class__ is str:          # most cells: skip the checks below
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()[:10]
    return str(value).strip()


_DATES: dict[str, datetime.date] = {}


def cell_date(value):
    """A cell as a date, or None when blank; raises BadValue."""
    if value.__class__ is str:
        # dates typed as text repeat across a ledger: read each text once
        day = _DATES.get(value)
        if day is not None:
            return day
        if not value.strip():
            return None
        day = to_date(value)
        if len(_DATES) < 65536:
            _DATES[value] = day
        return day
    if is_blank(value):
        return None
    if isinstance(value, float) and not value.is_integer():
        value = int(value)
    return to_date(value)
