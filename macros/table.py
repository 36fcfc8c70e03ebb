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
import functools
import importlib.resources
import operator
import re
import unicodedata
from typing import Any

from yibao.functions.text import INVISIBLE, clean
from yibao.functions.values import to_date

try:
    import tomllib
except ModuleNotFoundError:          # Python 3.10
    import tomli as tomllib

__all__ = ["FIELDS", "synonyms", "word_rules", "header_match", "HeaderCell", "scan_header", "Table", "Row", "field_of", "find_table", "TableError", "AmbiguousColumns", "is_blank", "header_key",
           "HEADER_NOISE", "cell_text", "cell_date"]


#: what a header or label is compared without: spaces, the stars of
#: required cells, punctuation, line breaks
HEADER_NOISE = re.compile(f"[\\s{INVISIBLE}★☆*＊、,，.。:：()（）\\[\\]【】/\\\\\\-—_'\"“”]")

#: a unit in brackets after a header (“实缴金额（元）”, “缴费金额(元)”): the field is the same.
#: Only 元: a header in 万元 counts something else and stays unknown.
_UNIT = re.compile(r"[(（]\s*元\s*[)）](?=[\s★☆*＊]*$)")


@functools.lru_cache(maxsize=None)
def synonyms(kind: str = "ledger") -> dict[str, tuple[str, ...]]:
    """Field → the header names it goes by (the usual one first), for one
    kind of table in ``functions/headers.toml``: ``"ledger"`` (person rows of
    ledgers and department lists) or ``"payment"`` (payment exports).

    Raises KeyError for an unknown kind, ValueError when the file gives one
    name (as compared, see :func:`header_key`) to two fields of a kind.
    """
    with importlib.resources.files("yibao.functions").joinpath("headers.toml").open("rb") as handle:
        groups = tomllib.load(handle)[kind]
    fields: dict[str, tuple[str, ...]] = {}
    owner: dict[str, str] = {}
    for group in groups.values():
        for field, names in group.items():
            fields[field] = fields.get(field, ()) + tuple(names)
            for name in names:
                seen = owner.setdefault(_norm(name), field)
                if seen != field:
                    raise ValueError(f"headers.toml [{kind}]: “{name}” names both {seen} and {field}")
    return fields


@functools.lru_cache(maxsize=None)
def word_rules(kind: str) -> tuple[dict, ...]:
    """The ``[[<kind>_words]]`` rules of ``functions/headers.toml`` (headers
    matched by the words they contain, in order; see the file), with their
    ``rate`` patterns compiled; () when the kind has none."""
    with importlib.resources.files("yibao.functions").joinpath("headers.toml").open("rb") as handle:
        rules = tomllib.load(handle).get(f"{kind}_words", [])
    out = []
    for rule in rules:
        rule = dict(rule)
        if "rate" in rule:
            rule["rate"] = re.compile(rule["rate"])
        out.append(rule)
    return tuple(out)


@functools.lru_cache(maxsize=None)
def _exact(kind: str) -> dict[str, str]:
    return {_norm(name): field for field, names in synonyms(kind).items() for name in names}


_YEAR = re.compile(r"^(\d{4})年?(?:度)?")


def header_match(header, kind: str, year: int | None = None):
    """(field, extra) a header names in a table of ``kind`` (its exact names,
    then its word rules), or None; field "" for a column the rules say
    nobody reads. ``extra`` is the rate (a Fraction) of a ``rate`` rule.
    ``year`` is the plan's: a rule's ``earlier`` field is taken for a
    header naming 上年 or an earlier year.

    >>> header_match("2019年目标任务数", "task", 2020), header_match("2020年目标任务数", "task", 2020)
    (('prev_target', None), ('target', None))
    >>> header_match("村  名", "task"), header_match("达到95%日期", "task")
    (('unit', None), ('reached', Fraction(19, 20)))
    >>> header_match("完成率", "task"), header_match("备注", "task")
    (('', None), None)
    """
    from fractions import Fraction
    text = header_key(header)
    if not text:
        return None
    exact = _exact(kind).get(text)
    if exact:
        return exact, None
    for rule in word_rules(kind):
        if rule.get("any") and not any(w in text for w in rule["any"]):
            continue
        if rule.get("also") and not any(w in text for w in rule["also"]):
            continue
        if any(w in text for w in rule.get("none", ())):
            continue
        extra = None
        if "rate" in rule:
            found = rule["rate"].search(text)
            if not found:
                continue
            extra = Fraction(found.group(1)) / 100
        field = rule["field"]
        if rule.get("earlier"):
            said = _YEAR.match(text)
            if "上年" in text or (said and year is not None and int(said.group(1)) < year):
                field = rule["earlier"]
        return field, extra
    return None


@dataclasses.dataclass(frozen=True)
class HeaderCell:
    """One matched header cell: 1-based column, field, extra (a rate), the text as written."""
    column: int
    field: str
    extra: Any
    text: str


def scan_header(grid: list[list[Any]], kind: str, accept, year: int | None = None,
                scan_rows: int = 30, named: dict[str, str] | None = None) -> tuple[int, list[HeaderCell]] | None:
    """The first row within ``scan_rows`` whose matched headers
    (:func:`header_match`; the columns nobody reads left out) ``accept``
    takes (a callable given the set of fields and the row), as (0-based
    row, its :class:`HeaderCell` list); None when no row is accepted. For
    tables whose header row is the first that names what they need (the
    task table, payment exports); person tables use :func:`find_table`.
    ``named``: field → header text the user gave (``--id-col 号码``): that
    header is the field, and no other header is taken for it."""
    given = {header_key(h): f for f, h in (named or {}).items() if h}
    for r, row in enumerate(grid[:scan_rows]):
        cells = []
        for c, value in enumerate(row, 1):
            if given:
                field = given.get(header_key(value))
                if field:
                    cells.append(HeaderCell(c, field, None, cell_text(value)))
                    continue
            found = header_match(value, kind, year)
            if found and found[0] and found[0] not in given.values():
                cells.append(HeaderCell(c, found[0], found[1], cell_text(value)))
        if cells and accept({cell.field for cell in cells}, row):
            return r, cells
    return None


def _norm(header: str) -> str:
    return HEADER_NOISE.sub("", _UNIT.sub("", unicodedata.normalize("NFKC", header)))


#: canonical field → header texts it goes by, from functions/headers.toml
#: (the person rows of ledgers and department lists)
FIELDS: dict[str, tuple[str, ...]] = synonyms("ledger")

_LOOKUP = {}
for _field, _names in FIELDS.items():
    for _name in _names:
        _LOOKUP[_norm(_name)] = _field

#: fields a table may have one column of: two (身份证号 and 证件号码) is an
#: error naming both, never a silent pick of the first
UNIQUE = ("id_no",)

#: fields whose merged cells mean "same as above" (a household's rows)
FILL_DOWN = ("family", "village", "household_type")
_FOOTER = re.compile(r"^\s*(填表|填报人|收款填表|注[:：]|页计|合计|小计|说明|填表说明|\d+[.、]\s*标注)")


def field_of(header) -> str | None:
    """The field a header names, or None."""
    if header is None:
        return None
    return _LOOKUP.get(_norm(str(header)))


class TableError(Exception):
    """No usable table in a sheet (Chinese message)."""


class AmbiguousColumns(TableError):
    """A table with two columns for one field of :data:`UNIQUE` (身份证号
    and 证件号码): an error in any sheet, never a sheet to pass over."""


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
    found: list[str] = dataclasses.field(default_factory=list)   # every header of the header row, in order

    def has(self, field: str) -> bool:
        return field in self.columns

    def require(self, *fields: str, hint: str = "") -> None:
        """Raise :class:`TableError` naming the missing columns and the
        headers the sheet has, unless every field in ``fields`` has a column;
        ``hint`` is added to the message (what else could have told us)."""
        missing = [f for f in fields if f not in self.columns]
        if missing:
            names = "、".join(f"“{FIELDS[f][0]}”" for f in missing)
            others = "".join(f"“{name}”" for f in missing for name in FIELDS[f][1:4])
            found = "".join(f"“{t[:20]}”" for t in self.found[:20]) or "（空）"
            raise TableError(f"工作表“{self.sheet}”找不到{names}列" + (f"（也认{others}等列名）" if others else "")
                             + f"{hint}；表头行写的是：{found}")


def is_blank(value) -> bool:
    """An empty cell: nothing, or only white space."""
    return value is None or (isinstance(value, str) and not value.strip())


def header_key(value) -> str:
    """A header or label as compared: full-width folded (NFKC), without
    :data:`HEADER_NOISE`.

    >>> header_key('村（社区）★'), header_key('合 计')
    ('村社区', '合计')
    """
    return HEADER_NOISE.sub("", _UNIT.sub("", unicodedata.normalize("NFKC", cell_text(value))))


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
        seen = _texts_seen(grid[:scan_rows])
        raise TableError(f"工作表“{sheet}”里找不到表头（需要“姓名”“身份证号”等列名）"
                         + (f"，前几行写的是：{seen}" if seen else "，前几行是空的"))
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
            elif field in UNIQUE:
                first = columns[field]
                raise AmbiguousColumns(
                    f"工作表“{sheet}”有两列{FIELDS[field][0]}：{column_name(first)}列“{headers[first]}”和"
                    f"{column_name(c + 1)}列“{str(value).strip()}”，不知道该用哪一列：请删去或改名其中一列"
                    f"（户主的号码请写“户主身份证号”）")
            elif not is_blank(value) and not field and r == best:
                unknown.append(str(value).strip())
    table = Table(sheet, header_rows[-1] + 1, columns, headers, [], unknown,
                  [cell_text(v) for v in grid[best] if not is_blank(v)])
    table.require(*required)
    carried = columns if carry is None else {f: c for f, c in columns.items()
                                             if f in carry or f in ("id_no", "name") or f in FILL_DOWN}
    table.rows = _data_rows(grid, header_rows[-1] + 1, carried)
    return table


def column_name(column: int) -> str:
    """The letters of a 1-based column: 1 → A, 28 → AB."""
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


#: a run of digits as long as an ID or phone number: never into a message
_DIGITS = re.compile(r"\d{6,}[\dXx]*")


def _texts_seen(rows: list[list[Any]], limit: int = 12) -> str:
    """The texts of the fullest of ``rows``, for a message: “A”“B”…"""
    fullest = max(rows, key=lambda row: sum(not is_blank(v) for v in row), default=[])
    texts = [_DIGITS.sub(lambda m: "*" * len(m.group(0)), cell_text(v)) for v in fullest if not is_blank(v)]
    shown = "".join(f"“{t[:20]}”" for t in texts[:limit])   # an ID or phone number shown as ****
    return shown + ("等" if len(texts) > limit else "")


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
        for lead in raw:                 # the first non-blank cell (is_blank inline); none: a blank row
            if lead is not None and (not isinstance(lead, str) or lead.strip()):
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
            value = values[field]
            if value is None or (isinstance(value, str) and not value.strip()):     # is_blank inline
                values[field] = last.get(field)
            else:
                last[field] = value
        rows.append(Row(r + 1, values))
    return rows


def cell_text(value) -> str:
    """A cell as text: numbers without a trailing .0, dates as ISO, text
    read through :func:`yibao.functions.text.clean` (invisible characters,
    odd spaces, ``="…"`` wrappers, spaces and dots inside Chinese names).

    >>> cell_text(' 张\u3000三 '), cell_text(42.0), cell_text('\u202d阿依古丽•买买提\u202c')
    ('张三', '42', '阿依古丽·买买提')
    """
    if value.__class__ is str:          # most cells: skip the checks below
        if value.isascii() and '="' not in value:
            return value.strip()
        found = _TEXTS.get(value)
        if found is None:
            found = clean(value)
            if len(_TEXTS) < 65536:
                _TEXTS[value] = found
        return found
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()[:10]
    return clean(str(value))


# texts read once each: the villages, identities, flags that repeat down a ledger
_TEXTS: dict[str, str] = {}


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
