"""Entry module for xlwings (``UDF_MODULES = yibao.addin.udfs``): the Excel
shell around the pure functions of :mod:`yibao.functions.udf`.

Everything xlwings needs lives here, so that ``yibao.functions`` imports
neither xlwings nor pandas (issue 13 item 10):

* each function of :data:`~yibao.functions.udf.REGISTRY` gets xlwings'
  decorators: every argument 2-D (a column arrives as a list of rows) and read
  with ``err_to_str``, so that an error cell (``#N/A`` from a lookup) arrives
  as the text ``#N/A`` and is reported, where xlwings' default would pass it
  as an empty cell and the row would look blank;
* a :class:`~yibao.functions.person.CellError` in the result (a number or
  date function on a row it cannot compute) becomes a real Excel error value:
  xlwings has no error type of its own for UDF results (xlwings issue #776;
  a returned string "#N/A" stays text, which SUM skips), so on Windows it is
  returned as a COM ``VT_ERROR`` variant, the value VBA's ``CVErr`` makes;
  elsewhere (no pywin32) as its code text.
"""
from __future__ import annotations

import functools

from yibao.functions.person import CellError
from yibao.functions.udf import REGISTRY

#: Excel's error codes as COM ``VT_ERROR`` scodes (0x800A0000 + the xlErr
#: number; the values xlwings' own reader maps back, ``_xlwindows.cell_errors``)
SCODES = {
    "#NULL!": -2146826288,
    "#DIV/0!": -2146826281,
    "#VALUE!": -2146826273,
    "#REF!": -2146826265,
    "#NAME?": -2146826259,
    "#NUM!": -2146826252,
    "#N/A": -2146826246,
}

CATEGORY = "医保征缴"


@functools.lru_cache(maxsize=1)
def _variant():
    """``(VARIANT, VT_ERROR)`` from pywin32, or None where it is not installed."""
    try:
        import pythoncom
        from win32com.client import VARIANT
    except ImportError:
        return None
    return VARIANT, pythoncom.VT_ERROR


def excel_value(value):
    """One result cell as Excel gets it: a CellError as an error value, the rest as it is."""
    if value.__class__ is not CellError:
        return value
    found = _variant()
    if found is None:
        return str(value)
    variant, vt_error = found
    return variant(vt_error, SCODES.get(str(value), SCODES["#VALUE!"]))


def to_excel(result):
    """A function's result (one value or a list of rows) for Excel."""
    if isinstance(result, list):
        return [[excel_value(v) for v in row] if isinstance(row, list) else excel_value(row) for row in result]
    return excel_value(result)


def excel_function(spec, func=None, arg=None):
    """``spec.func`` wrapped for Excel (:func:`to_excel`) and decorated with
    xlwings' ``func``/``arg`` (``xw.func``/``xw.arg``, which are
    ``xlwings.udfs.xlfunc``/``xlarg`` on Windows; given explicitly by the
    emulation of xlwings' call path in the tests and benchmarks)."""
    if func is None or arg is None:
        import xlwings as xw
        func, arg = xw.func, xw.arg
    pure = spec.func

    @functools.wraps(pure)             # xlwings reads the argument names through __wrapped__
    def call(*args):
        return to_excel(pure(*args))

    decorated = call
    for a in reversed(spec.args):
        decorated = arg(a.name, ndim=2, err_to_str=True, doc=a.help)(decorated)
    return func(category=CATEGORY, help=spec.help)(decorated)


globals().update({spec.name: excel_function(spec) for spec in REGISTRY.values()})
__all__ = [spec.name for spec in REGISTRY.values()]
