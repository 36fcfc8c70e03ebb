"""One reading of a person row, for every shell.

The Excel functions (:mod:`yibao.functions.udf`, cell values through
xlwings), the ledger actions (:mod:`yibao.macros.ledger`, cell values from an
.xlsx, .xls, CSV or HTML export, or the live workbook) and ``yibao calc`` (a
JSON object per line) all turn their values into an
:class:`~yibao.functions.engine.Person` here, so that a ``√`` in
是否参加职工医保 means the same in ``=PAYABLE()``, in ``yibao refresh`` and in
``yibao calc`` (issue 12 item 8).

What a value may be, in every shell:

* **flags** (是否参加职工医保, 是否死亡): blank, ``是/否``, ``√/×`` (and ✓ ✔ ✗ ✘),
  ``Y/N``, ``yes/no``, ``true/false``, ``1/0``, ``已参加/未参加``, a boolean or the
  number 1 or 0. Anything else is an error naming the column.

  >>> [flag(v) for v in ("√", "是", "Y", 1, True, "已参加", None, "", "否", "×", 0.0)]
  [True, True, True, True, True, True, False, False, False, False, False]

* **dates**: a ``date``/``datetime`` (its time dropped), an Excel serial (a
  time fraction dropped), or text in the forms :func:`yibao.functions.values.to_date`
  reads (``2025-10-15``, ``2025年10月15日``, ``2025/10/15 9:31``, ``20251015``).

  >>> date_of(45945.39), date_of("2025-10-15 09:31:27"), date_of("  ")
  (datetime.date(2025, 10, 15), datetime.date(2025, 10, 15), None)

* **identity lists**: one text with names separated by ；，/ or line breaks,
  or a list of texts (a ``yibao calc`` line); pasted text is cleaned
  (:func:`yibao.functions.text.clean`).

* **Excel error values** (``#N/A``, ``#VALUE!``…, as xlwings passes them with
  ``err_to_str`` and as openpyxl and calamine read them) are an error in any
  field, never a blank: a ``#N/A`` left by a lookup formula in the ID column
  is reported, not passed as an empty row.

A value that cannot be read raises :class:`~yibao.functions.values.BadValue`
with one Chinese sentence naming the column.
"""

from __future__ import annotations

import datetime
import unicodedata

from .engine import Person
from .identity import split_names
from .text import clean
from .values import BadValue, to_date

__all__ = ["FIELDS", "LABELS", "CellError", "VALUE_ERROR", "ERROR_CODES", "cell_error", "error_message", "flag", "date_of",
           "identities_of", "enroll_type_of", "id_of", "person", "PersonReader", "person_from_json"]

#: the fields of a person row, in the order the person functions take them
#: (and the input keys of a ``yibao calc`` line)
FIELDS = ("id_no", "identities", "pay_date", "enroll_type", "event_date", "employee_insured")

#: the column each field is read from, as staff see it in messages
LABELS = {
    "id_no": "身份证号",
    "identities": "身份类别",
    "pay_date": "缴费日期",
    "enroll_type": "参保类型",
    "event_date": "事件日期",
    "employee_insured": "是否参加职工医保",
    "household_type": "户类型",
}

#: Excel's error values, as xlwings (``err_to_str``), openpyxl and calamine give them as text
ERROR_CODES = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                         "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"))


class CellError(str):
    """An Excel error value as a function result: the text is the error code
    (``#VALUE!``), :attr:`reason` the Chinese sentence saying why.

    Numeric and date functions (=PAYABLE(), =SUBSIDY_AMOUNT(), =BENEFIT_START(),
    =ID_AGE(), =ID_BIRTH()) give one for a row they cannot compute, so that a
    SUM over the column is an error too instead of silently leaving the
    person out (issue 13 item 6). The Excel shell (``yibao.addin.udfs``)
    turns it into a real error cell; ``yibao refresh`` writes an error cell
    (``t="e"``). Being a ``str``, it compares equal to its code.
    """

    reason: str

    def __new__(cls, code: str = "#VALUE!", reason: str = ""):
        if code not in ERROR_CODES:
            raise ValueError(f"not an Excel error value: {code!r}")
        obj = super().__new__(cls, code)
        obj.reason = reason
        return obj

    def __repr__(self) -> str:
        return f"CellError({str(self)!r}, {self.reason!r})"

    def __reduce__(self):
        return (CellError, (str(self), self.reason))


def VALUE_ERROR(reason: str = "") -> CellError:   # noqa: N802 - reads as the Excel value it makes
    """``#VALUE!`` with ``reason``: what a numeric function shows for a row it cannot compute."""
    return CellError("#VALUE!", reason)


def cell_error(value) -> str | None:
    """The Excel error code a cell value is (``#N/A``…), or None.

    >>> cell_error("#N/A"), cell_error(" #REF! "), cell_error("N/A"), cell_error(None)
    ('#N/A', '#REF!', None, None)
    """
    if value.__class__ is CellError:
        return str(value)
    if isinstance(value, str) and value[:1] in "# " and value:
        code = value.strip().upper()
        if code in ERROR_CODES:
            return code
    return None


def error_message(value, label: str) -> str:
    """What every shell says of an error value in column ``label``."""
    return f"“{label}”单元格是错误值{cell_error(value)}（多为公式出错），请改正该单元格"


def _error_in(value, label: str) -> BadValue:
    return BadValue(error_message(value, label))


def blank(value) -> bool:
    """An empty cell: nothing, or only white space."""
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value) -> str:
    """A cell as text (numbers without a trailing .0), cleaned as pasted text is."""
    if value.__class__ is str:
        return value.strip() if value.isascii() and '="' not in value else clean(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()[:10]
    return clean(str(value))


_TRUE = frozenset(("是", "已参加", "参加", "y", "yes", "true", "1", "√", "✓", "✔", "☑"))
_FALSE = frozenset(("否", "未参加", "不参加", "n", "no", "false", "0", "×", "✗", "✘", "☐"))


def flag(value, label: str = LABELS["employee_insured"]) -> bool:
    """A yes/no cell (see the module text); blank is no. Raises
    :class:`BadValue` naming ``label`` for anything else.

    >>> flag("x")
    Traceback (most recent call last):
    ...
    yibao.functions.values.BadValue: “是否参加职工医保”应填是或否，见到“x”
    """
    if value is None:
        return False
    if value is True or value is False:
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return value == 1
    if cell_error(value):
        raise _error_in(value, label)
    text = _text(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.lower()
    if text in _TRUE:
        return True
    if not text or text in _FALSE:
        return False
    raise BadValue(f"“{label}”应填是或否，见到“{_text(value)}”")


def date_of(value, label: str = LABELS["pay_date"]) -> datetime.date | None:
    """A date cell (see the module text), None when blank; raises :class:`BadValue`."""
    if value is None:
        return None
    if value.__class__ is str:
        if not value.strip():
            return None
        if value[:1] == "#" and cell_error(value):
            raise _error_in(value, label)
    elif value.__class__ is CellError:
        raise _error_in(value, label)
    return to_date(value)


def identities_of(value) -> tuple[str, ...]:
    """The identities a cell (or a list of texts) names; () when blank."""
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        if not all(isinstance(x, str) for x in value):
            raise BadValue("身份类别应为文字（可多个，用；分隔）")
        return split_names([_text(x) for x in value])
    if isinstance(value, bool):
        raise BadValue(f"“{LABELS['identities']}”应为文字，见到“{value}”")
    if cell_error(value):
        raise _error_in(value, LABELS["identities"])
    return split_names(_text(value))


def enroll_type_of(value) -> str:
    """The 参保类型 cell; blank is 普通 (the engine checks the name)."""
    if blank(value):
        return "普通"
    if cell_error(value):
        raise _error_in(value, LABELS["enroll_type"])
    return _text(value)


def id_of(value):
    """The ID cell as the engine takes it: text stripped, numbers as they
    are (the engine says a number lost its last digits in Excel); an error
    value raises."""
    if value.__class__ is str:
        if value[:1] in "# " and cell_error(value):
            raise _error_in(value, LABELS["id_no"])
        return value.strip()
    if value.__class__ is CellError:
        raise _error_in(value, LABELS["id_no"])
    return value


def person(id_no, identities=None, pay_date=None, enroll_type=None, event_date=None,
           employee_insured=None, household_type=None) -> Person:
    """A :class:`Person` from the cell values of one row (any shell).

    ``household_type`` (户类型, a column some ledgers have beside 身份类别)
    adds one identity. Raises :class:`BadValue` for a value that cannot be
    read, naming its column.
    """
    ids = identities_of(identities)
    if not blank(household_type):
        ids += identities_of(household_type)
    return Person(
        id_of(id_no),
        ids,
        date_of(pay_date, LABELS["pay_date"]),
        enroll_type_of(enroll_type),
        date_of(event_date, LABELS["event_date"]),
        flag(employee_insured),
    )


class PersonReader:
    """:func:`person` for the rows of one batch (a ledger), same results and
    errors, with the fields other than the ID number read once per distinct
    set of cell values: a ledger repeats its identities, pay dates, types and
    flags down 100,000 rows, so only the ID is read on most rows."""

    __slots__ = ("_seen",)

    def __init__(self):
        # (values and their types) → Person fields after id_no; typed keys: True == 1 but is no date
        self._seen: dict[tuple, tuple] = {}

    def __call__(self, id_no, identities=None, pay_date=None, enroll_type=None, event_date=None,
                 employee_insured=None, household_type=None) -> Person:
        key = (identities, pay_date, enroll_type, event_date, employee_insured, household_type,
               identities.__class__, pay_date.__class__, enroll_type.__class__, event_date.__class__,
               employee_insured.__class__, household_type.__class__)
        try:
            rest = self._seen.get(key)
        except TypeError:           # unhashable (a list of identities): read it as it is
            rest = None
            key = None
        if rest is not None:
            # these fields read cleanly before, so only the ID can raise, as person() would
            return Person(id_of(id_no), *rest)
        found = person(id_no, identities, pay_date, enroll_type, event_date, employee_insured, household_type)
        if key is not None and len(self._seen) < 65536:
            self._seen[key] = tuple(found[1:])
        return found


def person_from_json(row) -> Person:
    """A :class:`Person` from a ``yibao calc`` input object (README "`yibao
    calc` contract"): the keys of :data:`FIELDS`, read as cells are. Raises
    :class:`BadValue` for a missing ID, an unknown key (a misspelling such as
    ``identity`` must not be computed as if the key were absent) or a bad value."""
    if not isinstance(row, dict):
        raise BadValue("每行应为一个JSON对象")
    unknown = [key for key in row if key not in FIELDS]
    if unknown:
        raise BadValue("不认识的输入项：" + "、".join(f"“{key}”" for key in unknown)
                       + "（可用的输入项：" + "、".join(FIELDS) + "）")
    if blank(row.get("id_no")):
        raise BadValue("缺少身份证号 id_no")
    ids = row.get("identities")
    if ids is not None and not (isinstance(ids, str)
                                or isinstance(ids, list) and all(isinstance(x, str) for x in ids)):
        raise BadValue("identities 应为文字列表")
    return person(*(row.get(key) for key in FIELDS))
