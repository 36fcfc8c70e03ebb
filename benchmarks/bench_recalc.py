"""Benchmark: a full recalculation of a ledger template's function cells,
through an emulation of xlwings' call path (issue 13 item 5).

Nobody here can run Excel, so the path Excel → VBA wrapper → xlwings COM
server → our function is emulated on Linux:

* **VBA side.** Each function cell runs the wrapper of its function. What a
  wrapper does is read from the wrapper's VBA text (:func:`wrapper_model`):
  whether it calls ``XLPy`` every time (xlwings' own wrappers: ``XLPy``
  looks up :data:`XLPY_SETTINGS` settings, each a read of ``yibao.conf``,
  counted from the installed ``xlwings_custom_addin.bas``) or keeps the
  server for the session (ours), and whether it passes ranges as Range
  objects or as their values, and the workbook and the caller.
* **Python side.** xlwings' own ``xlwings.udfs.call_udf`` runs, unchanged,
  over a stand-in for pywin32 and ``xlwings._xlwindows`` (:func:`stand_in`)
  whose Range, Sheet, Book and App make the same COM member accesses as
  xlwings 0.37.8's (``coords``, ``sheet``, ``book``, ``app``, ``pid``,
  ``raw_value``, ``is_range_instance``). Every member access on a COM object
  is one cross-process round trip, and is counted.
* **Column form.** The same cells as one call per column range (one array
  formula per column and page), the form the functions accept
  (:func:`column_calls`).

Reported per template size (300 and 5,000 data rows, the ledger of
shuangshui-2025 filled with fictional persons): calls, cross-process round
trips, settings lookups (= ``yibao.conf`` reads) and Python seconds (CPU,
``time.process_time``, inside ``call_udf``). Compare ratios within one run.

    python benchmarks/bench_recalc.py            # print the table
    python benchmarks/bench_recalc.py --write    # also update docs/performance.md
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import re
import sys
import time
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PLAN = "shuangshui-2025"
RANGE_IID = "{00020846-0000-0000-C000-000000000046}"


# ---------------------------------------------------------------- counting

@dataclasses.dataclass
class Counts:
    calls: int = 0          # function calls (VBA wrapper → Python)
    round_trips: int = 0    # cross-process COM round trips, either way
    settings: int = 0       # settings lookups by xlwings' VBA (each reads yibao.conf)
    python_s: float = 0.0   # CPU seconds inside xlwings' call_udf


# ---------------------------------------------------------------- the workbook behind the COM objects

class Cells:
    """A sheet's values: {(row, col): value}, 1-based."""

    def __init__(self, name: str, values: dict[tuple[int, int], object]):
        self.name = name
        self.values = values


class _TypeAttr:
    iid = RANGE_IID


class _TypeInfo:
    def __init__(self, counts: Counts):
        self._counts = counts

    def GetTypeAttr(self):                      # noqa: N802 (COM name)
        self._counts.round_trips += 1
        return _TypeAttr()


class _OleObj:
    def __init__(self, counts: Counts):
        self._counts = counts

    def GetTypeInfo(self):                      # noqa: N802
        self._counts.round_trips += 1
        return _TypeInfo(self._counts)


class ComObject:
    """A COM proxy: reading a member is a round trip to Excel."""

    _members: dict = {}

    def __init__(self, counts: Counts):
        object.__setattr__(self, "_counts", counts)
        object.__setattr__(self, "_oleobj_", _OleObj(counts))

    def __getattr__(self, name):
        getter = type(self)._members.get(name)
        if getter is None:
            raise AttributeError(name)
        self._counts.round_trips += 1
        return getter(self)


class ComApp(ComObject):
    _members = {"Hwnd": lambda self: 4242}


class ComBook(ComObject):
    _members = {"Application": lambda self: ComApp(self._counts)}


class ComSheet(ComObject):
    def __init__(self, counts, cells: Cells):
        super().__init__(counts)
        object.__setattr__(self, "cells", cells)

    _members = {"Parent": lambda self: ComBook(self._counts), "Name": lambda self: self.cells.name}


class _Count(ComObject):
    def __init__(self, counts, n):
        super().__init__(counts)
        object.__setattr__(self, "n", n)

    _members = {"Count": lambda self: self.n}


class ComRange(ComObject):
    def __init__(self, counts, cells: Cells, r1, c1, r2, c2):
        super().__init__(counts)
        for k, v in dict(cells=cells, r1=r1, c1=c1, r2=r2, c2=c2).items():
            object.__setattr__(self, k, v)

    def values(self):
        """What ``Range.Value`` gives: a scalar for one cell, else rows of tuples."""
        get = self.cells.values.get
        if (self.r1, self.c1) == (self.r2, self.c2):
            return get((self.r1, self.c1))
        return tuple(tuple(get((r, c)) for c in range(self.c1, self.c2 + 1))
                     for r in range(self.r1, self.r2 + 1))

    _members = {
        "Value": lambda self: self.values(),
        "Worksheet": lambda self: ComSheet(self._counts, self.cells),
        "Row": lambda self: self.r1,
        "Column": lambda self: self.c1,
        "Rows": lambda self: _Count(self._counts, self.r2 - self.r1 + 1),
        "Columns": lambda self: _Count(self._counts, self.c2 - self.c1 + 1),
    }


# ---------------------------------------------------------------- pywin32 and xlwings._xlwindows stand-in

def stand_in():
    """Import xlwings' real ``xlwings.udfs`` on Linux, over stand-ins for
    pywin32 and ``xlwings._xlwindows``; returns the module. The stand-in
    classes make the COM member accesses xlwings 0.37.8's make."""
    if _STAND_IN:
        return _STAND_IN["udfs"]
    saved = {name: sys.modules.get(name) for name in _STUBBED}
    for name in _STUBBED:
        sys.modules[name] = types.ModuleType(name)
    sys.modules["pythoncom"].CoInitialize = lambda: None
    sys.modules["pywintypes"].IID = iid = (lambda text: text)

    def dispatch(obj):
        # win32com.client.Dispatch of a PyIDispatch asks for its type information
        obj._oleobj_.GetTypeInfo().GetTypeAttr()
        return obj
    sys.modules["win32com.client"].Dispatch = dispatch

    import xlwings
    from xlwings import base_classes

    win = types.ModuleType("xlwings._xlwindows")
    time_types = (datetime.datetime,)
    cell_errors = {-2146826281: "#DIV/0!", -2146826246: "#N/A", -2146826259: "#NAME?",
                   -2146826288: "#NULL!", -2146826252: "#NUM!", -2146826265: "#REF!",
                   -2146826273: "#VALUE!"}

    def is_range_instance(xl_range):          # _xlwindows.py 374, verbatim
        pyid = getattr(xl_range, "_oleobj_", None)
        if pyid is None:
            return False
        return xl_range._oleobj_.GetTypeInfo().GetTypeAttr().iid == iid(RANGE_IID)

    def clean_element(value, datetime_builder, empty_as, number_builder, err_to_str):   # 455
        if value in ("", None):
            return empty_as
        elif isinstance(value, time_types):
            return datetime_builder(value.year, value.month, value.day, value.hour, value.minute,
                                    value.second, value.microsecond)
        elif number_builder is not None and isinstance(value, float):
            value = number_builder(value)
        elif isinstance(value, int) and value in cell_errors:
            return cell_errors[value] if err_to_str else None
        return value

    class Engine:
        name = "excel"
        type = "desktop"

        @staticmethod
        def prepare_xl_data_element(x, date_format):                                   # 483
            if isinstance(x, datetime.date) and not isinstance(x, datetime.datetime):
                return datetime.datetime(x.year, x.month, x.day)     # a COM date
            return "" if x is None else x

        @staticmethod
        def clean_value_data(data, datetime_builder, empty_as, number_builder, err_to_str):  # 501
            return [[clean_element(c, datetime_builder, empty_as, number_builder, err_to_str) for c in row]
                    for row in data]

    engine = Engine()

    class App(base_classes.App):              # 569: App(xl=...) reads its pid, i.e. Hwnd
        def __init__(self, xl=None, **_):
            self._xl = xl
            self._hwnd = None
            self._pid = self.pid

        @property
        def engine(self):
            return engine

        @property
        def hwnd(self):                       # 708
            if self._hwnd is None:
                self._hwnd = self._xl.Hwnd
            return self._hwnd

        @property
        def pid(self):                        # 718
            return self.hwnd

    class Book(base_classes.Book):            # 838, 858
        def __init__(self, xl):
            self.xl = xl

        @property
        def app(self):
            return App(xl=self.xl.Application)

    class Sheet(base_classes.Sheet):          # 994, 1015
        def __init__(self, xl):
            self.xl = xl

        @property
        def book(self):
            return Book(xl=self.xl.Parent)

    class Range(base_classes.Range):          # 1283
        def __init__(self, xl):
            self._xl = xl
            self._coords = None

        @property
        def xl(self):
            return self._xl

        @property
        def coords(self):                     # 1306
            if self._coords is None:
                self._coords = (self.xl.Worksheet, self.xl.Row, self.xl.Column,
                                self.xl.Rows.Count, self.xl.Columns.Count)
            return self._coords

        @property
        def sheet(self):                      # 1352
            return Sheet(xl=self.coords[0])

        @property
        def raw_value(self):                  # 1371
            return self.xl.Value if self.xl is not None else None

        @property
        def max_cells_per_read(self):
            return None

    for name, value in dict(Range=Range, Sheet=Sheet, Book=Book, App=App, Engine=Engine, engine=engine,
                            is_range_instance=is_range_instance, BOOK_CALLER=None).items():
        setattr(win, name, value)
    server = types.ModuleType("xlwings.com_server")
    server.loop = None
    sys.modules["xlwings._xlwindows"] = win
    try:
        import xlwings.udfs as udfs
    finally:
        for name, module in saved.items():       # nothing else in this process sees the stand-in
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        sys.modules.pop("xlwings.udfs", None)
        if getattr(xlwings, "udfs", None) is not None:
            del xlwings.udfs
    _STAND_IN.update(udfs=udfs, win=win, server=server, engine=xlwings.Engine(impl=engine))
    return udfs


@contextlib.contextmanager
def excel_side():
    """While a recalculation runs: what ``call_udf`` looks up at call time
    (``xlwings._xlwindows``, ``xlwings.com_server``, the "excel" engine)."""
    import xlwings
    stand_in()
    if _STAND_IN.get("depth"):
        yield
        return
    _STAND_IN["depth"] = 1
    sys.modules["xlwings._xlwindows"] = _STAND_IN["win"]
    sys.modules["xlwings.com_server"] = _STAND_IN["server"]
    xlwings._xlwindows = _STAND_IN["win"]
    xlwings.engines.engines_by_name["excel"] = _STAND_IN["engine"]
    try:
        yield
    finally:
        _STAND_IN["depth"] = 0
        sys.modules.pop("xlwings._xlwindows", None)
        sys.modules.pop("xlwings.com_server", None)
        del xlwings._xlwindows
        xlwings.engines.engines_by_name.pop("excel", None)


_STAND_IN: dict = {}
_STUBBED = ("pythoncom", "pywintypes", "win32com", "win32com.client", "xlwings.com_server", "xlwings._xlwindows")


def emulated_udf_module(name: str = "yibao_emulated_udfs"):
    """The registry's functions as ``yibao.addin.udfs`` makes them, decorated
    with xlwings' own ``xlfunc``/``xlarg`` as on Windows (every argument 2-D,
    error cells as their code), as a module ``call_udf`` can import."""
    udfs = stand_in()
    from yibao.functions.udf import REGISTRY
    import yibao.addin.udfs as ours
    module = types.ModuleType(name)
    for spec in REGISTRY.values():
        # the add-in's own shell (err_to_str arguments, error values out), with xlwings' decorators
        setattr(module, spec.name, ours.excel_function(spec, udfs.xlfunc, udfs.xlarg))
    module.__file__ = ours.__file__         # xlwings checks its time on every call, to reload
    sys.modules[name] = module
    with excel_side():
        udfs.get_udf_module(name, None)     # imported once per Python session, as on Windows
    return name


# ---------------------------------------------------------------- VBA side

def xlwings_vba() -> str:
    from yibao.addin import build
    return (build.xlwings_dir() / "xlwings_custom_addin.bas").read_text(encoding="utf-8")


def _body(text: str, header: str) -> str:
    start = text.index(header)
    return text[start:text.index("\nEnd ", start)]


def xlpy_settings(vba: str | None = None) -> int:
    """Settings ``XLPy`` looks up on each call (``XLPyLoadDLL`` and the Excel
    branch of ``XLPyCommand``), with ``INTERPRETER_WIN`` set as
    ``yibao addin install`` sets it (so the legacy ``INTERPRETER`` is not read)."""
    vba = vba or xlwings_vba()
    body = _body(vba, "Private Sub XLPyLoadDLL()") + _body(vba, "Function XLPyCommand()")
    return len(re.findall(r'GetConfig\("(?!INTERPRETER",)', _excel_branch(body)))


def _excel_branch(body: str) -> str:
    """The lines compiled in Excel: ``#Else`` branches of ``#If App`` dropped
    (they are for Word, Access, PowerPoint), nested ``#If`` followed."""
    keep, skipped = [], []        # per #If level: is the current branch skipped?
    for line in body.splitlines():
        word = line.strip().split(" ")[0]
        if word == "#If":                      # the Excel branch comes first
            skipped.append(bool(skipped) and skipped[-1])
        elif word in ("#Else", "#ElseIf"):
            skipped[-1] = True
        elif word == "#End" and skipped:
            skipped.pop()
        elif not (skipped and skipped[-1]):
            keep.append(line)
    return "\n".join(keep)


XLPY_SETTINGS = None


@dataclasses.dataclass(frozen=True)
class WrapperModel:
    """What a VBA wrapper module does per call, read from its text."""
    server_per_call: bool       # calls XLPy in every wrapper call
    ranges_as_values: bool      # Range arguments read to values inside Excel
    passes_book: bool           # ActiveWorkbook passed to CallUDF
    passes_caller: bool         # Application.Caller passed to CallUDF


def wrapper_model(text: str) -> WrapperModel:
    calls = re.findall(r"^.*\.CallUDF\(.*$", text, re.M)
    if not calls:
        raise ValueError("no CallUDF in the wrapper module")
    cached = re.search(r"If (\w+) Is Nothing Then Set \1 = XLPy", text) is not None
    return WrapperModel(
        server_per_call=any("XLPy.CallUDF" in c for c in calls) and not cached,
        ranges_as_values=re.search(r"If TypeOf (\w+\(\w+\)) Is Range Then \1 = \1\.Value", text) is not None,
        passes_book=any(re.search(r"\b(Active|This)Workbook\b", c) for c in calls),
        passes_caller=any("Application.Caller)" in c for c in calls),
    )


def xlwings_wrappers() -> str:
    """The wrappers xlwings' own Import Functions writes for our functions
    (``xlwings.udfs.generate_vba_wrapper``, run over the stand-in)."""
    import io
    udfs = stand_in()
    name = emulated_udf_module()

    class _Book:
        FullName = "C:\\台账.xlsx"
        Name = "台账.xlsx"
    out = io.StringIO()
    with excel_side():
        udfs.generate_vba_wrapper(name, sys.modules[name], out, _Book())
    return out.getvalue()


# ---------------------------------------------------------------- the template's calls

@dataclasses.dataclass
class Call:
    function: str
    args: list          # ("range", r1, c1, r2, c2) | ("value", v)
    at: tuple           # (r1, c1, r2, c2) of the cells it fills


_REF = re.compile(r"^\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?$")


def template_calls(ws, names: dict[str, tuple[int, int]], functions) -> list[Call]:
    """Every function cell of a sheet as a call (formula text parsed; our
    templates' formulas are ``=F(ref, ref, "", 方案编号)``)."""
    from openpyxl.utils import column_index_from_string as col
    calls = []
    for row in ws.iter_rows():
        for cell in row:
            text = cell.value
            if not (isinstance(text, str) and text.startswith("=")):
                continue
            m = re.match(r"^=([A-Z_]+)\((.*)\)$", text)
            if not m or m.group(1) not in functions:
                continue
            args = []
            for part in m.group(2).split(","):
                part = part.strip()
                ref = _REF.match(part)
                if part.startswith('"'):
                    args.append(("value", part[1:-1].replace('""', '"')))
                elif part in names:
                    r, c = names[part]
                    args.append(("range", r, c, r, c))
                elif ref:
                    c1, r1 = col(ref.group(1)), int(ref.group(2))
                    c2, r2 = (col(ref.group(3)), int(ref.group(4))) if ref.group(3) else (c1, r1)
                    args.append(("range", r1, c1, r2, c2))
                else:
                    raise ValueError(f"cannot emulate the argument {part!r} of {text}")
            calls.append(Call(m.group(1), args, (cell.row, cell.column, cell.row, cell.column)))
    return calls


def column_calls(calls: list[Call]) -> list[Call]:
    """The same cells, one call per run of consecutive rows of one column:
    each same-row reference becomes the column range over the run, fixed
    arguments (the plan-id cell, literals) stay."""
    out: list[Call] = []
    for call in sorted(calls, key=lambda call: (call.at[1], call.at[0])):
        prev = out[-1] if out else None
        r, c = call.at[0], call.at[1]
        if (prev and prev.function == call.function and prev.at[1] == c and prev.at[2] == r - 1
                and len(prev.args) == len(call.args) and all(_extends(a, b, r) for a, b in zip(prev.args, call.args))):
            prev.args = [_extend(a, b, r) for a, b in zip(prev.args, call.args)]
            prev.at = (prev.at[0], c, r, c)
        else:
            out.append(Call(call.function, list(call.args), call.at))
    return out


def _same_row(arg, r):
    return arg[0] == "range" and arg[1] == arg[3] == r and arg[2] == arg[4]


def _extends(prev, arg, r):
    if _same_row(arg, r):
        return prev[0] == "range" and prev[3] == r - 1 and prev[2] == prev[4] == arg[2]
    return prev == arg


def _extend(prev, arg, r):
    return ("range", prev[1], prev[2], r, prev[4]) if _same_row(arg, r) else prev


# ---------------------------------------------------------------- running a recalculation

class Session:
    """One Excel session with one wrapper module: runs calls through the
    wrapper model and xlwings' ``call_udf``, counting."""

    def __init__(self, model: WrapperModel, cells: Cells):
        self.model = model
        self.cells = cells
        self.counts = Counts()
        self.server = None
        self.udfs = stand_in()
        self.module = emulated_udf_module()
        global XLPY_SETTINGS
        if XLPY_SETTINGS is None:
            XLPY_SETTINGS = xlpy_settings()

    def _xlpy(self):
        self.counts.settings += XLPY_SETTINGS
        return "server"

    def call(self, call: Call):
        c = self.counts
        # VBA, inside Excel
        if self.model.server_per_call or self.server is None:
            self.server = self._xlpy()
        args = []
        for arg in call.args:
            if arg[0] == "value":
                args.append(arg[1])
                continue
            rng = ComRange(c, self.cells, *arg[1:])
            args.append(rng.values() if self.model.ranges_as_values else rng)
        book = ComBook(c) if self.model.passes_book else None
        caller = ComRange(c, self.cells, *call.at) if self.model.passes_caller else None
        c.calls += 1
        c.round_trips += 1                      # CallUDF: Excel → Python
        start = time.process_time()
        result = self.udfs.call_udf(self.module, call.function, tuple(args), book, caller)
        c.python_s += time.process_time() - start
        return result


def fill(cells: Cells, layout, people) -> None:
    """Write fictional persons into the ledger's input columns."""
    keys = {"id_no": "id_no", "identities": "identities", "pay_date": "pay_date",
            "enroll_type": "enroll_type", "event_date": "event_date", "employee_insured": "employee_insured"}
    rows = list(layout.data_rows())
    for r, person in zip(rows, people):
        for key, field in keys.items():
            if key not in layout.col:
                continue
            value = getattr(person, field)
            if field == "identities":
                value = "；".join(value) if value else None
            elif field in ("pay_date", "event_date") and value is not None:
                value = datetime.datetime(value.year, value.month, value.day)
            elif field == "employee_insured":
                value = "是" if value else None
            elif field == "enroll_type" and value == "普通":
                value = None
            cells.values[(r, layout.col[key])] = value
        if "name" in layout.col:
            cells.values[(r, layout.col["name"])] = "虚构"


def ledger(rows: int, plan_id: str = PLAN, persons: int | None = None):
    """(calls, cells, layout) of the ledger template with ``rows`` data rows,
    ``persons`` of them (default all) filled with fictional persons."""
    import openpyxl
    from yibao.functions import plan as plans
    from yibao.functions.udf import REGISTRY
    from yibao.templates import builder, content
    from yibao.templates.spec import form
    sys.path.insert(0, str(HERE))
    from synth import persons as synth_persons
    plan = plans.load(plan_id)
    shape = dataclasses.replace(form("ledger"), rows=rows)
    wb = builder._build_workbook(shape, plan, None, None, fit=False)
    ws = wb.worksheets[0]
    layout = builder.Layout(shape, plan, content.context(plan), fit=False)
    names = {}
    for name, dn in wb.defined_names.items():
        m = re.match(r"^'?[^!]*'?!\$([A-Z]+)\$(\d+)$", dn.attr_text)
        if m:
            names[name] = (openpyxl.utils.column_index_from_string(m.group(1)), int(m.group(2)))[::-1]
    values = {(c.row, c.column): c.value for row in ws.iter_rows() for c in row
              if c.value is not None and not (isinstance(c.value, str) and c.value.startswith("="))}
    cells = Cells(ws.title, values)
    fill(cells, layout, synth_persons(plan_id, rows if persons is None else persons))
    return template_calls(ws, names, set(REGISTRY)), cells, layout


def recalc(calls: list[Call], cells: Cells, model: WrapperModel) -> tuple[Counts, dict]:
    """A full recalculation; (counts, {(row, col): value shown})."""
    shown = {}
    with excel_side():
        session = Session(model, cells)
        results = [session.call(call) for call in calls]
    for call, result in zip(calls, results):
        r1, c1, r2, c2 = call.at
        grid = result if isinstance(result, list) else [[result]]
        for i, r in enumerate(range(r1, r2 + 1)):
            for j, c in enumerate(range(c1, c2 + 1)):
                shown[(r, c)] = grid[i][j]
    return session.counts, shown


# ---------------------------------------------------------------- report

def measure(rows: int):
    from yibao.addin import build
    calls, cells, _ = ledger(rows)
    before = wrapper_model(xlwings_wrappers())
    after = wrapper_model(build.source("yibao_udfs.bas"))
    out = {}
    for label, model, form in (("xlwings' wrappers, one call per cell", before, calls),
                               ("our wrappers, one call per cell", after, calls),
                               ("our wrappers, one call per column range", after, column_calls(calls))):
        best = None
        for _ in range(3):
            counts, _shown = recalc(form, cells, model)
            if best is None or counts.python_s < best.python_s:
                best = counts
        out[label] = best
    return out


def table(results: dict[int, dict]) -> str:
    lines = ["| template | path | function calls | cross-process round trips | settings lookups (yibao.conf reads) | Python CPU s |",
             "|---|---|---:|---:|---:|---:|"]
    for rows, by_path in results.items():
        base = None
        for label, c in by_path.items():
            base = base or c
            ratio = f" ({base.python_s / c.python_s:.1f}x less)" if c is not base and c.python_s else ""
            lines.append(f"| {rows:,} rows | {label} | {c.calls:,} | {c.round_trips:,} | {c.settings:,} | "
                         f"{c.python_s:.3f}{ratio} |")
    return "\n".join(lines)


MARK_START = "<!-- bench_recalc:start -->"
MARK_END = "<!-- bench_recalc:end -->"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    parser.add_argument("--rows", type=int, nargs="*", default=[300, 5000])
    args = parser.parse_args(argv)
    results = {rows: measure(rows) for rows in args.rows}
    text = table(results)
    print(f"XLPy settings lookups per call: {xlpy_settings()}")
    print(text)
    if args.write:
        doc = ROOT / "docs" / "performance.md"
        body = doc.read_text(encoding="utf-8")
        stamp = f"{datetime.date.today()}, Python {sys.version.split()[0]}"
        block = f"{MARK_START}\n_Measured {stamp}; XLPy looks up {xlpy_settings()} settings per call._\n\n{text}\n{MARK_END}"
        if MARK_START in body:
            body = re.sub(re.escape(MARK_START) + ".*?" + re.escape(MARK_END), lambda m: block, body, flags=re.S)
        else:
            body = body.rstrip("\n") + "\n\n" + block + "\n"
        doc.write_text(body, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
