"""Native Excel formulas for live checks without Python: the same text works
in Excel, WPS and LibreOffice, in cells, data validation and conditional
formatting.

Check digit (GB 11643): weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 on the
first 17 digits, sum mod 11 indexes "10X98765432". No array constants
(Excel refuses them in validation and conditional formatting) and no
``ROW($1:$17)`` (it shifts when rows are inserted): the 17 positions come
from ``ROW(INDIRECT("A1:A17"))`` and the weights from a digit string.
A non-digit among the first 17 makes the product an error, caught by
IFERROR as "not valid".

Duplicates compare whole strings (``range=cell``), never COUNTIF, which
turns an 18-digit text into a number and sees two IDs equal in their first
15 digits as the same. Excel's ``=`` on text ignores case, so ``…X`` and
``…x`` count as one person, as they should.

The 号码核对 message reads the number as ``yibao validate`` does
(functions/text.py ``compact_id``): characters pasted from web pages that
nobody sees (U+200B, U+FEFF, the bidirectional marks U+202A-U+202E around a
number, no-break and full-width spaces, control characters) are taken out
first, by :func:`clean_id` (CLEAN and SUBSTITUTE with the characters
written into the formula's strings: UNICHAR is not in Excel 2010, LET not
before Excel 365, neither in WPS's older versions).

>>> len(id_valid("F5")) < 255    # Excel's limit for a validation formula
True
>>> clean_id("F5").count("SUBSTITUTE(") == len(PASTED)
True
"""

from __future__ import annotations

__all__ = ["id_valid", "id_invalid", "id_duplicate", "gender_mismatch", "id_native_message", "clean_id",
           "PASTED", "WEIGHTS"]

#: what clean_id takes out besides CLEAN's control characters: the ASCII
#: space (an ID has none; TRIM would keep one between digits), no-break
#: space, full-width (ideographic) space, zero-width space, non-joiner and
#: joiner, left-to-right and right-to-left marks, the embeddings and
#: overrides U+202A-U+202E that web pages wrap numbers in, word joiner, BOM
PASTED = (" ", "\u00a0", "\u3000", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f",
          "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2060", "\ufeff")

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_WEIGHT_DIGITS = "".join(f"{w:02d}" for w in WEIGHTS)
_POSITIONS = 'ROW(INDIRECT("A1:A17"))'


def _check_digit_ok(c: str) -> str:
    return (f'MID("10X98765432",MOD(SUMPRODUCT(MID({c},{_POSITIONS},1)'
            f'*MID("{_WEIGHT_DIGITS}",{_POSITIONS}*2-1,2)),11)+1,1)=UPPER(RIGHT({c}))')


def id_valid(c: str) -> str:
    """TRUE when ``c`` holds 18 characters with a right check digit (the
    data-validation rule; a blank cell is let through by the rule itself)."""
    return f"IFERROR(AND(LEN({c})=18,{_check_digit_ok(c)}),FALSE)"


def id_invalid(c: str) -> str:
    """Conditional format: a filled cell whose number is wrong."""
    return f'AND({c}<>"",NOT({id_valid(c)}))'


def id_duplicate(c: str, column: str) -> str:
    """Conditional format: the same number more than once in ``column``."""
    return f'AND({c}<>"",SUMPRODUCT(--({column}={c}))>1)'


def gender_mismatch(g: str, c: str) -> str:
    """Conditional format: 性别 disagrees with the ID's 17th digit."""
    return f'IFERROR(AND({g}<>"",LEN({c})=18,{g}<>IF(MOD(MID({c},17,1),2)=1,"男","女")),FALSE)'


def clean_id(c: str) -> str:
    """The text of cell ``c`` without the characters of :data:`PASTED` and
    control characters (CLEAN): an expression, Excel 2010+, WPS, LibreOffice."""
    text = f"CLEAN({c})"
    for ch in PASTED:
        text = f'SUBSTITUTE({text},"{ch}","")'
    return text


def id_native_message(c: str, column: str, g: str | None = None) -> str:
    """The 号码核对 cell: a Chinese message, or empty when the number is fine.
    The number is read through :func:`clean_id`, so an ID pasted with
    invisible characters is judged by its 18 digits, as validate judges it;
    duplicates compare the cells as written (a pasted copy of a number is
    found by validate)."""
    k = clean_id(c)
    gender = (f'IF({gender_mismatch(g, k)},"性别与身份证号不符","")' if g else '""')
    return (f'=IF({c}="","",IF(LEN({k})<>18,"身份证号应为18位，现为"&LEN({k})&"位",'
            f'IF(NOT({id_valid(k)}),"身份证号校验位不对",'
            f'IF(SUMPRODUCT(--({column}={c}))>1,"身份证号重复",{gender}))))')
