"""A county's work plan (工作方案) as data: loading, checking, finding.

One TOML file per plan. Every entry carries ``clause`` (where in the plan it
comes from, e.g. ``001 四(二)1``) and, where the plan is silent or garbled,
``interpretation`` (what we decided; reasons in ``docs/policies.md``).

Where plans live:

- presets ship inside the package (``yibao/functions/plans/*.toml``);
- a user's own plans live in the user plan folder: ``$YIBAO_HOME/plans`` if
  ``YIBAO_HOME`` is set, else ``%APPDATA%\\yibao\\plans`` on Windows and
  ``~/.yibao/plans`` elsewhere. A user plan with a preset's id wins.
- anywhere a plan id is asked for, a path to a ``.toml`` file works too.

:func:`check_file` returns every problem of a plan file as a Chinese message
that names the entry, so a county officer can fix next year's file without code.

This module is the only reader of the file: every section becomes a frozen
dataclass on :class:`Plan` (categories, rules, and for the actions ``cash``,
``milestones``, ``rewards``, ``work_fee``, ``deduction``, ``forms``,
``schedule``, ``steps``, ``open_questions``), checked at load; no dictionary
of the file is kept (``tests/test_plan.py`` scans the other modules for one).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import os
import math
import re
import sys
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from importlib import resources
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from . import identity
from .values import BadValue, fen

__all__ = [
    "ENROLL_TYPES", "PlanError", "Category", "Rule", "Plan",
    "Cash", "Milestone", "Reward", "WorkFee", "Deduction", "Forms", "Stage", "Step", "OpenQuestion", "OPEN_QUESTIONS",
    "parse_rate", "parse_share", "percent",
    "user_plan_dir", "list_plans", "find_plan_file", "load", "load_file", "check_file",
]

#: enrollment types known to the engine (``yibao calc``'s ``enroll_type``)
ENROLL_TYPES = ("普通", "新生儿", "职工医保转入", "退役军人", "新就业形态", "特殊情形")
SUBSIDY_KINDS = ("full", "none")
AMOUNTS = ("individual", "full_standard")
BENEFIT_FROM = ("year_start", "pay_date", "birth_date", "next_month")
EVENTS = ("birth", "event_date")
SELECTION_RULES = ("highest", "order")
#: which day decides a person's age (``[age] on``): see engine.age_day
AGE_ON = ("pay_date", "year_start", "year_reached")


class PlanError(Exception):
    """A plan that cannot be found, read or used; ``problems`` lists why."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or []

    def text(self, most: int = 5) -> str:
        """The message with the first ``most`` problems, for staff: a cell or
        a ribbon message must say what to fix, not only how many."""
        if not self.problems:
            return str(self)
        more = "……" if len(self.problems) > most else ""
        return f"{self}：" + "；".join(self.problems[:most]) + more


@dataclasses.dataclass(frozen=True, eq=False)
class Category:
    """One identity (身份类别) with its subsidy and where the money comes from."""

    name: str
    aliases: tuple[str, ...]
    kind: str                 # "full" | "amount" | "share" | "none"
    amount: int = 0           # fen, for kind "amount"
    share: Decimal = Decimal(0)   # for kind "share", 0..1 of the individual fee
    funding: tuple[tuple[str, str, object], ...] = ()  # (source, "share"|"amount", Decimal|fen)
    age_min: int | None = None
    age_max: int | None = None
    from_age: bool = False    # assigned from the ID's age, no list needed
    excluded_by: tuple[str, ...] = ()
    requires_any: tuple[dict, ...] = ()
    proxy: bool = False
    clause: str = ""
    interpretation: str = ""

    @property
    def subsidized(self) -> bool:
        return self.kind != "none"

    def conditions(self) -> list[tuple[str, str]]:
        """Every condition and exclusion of the category in words, as
        ("条件" | "排除", text): 001 四(二)2 低保边缘 only 60+, under 18 or
        重度残疾; 004 四 建档立卡 not when also 低保."""
        out = []
        if self.age_min is not None or self.age_max is not None:
            if self.age_max is None:
                ages = f"年满{self.age_min}周岁"
            elif self.age_min is None:
                ages = f"未满{self.age_max + 1}周岁"
            else:
                ages = f"{self.age_min}至{self.age_max}周岁"
            out.append(("条件", ("按身份证号算出的年龄自动认定：" if self.from_age else "仅限") + ages))
        if self.requires_any:
            alts = self.alternatives()
            out.append(("条件", "仅限" + "、".join(alts[:-1]) + ("或" if len(alts) > 1 else "") + alts[-1] + "的"))
        for other in self.excluded_by:
            out.append(("排除", f"同时是{other}的，不按本类资助（按{other}）"))
        return out

    def alternatives(self) -> list[str]:
        """``requires_any`` in words, one string per alternative (its parts
        joined by 且): 001 四(二)2 → ["年满60周岁", "未满18周岁", "同时为重度残疾人"]."""
        alts = []
        for cond in self.requires_any:
            parts = []
            if "age_min" in cond:
                parts.append(f"年满{cond['age_min']}周岁")
            if "age_max" in cond:
                parts.append(f"未满{cond['age_max'] + 1}周岁")
            if "holds" in cond:
                parts.append(f"同时为{cond['holds']}")
            alts.append("且".join(parts))
        return alts

    def subsidy_fen(self, fee: int) -> int:
        """The subsidy toward a fee of ``fee`` fen, never more than the fee."""
        if self.kind == "full":
            return fee
        if self.kind == "amount":
            return min(self.amount, fee)
        if self.kind == "share":
            return int((self.share * fee).to_integral_value(rounding="ROUND_HALF_UP"))
        return 0


@dataclasses.dataclass(frozen=True, eq=False)
class Rule:
    """A payment window for some people: who, when, how much, benefits from."""

    index: int
    name: str
    start: datetime.date
    end: datetime.date
    amount: str
    subsidy: bool
    benefit_from: str
    types: frozenset | None = None     # None: every enrollment type
    holds_any: frozenset = frozenset()
    subsidized_only: bool = False
    event: str | None = None
    within_days: int | None = None
    born_between: tuple | None = None
    event_between: tuple | None = None
    wait_days: int = 0
    clause: str = ""
    interpretation: str = ""
    note: str = ""


# ---------------------------------------------------------------- the work sections

@dataclasses.dataclass(frozen=True)
class Cash:
    """``[cash]`` 现金代收缴库: cash collected by village agents is deposited
    the same day (``same_day``), at the latest ``max_days`` days after it was
    collected (0: the same day), and all of it by ``deadline`` (or None).
    002 四(二): 当日缴库，最迟不超过3天，12月31日前全部缴库; 004 六(一): 当天缴存."""

    same_day: bool
    max_days: int
    deadline: datetime.date | None
    clause: str
    interpretation: str = ""

    def wording(self, day=str) -> str:
        """'当日缴库，最迟收款后3天内缴库，2020-12-31前全部缴库' (``day``
        formats the deadline) for show and schedules."""
        limit = "收款当天必须缴存" if self.max_days == 0 else (
            ("当日缴库，" if self.same_day else "") + f"最迟收款后{self.max_days}天内缴库")
        return limit + (f"，{day(self.deadline)}前全部缴库" if self.deadline else "")


@dataclasses.dataclass(frozen=True)
class Milestone:
    """``[[milestone]]`` a progress target: ``rate`` (exact fraction of the
    target count) by ``date``, or with no date a standing target for the
    season; ``above`` for "超过" (strictly more than the rate, 000 四(二)
    确保覆盖率超过98%) instead of "达到" (at least)."""

    date: datetime.date | None
    rate: Fraction
    rate_text: str        # as the plan writes it: "95%"
    above: bool
    clause: str
    wording: str = ""     # the plan's own words, for show
    interpretation: str = ""

    @property
    def text(self) -> str:
        """'95%' or '超过98%'."""
        return ("超过" if self.above else "") + self.rate_text

    @property
    def label(self) -> str:
        """'12月31日前完成95%' / '参保率超过98%'."""
        if self.date is None:
            return f"参保率{'超过' if self.above else '达到'}{self.rate_text}"
        return f"{self.date.month}月{self.date.day}日前完成{self.text}"

    @property
    def header(self) -> str:
        """A column header: '12月31日前应完成（95%）', '征缴期应完成（超过98%）'."""
        if self.date is None:
            return f"征缴期应完成（{self.text}）"
        return f"{self.date.month}月{self.date.day}日前应完成（{self.text}）"

    def need(self, target: int) -> int:
        """Persons needed out of ``target``: at least rate×target rounded up,
        or for "超过" the least count strictly above it."""
        if self.above:
            return math.floor(target * self.rate) + 1
        return math.ceil(target * self.rate)

    def due(self, on: datetime.date) -> bool:
        """Whether the date has come (never for a standing target)."""
        return self.date is not None and on >= self.date


@dataclasses.dataclass(frozen=True)
class Reward:
    """``[[reward]]`` 奖励: a village reaching ``rate`` by ``by`` earns
    ``per_person`` fen per insured person (004 五(三)2)."""

    by: datetime.date
    rate: Fraction
    rate_text: str
    per_person: int       # fen
    clause: str

    @property
    def label(self) -> str:
        return f"{self.by.month}月{self.by.day}日前完成{self.rate_text}"


@dataclasses.dataclass(frozen=True)
class WorkFee:
    """``[work_fee]`` 工作经费: ``per_person`` fen per insured person (004 五(三)1)."""

    per_person: int       # fen
    per_person_text: str  # "0.2" as written, for headers and formulas
    clause: str
    interpretation: str = ""


@dataclasses.dataclass(frozen=True)
class Deduction:
    """``[deduction]`` 扣减: a village below ``min_rate`` overall, or below
    ``min_poor_rate`` among the poor, loses work fee (004 六(二)). Rates are
    exact fractions with their written text, or None."""

    min_rate: Fraction | None
    min_rate_text: str
    min_poor_rate: Fraction | None
    min_poor_rate_text: str
    clause: str


@dataclasses.dataclass(frozen=True)
class Forms:
    """``[forms]`` what the plan's paper forms ask: ``copies`` of the
    register, its 户属性 list, the per-page counts (页计) and the signatures
    (004 六(一)、附件2)."""

    copies: int = 1
    household_types: tuple[str, ...] = ()
    page_counts: tuple[str, ...] = ()     # "参加居民医保户数", "纯低保户", …
    signatures: tuple[str, ...] = ()      # "收款填表人", "缴费操作人", …
    clause: str = ""

    def types_for(self, count: str) -> tuple[str, ...]:
        """The 户属性 that make a household count for a 纯 page count:
        '纯低保户' → ('一般低保户',) on 004 附件2 (one kind only, so not
        社会保障兜底户 nor a 建档立卡低保户)."""
        markers = {"纯低保户": ("低保",), "纯建档立卡": ("建档立卡", "脱贫"), "纯三四级残疾": ("三四级",)}
        mine = markers.get(count, ())
        others = [m for k, ms in markers.items() if k != count for m in ms] + ["兜底"]
        return tuple(t for t in self.household_types
                     if any(m in t for m in mine) and not any(m in t.replace("非低保", "") for m in others))


@dataclasses.dataclass(frozen=True)
class Stage:
    """``[[schedule]]`` a stage of the work (002 五: 宣传发动、参保缴费、缴费公示)."""

    stage: str
    start: datetime.date
    end: datetime.date
    clause: str


@dataclasses.dataclass(frozen=True)
class Step:
    """``[[step]]`` a dated piece of work inside the stages: a check round,
    an inspection, a deadline (002 附件1 四次排查、两次督查; 002 资助流程
    名单9月30日前、死亡名单12月20日前). ``start`` is None for a deadline."""

    name: str
    start: datetime.date | None
    end: datetime.date
    what: str
    clause: str
    interpretation: str = ""

    @property
    def when(self) -> str:
        if self.start is None or self.start == self.end:
            return f"{_cn_day(self.end)}前" if self.start is None else _cn_day(self.end)
        return f"{_cn_day(self.start)}至{_cn_day(self.end, self.start)}"


#: the per-page counts (页计) the summary and register can give (004 附件2)
PAGE_COUNTS = ("参加居民医保户数", "参加居民医保人数", "纯低保户", "纯建档立卡", "纯三四级残疾")

#: What the plans leave open (``[open.<key>]``): key → (allowed values, default,
#: the question, what each value means). A county changes the value, not code.
OPEN_QUESTIONS = {
    "tie_funding": (
        ("order", "shared"), "order",
        "同额资助、资金来源不同的身份重叠时，资助资金由谁承担",
        {"order": "排在 [selection] order 前面的身份的资金来源全部承担",
         "shared": "同额的各身份平均分担，各按自己的资金来源"}),
    "wait_count": (
        ("pay_date_plus", "civil_code"), "pay_date_plus",
        "待遇等待期的天数怎么数",
        {"pay_date_plus": "缴费当日算第1天：待遇自缴费日加等待天数之日起",
         "civil_code": "按民法典第二百零一条，缴费当日不计入、自次日起算，期满次日起享受（比前者晚1天）"}),
    "proxy_windows": (
        None, "all",
        "代缴（[proxy]）是否也适用于集中征缴期以外的缴费期",
        {"all": "凡可享受资助的缴费期都代缴", "list": "只在所列缴费期（[[rule]] 的 name）代缴"}),
}


@dataclasses.dataclass(frozen=True)
class OpenQuestion:
    """One answer to a question the plan leaves open (see :data:`OPEN_QUESTIONS`)."""

    key: str
    value: object         # str, or for proxy_windows "all" or a tuple of rule names
    written: bool         # False: the default, the plan file does not say
    question: str
    meaning: str
    clause: str = ""
    interpretation: str = ""


def _cn_day(day: datetime.date, year_of: datetime.date | None = None) -> str:
    if year_of is not None and year_of.year == day.year:
        return f"{day.month}月{day.day}日"
    return f"{day.year}年{day.month}月{day.day}日"


@dataclasses.dataclass(frozen=True, eq=False)
class Plan:
    id: str
    name: str
    county: str
    town: str
    year: int
    seed: str
    individual: int            # fen
    fiscal: int                # fen
    year_start: datetime.date
    year_end: datetime.date
    age_reference: datetime.date
    enroll_types: tuple[str, ...]
    default_pay_date: datetime.date
    no_window_message: str
    employee_message: str
    selection: str
    order: tuple[str, ...]
    categories: tuple[Category, ...]
    rules: tuple[Rule, ...]
    proxy_source: str | None
    proxy_payer: str | None
    path: str = ""
    age_on: str = "pay_date"   # [age] on: which day decides age (engine.age_day)
    age_interpretation: str = ""  # [age] interpretation: the county's reading, shown by policy show
    # the sections the actions read, typed and checked at load
    published: datetime.date | None = None
    cash: Cash | None = None
    milestones: tuple[Milestone, ...] = ()     # by date (standing targets last), then rate
    rewards: tuple[Reward, ...] = ()
    work_fee: WorkFee | None = None
    deduction: Deduction | None = None
    forms: Forms = Forms()
    schedule: tuple[Stage, ...] = ()
    steps: tuple[Step, ...] = ()               # by date
    open_questions: tuple[OpenQuestion, ...] = ()   # [open.*], every key (defaults too)
    clauses: tuple[tuple[str, str], ...] = ()  # (section, clause) of [fee], [scope], [selection], [proxy], …

    def clause_of(self, section: str) -> str:
        """The clause a section cites (``"selection"`` → ``"000 二(二)"``), or ''."""
        return dict(self.clauses).get(section, "")

    def answer(self, key: str):
        """The value of an open question (:data:`OPEN_QUESTIONS`), default if unwritten."""
        for q in self.open_questions:
            if q.key == key:
                return q.value
        return OPEN_QUESTIONS[key][1]

    @functools.cached_property
    def proxy_rules(self) -> frozenset | None:
        """Names of the rules where 代缴 applies, or None for every subsidized window."""
        value = self.answer("proxy_windows")
        return None if value == "all" else frozenset(value)

    @property
    def full_standard(self) -> int:
        """个人缴费 + 财政补助, in fen."""
        return self.individual + self.fiscal

    @functools.cached_property
    def by_key(self) -> dict[str, Category]:
        table = {}
        for cat in self.categories:
            for name in (cat.name, *cat.aliases):
                table[identity.key(name)] = cat
        return table

    @functools.cached_property
    def by_name(self) -> dict[str, Category]:
        return {cat.name: cat for cat in self.categories}

    @functools.cached_property
    def rank(self) -> dict[str, int]:
        """Position in the plan's order; categories not listed follow in file order."""
        ranks = {name: i for i, name in enumerate(self.order)}
        for i, cat in enumerate(self.categories):
            ranks.setdefault(cat.name, len(self.order) + i)
        return ranks

    @functools.cached_property
    def _age_cuts(self) -> list[int]:
        cuts = set()
        for c in self.categories:
            if c.age_min is not None:
                cuts.add(c.age_min)
            if c.age_max is not None:
                cuts.add(c.age_max + 1)
            for cond in c.requires_any:
                if "age_min" in cond:
                    cuts.add(cond["age_min"])
                if "age_max" in cond:
                    cuts.add(cond["age_max"] + 1)
        return sorted(cuts)

    def age_class(self, age: int) -> int:
        """The smallest age with the same standing under every age rule of
        the plan as ``age`` (so decisions can be shared between ages)."""
        cuts = self._age_cuts
        below = [c for c in cuts if c <= age]
        return below[-1] if below else 0

    def category_names(self) -> list[str]:
        return [c.name for c in self.categories]

    def lookup(self, name: str) -> Category | None:
        """The category an identity name stands for, or None."""
        return self.by_key.get(identity.key(name))


# ---------------------------------------------------------------- finding

def user_plan_dir() -> Path:
    """The folder for a user's own plan files (see module docstring)."""
    home = os.environ.get("YIBAO_HOME")
    if home:
        return Path(home) / "plans"
    if os.name == "nt" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "yibao" / "plans"
    return Path.home() / ".yibao" / "plans"


def _preset_files() -> dict[str, Path]:
    folder = resources.files("yibao.functions.plans")
    return {p.name[:-5]: Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml")}


def list_plans() -> list[tuple[str, Path, str]]:
    """(id, path, origin) for every plan, origin being '内置' or '用户'."""
    found = {pid: (pid, path, "内置") for pid, path in _preset_files().items()}
    folder = user_plan_dir()
    if folder.is_dir():
        for path in sorted(folder.glob("*.toml")):
            found[path.stem] = (path.stem, path, "用户")
    return [found[k] for k in sorted(found)]


def find_plan_file(plan_id: str) -> Path:
    """The file of a plan id, or of a path given instead of an id."""
    text = str(plan_id).strip()
    if text.endswith(".toml") or os.sep in text or "/" in text:
        path = Path(text)
        if not path.is_file():
            raise PlanError(f"找不到方案文件：{text}")
        return path
    for pid, path, _origin in list_plans():
        if pid == text:
            return path
    known = "、".join(pid for pid, _p, _o in list_plans())
    raise PlanError(f"没有名为“{text}”的方案。现有方案：{known}")


@functools.lru_cache(maxsize=64)
def _load_cached(path: str, mtime: float) -> Plan:
    return load_file(path)


def load(plan_id) -> Plan:
    """Load a plan by id or path (cached until the file changes)."""
    if isinstance(plan_id, Plan):
        return plan_id
    path = find_plan_file(plan_id)
    return _load_cached(str(path), path.stat().st_mtime)


def load_file(path) -> Plan:
    """Read, check and build a plan; raises :class:`PlanError` listing problems."""
    data = _read(path)
    problems: list[str] = []
    plan = _build(data, problems, str(path))
    if problems:
        raise PlanError(f"方案文件 {path} 有 {len(problems)} 处错误", problems)
    return plan


def check_file(path) -> list[str]:
    """Every problem of a plan file, as Chinese messages; empty when fine."""
    try:
        data = _read(path)
    except PlanError as exc:
        return [str(exc)]
    problems: list[str] = []
    _build(data, problems, str(path))
    return problems


def _read(path) -> dict:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
        # Notepad and WPS save "UTF-8" with a byte-order mark, which TOML rejects
        return tomllib.loads(raw.decode("utf-8-sig"))
    except FileNotFoundError:
        raise PlanError(f"找不到方案文件：{path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"方案文件 {path} 格式错误（TOML）：{exc}") from None
    except UnicodeDecodeError:
        raise PlanError(f"方案文件 {path} 不是UTF-8编码，请用UTF-8保存") from None


# ---------------------------------------------------------------- building

class _Entry:
    """Reads one table of the file, recording problems under the entry's name."""

    def __init__(self, table, label: str, problems: list[str]):
        self.table = table if isinstance(table, dict) else {}
        self.label = label
        self.problems = problems
        if not isinstance(table, dict):
            self.fail("应为一个表（[...]）")

    def fail(self, message: str):
        self.problems.append(f"{self.label}：{message}")

    def text(self, key, default=None, required=True) -> str:
        value = self.table.get(key, default)
        if value is None:
            if required:
                self.fail(f"缺少 {key}")
            return ""
        if not isinstance(value, str):
            self.fail(f"{key} 应为文字")
            return str(value)
        return value

    def date(self, key, required=True):
        value = self.table.get(key)
        if value is None:
            if required:
                self.fail(f"缺少日期 {key}")
            return None
        if isinstance(value, datetime.datetime):
            value = value.date()
        if not isinstance(value, datetime.date):
            self.fail(f"{key} 应为日期，写成 2024-10-15（不加引号）")
            return None
        return value

    def money(self, key, value=None, required=True) -> int:
        value = self.table.get(key) if value is None else value
        if value is None:
            if required:
                self.fail(f"缺少金额 {key}")
            return 0
        try:
            amount = fen(value)
        except BadValue as exc:
            self.fail(f"{key}：{exc}")
            return 0
        if amount < 0:
            self.fail(f"{key} 金额不能为负数（{value}）")
        return amount

    def integer(self, key, default=None, minimum=0):
        value = self.table.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{key} 应为整数")
            return None
        if value < minimum:
            self.fail(f"{key} 不能小于{minimum}（{value}）")
        return value

    def names(self, key) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"{key} 应为文字列表")
            return ()
        return tuple(value)

    def choice(self, key, allowed, default=None) -> str:
        value = self.table.get(key, default)
        if value not in allowed:
            self.fail(f"{key} 为“{value}”，只能是：{'、'.join(map(str, allowed))}")
            return allowed[0]
        return value

    def flag(self, key, default=False) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{key} 应为 true 或 false")
            return default
        return value


def percent(share: Decimal) -> str:
    """Decimal('1.3') → '130%'.

    >>> percent(Decimal('0.5')), percent(Decimal('1.3'))
    ('50%', '130%')
    """
    return f"{(share * 100).normalize():f}%"


def parse_share(value) -> Decimal:
    """'50%' → Decimal('0.5'); raises BadValue.

    >>> parse_share('50%'), parse_share('100%')
    (Decimal('0.5'), Decimal('1'))
    """
    text = str(value).strip()
    if not text.endswith("%"):
        raise BadValue(f"比例“{value}”应写成百分数，如“50%”")
    try:
        return Decimal(text[:-1]) / 100
    except InvalidOperation:
        raise BadValue(f"无法识别的比例“{value}”") from None


def _subsidy_of(entry: _Entry, individual: int):
    raw = entry.table.get("subsidy")
    if raw in SUBSIDY_KINDS:
        return raw, 0, Decimal(0)
    if isinstance(raw, str) and raw.strip().endswith("%"):
        try:
            share = parse_share(raw)
        except BadValue as exc:
            entry.fail(f"subsidy：{exc}")
            return "none", 0, Decimal(0)
        if not 0 <= share <= 1:
            entry.fail(f"资助比例{raw}应在0%到100%之间")
        return "share", 0, share
    if raw is None:
        entry.fail("缺少 subsidy（full、none、金额如\"200\"或比例如\"50%\"）")
        return "none", 0, Decimal(0)
    amount = entry.money("subsidy")
    if amount > individual:
        entry.fail(f"资助金额{raw}元超过个人缴费标准")
    return "amount", amount, Decimal(0)


def _funding_of(entry: _Entry, kind: str, amount: int, share: Decimal, individual: int):
    raw = entry.table.get("funding", {})
    if not isinstance(raw, dict):
        entry.fail("funding 应写成 { \"来源\" = \"100%\" } 或 { \"来源\" = \"125\" }")
        return ()
    if kind == "none":
        if raw:
            entry.fail("不资助的身份（subsidy = \"none\"）不应有 funding")
        return ()
    if not raw:
        entry.fail("资助身份缺少 funding（资金来源）")
        return ()
    parts = []
    shares = [v for v in raw.values() if isinstance(v, str) and v.strip().endswith("%")]
    if shares and len(shares) != len(raw):
        entry.fail("funding 不能混用比例和金额")
        return ()
    if shares:
        total = Decimal(0)
        for source, value in raw.items():
            try:
                part = parse_share(value)
            except BadValue as exc:
                entry.fail(f"funding“{source}”：{exc}")
                continue
            if part < 0:
                entry.fail(f"funding“{source}”比例不能为负数")
            if part > 1:
                entry.fail(f"funding“{source}”比例{value}超过100%")
            total += part
            parts.append((source, "share", part))
        if parts and total != 1:
            entry.fail(f"funding 各来源比例合计应为100%，现为{percent(total)}")
        return tuple(parts)
    total = 0
    for source, value in raw.items():
        part = entry.money(f"funding“{source}”", value)
        total += part
        parts.append((source, "amount", part))
    expected = {"full": individual, "amount": amount}.get(kind)
    if kind == "share":
        expected = int(share * individual)
    if expected is not None and total != expected:
        entry.fail(f"funding 各来源金额合计{total / 100:g}元，与资助金额{expected / 100:g}元不符")
    return tuple(parts)


def _build(data: dict, problems: list[str], path: str) -> Plan | None:
    top = _Entry(data, "方案", problems)
    plan_id = top.text("id")
    if plan_id and not PLAN_ID.fullmatch(plan_id):
        # it goes into formulas and file names: =PAYABLE(..., "shili-2027")
        top.fail(f"id“{plan_id}”{PLAN_ID_RULE}，如 shili-2027")
    fee = _Entry(data.get("fee", {}), "[fee] 缴费标准", problems)
    individual = fee.money("individual")
    fiscal = fee.money("fiscal")
    year_table = _Entry(data.get("insurance_year", {}), "[insurance_year] 待遇年度", problems)
    year_start = year_table.date("start")
    year_end = year_table.date("end")
    if year_start and year_end and year_start > year_end:
        year_table.fail("start 晚于 end")
    age = _Entry(data.get("age", {}), "[age] 年龄计算", problems)
    age_reference = age.date("reference")
    age_on = age.choice("on", AGE_ON, "pay_date")
    scope = _Entry(data.get("scope", {}), "[scope] 参保范围", problems)
    scope.choice("employee_insured", ("excluded",), "excluded")
    enrollment = _Entry(data.get("enrollment", {}), "[enrollment] 参保类型", problems)
    enroll_types = enrollment.names("types") or ("普通",)
    for name in enroll_types:
        if name not in ENROLL_TYPES:
            enrollment.fail(f"未知参保类型“{name}”，可选：{'、'.join(ENROLL_TYPES)}")

    # categories
    categories = []
    seen_keys: dict[str, str] = {}
    defined_at: dict[str, int] = {}
    raw_categories = data.get("category", [])
    if not isinstance(raw_categories, list) or not raw_categories:
        top.fail("至少要有一个 [[category]] 身份类别")
        raw_categories = []
    for i, table in enumerate(raw_categories, 1):
        name = table.get("name") if isinstance(table, dict) else None
        entry = _Entry(table, f"[[category]] 第{i}项“{name or '?'}”", problems)
        name = entry.text("name")
        aliases = entry.names("aliases")
        if name in defined_at:
            # the engine's lookups would keep only one of them: the other silently lost
            entry.fail(f"身份“{name}”定义了两次（第{defined_at[name]}项和第{i}项），请合并成一项")
        defined_at.setdefault(name, i)
        for alias in (name, *aliases):
            k = identity.key(alias)
            if k in seen_keys and seen_keys[k] != name:
                entry.fail(f"名称“{alias}”与身份“{seen_keys[k]}”重复")
            seen_keys[k] = name
        kind, amount, share = _subsidy_of(entry, individual)
        funding = _funding_of(entry, kind, amount, share, individual)
        requires_any = table.get("requires_any", []) if isinstance(table, dict) else []
        if not isinstance(requires_any, list) or not all(isinstance(r, dict) for r in requires_any):
            entry.fail("requires_any 应为条件列表，如 [{ age_min = 60 }, { holds = \"重度残疾人\" }]")
            requires_any = []
        for cond in requires_any:
            unknown = set(cond) - {"age_min", "age_max", "holds"}
            if unknown or not cond:
                entry.fail(f"requires_any 条件只能用 age_min、age_max、holds（见到：{'、'.join(unknown) or '空条件'}）")
        age_min = entry.integer("age_min")
        age_max = entry.integer("age_max")
        if age_min is not None and age_max is not None and age_min > age_max:
            entry.fail(f"age_min {age_min} 大于 age_max {age_max}")
        from_age = entry.flag("from_age")
        if from_age and age_min is None and age_max is None:
            entry.fail("from_age = true 需要 age_min 或 age_max")
        proxy = entry.flag("proxy")
        if proxy and kind != "none":
            entry.fail("代缴身份（proxy = true）应写 subsidy = \"none\"")
        entry.text("clause")
        categories.append(Category(
            name=name, aliases=aliases, kind=kind, amount=amount, share=share, funding=funding,
            age_min=age_min, age_max=age_max, from_age=from_age,
            excluded_by=entry.names("excluded_by"), requires_any=tuple(requires_any),
            proxy=proxy, clause=entry.text("clause", required=False),
            interpretation=entry.text("interpretation", required=False),
        ))
    names = {c.name for c in categories}

    def known(entry: _Entry, name: str, what: str):
        if name not in names:
            entry.fail(f"{what}中的“{name}”不是本方案的身份类别（现有：{'、'.join(sorted(names))}）")

    for i, cat in enumerate(categories, 1):
        entry = _Entry({}, f"[[category]] 第{i}项“{cat.name}”", problems)
        for other in cat.excluded_by:
            known(entry, other, "excluded_by")
        for cond in cat.requires_any:
            if "holds" in cond:
                known(entry, cond["holds"], "requires_any")

    selection = _Entry(data.get("selection", {}), "[selection] 多重身份", problems)
    rule_kind = selection.choice("rule", SELECTION_RULES)
    order = selection.names("order")
    for name in order:
        known(selection, name, "order")
    if len(set(order)) != len(order):
        selection.fail("order 中有重复的身份")
    if rule_kind == "order":
        missing = [c.name for c in categories if c.subsidized and c.name not in order]
        if missing:
            selection.fail(f"严格顺序（rule = \"order\"）须列出全部资助身份，缺：{'、'.join(missing)}")

    proxy_table = data.get("proxy")
    proxy_source = proxy_payer = None
    if proxy_table is not None:
        entry = _Entry(proxy_table, "[proxy] 代缴", problems)
        proxy_source = entry.text("funding_source")
        proxy_payer = entry.text("payer")
        entry.text("clause")
    elif any(c.proxy for c in categories):
        top.fail("有代缴身份（proxy = true）却没有 [proxy] 表")

    # rules
    rules = []
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list) or not raw_rules:
        top.fail("至少要有一条 [[rule]] 缴费期规则")
        raw_rules = []
    for i, table in enumerate(raw_rules, 1):
        name = table.get("name") if isinstance(table, dict) else None
        entry = _Entry(table, f"[[rule]] 第{i}条“{name or '?'}”", problems)
        start, end = entry.date("start"), entry.date("end")
        if start and end and start > end:
            entry.fail(f"缴费期开始{start}晚于结束{end}")
        types = entry.names("types") if "types" in entry.table else None
        for t in types or ():
            if t not in ENROLL_TYPES:
                entry.fail(f"未知参保类型“{t}”，可选：{'、'.join(ENROLL_TYPES)}")
        holds = entry.names("holds_any")
        for h in holds:
            known(entry, h, "holds_any")
        event = entry.table.get("event")
        if event is not None and event not in EVENTS:
            entry.fail(f"event 为“{event}”，只能是：{'、'.join(EVENTS)}")
        within = entry.integer("within_days")
        if within is not None and event is None:
            entry.fail("within_days 需要同时写 event（birth 或 event_date）")
        pairs = {}
        for key in ("born_between", "event_between"):
            value = entry.table.get(key)
            if value is None:
                continue
            ok = (isinstance(value, list) and len(value) == 2
                  and all(isinstance(v, datetime.date) for v in value))
            if not ok:
                entry.fail(f"{key} 应为两个日期，如 [2025-10-01, 2025-12-31]")
            elif value[0] > value[1]:
                entry.fail(f"{key} 开始晚于结束")
            else:
                pairs[key] = tuple(value)
        if "event_between" in pairs and event != "event_date":
            entry.fail("event_between 需要 event = \"event_date\"")
        amount = entry.choice("amount", AMOUNTS)
        subsidy = entry.flag("subsidy")
        if amount == "full_standard" and subsidy:
            entry.fail("按筹资标准全额缴费（full_standard）的规则不能再享受资助（subsidy 应为 false）")
        benefit_from = entry.choice("benefit_from", BENEFIT_FROM)
        wait = entry.integer("wait_days", 0) or 0
        entry.text("clause")
        entry.text("name")
        rules.append(Rule(
            index=i, name=entry.text("name", required=False), start=start or datetime.date.min,
            end=end or datetime.date.min, amount=amount, subsidy=subsidy, benefit_from=benefit_from,
            types=frozenset(types) if types is not None else None, holds_any=frozenset(holds),
            subsidized_only=entry.flag("subsidized_only"), event=event, within_days=within,
            born_between=pairs.get("born_between"), event_between=pairs.get("event_between"),
            wait_days=wait, clause=entry.text("clause", required=False),
            interpretation=entry.text("interpretation", required=False),
            note=entry.text("note", required=False),
        ))
    _check_overlaps(rules, problems)
    work = _build_work(data, problems, {r.name for r in rules})
    published = top.date("published", required=False)
    _check_keys(data, problems)
    named = re.search(r"-(\d{4})$", plan_id or "")
    if named and isinstance(data.get("year"), int) and int(named.group(1)) != data["year"]:
        # `policy new shili-2027 --from shili-2026` copies last year's year, name and dates
        top.fail(f"id 中的年份{named.group(1)}与 year = {data['year']} 不一致：新年度方案的 year、name 和各日期都要改")

    default_pay = enrollment.date("default_pay_date", required=False)
    if default_pay is None and rules:
        default_pay = rules[0].start
    if default_pay and rules and not any(r.start <= default_pay <= r.end for r in rules):
        enrollment.fail(f"default_pay_date {default_pay} 不在任何缴费期内")
    if problems:
        return None
    return Plan(
        id=plan_id, name=top.text("name"), county=top.text("county", ""), town=top.text("town", ""),
        year=top.integer("year") or year_start.year, seed=str(data.get("seed", "")),
        individual=individual, fiscal=fiscal, year_start=year_start, year_end=year_end,
        age_reference=age_reference, enroll_types=tuple(enroll_types), default_pay_date=default_pay,
        no_window_message=enrollment.text("no_window_message", "缴费日期不在本方案任何缴费期内"),
        employee_message=scope.text("message", "已参加职工医保，不参加居民医保"),
        selection=rule_kind, order=order, categories=tuple(categories), rules=tuple(rules),
        proxy_source=proxy_source, proxy_payer=proxy_payer, path=path, published=published, age_on=age_on,
        age_interpretation=age.text("interpretation", "", required=False),
        clauses=tuple((section, data[section]["clause"]) for section in
                      ("fee", "insurance_year", "age", "scope", "enrollment", "selection", "proxy")
                      if isinstance(data.get(section), dict) and isinstance(data[section].get("clause"), str)),
        **work,
    )


def _who(rule: Rule):
    """Which people a rule applies to, apart from its dates."""
    return (rule.types, rule.holds_any, rule.subsidized_only, rule.event, rule.within_days,
            rule.born_between, rule.event_between)


def _check_overlaps(rules: list[Rule], problems: list[str]):
    """Two rules for the same people with overlapping windows: the later one
    would never apply on the shared days, which is always a mistake."""
    for i, a in enumerate(rules):
        for b in rules[i + 1:]:
            if _who(a) == _who(b) and a.start <= b.end and b.start <= a.end:
                problems.append(
                    f"[[rule]] 第{b.index}条“{b.name}”：与第{a.index}条“{a.name}”适用同一类人员，"
                    f"缴费期重叠（{max(a.start, b.start)}至{min(a.end, b.end)}）")


#: what a plan id may be: it goes into formulas and file names
PLAN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
#: what PLAN_ID asks, in the words both the plan check and `policy new` use
PLAN_ID_RULE = "只能用英文字母、数字和 - _ .，不含空格"

#: every key a plan file may hold, by section ("" = top level); anything else
#: is a misspelling the engine would silently ignore (same_dya = true)
KNOWN_KEYS = {
    "": {"id", "name", "county", "town", "year", "seed", "published"},
    "fee": {"individual", "fiscal"},
    "insurance_year": {"start", "end"},
    "age": {"reference", "on"},
    "scope": {"employee_insured", "message"},
    "enrollment": {"types", "default_pay_date", "no_window_message"},
    "selection": {"rule", "order"},
    "proxy": {"payer", "funding_source"},
    "category": {"name", "aliases", "subsidy", "funding", "age_min", "age_max", "from_age", "excluded_by",
                 "requires_any", "proxy"},
    "rule": {"name", "types", "holds_any", "born_between", "event", "event_between", "within_days", "wait_days",
             "start", "end", "amount", "subsidy", "subsidized_only", "benefit_from"},
    "cash": {"same_day", "max_days", "deadline"},
    "work_fee": {"per_person"},
    "reward": {"by", "rate", "per_person"},
    "deduction": {"min_rate", "min_poor_rate"},
    "milestone": {"date", "rate", "above", "wording"},
    "forms": {"copies", "household_types", "page_counts", "signatures"},
    "schedule": {"stage", "start", "end"},
    "step": {"name", "start", "end", "what"},
    "open": set(OPEN_QUESTIONS),
}
#: the keys of each ``[open.<key>]`` table
OPEN_KEYS = {"value"}
_ANNOTATIONS = {"clause", "interpretation", "note"}


def _check_keys(data: dict, problems: list[str]):
    """Misspelled keys and sections, which would otherwise be ignored."""
    for key, value in data.items():
        if key == "open" and isinstance(value, dict):
            for name, table in value.items():       # unknown names: _build_open
                for k in (table if isinstance(table, dict) else {}):
                    if k not in OPEN_KEYS | _ANNOTATIONS:
                        problems.append(f"[open.{name}]：不认识的键“{k}”（可用：value、clause、interpretation）")
        elif key in KNOWN_KEYS and key:
            tables = value if isinstance(value, list) else [value]
            for i, table in enumerate(tables, 1):
                if not isinstance(table, dict):
                    continue
                where = f"[[{key}]] 第{i}项" if isinstance(value, list) else f"[{key}]"
                for name in table:
                    if name not in KNOWN_KEYS[key] | _ANNOTATIONS:
                        known = "、".join(sorted(KNOWN_KEYS[key]))
                        problems.append(f"{where}：不认识的键“{name}”（拼写错了？可用：{known}）")
        elif key not in KNOWN_KEYS[""] | _ANNOTATIONS:
            problems.append(f"不认识的项“{key}”（拼写错了？可用的节：{'、'.join(k for k in KNOWN_KEYS if k)}）")


def parse_rate(value) -> Fraction:
    """'95%' → Fraction(19, 20): the one reader of rates in a plan file
    (milestones, rewards, deductions); raises BadValue.

    >>> parse_rate('95%'), parse_rate('98.5%')
    (Fraction(19, 20), Fraction(197, 200))
    """
    return Fraction(parse_share(value))


def _rate(entry: _Entry, key: str, required=True) -> tuple[Fraction | None, str]:
    value = entry.table.get(key)
    if value is None:
        if required:
            entry.fail(f"缺少 {key}（百分数，如\"95%\"）")
        return None, ""
    try:
        rate = parse_rate(value)
    except BadValue as exc:
        entry.fail(f"{key}：{exc}")
        return None, ""
    if not 0 <= rate <= 1:
        entry.fail(f"{key} {value} 应在0%到100%之间")
    return rate, str(value).strip()


def _tables(data: dict, key: str, label: str, problems: list[str]) -> list[_Entry]:
    raw = data.get(key, [])
    if not isinstance(raw, list):
        problems.append(f"{label}：应写成 [[{key}]]（可以有多项）")
        return []
    return [_Entry(t, f"{label} 第{i}项", problems) for i, t in enumerate(raw, 1)]


def _build_work(data: dict, problems: list[str], rule_names: set[str]) -> dict:
    """The sections the actions read, typed: cash, milestones, rewards, work
    fee, deductions, forms, schedule, steps and the open questions."""
    out: dict = {}
    if "cash" in data:
        entry = _Entry(data["cash"], "[cash] 现金缴库", problems)
        max_days = entry.integer("max_days")
        if max_days is None and "max_days" not in entry.table:
            entry.fail("缺少 max_days（收款后最迟几天内缴库，当天缴存写0）")
        same_day = entry.flag("same_day")
        if same_day is False and max_days == 0:
            entry.fail("max_days = 0 就是当日缴库，same_day 应为 true")
        out["cash"] = Cash(same_day, max_days or 0, entry.date("deadline", required=False),
                           entry.text("clause"), entry.text("interpretation", required=False))
    marks = []
    for entry in _tables(data, "milestone", "[[milestone]] 进度节点", problems):
        rate, text = _rate(entry, "rate")
        above = entry.flag("above")
        if above and rate == 1:
            entry.fail("above = true（超过）不能与100%同用")
        day = entry.date("date", required=False)
        if day is None and not above and "date" not in entry.table:
            entry.fail("缺少日期 date（没有日期的常年目标须写 above = true 表示“超过”）")
        marks.append(Milestone(day, rate or Fraction(0), text, above, entry.text("clause"),
                               entry.text("wording", required=False),
                               entry.text("interpretation", required=False)))
    out["milestones"] = tuple(sorted(marks, key=lambda m: (m.date is None, m.date or datetime.date.min, m.rate)))
    rewards = []
    for entry in _tables(data, "reward", "[[reward]] 奖励", problems):
        rate, text = _rate(entry, "rate")
        rewards.append(Reward(entry.date("by") or datetime.date.min, rate or Fraction(0), text,
                              entry.money("per_person"), entry.text("clause")))
    out["rewards"] = tuple(rewards)
    if "work_fee" in data:
        entry = _Entry(data["work_fee"], "[work_fee] 工作经费", problems)
        out["work_fee"] = WorkFee(entry.money("per_person"), str(entry.table.get("per_person", "")).strip(),
                                  entry.text("clause"), entry.text("interpretation", required=False))
    if "deduction" in data:
        entry = _Entry(data["deduction"], "[deduction] 扣减", problems)
        low, low_text = _rate(entry, "min_rate", required=False)
        poor, poor_text = _rate(entry, "min_poor_rate", required=False)
        if low is None and poor is None and not any("[deduction]" in p for p in problems):
            entry.fail("至少要写 min_rate 或 min_poor_rate")
        out["deduction"] = Deduction(low, low_text, poor, poor_text, entry.text("clause"))
    if "forms" in data:
        entry = _Entry(data["forms"], "[forms] 表格", problems)
        copies = entry.integer("copies", 1, minimum=1)
        types = entry.names("household_types")
        if len(set(types)) != len(types):
            entry.fail("household_types 中有重复的户属性")
        counts = entry.names("page_counts")
        for name in counts:
            if name not in PAGE_COUNTS:
                entry.fail(f"page_counts 中的“{name}”无法统计，可用：{'、'.join(PAGE_COUNTS)}")
        out["forms"] = Forms(copies or 1, types, counts, entry.names("signatures"), entry.text("clause"))
    stages = []
    for entry in _tables(data, "schedule", "[[schedule]] 工作日程", problems):
        start, end = entry.date("start"), entry.date("end")
        if start and end and start > end:
            entry.fail(f"开始{start}晚于结束{end}")
        stages.append(Stage(entry.text("stage"), start or datetime.date.min, end or datetime.date.min,
                            entry.text("clause")))
    out["schedule"] = tuple(stages)
    steps = []
    for entry in _tables(data, "step", "[[step]] 工作步骤", problems):
        start, end = entry.date("start", required=False), entry.date("end")
        if start and end and start > end:
            entry.fail(f"开始{start}晚于结束{end}")
        steps.append(Step(entry.text("name"), start, end or datetime.date.min, entry.text("what"),
                          entry.text("clause"), entry.text("interpretation", required=False)))
    out["steps"] = tuple(sorted(steps, key=lambda st: (st.start or st.end, st.end)))
    out["open_questions"] = _build_open(data.get("open"), problems, rule_names)
    return out


def _build_open(raw, problems: list[str], rule_names: set[str]) -> tuple[OpenQuestion, ...]:
    """``[open.<key>]`` tables: value, clause, interpretation. Unwritten keys
    take their default (and say so)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.append("[open] 方案未写明的问题：应写成 [open.键名] 表")
        raw = {}
    answers = []
    for key, (allowed, default, question, meanings) in OPEN_QUESTIONS.items():
        table = raw.get(key)
        if table is None:
            answers.append(OpenQuestion(key, default, False, question, meanings.get(default, "")))
            continue
        entry = _Entry(table, f"[open.{key}] {question}", problems)
        value = entry.table.get("value", default)
        if key == "proxy_windows" and isinstance(value, list):
            if not value or not all(isinstance(v, str) for v in value):
                entry.fail("value 应为 \"all\" 或缴费期名称列表，如 [\"集中征缴期\"]")
            for name in value:
                if isinstance(name, str) and name not in rule_names:
                    entry.fail(f"“{name}”不是本方案的缴费期（[[rule]] 的 name）")
            meaning = meanings["list"] + "：" + "、".join(map(str, value))
            value = tuple(value)
        elif allowed is None and value != "all":
            entry.fail(f"value 为“{value}”，只能是 \"all\" 或缴费期名称列表")
            meaning, value = "", default
        elif allowed is not None and value not in allowed:
            entry.fail(f"value 为“{value}”，只能是：{'、'.join(allowed)}")
            meaning, value = "", default
        else:
            meaning = meanings[value]
        answers.append(OpenQuestion(key, value, True, question, meaning, entry.text("clause"),
                                    entry.text("interpretation", required=False)))
    for key in raw:
        if key not in OPEN_QUESTIONS:
            problems.append(f"[open.{key}]：不认识的问题“{key}”（可用：{'、'.join(OPEN_QUESTIONS)}）")
    return tuple(answers)
