"""What a plan puts into a form: titles, the unit line, dropdown lists,
plausible date windows, milestone columns and the work schedule.

Pure functions of a :class:`~yibao.functions.plan.Plan`; no openpyxl here.
"""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal

from yibao.functions.plan import Milestone, Plan
from yibao.functions.values import yuan_text

__all__ = ["context", "choice_lists", "date_window", "milestones", "schedule_items", "LIST_NAMES"]

#: the Chinese name of each dropdown list (also the defined name of long lists)
LIST_NAMES = {
    "relation": "户主关系",
    "gender": "性别",
    "household_type": "户属性",
    "identity": "身份类别",
    "enroll_type": "参保类型",
    "notify": "告知督促方式",
    "unpaid_reason": "未缴费原因",
    "yes_no": "是否",
    "insurance_kind": "异地参保类型",
}

# 与户主关系 as household registers (户口簿) write it
_RELATIONS = ("户主", "配偶", "子", "女", "父亲", "母亲", "孙子", "孙女", "外孙子", "外孙女",
              "儿媳", "女婿", "祖父", "祖母", "兄弟", "姐妹", "其他")
# 002 附件2 填表说明 3: 告知、督促方式填写“电话告知”或“上门告知”
_NOTIFY = ("电话告知", "上门告知")
# reasons 002 names for not paying here (四(一), 六, 附件1 第四次排查), plus the usual ones
_UNPAID = ("已参加职工医保", "已在异地参保", "登记信息有误不能缴费", "不愿参保", "外出联系不上",
           "已死亡", "其他")


def _blank_part(text: str, suffix: str) -> str:
    return f"{text}" if text else f"　　　　　　{suffix}"


def context(plan: Plan, town: str | None = None, village: str | None = None) -> dict[str, str]:
    """Placeholder values for a form's texts."""
    town = plan.town if town is None else town
    village = village or ""
    year = plan.year
    if plan.town:
        task_title = f"{plan.town}{year}年城乡居民基本医疗保险筹资任务分配表"
        unit_label = "村　名"
    else:   # a city-wide plan (000): the task table divides the city among its towns
        task_title = f"{year}年度各镇街居民医保参保征缴任务表"
        unit_label = "镇　街"
    return {
        "county": plan.county,
        "town": town,
        "village": village,
        "year": str(year),
        "prev_year": str(year - 1),
        "individual": yuan_text(plan.individual),
        "full_standard": yuan_text(plan.full_standard),
        "town_part": _blank_part(town, "乡镇"),
        "village_part": _blank_part(village, "村（居委会）"),
        "town_part_street": _blank_part(town, "乡（镇、街道）"),
        "village_part_community": _blank_part(village, "村（社区）"),
        "task_title": task_title,
        "unit_label": unit_label,
        "plan_id": plan.id,
        "plan_name": plan.name,
        # 004 附件2: 收款填表人、缴费操作人、卫健工作人员 sign each register
        "register_signatures": "　　".join(f"{who}（签字）：＿＿＿＿＿＿" for who in plan.forms.signatures)
        or "收款填表人（签字）：＿＿＿＿＿＿＿＿　　　卫生院经办人（签字）：＿＿＿＿＿＿＿＿",
    }


def choice_lists(plan: Plan) -> dict[str, tuple[str, ...]]:
    """Every dropdown list, its items in order."""
    identities = tuple(c.name for c in plan.categories)
    household = tuple(plan.forms.household_types or
                      ("一般户",) + tuple(c.name for c in plan.categories
                                         if c.kind != "none" and not getattr(c, "from_age", False)))
    return {
        "relation": _RELATIONS,
        "gender": ("男", "女"),
        "household_type": household,
        "identity": identities,
        "enroll_type": tuple(plan.enroll_types),
        "notify": _NOTIFY,
        "unpaid_reason": _UNPAID,
        "yes_no": ("是", "否"),
        "insurance_kind": ("职工医保", "城乡居民医保"),
    }


def date_window(plan: Plan, which: str) -> tuple[datetime.date, datetime.date]:
    """The dates a cell of this kind may plausibly hold.

    ``pay``: from the first day any payment window opens to the end of the
    last window (at least the end of the benefit year); ``event``: three
    years before the benefit year to its end (职工医保 ended, 退出现役,
    births); ``list`` / ``filled``: the year before the benefit year to the
    end of the year after it.
    """
    first = min([r.start for r in plan.rules] + [plan.year_start])
    last = max([r.end for r in plan.rules] + [plan.year_end])
    if which == "pay":
        return first, last
    if which == "event":
        return datetime.date(plan.year - 3, 1, 1), last
    return datetime.date(plan.year - 1, 1, 1), max(last, datetime.date(plan.year + 1, 12, 31))


def milestones(plan: Plan) -> list[Milestone]:
    """The plan's targets (参保率 by a date, or a standing one), for the task table."""
    return list(plan.milestones)


# ---------------------------------------------------------------- schedule

def _day(d: datetime.date, year_of: datetime.date | None = None) -> str:
    if year_of is not None and year_of.year == d.year:
        return f"{d.month}月{d.day}日"
    return f"{d.year}年{d.month}月{d.day}日"


def _span(a: datetime.date, b: datetime.date) -> str:
    return f"{_day(a)}至{_day(b, a)}" if a != b else _day(a)


@dataclasses.dataclass(frozen=True)
class Item:
    stage: str
    when: str
    what: str
    date: datetime.date


def _stage_of(stages: list[tuple[str, datetime.date, datetime.date]], day: datetime.date) -> str:
    for name, start, end in stages:
        if start <= day <= end:
            return name
    before = [s for s in stages if s[1] <= day]
    return (before[-1] if before else stages[0])[0]


_STAGE_WORK = {
    "参保缴费阶段": "以村（社区）为单位逐户上门提醒、督促、协助参保缴费，记好参保缴费台账，定期上报进度；"
                  "新增参保和往年登记信息有误不能缴费的及时上报乡镇集中处理",
    "缴费公示阶段": "导出已参保人员明细，加盖乡镇和村（社区）公章后张榜公示（公示名单身份证号只显示前6位和后4位）",
}


def _stages(plan: Plan) -> list[tuple[str, datetime.date, datetime.date]]:
    own = plan.schedule
    if own:
        stages = [(s.stage, s.start, s.end) for s in own]
        last = max(s[2] for s in stages)
        if max(r.end for r in plan.rules) > last:     # payment windows run on through the year
            stages.append(("年度内动态参保", last + datetime.timedelta(days=1), max(r.end for r in plan.rules)))
        return stages
    window = [r for r in plan.rules if r.subsidy] or list(plan.rules)
    pay_start = min(r.start for r in window)
    pay_end = max(r.end for r in window if r.start == pay_start)
    published = plan.published or (pay_start - datetime.timedelta(days=30))
    # 001 was published a month after its window opened: publicity is that day
    publicity_end = max(published, pay_start - datetime.timedelta(days=1))
    return [
        ("宣传发动阶段", published, publicity_end),
        ("参保缴费阶段", pay_start, pay_end),
        ("动态参保阶段", pay_end + datetime.timedelta(days=1), plan.year_end),
    ]


def schedule_items(plan: Plan) -> list[Item]:
    """Rows of the 工作日程安排, in date order, from the plan's own dates."""
    stages = _stages(plan)
    items: list[Item] = []

    def add(day, when, what, stage_day=None):
        items.append(Item(_stage_of(stages, stage_day or day), when, what, day))

    published = plan.published
    first = stages[0]
    items.append(Item(
        first[0], _span(first[1], first[2]),
        f"{'印发' if published else '学习'}《{plan.name}》，召开动员会，把参保任务分解到村（社区），责任落实到人；"
        f"逐户宣传个人缴费{yuan_text(plan.individual)}元/人、缴费渠道和缴费时间，填写参保缴费台账。", first[1]))
    for s in plan.schedule[1:]:
        items.append(Item(s.stage, _span(s.start, s.end),
                          _STAGE_WORK.get(s.stage, s.stage) + f"（{s.clause}）。", s.start))
    for st in plan.steps:
        add(st.end, st.when, f"{st.name}：{st.what}（{st.clause}）。", stage_day=st.start or st.end)
    for r in plan.rules:
        fee = (f"按个人缴费{yuan_text(plan.individual)}元/人" if r.amount == "individual"
               else f"按筹资标准{yuan_text(plan.full_standard)}元/人一次性足额缴纳")
        who = "、".join(sorted(r.types)) if r.types else ("政府资助人员" if r.subsidized_only else "")
        if r.holds_any:
            who = "、".join(sorted(r.holds_any))
        add(r.start, _span(r.start, r.end),
            f"{r.name}：{(who + '，') if who else ''}{fee}{'，享受资助' if r.subsidy else '，不享受资助'}"
            f"（{r.clause}）。", stage_day=r.end)
    cash = plan.cash
    if cash:
        day = cash.deadline or stages[0][2]
        add(day, f"{_day(cash.deadline)}前" if cash.deadline else "收款当日",
            f"现金代收：{cash.wording(_day)}（{cash.clause}）。", stage_day=day if cash.deadline else None)
    for m in plan.milestones:
        if m.date is None:      # a standing target: through the payment stage
            add(stages[0][2], "全年", f"参保率{'超过' if m.above else '达到'}{m.rate_text}（{m.clause}）。",
                stage_day=stages[min(1, len(stages) - 1)][1])
        else:
            add(m.date, f"{_day(m.date)}前", f"参保率达到{m.rate_text}（{m.clause}）。")
    for w in plan.rewards:
        add(w.by, f"{_day(w.by)}前",
            f"完成筹资任务{w.rate_text}的村（社区）按实际参保人数奖励{yuan_text(w.per_person)}元/人（{w.clause}）。")
    add(plan.year_start, f"{_day(plan.year_start)}起",
        f"集中缴费期内参保缴费的人员开始享受{plan.year}年度医保待遇；各村（社区）将参保缴费台账上交乡镇存档。")
    order = {name: i for i, (name, _, _) in enumerate(stages)}
    head = items[0]     # the first stage's overview stays on top (002 附件1's lists are due before it)
    items.sort(key=lambda it: (order.get(it.stage, 99), it is not head, it.date))
    return items


# ---------------------------------------------------------------- columns

def columns_for(form, plan: Plan):
    """A form's columns for this plan: the task table gains one "应完成"
    column per milestone and, where the plan pays a work fee per insured
    person, a 工作经费 column."""
    from .spec import Column
    if form.kind != "tasks":
        return form.columns
    out = []
    for c in form.columns:
        out.append(c)
        if c.key == "target_rate":
            for i, m in enumerate(milestones(plan), start=1):
                rate = _decimal(m.rate)
                # ROUND to 6 places first: 50*0.98 in binary floating point may fall just under 49
                need = (f"INT(ROUND([[target]]*{rate},6))+1" if m.above
                        else f"ROUNDUP(ROUND([[target]]*{rate},6),0)")
                out.append(Column(f"milestone{i}", m.header, 12, "native",
                                  formula=f'=IF([[target]]="","",{need})',
                                  number_format="0", ours=True))
    fee = plan.work_fee
    if fee:
        out.append(Column("work_fee", f"工作经费（元，{fee.per_person_text}元/人）", 12, "native",
                          formula=f'=IF([[actual]]="","",[[actual]]*{fee.per_person_text})',
                          number_format="0.00", ours=True))
    return tuple(out)


def _decimal(rate) -> str:
    """A milestone's exact rate as a formula literal: Fraction(19, 20) → '0.95'."""
    return format((Decimal(rate.numerator) / Decimal(rate.denominator)).normalize(), "f")
