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

:func:`check` returns every problem of a plan file as a Chinese message that
names the entry, so a county officer can fix next year's file without code.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import os
import re
import sys
from decimal import Decimal, InvalidOperation
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
    data: dict                 # the whole file, for the later actions
    path: str = ""
    age_on: str = "pay_date"   # [age] on: which day decides age (engine.age_day)

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
    raw_categories = data.get("category", [])
    if not isinstance(raw_categories, list) or not raw_categories:
        top.fail("至少要有一个 [[category]] 身份类别")
        raw_categories = []
    for i, table in enumerate(raw_categories, 1):
        name = table.get("name") if isinstance(table, dict) else None
        entry = _Entry(table, f"[[category]] 第{i}项“{name or '?'}”", problems)
        name = entry.text("name")
        aliases = entry.names("aliases")
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
    _check_extras(data, problems)
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
        proxy_source=proxy_source, proxy_payer=proxy_payer, data=data, path=path, age_on=age_on,
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
    "milestone": {"date", "rate"},
    "forms": {"copies", "household_types"},
    "schedule": {"stage", "start", "end"},
}
_ANNOTATIONS = {"clause", "interpretation", "note"}


def _check_keys(data: dict, problems: list[str]):
    """Misspelled keys and sections, which would otherwise be ignored."""
    for key, value in data.items():
        if key in KNOWN_KEYS and key:
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


def _check_extras(data: dict, problems: list[str]):
    """The tables later actions read: milestones, rewards, work fee, cash."""
    for key, label in (("milestone", "[[milestone]] 进度节点"), ("reward", "[[reward]] 奖励")):
        for i, table in enumerate(data.get(key, []), 1):
            entry = _Entry(table, f"{label} 第{i}项", problems)
            entry.date("date" if key == "milestone" else "by")
            try:
                share = parse_share(entry.table.get("rate", ""))
                if not 0 <= share <= 1:
                    entry.fail(f"rate {entry.table.get('rate')} 应在0%到100%之间")
            except BadValue as exc:
                entry.fail(f"rate：{exc}")
            if key == "reward":
                entry.money("per_person")
            entry.text("clause")
    if "work_fee" in data:
        entry = _Entry(data["work_fee"], "[work_fee] 工作经费", problems)
        entry.money("per_person")
        entry.text("clause")
    if "cash" in data:
        entry = _Entry(data["cash"], "[cash] 现金缴库", problems)
        entry.integer("max_days")
        entry.date("deadline", required=False)
        entry.text("clause")
    if "deduction" in data:
        entry = _Entry(data["deduction"], "[deduction] 扣减", problems)
        for key in ("min_rate", "min_poor_rate"):
            if key in entry.table:
                try:
                    share = parse_share(entry.table[key])
                    if not 0 <= share <= 1:
                        entry.fail(f"{key} 应在0%到100%之间")
                except BadValue as exc:
                    entry.fail(f"{key}：{exc}")
        entry.text("clause")
