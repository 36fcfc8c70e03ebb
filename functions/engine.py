"""What a person pays, which subsidy they get, who funds it, and from when
benefits start: the plan's rules applied to one person.

Pure functions over a :class:`~yibao.functions.plan.Plan`; nothing here
touches a workbook. The steps, in the order a township officer reasons:

1. the ID number must be valid; its birth date gives the age (on the day
   the plan's ``[age] on`` names: :func:`age_day`) and, for newborns, the
   day benefits start;
2. people already in employee insurance are out (every plan's scope clause);
3. identity names are resolved to the plan's categories; age-derived ones
   are added (000 二(二)(2), 004 百岁老人); conditional ones are dropped when
   their condition fails (001 四(二)2 低保边缘, 004 建档立卡中非低保);
4. the first ``[[rule]]`` whose window and conditions fit gives the fee
   (individual or the full standard), whether subsidies apply, and the
   benefit start;
5. one category is chosen: highest subsidy with ties by the plan's order
   (就高不重复), or the first in a strict order (002);
6. proxy payment (001 四(三) 代缴) covers what is left of the fee after any
   subsidy: nothing after a full subsidy, the remainder after a fixed one,
   the whole fee with none.

Results are memoized on the parts that repeat across a ledger (identity
sets, age, rule) so that a 100,000-row batch runs in about a second.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import gc
from fractions import Fraction
from typing import Iterable, NamedTuple

from . import idno
from . import identity
from .plan import ENROLL_TYPES, Category, Plan, Rule
from .values import first_of_next_month, yuan, yuan_text

__all__ = ["Person", "Result", "compute", "compute_valid", "compute_many", "age_day", "age_rule_text"]

_DAY = datetime.timedelta(days=1)


class Person(NamedTuple):
    """What the plan needs to know of one person (immutable; a named tuple
    because a ledger makes 100,000 of them)."""

    id_no: object
    identities: tuple = ()
    pay_date: datetime.date | None = None
    enroll_type: str = "普通"
    event_date: datetime.date | None = None
    employee_insured: bool = False


@dataclasses.dataclass(slots=True)
class Result:
    ok: bool
    payable: int | None = None      # fen the person pays
    subsidy: int | None = None      # fen paid for them: subsidies and proxy payment
    subsidy_tier: str | None = None
    funding: tuple = ()             # ((source, fen), ...)
    benefit_start: datetime.date | None = None
    message: str = ""
    rule: str = ""                  # the rule (window) applied, for reports

    def to_json(self) -> dict:
        """The ``yibao calc`` output object (money in yuan, dates ISO)."""
        def num(v):
            return None if v is None else _json_number(yuan(v))
        return {
            "ok": self.ok,
            "payable": num(self.payable),
            "subsidy": num(self.subsidy),
            "subsidy_tier": self.subsidy_tier,
            "funding": {source: _json_number(yuan(f)) for source, f in self.funding},
            "benefit_start": self.benefit_start.isoformat() if self.benefit_start else None,
            "message": self.message,
        }

    @property
    def funding_text(self) -> str:
        """'医疗救助125元；财政125元' for a cell."""
        return "；".join(f"{source}{yuan_text(f)}元" for source, f in self.funding)


def _json_number(value):
    return value if isinstance(value, int) else float(value)


def _fail(message: str) -> Result:
    return Result(ok=False, message=message)


# ---------------------------------------------------------------- identities

@functools.lru_cache(maxsize=8192)
def _resolve(plan: Plan, names: tuple[str, ...]):
    """Names → (categories, error message)."""
    found = []
    for name in names:
        cats = _lookup_enumerated(plan, name)
        if cats is None:
            return (), _unknown_message(plan, name)
        for cat in cats:
            if cat not in found:
                found.append(cat)
    return tuple(found), ""


def _unknown_message(plan: Plan, name: str) -> str:
    """Why a name is refused: a broader name than a category's (建档立卡 for
    000 二(二)(1)'s 建档立卡…脱贫享受政策人口和即时帮扶人口) names that
    category and its clause; every message lists the plan's names."""
    listed = "、".join(plan.category_names())
    k = identity.key(name)
    near = [c for c in plan.categories if k and any(k in identity.key(n) for n in (c.name, *c.aliases))]
    if near:
        which = "、".join(f"“{c.name}”（{c.clause}）" if c.clause else f"“{c.name}”" for c in near)
        return (f"身份类别“{name}”比方案的条文宽，不能直接认定：相近的是{which}，"
                f"请按部门名单写明具体身份。本方案的身份类别有：{listed}")
    return f"未知身份类别“{name}”。本方案的身份类别有：{listed}"


def _lookup_enumerated(plan: Plan, name: str):
    """The categories of one name, or of names listed with 、 (as staff type
    "低保对象、脱贫人口"). The 、 also sits inside names (一、二级残疾人), so
    the longest known run of segments wins at each place; None if any part
    is unknown."""
    cat = plan.lookup(name)
    if cat is not None:
        return [cat]
    if "、" not in name:
        return None
    return identity.runs(name, plan.by_key)


def _condition_holds(cat: Category, age: int, held: set[str]) -> bool:
    if cat.age_min is not None and age < cat.age_min:
        return False
    if cat.age_max is not None and age > cat.age_max:
        return False
    if any(other in held for other in cat.excluded_by):
        return False
    if cat.requires_any:
        for cond in cat.requires_any:
            if "age_min" in cond and age < cond["age_min"]:
                continue
            if "age_max" in cond and age > cond["age_max"]:
                continue
            if "holds" in cond and cond["holds"] not in held:
                continue
            return True
        return False
    return True


@dataclasses.dataclass(frozen=True, eq=False)
class Held:
    """The categories a person really holds (one shared object per set)."""

    cats: tuple            # categories, in the plan's order
    window_key: tuple      # only what the plan's windows look at: (subsidized?, holds one? per rule)


def age_day(plan: Plan, pay: datetime.date) -> datetime.date:
    """The day whose age (周岁) decides the age-bound categories of a person
    paying on ``pay``, by the plan's ``[age] on``:

    - ``"pay_date"`` (the default): the payment day; a payment made before
      the insurance year (the centralized collection) counts on ``[age]
      reference``, the year's first day. 001 三(二)5: the groups enroll all
      year and are subsidized "从缴费之日起", so a 低保边缘 person who turns 60
      in May and enrolls in June is subsidized; one who turned 18 before
      enrolling is no longer a minor.
    - ``"year_start"``: always ``[age] reference`` (1 January), also for
      enrollment during the year (a plan that says so).
    - ``"year_reached"``: the age reached during the insurance year (the
      age on its last day: 当年年满60周岁).
    """
    if plan.age_on == "year_start":
        return plan.age_reference
    if plan.age_on == "year_reached":
        return plan.year_end
    return pay if pay > plan.age_reference else plan.age_reference


#: how each ``[age] on`` reading is said to staff (policy show, messages)
AGE_ON_TEXT = {
    "pay_date": "年龄按缴费之日的周岁计算（{ref}前缴费的按{ref}计算）",
    "year_start": "年龄按{ref}（待遇年度首日）的周岁计算，年中参保也按此日",
    "year_reached": "年龄按本待遇年度内达到的周岁计算（即{end}的周岁）",
}


def age_rule_text(plan: Plan) -> str:
    """The plan's reading of which day decides age, in words for staff."""
    return AGE_ON_TEXT[plan.age_on].format(ref=plan.age_reference, end=plan.year_end)


@functools.lru_cache(maxsize=65536)
def _age_class(plan: Plan, born: datetime.date, day: datetime.date) -> int:
    """The plan's age class of a person born on ``born`` on ``day`` (memoized)."""
    return plan.age_class(idno.age_from_birth(born, day))


@functools.lru_cache(maxsize=65536)
def _held(plan: Plan, cats: tuple) -> Held:
    names = frozenset(c.name for c in cats)
    subsidized = any(c.subsidized for c in cats)
    # the windows only ask "subsidized?" and, per holds_any rule, "holds one?"
    holds = tuple(bool(rule.holds_any & names) for rule in plan.rules if rule.holds_any)
    return Held(cats, (subsidized, holds))


@functools.lru_cache(maxsize=65536)
def _eligible(plan: Plan, listed: tuple[Category, ...], age: int) -> tuple[Held, str, bool]:
    """Categories a person of ``age`` holding ``listed`` really has, a note
    on any listed identity whose condition fails, and whether an age
    condition is among those failing."""
    held = {c.name for c in listed}
    cats = [c for c in plan.categories if c.from_age and c.name not in held
            and _condition_holds(c, age, held)]
    held.update(c.name for c in cats)
    notes, by_age = [], False
    for cat in listed:
        if _condition_holds(cat, age, held):
            cats.append(cat)
        else:
            notes.append(f"“{cat.name}”不符合条件（{_condition_text(cat)}），不予资助")
            by_age = by_age or _age_bound(cat)
    cats.sort(key=lambda c: plan.rank[c.name])
    return _held(plan, tuple(cats)), "；".join(notes), by_age


def _age_bound(cat: Category) -> bool:
    """Whether the category's condition looks at age."""
    return (cat.age_min is not None or cat.age_max is not None
            or any("age_min" in c or "age_max" in c for c in cat.requires_any))


def _condition_text(cat: Category) -> str:
    parts = []
    if cat.age_min is not None or cat.age_max is not None:
        if cat.age_max is None:
            parts.append(f"须年满{cat.age_min}周岁")
        elif cat.age_min is None:
            parts.append(f"须不满{cat.age_max + 1}周岁")
        else:
            parts.append(f"须{cat.age_min}至{cat.age_max}周岁")
    if cat.excluded_by:
        parts.append(f"同时是{'、'.join(cat.excluded_by)}的按后者")
    if cat.requires_any:
        parts.append("须" + "或".join(cat.alternatives()))
    return "；".join(parts)


# ---------------------------------------------------------------- money

def _money(plan: Plan, rule: Rule, cats: tuple[Category, ...]):
    """(payable, subsidy, tier, funding) in fen for a rule and categories."""
    fee = plan.individual if rule.amount == "individual" else plan.full_standard
    if not rule.subsidy:
        return fee, 0, None, ()
    chosen = _choose(plan, cats, fee)
    subsidy = chosen.subsidy_fen(fee) if chosen else 0
    funding = _fund(plan, cats, chosen, subsidy, fee) if chosen else []
    tier = chosen.name if chosen else None
    # [open.proxy_windows]: 代缴 in every subsidized window, or only the ones listed
    proxy_here = plan.proxy_source and (plan.proxy_rules is None or rule.name in plan.proxy_rules)
    proxy_cat = next((c for c in cats if c.proxy), None) if proxy_here else None
    if proxy_cat is not None and subsidy < fee:
        # 001 四(三): the veterans' bureau pays whatever the subsidy leaves
        funding.append((plan.proxy_source, fee - subsidy))
        subsidy = fee
        tier = tier or proxy_cat.name
    return fee - subsidy, subsidy, tier, tuple(funding)


def _choose(plan: Plan, cats: tuple[Category, ...], fee: int) -> Category | None:
    subsidized = [c for c in cats if c.subsidized]   # already in plan order
    if not subsidized:
        return None
    if plan.selection == "order":
        return subsidized[0]
    # 就高不重复: highest amount; max() keeps the first (earliest in order) on ties
    return max(subsidized, key=lambda c: c.subsidy_fen(fee))


def _fund(plan: Plan, cats: tuple[Category, ...], chosen: Category, subsidy: int, fee: int) -> list:
    """Who pays the subsidy: the chosen category's sources, or with
    ``[open.tie_funding] value = "shared"`` every category tied with it at the
    same amount, in equal parts (largest remainder), each by its own sources."""
    tied = [c for c in cats if c.subsidized and c.subsidy_fen(fee) == subsidy]
    if plan.answer("tie_funding") != "shared" or plan.selection != "highest" or len(tied) < 2:
        return _split(chosen, subsidy)
    parts = [subsidy // len(tied) + (1 if i < subsidy % len(tied) else 0) for i in range(len(tied))]
    merged: dict[str, int] = {}
    for cat, part in zip(tied, parts):
        for source, amount in _split(cat, part):
            merged[source] = merged.get(source, 0) + amount
    return list(merged.items())


def _split(cat: Category, subsidy: int) -> list:
    """Split a subsidy over its funding sources, exact to the fen: shares of
    the subsidy, or fixed amounts scaled to it, by largest remainder."""
    weights = [(source, Fraction(value)) for source, _kind, value in cat.funding]
    total = sum(w for _s, w in weights)
    if not weights or total == 0:
        return []
    exact = [w * subsidy / total for _s, w in weights]
    amounts = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: exact[i] - amounts[i], reverse=True)
    for i in by_remainder[:subsidy - sum(amounts)]:
        amounts[i] += 1
    return [(weights[i][0], amounts[i]) for i in range(len(weights)) if amounts[i]]


# ---------------------------------------------------------------- windows

@functools.lru_cache(maxsize=65536)
def _candidates(plan: Plan, pay: datetime.date, person_type: str, window_key: tuple) -> tuple[Rule, ...]:
    """Rules whose window, type and identity conditions fit (memoized: these
    repeat across a ledger; birth and event checks follow per person)."""
    subsidized, holds = window_key
    held_by_rule = iter(holds)
    fits = []
    for rule in plan.rules:
        holds_one = next(held_by_rule) if rule.holds_any else True
        if (rule.start <= pay <= rule.end and (rule.types is None or person_type in rule.types)
                and (not rule.subsidized_only or subsidized) and holds_one):
            fits.append(rule)
    return tuple(fits)


def _match(candidates: tuple[Rule, ...], pay: datetime.date, born: datetime.date,
           event: datetime.date | None):
    """First of the candidate rules whose birth and event conditions fit,
    or (None, reason)."""
    hint = ""
    for rule in candidates:
        if rule.born_between and not rule.born_between[0] <= born <= rule.born_between[1]:
            continue
        if rule.event is not None:
            day = born if rule.event == "birth" else event
            if day is None:
                hint = f"“{rule.name}”需要填写事件日期（如职工医保待遇结束日、退役日）"
                continue
            if rule.event_between and not rule.event_between[0] <= day <= rule.event_between[1]:
                hint = hint or f"事件日期{day}不在“{rule.name}”规定的范围内"
                continue
            if rule.within_days is not None:
                elapsed = (pay - day).days
                if not 0 <= elapsed <= rule.within_days:
                    hint = hint or (f"缴费日距{'出生' if rule.event == 'birth' else '事件日期'}"
                                    f"{elapsed}天，超过“{rule.name}”的{rule.within_days}天")
                    continue
        return rule, hint
    return None, hint


def _kind_windows(plan: Plan, kind: str) -> tuple[Rule, ...]:
    """The rules written for enrollment type ``kind``."""
    return tuple(r for r in plan.rules if r.types is not None and kind in r.types)


def _rule_message(plan: Plan, rule: Rule, kind: str, hint: str, note: str, pay: datetime.date | None = None) -> str:
    """What to tell staff about how this person was handled. ``pay`` is
    given when the person's enrollment type has rules of its own but none
    whose window holds the payment day (a newborn paying in the general
    window, 002 二): then that, not a failed condition, is the reason."""
    messages = [note] if note else []
    if kind != "普通" and (rule.types is None or kind not in rule.types):
        if kind not in plan.enroll_types or not _kind_windows(plan, kind):
            messages.append(f"本方案对“{kind}”无专门规定，按“{rule.name}”办理")
        elif pay is not None:
            spans = "、".join(dict.fromkeys(f"{r.start}至{r.end}" for r in _kind_windows(plan, kind)))
            messages.append(f"缴费日{pay}在“{rule.name}”内，按该期办理（“{kind}”的专门规定适用于{spans}缴费）")
        else:
            messages.append(f"不符合“{kind}”的条件，按“{rule.name}”办理" + (f"（{hint}）" if hint else ""))
            hint = ""
    elif hint:
        messages.append(hint)   # a rule for this type did not fit: say why (002: 新生儿 past 90 days)
    if rule.amount == "full_standard":
        messages.append(f"{rule.name}：按筹资标准{yuan_text(plan.full_standard)}元全额缴费，不享受资助")
    if rule.wait_days:
        messages.append(f"待遇等待期{rule.wait_days}天")
    return "；".join(messages)


def _benefit_start(plan: Plan, rule: Rule, pay: datetime.date, born: datetime.date):
    if rule.benefit_from == "year_start":
        day = plan.year_start
    elif rule.benefit_from == "birth_date":
        day = born
    elif rule.benefit_from == "next_month":
        day = first_of_next_month(pay)
    else:
        day = pay
    if rule.wait_days:
        # [open.wait_count]: "civil_code" does not count the pay day (民法典第二百零一条)
        day = day + (rule.wait_days + (plan.answer("wait_count") == "civil_code")) * _DAY
    # never before birth, nor before the insurance year this payment is for
    return max(day, born, plan.year_start)


# ---------------------------------------------------------------- the person

_ENROLL_TYPES = frozenset(ENROLL_TYPES)


def compute(plan: Plan, person: Person, today: datetime.date | None = None) -> Result:
    """Apply ``plan`` to one person."""
    try:
        number, born = idno.parse(person.id_no, today)
    except idno.InvalidID as exc:
        return _fail(str(exc))
    result = compute_valid(plan, person, born)
    upgraded = idno.upgrade_note(person.id_no, number)
    if upgraded:        # an old 15-digit number: computed as its 18-digit form, and said so
        result.message = "；".join(x for x in (upgraded, result.message) if x)
    return result


def compute_valid(plan: Plan, person: Person, born: datetime.date) -> Result:
    """:func:`compute` for a person whose ID number was already validated
    (as :func:`idno.parse` does, against today) and gives birth date ``born``."""
    if person.employee_insured:
        return _fail(plan.employee_message)
    kind = person.enroll_type or "普通"
    if kind not in _ENROLL_TYPES:
        return _fail(f"未知参保类型“{kind}”，可选：{'、'.join(ENROLL_TYPES)}")
    listed, error = _resolve(plan, person.identities)
    if error:
        return _fail(error)
    pay = person.pay_date or plan.default_pay_date
    day = age_day(plan, pay)
    held, note, by_age = _eligible(plan, listed, _age_class(plan, born, day))
    if by_age:
        # which day decided, so staff can see why a birthday changed the answer
        what = "缴费之日" if day == pay else ("待遇年度末" if day == plan.year_end else "待遇年度首日")
        note += f"（年龄按{what}{day}计为{idno.age_from_birth(born, day)}周岁）"
    candidates = _candidates(plan, pay, kind, held.window_key)
    first = candidates[0] if candidates else None
    if first is not None and first.event is None and first.born_between is None:
        rule, hint = first, ""          # the common case: nothing about this person to check
    else:
        rule, hint = _match(candidates, pay, born, person.event_date)
    if rule is None:
        return _fail("；".join(x for x in (plan.no_window_message, hint, note) if x))
    outside = None
    if (kind != "普通" and not hint and (rule.types is None or kind not in rule.types)
            and (windows := _kind_windows(plan, kind))
            and not any(r.start <= pay <= r.end for r in windows)):
        outside = pay           # no rule of this type is open on the payment day
    payable, subsidy, tier, funding, message = _outcome(plan, rule, held, kind, hint, note, outside)
    start = _benefit_start(plan, rule, pay, born)
    if start > plan.year_end:
        message = "；".join(x for x in (message, f"待遇起始日{start}已在本待遇年度（至{plan.year_end}）之后，"
                                                   "本次缴费在本年度内不能享受待遇") if x)
    return Result(True, payable, subsidy, tier, funding, start, message, rule.name)


@functools.lru_cache(maxsize=65536)
def _outcome(plan: Plan, rule: Rule, held: Held, kind: str, hint: str, note: str,
             outside: datetime.date | None = None):
    """Money and message for a rule and what the person holds (memoized)."""
    return (*_money(plan, rule, held.cats), _rule_message(plan, rule, kind, hint, note, outside))


def compute_many(plan: Plan, people: Iterable[Person], today: datetime.date | None = None,
                 births: list[datetime.date] | None = None) -> list[Result]:
    """:func:`compute` over many people (the caches make repeats cheap).

    ``births``, when given, says every person's ID number was already
    validated (against the same ``today``) and gives their birth dates, so
    the numbers are not parsed again.

    The cyclic garbage collector is paused meanwhile: results hold no
    cycles, and its passes over the growing caches cost half the run time.
    """
    today = today or datetime.date.today()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        if births is not None:
            return [compute_valid(plan, p, born) for p, born in zip(people, births)]
        return [compute(plan, p, today) for p in people]
    finally:
        if was_enabled:
            gc.enable()


def clear_caches():
    """Forget memoized decisions (for cold-start benchmarks and tests)."""
    for cached in (_resolve, _eligible, _held, _candidates, _outcome, _age_class):
        cached.cache_clear()
