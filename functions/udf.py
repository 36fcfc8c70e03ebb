"""The Excel functions: =PAYABLE(), =SUBSIDY_TIER(), =BENEFIT_START(), ...

Every function takes one cell or whole columns and returns the same shape,
so one array formula serves a 5,000-row ledger. Blank ID cells give blank
results, so a formula over a half-filled column stays clean.

A row that cannot be computed: the number and date functions (PAYABLE,
SUBSIDY_AMOUNT, BENEFIT_START, ID_AGE, ID_BIRTH) give the error value
``#VALUE!`` (a :class:`~yibao.functions.person.CellError`, which carries the
Chinese reason), so that a total over the column is an error instead of
silently leaving the person out; the text functions (SUBSIDY_TIER, FUNDING,
ID_CHECK, the 校验 column) give the Chinese reason (e.g.
``身份证号校验位不对，请逐位核对``). Never a traceback.

Cell values are read by :mod:`yibao.functions.person`, the one reading of a
row that ``yibao refresh``/``validate`` and ``yibao calc`` use too.

This module is pure: it imports neither xlwings nor pandas. Our registry
(:data:`REGISTRY`) keeps each function's name, arguments, result kind and
Chinese help; ``yibao.addin.udfs`` (what xlwings imports inside Excel) adds
xlwings' decorators from it, and the add-in build generates the VBA wrappers
from it.

Which plan: the last argument ``policy`` (a plan id such as
``shuangshui-2025`` or a path to a plan file). Our templates keep it in one
named cell (方案编号) that every formula refers to. Left empty, it falls back
to the ``YIBAO_POLICY`` environment variable, then to the default set with
``yibao policy use ID``.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import itertools
import os
from typing import Callable

from . import engine, idno
from . import person as reading
from . import plan as plans
from .person import VALUE_ERROR, blank as _blank, cell_error
from .picks import NUMERIC, PICKS, problem_value
from .values import BadValue

__all__ = ["REGISTRY", "PICKS", "UdfSpec", "ArgSpec", "default_policy_id"]


@dataclasses.dataclass(frozen=True)
class ArgSpec:
    name: str
    help: str
    optional: bool = False


@dataclasses.dataclass(frozen=True)
class UdfSpec:
    name: str
    func: Callable
    help: str
    args: tuple[ArgSpec, ...]
    #: "number", "date" or "text": what a cell holds; the number and date
    #: functions give a CellError for a row they cannot compute
    returns: str = "text"


REGISTRY: dict[str, UdfSpec] = {}


def _register(name: str, help: str, args: list[tuple[str, str, bool]], returns: str = "text"):
    """Record a function in the registry (the Excel shell, ``yibao.addin.udfs``,
    decorates it for xlwings: 2-D arguments, so a column arrives as a list of rows)."""
    specs = tuple(ArgSpec(*a) for a in args)

    def wrap(func):
        REGISTRY[name] = UdfSpec(name=name, func=func, help=help, args=specs, returns=returns)
        return func
    return wrap


# ---------------------------------------------------------------- shapes

def _is_grid(value) -> bool:
    return isinstance(value, (list, tuple))


def _as_grid(value):
    """Scalar → None; 1-D list → column; 2-D list → itself."""
    if not _is_grid(value):
        return None
    if value and not _is_grid(value[0]):
        return [[v] for v in value]
    return [list(row) for row in value]


def _shape(grid):
    return (len(grid), len(grid[0]) if grid else 0)


def _text_problem(message: str):
    return message


def _broadcast(func, *args, problem=_text_problem):
    """Apply ``func`` cell by cell over scalars and equal-shaped ranges;
    ranges of different shapes give ``problem(message)`` in every cell."""
    grids = [_as_grid(a) for a in args]
    shapes = {_shape(g) for g in grids if g is not None and _shape(g) != (1, 1)}
    if not shapes:
        if all(g is None for g in grids):
            return func(*args)
        cells = [g[0][0] if g is not None else a for g, a in zip(grids, args)]
        return [[func(*cells)]]
    if len(shapes) > 1:
        text = "参数区域大小不一致：" + "、".join(f"{r}行{c}列" for r, c in sorted(shapes))
        rows, cols = max(shapes)
        return [[problem(text)] * cols for _ in range(rows)]
    rows, cols = shapes.pop()
    count = rows * cols
    columns = []
    for grid, arg in zip(grids, args):
        if grid is None:
            columns.append(itertools.repeat(arg, count))
        elif _shape(grid) == (1, 1):
            columns.append(itertools.repeat(grid[0][0], count))
        else:
            columns.append(itertools.chain.from_iterable(grid))
    flat = list(itertools.starmap(func, zip(*columns)))
    return [flat[r * cols:(r + 1) * cols] for r in range(rows)]


# ---------------------------------------------------------------- policy

def _file_state(path) -> tuple[int, int] | None:
    """(mtime in ns, size) of a file, or None when it is missing: one stat."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


#: settings files and plans read by this process (the Excel session's Python
#: server): path -> (file state when read, what was read). A function call
#: looks at each file (one stat) and reads it again only when it changed
#: (issue 13 item 5: settings read once per session, not once per cell).
_READ: dict[str, tuple] = {}


def _read_once(path, read):
    state = _file_state(path)
    key = str(path)
    seen = _READ.get(key)
    if seen is None or seen[0] != state:
        seen = (state, read(path))
        _READ[key] = seen
    return seen[1]


def default_policy_id() -> str | None:
    env = os.environ.get("YIBAO_POLICY")
    if env:
        return env
    config = plans.user_plan_dir().parent / "default-policy.txt"
    if _file_state(config) is None:
        return None
    return _read_once(config, lambda p: p.read_text(encoding="utf-8").strip() or None)


@functools.lru_cache(maxsize=32)
def _plan_or_error(policy: str):
    """The plan an id or path names, found once per session."""
    try:
        return plans.load(policy), ""
    except plans.PlanError as exc:
        return None, exc.text()


def _plan(policy):
    if policy in (None, ""):
        policy = default_policy_id()
        if not policy:
            return None, "未指定方案：请在公式最后一个参数填方案编号（如 shuangshui-2025），或运行 yibao policy use 方案编号"
    plan, error = _plan_or_error(str(policy).strip())
    if plan is not None:
        # read again when the file changed since (an edited plan takes effect at the next recalculation)
        try:
            return _read_once(plan.path, plans.load), ""
        except plans.PlanError as exc:
            return None, exc.text()
    return None, error


# ---------------------------------------------------------------- person functions

def _result(plans_seen: dict, today, id_no, identities, pay_date, enroll_type, event_date,
            employee_insured, policy):
    """(Result, None) or (None, message); (None, '') for a blank row.

    ``plans_seen`` memoizes the policy lookup for the cells of one call."""
    if _blank(id_no):
        return None, ""
    key = None if _blank(policy) else str(policy).strip()
    if key not in plans_seen:
        plans_seen[key] = _plan(key)
    plan, error = plans_seen[key]
    if plan is None:
        return None, error
    try:
        person = reading.person(id_no, identities, pay_date, enroll_type, event_date, employee_insured)
    except BadValue as exc:
        return None, str(exc)
    result = engine.compute(plan, person, today)
    if not result.ok:
        return None, result.message
    return result, None


_PERSON_ARGS = [
    ("id_no", "身份证号（18位，单元格应为文本格式）", False),
    ("identities", "身份类别，可多个，用；分隔，如“低保对象；一二级残疾人”", True),
    ("pay_date", "缴费日期；空着按集中征缴期计算", True),
    ("enroll_type", "参保类型：普通、新生儿、职工医保转入、退役军人、新就业形态、特殊情形；空着为普通", True),
    ("event_date", "事件日期：职工医保待遇结束日、退出现役日等；新生儿不用填", True),
    ("employee_insured", "是否已参加职工医保：是/否（也可填√或×）；空着为否", True),
    ("policy", "方案编号，如 shuangshui-2025；空着用默认方案", True),
]


def _person_udf(name: str, help: str, pick: Callable):
    def problem(message):
        return problem_value(name, message)

    def udf(id_no, identities=None, pay_date=None, enroll_type=None, event_date=None,
            employee_insured=None, policy=None):
        plans_seen: dict = {}
        today = datetime.date.today()

        def cell(*args):
            result, message = _result(plans_seen, today, *args)
            return problem(message) if result is None else pick(result)

        return _broadcast(cell, id_no, identities, pay_date, enroll_type, event_date,
                          employee_insured, policy, problem=problem)

    udf.__name__ = udf.__qualname__ = name
    udf.__doc__ = help
    returns = ("date" if name == "BENEFIT_START" else "number") if name in NUMERIC else "text"
    return _register(name, help, _PERSON_ARGS, returns)(udf)


PAYABLE = _person_udf("PAYABLE", "个人应缴金额（元）：按方案扣除资助和代缴后本人要交的钱",
                      PICKS["PAYABLE"])
SUBSIDY_AMOUNT = _person_udf("SUBSIDY_AMOUNT", "资助金额（元）：政府资助与代缴合计",
                             PICKS["SUBSIDY_AMOUNT"])
SUBSIDY_TIER = _person_udf("SUBSIDY_TIER", "资助类别：多重身份时按方案规则选定的一个身份；无资助为空",
                           PICKS["SUBSIDY_TIER"])
FUNDING = _person_udf("FUNDING", "资金来源：如“医疗救助125元；财政125元”", PICKS["FUNDING"])
BENEFIT_START = _person_udf("BENEFIT_START", "待遇起始日期", PICKS["BENEFIT_START"])


# ---------------------------------------------------------------- ID functions

def _error_cell_message(id_no) -> str:
    return reading.error_message(id_no, reading.LABELS["id_no"])


def _id_cell(pick: Callable, returns: str):
    def cell(id_no, *extra):
        if _blank(id_no):
            return ""
        try:
            if cell_error(id_no):
                raise BadValue(_error_cell_message(id_no))
            number = idno.validate(id_no)
            return pick(number, *extra)
        except (idno.InvalidID, BadValue, plans.PlanError) as exc:
            return str(exc) if returns == "text" else VALUE_ERROR(str(exc))
    return cell


def _id_udf(name: str, help: str, pick: Callable, returns: str):
    cell = _id_cell(pick, returns)
    problem = _text_problem if returns == "text" else VALUE_ERROR

    def udf(id_no):
        return _broadcast(cell, id_no, problem=problem)

    udf.__name__ = udf.__qualname__ = name
    udf.__doc__ = help
    return _register(name, help, [("id_no", "身份证号", False)], returns)(udf)


def _check_cell(id_no):
    """The 校验 column: '' for a blank or valid number, else the Chinese reason
    (an error value such as #N/A is a problem, never 'OK')."""
    if _blank(id_no):
        return ""
    if cell_error(id_no):
        return _error_cell_message(id_no)
    return idno.check_message(id_no)


def _id_check(id_no):
    return _broadcast(_check_cell, id_no)


_id_check.__name__ = "ID_CHECK"
ID_CHECK = _register("ID_CHECK", "身份证号校验：有问题时返回中文说明，正确时为空", [("id_no", "身份证号", False)])(_id_check)

ID_BIRTH = _id_udf("ID_BIRTH", "身份证号中的出生日期", lambda n: idno.birth_of_valid(n), "date")
ID_GENDER = _id_udf("ID_GENDER", "身份证号对应的性别：男/女", lambda n: idno.gender(n), "text")
ID_PLACE = _id_udf("ID_PLACE", "身份证号前6位对应的地区（含已撤销的行政区划代码；代码表中没有的为空）",
                   lambda n: idno.birthplace(n), "text")


def age_day(plan: plans.Plan) -> datetime.date:
    """The day on which the plan decides a person's age when no other day is
    given (``ID_AGE`` without a date): :func:`engine.age_day` for a payment
    on the plan's default pay day (1 January of the insurance year in the
    seeds, whose collection precedes the year; ``[age] on``)."""
    return engine.age_day(plan, plan.default_pay_date)


def _age(number, on=None, policy=None):
    if _blank(on):
        plan, error = _plan(None if _blank(policy) else str(policy).strip())
        if plan is None:
            raise BadValue(error)
        day = age_day(plan)
    else:
        day = reading.date_of(on, "计算年龄的日期")
    return idno.age_from_birth(idno.birth_of_valid(number), day)


_age_cell = _id_cell(_age, "number")


def ID_AGE(id_no, on_date=None, policy=None):
    """周岁年龄（到指定日期；空着按方案确定年龄的日期）"""
    return _broadcast(_age_cell, id_no, on_date, policy, problem=VALUE_ERROR)


ID_AGE = _register("ID_AGE", "周岁年龄（到指定日期；空着按方案确定年龄的日期，如参保年度1月1日）",
                   [("id_no", "身份证号", False),
                    ("on_date", "计算年龄的日期；空着按方案确定年龄的日期", True),
                    ("policy", "方案编号，如 shuangshui-2025；空着用默认方案（只在未填日期时用到）", True)],
                   "number")(ID_AGE)


def _mask_cell(id_no):
    if _blank(id_no):
        return ""
    if cell_error(id_no):
        return _error_cell_message(id_no)
    return idno.mask(id_no)


def _mask(id_no):
    return _broadcast(_mask_cell, id_no)


_mask.__name__ = "MASK_ID"
MASK_ID = _register("MASK_ID", "公示用身份证号：只显示前6位和后4位", [("id_no", "身份证号", False)])(_mask)
