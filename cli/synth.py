"""Fictional data for the demo, the examples and benchmarks: ``yibao synth``.

One fictional town, 示例镇 of 示例县, under the fictional plan ``shili-2026``
(``functions/plans/shili-2026.toml``): villages of households, the
departments' subsidy lists (民政, 乡村振兴, 残联, 退役军人, 卫健), a deceased
list, an employee-insurance list, the town's task table and the tax bureau's
payment export (for ``yibao reconcile``), plus a list of the mistakes placed on
purpose (``错误清单.md``).

Every ID number has a valid check digit and the region code ``430999``, which
no real county has: no generated number can be a real person's. Names are
drawn from common characters and are not anyone's on purpose.

The same ``--persons`` and ``--seed`` always give the same data; the bundled
``examples/示例镇`` is ``yibao synth --persons 1000 -o examples/示例镇``.

Layout of the output folder::

    台账/<村>.xlsx           the village ledgers (official 台账 template, filled)
    部门名单/<部门>.xlsx      one subsidy list per department (民政 has two sheets)
    部门名单/死亡人员名单.xlsx, 部门名单/职工医保参保名单.xlsx
    任务分配表.xlsx           villages with population and last year's targets
    缴费导出/税务缴费明细.csv  the tax-style payment export: GBK, IDs as ="…", date-times
    缴费导出/医保平台缴费明细.xlsx  the 医保信息平台's export: other column names, .xlsx
    上年度台账/<村>.xlsx      last year's ledgers (plan shili-2025), for ``yibao renewal``
    错误清单.md               the deliberate mistakes and where they are

The generation is pure (:func:`town`, returning plain data); only
:func:`write` touches files.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import io
import random
from pathlib import Path

from yibao.functions import engine, plan as plans
from yibao.functions.values import yuan

__all__ = ["PLAN_ID", "LAST_PLAN_ID", "TOWN", "VILLAGES", "REGION", "Member", "Town", "fictional_id", "town", "write",
           "add_parser"]

PLAN_ID = "shili-2026"
TOWN = "示例镇"
#: village → share of the town's persons
VILLAGES = (("东山村", 28), ("西河村", 26), ("南岭村", 24), ("北坡社区", 22))
#: 430999: a county code that does not exist, so no number made here is a real person's
REGION = "430999"
DEPARTMENTS = ("民政", "乡村振兴", "残联", "退役军人", "卫健")
#: category → department that certifies it
DEPARTMENT_OF = {
    "特困人员": "民政", "孤儿": "民政", "低保对象": "民政", "脱贫人口": "乡村振兴",
    "一二级残疾人": "残联", "三四级残疾人": "残联", "重点优抚对象": "退役军人", "计生特殊家庭": "卫健",
}
#: the name a department writes on its list (not always the plan's own)
LIST_NAME = {"特困人员": "特困供养人员", "低保对象": "低保户", "脱贫人口": "脱贫户",
             "一二级残疾人": "二级残疾人", "三四级残疾人": "三级残疾人", "重点优抚对象": "优抚对象"}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢姜"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华建国玉梅红春秋冬雪松柏林海波云峰志文斌辉"
NEWBORNS_PER_VILLAGE = 2
#: fewer persons leave too few of each kind for every mistake to be placed
MIN_PERSONS = 1000
PAY_METHODS = ("现金", "微信", "银行代扣", "现金", "微信")


@dataclasses.dataclass
class Member:
    """One person of a household, as a village agent records them."""
    village: str
    family: str
    name: str
    relation: str
    id_no: str
    born: datetime.date
    identities: list[str] = dataclasses.field(default_factory=list)
    enroll_type: str = ""
    event_date: datetime.date | None = None
    employee: bool = False
    pay_date: datetime.date | None = None
    pay_method: str = ""
    deposit_date: datetime.date | None = None
    paid_fen: int | None = None
    unpaid_reason: str = ""
    deceased: bool = False
    id_cell: object = None          # what is typed in the ID cell (a float when damaged)
    gender_cell: str = ""

    @property
    def gender(self) -> str:
        return "男" if int(self.id_no[16]) % 2 else "女"


@dataclasses.dataclass
class Town:
    members: list[Member]
    lists: dict[str, dict[str, list[dict]]]      # department → sheet → rows
    deceased: list[dict]
    employee: list[dict]
    tasks: list[dict]                             # village rows of the task table
    total_target: int
    mistakes: list[tuple[str, str, str]]          # (where, what, what yibao says)
    #: the tax-style payment export's rows (column → value, amounts in fen, date-times)
    payments: list[dict] = dataclasses.field(default_factory=list)
    #: what ``yibao reconcile`` must find in the export: (category, name, id_no), category as
    #: :mod:`yibao.macros.reconcile` names it ("姓名不一致" for a name differing for one ID)
    planted: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    #: the same as lines of 错误清单.md: (where, what, what yibao says)
    reconcile_mistakes: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    #: what ``reconcile --fill`` lists besides ``planted``: (sheet, name, id_no), one per cell
    #: (已从导出填入: each cell written; 台账与导出不一致: each typed cell kept)
    fill_planted: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    #: the 医保信息平台 export's rows (column → value, amounts in fen), its planted and listed
    platform: list[dict] = dataclasses.field(default_factory=list)
    platform_planted: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    platform_mistakes: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    #: last year's ledgers: village → persons (under :data:`LAST_PLAN_ID`)
    last_year: dict[str, list[Member]] = dataclasses.field(default_factory=dict)
    #: what ``yibao renewal`` must list: (group, name, id_no), group as :mod:`yibao.macros.renewal` names it
    renewal_planted: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)
    renewal_mistakes: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)


def fictional_id(rng: random.Random, born: datetime.date, used: set[str]) -> str:
    """A number with a valid check digit in the fictional region 430999.

    >>> import random
    >>> n = fictional_id(random.Random(1), datetime.date(1985, 3, 12), set())
    >>> n[:14], len(n)
    ('43099919850312', 18)
    """
    from stdnum.cn.ric import calc_check_digit
    while True:
        body = f"{REGION}{born:%Y%m%d}{rng.randrange(1000):03d}"
        number = body + calc_check_digit(body + "0")
        if number not in used:
            used.add(number)
            return number


def _wrong_check_digit(number: str) -> str:
    digits = "0123456789X"
    return number[:-1] + digits[(digits.index(number[-1]) + 3) % 11]


def _day(rng, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randrange((end - start).days + 1))


def town(persons: int = 1000, seed: int = 2027) -> Town:
    """The fictional town: ``persons`` persons in households, with the mistakes placed."""
    if persons < MIN_PERSONS:
        raise ValueError(f"at least {MIN_PERSONS} persons")
    plan = plans.load(PLAN_ID)
    rng = random.Random(seed)
    used: set[str] = set()
    window_start = min(r.start for r in plan.rules)
    window_end = datetime.date(plan.year_start.year - 1, 12, 31)
    members: list[Member] = []

    def name(surname=None):
        return (surname or rng.choice(SURNAMES)) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))

    def person(village, family, surname, relation, born):
        return Member(village, family, name(surname), relation, fictional_id(rng, born, used), born)

    def born_aged(lo, hi):
        year = plan.year_start.year - rng.randint(lo, hi)
        return datetime.date(year, rng.randint(1, 12), rng.randint(1, 28))

    total_weight = sum(w for _, w in VILLAGES)
    for v_index, (village, weight) in enumerate(VILLAGES):
        quota = round(persons * weight / total_weight) - NEWBORNS_PER_VILLAGE
        count = 0
        household = 0
        while count < quota:
            household += 1
            family = f"{v_index + 1:02d}{household:03d}"
            surname = rng.choice(SURNAMES)
            size = min(rng.choices((1, 2, 3, 4, 5, 6), weights=(8, 20, 25, 25, 14, 8))[0], quota - count)
            head_age = rng.randint(28, 80)
            house = [person(village, family, surname, "户主", born_aged(head_age, head_age))]
            if size >= 2:
                house.append(person(village, family, None, "配偶", born_aged(head_age - 4, head_age + 3)))
            for _ in range(size - len(house)):
                if head_age < 55 and rng.random() < 0.3:
                    house.append(person(village, family, None, "父母", born_aged(head_age + 22, min(head_age + 35, 99))))
                elif head_age >= 50 and rng.random() < 0.5:
                    house.append(person(village, family, surname, "孙子女", born_aged(1, max(1, head_age - 45))))
                else:
                    house.append(person(village, family, surname, "子女", born_aged(1, max(1, head_age - 20))))
            # household-level identities (民政 低保, 乡村振兴 脱贫) and personal ones
            roll = rng.random()
            shared = ["低保对象"] if roll < 0.07 else ["脱贫人口"] if roll < 0.13 else []
            if roll < 0.02:
                shared = ["低保对象", "脱贫人口"]
            for m in house:
                m.identities = list(shared)
                r = rng.random()
                if r < 0.012:
                    m.identities.append("一二级残疾人")
                elif r < 0.032:
                    m.identities.append("三四级残疾人")
                elif r < 0.037 and m.born.year < plan.year_start.year - 50:
                    m.identities.append("特困人员")
                elif r < 0.042 and m.born.year < plan.year_start.year - 40:
                    m.identities.append("重点优抚对象")
                elif r < 0.047 and m.born.year < plan.year_start.year - 45:
                    m.identities.append("计生特殊家庭")
            members += house
            count += len(house)

    # enrollment: payments in the window, employee insurance, migrants, unpaid
    for m in members:
        r = rng.random()
        if r < 0.04 and 18 <= plan.year_start.year - m.born.year <= 60:
            m.employee = True
            m.unpaid_reason = "已参加职工医保"
            continue
        if r < 0.07:
            m.unpaid_reason = rng.choice(("外出联系不上", "已在外地参保", "本人不愿参保"))
            continue
        if r < 0.12 and 18 <= plan.year_start.year - m.born.year <= 55:
            m.identities.append("外出务工人员")
            m.pay_date = _day(rng, window_start, datetime.date(plan.year_start.year, 2, 28))
        else:
            # most pay early: the town's drive is in September and October
            m.pay_date = min(window_end, window_start + datetime.timedelta(days=int(rng.expovariate(1 / 35))))
        m.enroll_type = "普通"

    # special cases of the year: newborns, transfers from employee insurance, discharged soldiers
    year = plan.year_start.year
    by_village: dict[str, list[Member]] = {}
    for m in members:
        by_village.setdefault(m.village, []).append(m)
    specials = []
    for village, people in by_village.items():
        heads = [m for m in people if m.relation == "户主" and 25 <= year - m.born.year <= 40]
        for i, head in enumerate(heads[:NEWBORNS_PER_VILLAGE]):
            born = datetime.date(year, 1 + i, 5 + 7 * i)
            baby = person(village, head.family, head.name[0], "子女", born)
            baby.enroll_type = "新生儿"
            baby.pay_date = born + datetime.timedelta(days=20 + 30 * i)
            specials.append(baby)
        adults = [m for m in people if m.pay_date and not m.identities and 25 <= year - m.born.year <= 50]
        mover = adults[0]
        mover.enroll_type = "职工医保转入"
        mover.event_date = datetime.date(year, 1, 31)
        mover.pay_date = datetime.date(year, 2, 10)
        soldier = adults[1]
        soldier.enroll_type = "退役军人"
        soldier.event_date = datetime.date(year - 1, 12, 20)
        soldier.pay_date = datetime.date(year, 1, 8)
    for baby in specials:
        # the baby goes right after its household
        at = max(i for i, m in enumerate(members) if m.family == baby.family and m.village == baby.village)
        members.insert(at + 1, baby)

    # amounts, payment methods, deposits, cells as typed
    for m in members:
        m.id_cell = m.id_no
        m.gender_cell = m.gender
        if not m.pay_date:
            continue
        result = engine.compute(plan, engine.Person(m.id_no, tuple(m.identities), m.pay_date, m.enroll_type or "普通",
                                                    m.event_date, m.employee))
        m.paid_fen = result.payable if result.ok else None
        m.pay_method = rng.choice(PAY_METHODS)
        if m.pay_date > window_end:
            # cash is all deposited by the window's end (仿 002 四(二)): later payments go by phone
            m.pay_method = rng.choice(("微信", "银行代扣"))
        if m.pay_method == "现金":
            late = rng.choices((0, 1, 2, 3), weights=(92, 5, 2, 1))[0]
            m.deposit_date = min(window_end, m.pay_date + datetime.timedelta(days=late))

    lists, deceased, employee, mistakes = _place_mistakes(rng, plan, members, used)
    tasks, total = _tasks(rng, members)
    # what follows draws from a generator of its own: the data above stays as it was
    extra = random.Random(seed * 1009 + 14)
    payments, planted, listed, fill_planted = _payments(rng, plan, members, mistakes, used, extra)
    platform, platform_planted, platform_listed = _platform(extra, plan, members, mistakes, used)
    taken = {i for _c, _n, i in planted + platform_planted}
    last_year, renewal_planted, renewal_listed, dead = _last_year(extra, plan, members, mistakes, used, taken)
    deceased += dead
    return Town(members, lists, deceased, employee, tasks, total, mistakes, payments, planted, listed, fill_planted,
                platform, platform_planted, platform_listed, last_year, renewal_planted, renewal_listed)


def _list_row(m: Member, category: str, rng, certified_by: datetime.date) -> dict:
    return {"姓名": m.name, "性别": m.gender, "身份证号": m.id_no, "身份类别": LIST_NAME.get(category, category),
            "乡镇（街道）": TOWN, "村（社区）": m.village,
            "认定日期": certified_by - datetime.timedelta(days=rng.randrange(30, 1500)), "是否死亡": "",
            "提供部门": DEPARTMENT_OF[category]}


def _place_mistakes(rng, plan, members: list[Member], used: set[str]):
    """The mistakes staff really make, each placed once and listed."""
    mistakes = []
    certified_by = datetime.date(plan.year_start.year - 1, 8, 31)
    lists: dict[str, dict[str, list[dict]]] = {d: {} for d in DEPARTMENTS}
    for m in members:
        for category in m.identities:
            if category in DEPARTMENT_OF:
                dept = DEPARTMENT_OF[category]
                sheet = {"低保对象": "低保", "特困人员": "特困、孤儿", "孤儿": "特困、孤儿"}.get(category, dept + "资助名单")
                lists[dept].setdefault(sheet, []).append(_list_row(m, category, rng, certified_by))

    def where(m: Member) -> str:
        return f"台账/{m.village}.xlsx 姓名“{m.name}”"

    taken: set[str] = set()      # one mistake per person, so each is found for itself

    def pick(candidates):
        m = next(x for x in candidates if x.id_no not in taken)
        taken.add(m.id_no)
        return m

    paid = [m for m in members if m.pay_date and m.enroll_type == "普通" and "外出务工人员" not in m.identities]
    plain = [m for m in paid if not m.identities and m.relation != "户主"]
    by_village = {}
    for m in plain:
        by_village.setdefault(m.village, []).append(m)
    east, west, south, north = (by_village[v] for v, _ in VILLAGES)

    # 1. a wrong check digit (东山村)
    m = east[3]
    m.id_cell = _wrong_check_digit(m.id_no)
    mistakes.append((where(m), "身份证号校验位错误", "校验：身份证号校验位不对"))
    # 2. an ID stored as a number by Excel: the last three digits are lost (西河村)
    m = west[5]
    m.id_cell = float(m.id_no[:15] + "000")
    mistakes.append((where(m), "身份证号被Excel存成数字，末几位变成0", "校验：身份证号被存成了数字"))
    # 3. a cash deposit four days late (南岭村)
    m = south[7]
    m.pay_method = "现金"
    m.deposit_date = m.pay_date + datetime.timedelta(days=4)
    mistakes.append((where(m), "现金收款后第4天才缴库", "校验：超过方案规定的最迟3天（仿 002 四(二)）"))
    # 4. gender typed against the ID (北坡社区)
    m = north[2]
    m.gender_cell = "女" if m.gender == "男" else "男"
    mistakes.append((where(m), "性别与身份证号不符", "校验：性别与身份证号不一致"))
    # 5. a subsidized person charged the full fee (东山村 where it has one)
    low = pick(sorted((x for x in members if x.identities == ["低保对象"] and x.pay_date
                       and x.paid_fen and x.paid_fen < 40000 and x.enroll_type == "普通"),
                      key=lambda x: x.village != "东山村"))
    low.paid_fen = 40000
    mistakes.append((where(low), "低保对象应缴200元，台账填了400元", "校验：个人缴费与应缴不符"))
    # 6. the same person entered in two villages (西河村 and 北坡社区)
    twin = west[9]
    copy = dataclasses.replace(north[4], name=twin.name, id_no=twin.id_no, id_cell=twin.id_no, born=twin.born,
                               gender_cell=twin.gender)
    members[members.index(north[4])] = copy
    mistakes.append((f"台账/西河村.xlsx 与 台账/北坡社区.xlsx 姓名“{twin.name}”", "同一人在两个村重复登记",
                     "校验：身份证号重复（跨工作簿）"))
    # 7. a late payer: paid in January without being a migrant worker (南岭村)
    m = south[11]
    m.pay_date = datetime.date(plan.year_start.year, 1, 12)
    m.pay_method = "微信"
    m.deposit_date = None
    mistakes.append((where(m), "普通人员2027年1月12日才缴费，已过集中缴费期", "校验：缴费日期不在缴费期内"))

    # department lists
    # 8. one person on two lists of one department: 民政's 低保 and 特困 sheets
    both = pick(x for x in members if x.identities == ["低保对象"] and x.born.year < plan.year_start.year - 55)
    both.identities.append("特困人员")
    # the ledger shows what the merged roster gives: fully subsidized now
    both.paid_fen = engine.compute(plan, engine.Person(both.id_no, tuple(both.identities), both.pay_date)).payable
    lists["民政"].setdefault("特困、孤儿", []).append(_list_row(both, "特困人员", rng, certified_by))
    mistakes.append((f"部门名单/民政.xlsx 姓名“{both.name}”", "同一人同时在民政的低保和特困两张名单上",
                     "合并：只资助一次，按就高取特困人员（全额）"))
    # 9. one ID under two names: 乡村振兴 typed a different name
    poor = lists["乡村振兴"]["乡村振兴资助名单"]
    shared = {x.id_no for x in members if "低保对象" in x.identities and x.id_no not in taken}
    row = next(r for r in poor if r["身份证号"] in shared)
    taken.add(row["身份证号"])
    row["姓名"] = row["姓名"][0] + "晓" + row["姓名"][2:] if len(row["姓名"]) > 2 else row["姓名"] + "晓"
    mistakes.append((f"部门名单/乡村振兴.xlsx 姓名“{row['姓名']}”", "同一身份证号在民政和乡村振兴名单上姓名不同",
                     "合并：异常名单“同一身份证号姓名不一致”"))
    # 10. a wrong check digit on a department list (残联)
    disabled = lists["残联"]["残联资助名单"]
    taken.add(disabled[1]["身份证号"])
    disabled[1]["身份证号"] = _wrong_check_digit(disabled[1]["身份证号"])
    mistakes.append((f"部门名单/残联.xlsx 姓名“{disabled[1]['姓名']}”", "身份证号校验位错误",
                     "合并：异常名单“身份证号有误”"))
    # 11. a deceased person still on a list (卫健 where it has one), also on the deceased list
    dead_row, dead_dept = next((r, d) for d in ("卫健", "残联", "民政", "乡村振兴") for rows in lists[d].values()
                               for r in rows if r["身份证号"] not in taken)
    taken.add(dead_row["身份证号"])
    dead_row["是否死亡"] = "是"
    dead = next(x for x in members if x.id_no == dead_row["身份证号"])
    deceased = [{"姓名": dead.name, "身份证号": dead.id_no, "死亡日期": datetime.date(plan.year_start.year - 1, 7, 3)}]
    mistakes.append((f"部门名单/{dead_dept}.xlsx 姓名“{dead.name}”", "已死亡人员仍在资助名单上",
                     "合并：异常名单“已死亡”，不予资助"))
    # 12. a person already in employee insurance on a list (残联)
    worker = pick(x for x in members if x.employee and not x.identities)
    disabled.append(_list_row(worker, "三四级残疾人", rng, certified_by))
    employee = [{"姓名": x.name, "身份证号": x.id_no, "参保单位": "示例县某公司"} for x in members if x.employee]
    mistakes.append((f"部门名单/残联.xlsx 姓名“{worker.name}”", "已参加职工医保的人在资助名单上",
                     "合并：异常名单“已参加职工医保”"))
    # 13. a repeat within one list (退役军人 entered one person twice)
    veterans = lists["退役军人"].setdefault("退役军人资助名单", [])
    twice = next((r for r in veterans if r["身份证号"] not in taken), None)
    if twice:
        taken.add(twice["身份证号"])
        veterans.append(dict(twice))
        mistakes.append((f"部门名单/退役军人.xlsx 姓名“{twice['姓名']}”", "同一人在一张名单上出现两次",
                         "合并：异常名单“名单内重复”"))
    # 14. rows that contradict the lists or themselves (functions/status.py): the deceased person still
    # subsidized on the ledger (002 四(四) 资助流程4), and subsidized persons whose 未缴费原因 says they
    # refused or are enrolled elsewhere (the random reasons above fall on subsidized persons too)
    for m in members:
        said = m.unpaid_reason in ("本人不愿参保", "已在外地参保")
        if not said and m.id_no != dead.id_no:
            continue
        got = engine.compute(plan, engine.Person(m.id_no, tuple(m.identities), m.pay_date, m.enroll_type or "普通",
                                                 m.event_date, m.employee))
        if not (got.ok and got.subsidy):
            continue
        if said:
            mistakes.append((where(m), f"资助对象的未缴费原因填“{m.unpaid_reason}”",
                             "校验：未缴费原因与资助矛盾，不算参保"))
        else:
            mistakes.append((where(m), "已死亡人员在台账上仍按资助参保",
                             "校验：死亡人员名单有此人却享受资助，不算参保"))
    return lists, deceased, employee, mistakes


#: the tax-style export's columns (as a 税务 征收 system writes them)
EXPORT_COLUMNS = ("序号", "姓名", "证件类型", "证件号码", "险种", "所属期起", "所属期止", "实缴金额", "入库日期",
                  "所属区划", "征收机关")
EXPORT_FILE = "缴费导出/税务缴费明细.csv"
INSURANCE = "城乡居民基本医疗保险"
ELSEWHERE_REGION = "邻县"


def _payers(plan, members: list[Member]):
    """The ledgers' payers (each ID once) as any payment export lists them,
    and the ledger's own mistakes as an export shows them: (payers, planted,
    listed). Left out: persons who pay nothing themselves (fully subsidized:
    nothing goes through the tax system) and persons whose ledger ID is wrong
    (planted as 台账身份证号有误, from the ledger mistakes)."""
    planted: list[tuple[str, str, str]] = []
    listed: list[tuple[str, str, str]] = []
    payers: list[Member] = []
    seen: set[str] = set()
    for m in members:
        if m.id_no in seen:
            continue            # the person entered in two villages paid once
        seen.add(m.id_no)
        if m.id_cell != m.id_no:
            planted.append(("台账身份证号有误", m.name, m.id_no))
            listed.append((f"台账/{m.village}.xlsx 姓名“{m.name}”", "台账身份证号有误（见上），导出里是正确号码，对不上",
                             "比对：台账身份证号有误"))
            continue
        if not (m.pay_date and m.paid_fen):
            continue
        payers.append(m)
        # the ledger's own mistakes as the export shows them: a payment outside the period
        # (not counted as paid on the ledger) and the full fee paid by a subsidized person
        due = engine.compute(plan, engine.Person(m.id_no, tuple(m.identities), m.pay_date, m.enroll_type or "普通",
                                                 m.event_date, m.employee))
        if not due.ok:
            planted.append(("台账未记缴费", m.name, m.id_no))
            listed.append((f"台账/{m.village}.xlsx 姓名“{m.name}”", "缴费不在缴费期内（见上），台账不算已缴费，导出有缴费",
                             "比对：台账未记缴费"))
        elif due.payable != m.paid_fen:
            planted.append(("金额与应缴不符", m.name, m.id_no))
            listed.append((f"台账/{m.village}.xlsx 姓名“{m.name}”",
                             f"实缴金额{yuan(m.paid_fen)}元，应缴{yuan(due.payable)}元（见上）", "比对：金额与应缴不符"))
    return payers, planted, listed


def _plain(members: list[Member], payers: list[Member], mistakes: list, flagged: set[str]) -> dict[str, list[Member]]:
    """village → the payers with none of the ledger's own mistakes, for the discrepancies placed in an export."""
    named = {w.split("“")[-1].rstrip("”") for w, _a, _b in mistakes}
    by_village: dict[str, list[Member]] = {v: [] for v, _ in VILLAGES}
    for m in payers:
        if m.enroll_type == "普通" and not m.identities and m.name not in named and m.relation != "户主" \
                and m.id_no not in flagged:
            by_village[m.village].append(m)
    return by_village


def _payments(rng, plan, members: list[Member], mistakes: list, used: set[str], extra=None):
    """The tax bureau's export of who paid, built from the ledgers' paid rows,
    with the reconciliation's discrepancies placed (each on its own person)
    and listed; returns (rows, planted, listed, fill_planted). ``extra``:
    the generator of the discrepancies added after the first ones (a person
    the ledger says did not pay; a date that differs), so the first stay."""
    year = plan.year_start.year
    region = plan.county
    payers, planted, listed = _payers(plan, members)
    listed = [(w, what.replace("导出里", "税务明细里").replace("导出有", "税务明细有"), says) for w, what, says in listed]
    # the persons with none of the ledger's own mistakes, for the discrepancies placed here
    flagged = {i for _c, _n, i in planted}
    named = {w.split("“")[-1].rstrip("”") for w, _a, _b in mistakes}
    east, west, south, north = _plain(members, payers, mistakes, flagged).values()

    def where(m: Member) -> str:
        return f"{EXPORT_FILE} 姓名“{m.name}”"

    rows: list[dict] = []

    def row(m: Member, name=None, amount=None, region_=None, day=None):
        day = day or m.pay_date
        at = datetime.datetime.combine(day, datetime.time(rng.randint(8, 17), rng.randrange(60), rng.randrange(60)))
        rows.append({"姓名": name or m.name, "证件类型": "居民身份证", "证件号码": m.id_no, "险种": INSURANCE,
                     "所属期起": f"{year}-01", "所属期止": f"{year}-12",
                     "实缴金额": m.paid_fen if amount is None else amount, "入库日期": at,
                     "所属区划": region_ or region, "征收机关": f"国家税务总局{region}税务局"})

    # a. on the ledger as paid, missing from the export (东山村)
    absent = east[1]
    listed.append((f"台账/{absent.village}.xlsx 姓名“{absent.name}”", "台账记已缴费，税务缴费明细里没有",
                     "比对：台账已缴费导出无记录"))
    planted.append(("台账已缴费导出无记录", absent.name, absent.id_no))
    # b. paid a different amount from PAYABLE (西河村)
    short = west[1]
    # c. paid twice (南岭村)
    twice = south[1]
    # d. a different name for one ID (北坡社区)
    renamed = north[1]
    other_name = renamed.name[0] + "小" + renamed.name[2:] if len(renamed.name) > 2 else renamed.name + "小"
    for m in payers:
        if m is absent:
            continue
        if m is short:
            row(m, amount=m.paid_fen - 5000)
            continue
        if m is renamed:
            row(m, name=other_name)
            continue
        row(m)
        if m is twice:
            row(m, day=m.pay_date + datetime.timedelta(days=3))
    listed.append((where(short), f"实缴金额{yuan(short.paid_fen - 5000)}元，应缴{yuan(short.paid_fen)}元",
                     "比对：金额与应缴不符"))
    planted.append(("金额与应缴不符", short.name, short.id_no))
    listed.append((where(twice), "同一人同一所属期缴费两次", "比对：重复缴费"))
    planted.append(("重复缴费", twice.name, twice.id_no))
    listed.append((where(renamed), f"证件号码与台账同一人，姓名写成“{other_name}”（台账为“{renamed.name}”）",
                     "比对：姓名不一致"))
    planted.append(("姓名不一致", renamed.name, renamed.id_no))
    # e. paid, on no ledger: a person the villages missed (东山村's household register)
    born = datetime.date(year - 33, 6, 18)
    newcomer = Member("东山村", "", "欧阳" + "".join(rng.choice(GIVEN) for _ in range(2)), "", "", born)
    newcomer.id_no = fictional_id(rng, born, used)
    newcomer.pay_date = datetime.date(year - 1, 10, 15)
    newcomer.paid_fen = engine.compute(plan, engine.Person(newcomer.id_no, (), newcomer.pay_date)).payable
    row(newcomer)
    listed.append((where(newcomer), "已缴费，但不在任何村的台账上", "比对：已缴费未登记台账"))
    planted.append(("已缴费未登记台账", newcomer.name, newcomer.id_no))
    # f. paid in another region: a person the ledger says is insured elsewhere (未缴费, 已在外地参保)
    away = next(m for m in members if m.unpaid_reason == "已在外地参保" and not m.identities and not m.pay_date
                and m.id_no not in flagged and m.name not in named)
    stand_in = dataclasses.replace(away, pay_date=datetime.date(year - 1, 11, 3),
                                   paid_fen=engine.compute(plan, engine.Person(away.id_no, (), datetime.date(year - 1, 11, 3))).payable)
    row(stand_in, region_=ELSEWHERE_REGION)
    listed.append((where(away), f"所属区划为“{ELSEWHERE_REGION}”（在外地参保缴费）", "比对：在外地缴费"))
    planted.append(("在外地缴费", away.name, away.id_no))
    fill_planted: list[tuple[str, str, str]] = []
    if extra is not None:
        rng = extra             # row() draws its times from here on
        # g. the ledger says 未缴费 (a reason typed, 个人缴费 and 缴费日期 empty), the export says paid
        #    (paid on the phone app after the agent's visit): --fill writes both cells, lists the reason
        said = next(m for m in members if m.unpaid_reason in ("外出联系不上", "本人不愿参保") and not m.identities
                    and m.id_cell == m.id_no and m.id_no not in flagged and m.name not in named)
        day = datetime.date(year - 1, 11, 20)
        paid_later = dataclasses.replace(said, pay_date=day, paid_fen=engine.compute(
            plan, engine.Person(said.id_no, (), day)).payable)
        row(paid_later)
        listed.append((f"台账/{said.village}.xlsx 姓名“{said.name}”",
                       f"台账写未缴费（{said.unpaid_reason}），税务明细有缴费（手机缴费）",
                       "比对：台账未记缴费；加 --fill 时填入个人缴费和缴费日期，未缴费原因列入“台账与导出不一致”"))
        planted.append(("台账未记缴费", said.name, said.id_no))
        fill_planted += [("已从导出填入", said.name, said.id_no)] * 2 + [("台账与导出不一致", said.name, said.id_no)]
        # h. the export's date is not the ledger's (the agent wrote the day the cash was collected)
        late = next(m for m in east[2:] + west[2:] if m.pay_date and m.pay_date.day < 25 and m.pay_date.month < 12)
        rows[:] = [r for r in rows if r["证件号码"] != late.id_no]
        row(late, day=late.pay_date + datetime.timedelta(days=4))
        listed.append((where(late), f"入库日期比台账的缴费日期晚4天（台账{late.pay_date.isoformat()}）",
                       "比对：一致；加 --fill 时列入“台账与导出不一致”（手填的日期保留）"))
        fill_planted.append(("台账与导出不一致", late.name, late.id_no))
    rows.sort(key=lambda r: r["入库日期"])
    for i, r in enumerate(rows, 1):
        r["序号"] = i
    return rows, planted, listed, fill_planted


#: the 医保信息平台 export's columns (other names than the tax bureau's: headers.toml knows both)
PLATFORM_COLUMNS = ("人员编号", "姓名", "证件类型", "证件号码", "险种类型", "缴费年度", "实缴金额", "到账日期",
                    "参保地行政区划")
PLATFORM_FILE = "缴费导出/医保平台缴费明细.xlsx"
PENSION = "城乡居民基本养老保险"


def _platform(rng, plan, members: list[Member], mistakes: list, used: set[str]):
    """The 医保信息平台's export of the year's payments (an .xlsx: IDs as
    text, amounts as numbers, date-times as dates), from the same payers as
    the tax export, with discrepancies of its own placed and listed; returns
    (rows, planted, listed)."""
    year = plan.year_start.year
    payers, planted, listed = _payers(plan, members)
    listed = [(w.replace("台账/", "台账/"), what.replace("导出里", "平台明细里").replace("导出有", "平台明细有"),
               says.replace("比对：", "平台比对：")) for w, what, says in listed]
    flagged = {i for _c, _n, i in planted}
    east, west, south, north = _plain(members, payers, mistakes, flagged).values()
    rows: list[dict] = []

    def where(name: str) -> str:
        return f"{PLATFORM_FILE} 姓名“{name}”"

    def row(m: Member, amount=None, insurance=INSURANCE, id_no=None, day=None):
        day = day or m.pay_date
        at = datetime.datetime.combine(day, datetime.time(rng.randint(8, 17), rng.randrange(60), rng.randrange(60)))
        rows.append({"人员编号": f"{REGION}{rng.randrange(10 ** 13, 10 ** 14)}", "姓名": m.name, "证件类型": "居民身份证",
                     "证件号码": id_no or m.id_no, "险种类型": insurance, "缴费年度": str(year),
                     "实缴金额": m.paid_fen if amount is None else amount, "到账日期": at,
                     "参保地行政区划": plan.county})

    absent, refunded, pension = east[3], west[3], south[3]
    for m in payers:
        if m is not absent:
            row(m)
    # a. on the ledger as paid, not on the platform (西河村's east neighbour: 东山村)
    listed.append((f"台账/{absent.village}.xlsx 姓名“{absent.name}”", "台账记已缴费，平台缴费明细里没有",
                   "平台比对：台账已缴费导出无记录"))
    planted.append(("台账已缴费导出无记录", absent.name, absent.id_no))
    # b. paid, then refunded (a negative row of the same year)
    row(refunded, amount=-refunded.paid_fen, day=refunded.pay_date + datetime.timedelta(days=9))
    listed.append((where(refunded.name), f"缴费后又退费{yuan(refunded.paid_fen)}元（负数金额）", "平台比对：退费冲减"))
    planted.append(("退费冲减", refunded.name, refunded.id_no))
    # c. another insurance in the same export (the platform lists 养老 too)
    row(pension, amount=20000, insurance=PENSION)
    listed.append((where(pension.name), f"险种类型为“{PENSION}”，不是医保", "平台比对：非居民医保"))
    planted.append(("非居民医保", pension.name, pension.id_no))
    # d. an ID number typed wrong on the platform (wrong check digit), a person on no ledger
    born = datetime.date(year - 41, 3, 9)
    typo = Member("北坡社区", "", rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(2)), "", "", born)
    typo.id_no = fictional_id(rng, born, used)
    typo.pay_date, typo.paid_fen = datetime.date(year - 1, 10, 8), 40000
    row(typo, id_no=_wrong_check_digit(typo.id_no))
    listed.append((where(typo.name), "证件号码校验位错误", "平台比对：证件号码无法识别"))
    planted.append(("证件号码无法识别", typo.name, _wrong_check_digit(typo.id_no)))
    rows.sort(key=lambda r: r["到账日期"])
    return rows, planted, listed


#: last year's plan (the same rules a year earlier): the 方案编号 of 上年度台账
LAST_PLAN_ID = "shili-2025"
LAST_FOLDER = "上年度台账"


def _last_year(rng, plan, members: list[Member], mistakes: list, used: set[str], taken: set[str]):
    """Last year's village ledgers (under :data:`LAST_PLAN_ID`) for ``yibao
    renewal``: this year's persons with none of the ledgers' own mistakes and
    no identity, each with last year's status the same as this year's (paid
    a year earlier, or the same 未缴费原因), and the persons who paid last
    year but not this year placed and listed; returns (village → persons,
    planted, listed, rows for the death list)."""
    last_plan = plans.load(LAST_PLAN_ID)
    named = {w.split("“")[-1].rstrip("”") for w, _a, _b in mistakes}
    ids = [m.id_no for m in members]
    clean = [m for m in members if m.id_cell == m.id_no and not m.identities and m.enroll_type in ("", "普通")
             and m.name not in named and m.id_no not in taken and ids.count(m.id_no) == 1]
    planted: list[tuple[str, str, str]] = []
    listed: list[tuple[str, str, str]] = []

    def paid_last_year(m: Member) -> Member:
        day = (m.pay_date.replace(year=m.pay_date.year - 1) if m.pay_date
               else datetime.date(last_plan.year_start.year - 1, 10, rng.randint(1, 28)))
        due = engine.compute(last_plan, engine.Person(m.id_no, (), day))
        method = m.pay_method or rng.choice(PAY_METHODS)
        return dataclasses.replace(m, identities=[], enroll_type="普通", event_date=None, employee=False,
                                   pay_date=day, paid_fen=due.payable, unpaid_reason="", pay_method=method,
                                   deposit_date=day if method == "现金" else None)

    def where(m: Member) -> str:
        return f"{LAST_FOLDER}/{m.village}.xlsx 姓名“{m.name}”"

    chosen: dict[str, tuple[str, str]] = {}        # id → (group, why)
    for village, _ in VILLAGES:
        m = next(x for x in clean if x.village == village and x.unpaid_reason in ("外出联系不上", "本人不愿参保"))
        chosen[m.id_no] = ("未续保（待催缴）", f"去年已缴费，今年台账未缴费（{m.unpaid_reason}）")
    worker = next(x for x in clean if x.employee and x.id_no not in chosen)
    chosen[worker.id_no] = ("不需催缴", "去年已缴费，今年已参加职工医保")
    away = next(x for x in clean if x.unpaid_reason == "已在外地参保" and x.id_no not in chosen)
    chosen[away.id_no] = ("不需催缴", "去年已缴费，今年已在外地参保")
    people: dict[str, list[Member]] = {v: [] for v, _ in VILLAGES}
    for m in clean:
        if m.id_no in chosen:
            people[m.village].append(paid_last_year(m))
            group, why = chosen[m.id_no]
            planted.append((group, m.name, m.id_no))
            listed.append((where(m), why, f"续保：{group}"))
        elif m.pay_date and m.paid_fen:
            people[m.village].append(paid_last_year(m))
        else:
            people[m.village].append(dataclasses.replace(m, employee=False, event_date=None))
    # on last year's ledger only: one who moved away without a word, one who died this autumn
    dead_rows = []
    for village, group, why in (("南岭村", "未续保（待催缴）", "去年已缴费，今年各村台账上都没有此人"),
                                ("北坡社区", "不需催缴", "去年已缴费，今年已死亡（在死亡人员名单上），台账上已删去")):
        born = datetime.date(last_plan.year_start.year - rng.randint(30, 70), rng.randint(1, 12), rng.randint(1, 28))
        head = next(x for x in people[village] if x.relation == "户主")
        gone = Member(village, head.family, head.name[0] + "".join(rng.choice(GIVEN) for _ in range(2)), "配偶", "", born)
        gone.id_no = gone.id_cell = fictional_id(rng, born, used)
        gone.gender_cell = gone.gender
        gone = paid_last_year(gone)
        at = people[village].index(head)
        people[village].insert(at + 1, gone)
        planted.append((group, gone.name, gone.id_no))
        listed.append((where(gone), why, f"续保：{group}"))
        if group == "不需催缴":
            dead_rows.append({"姓名": gone.name, "身份证号": gone.id_no,
                              "死亡日期": datetime.date(plan.year_start.year - 1, 11, 2)})
    return people, planted, listed, dead_rows


def _write_platform(rows: list[dict], path: Path) -> None:
    """The platform's export as it downloads: one sheet, a title line, the
    header, IDs and person numbers as text, amounts in yuan, date-times."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "缴费明细"
    ws.append([f"参保人员缴费明细查询（{TOWN}）"])
    ws.append(list(PLATFORM_COLUMNS))
    for r in rows:
        ws.append([yuan(r[k]) if k == "实缴金额" else r[k] for k in PLATFORM_COLUMNS])
        for c in (1, 4):
            ws.cell(ws.max_row, c).data_type = "s"
        ws.cell(ws.max_row, 8).number_format = "yyyy-mm-dd hh:mm:ss"
    for c, width in zip("ABCDEFGHI", (16, 8, 10, 20, 22, 8, 9, 19, 12)):
        ws.column_dimensions[c].width = width
    _save(wb, path)


def _tasks(rng, members: list[Member]):
    rows = []
    for village, _ in VILLAGES:
        people = sum(1 for m in members if m.village == village)
        registered = people + rng.randint(5, 25)       # the police register counts people away too
        rows.append({"村名": village, "户籍人口数": registered,
                     "上年目标任务数": round(registered * rng.uniform(0.90, 0.96))})
    enrolled_last = sum(r["上年目标任务数"] for r in rows)
    total = round(enrolled_last * 1.01)
    return rows, total


# ---------------------------------------------------------------- files

def _save(wb, path: Path) -> None:
    from yibao.atomic import write_atomic
    raw = io.BytesIO()
    wb.save(raw)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, raw.getvalue())


def _ledger_values(m: Member, i: int) -> dict:
    return {
        "seq": i + 1, "family": m.family, "name": m.name, "relation": m.relation, "gender": m.gender_cell,
        "id_no": m.id_cell, "notify": "上门告知" if i % 3 else "微信群通知",
        "paid": yuan(m.paid_fen) if m.paid_fen is not None else None,
        "unpaid_reason": m.unpaid_reason or None, "signature": "已签" if m.pay_date else None,
        "identities": "、".join(x for x in m.identities) or None,
        "pay_date": m.pay_date, "enroll_type": m.enroll_type if m.enroll_type not in ("", "普通") else None,
        "event_date": m.event_date, "employee_insured": "是" if m.employee else None,
        "pay_method": m.pay_method or None, "deposit_date": m.deposit_date,
    }


def _big_ledger(plan, village: str, people: list[Member]):
    """More persons than the template's 300 rows (benchmark data): the same
    columns in a plain sheet, written fast, computed columns left empty for
    ``yibao refresh``."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("参保缴费台账")
    ws.append([f"{plan.county}{plan.year}年度城乡居民医保参保缴费台账"])
    ws.append([f"填报单位：{TOWN}\u3000\u3000{village}", None, None, None, None, None, "方案编号", plan.id])
    fields = ["seq", "family", "name", "relation", "gender", "id_no", "notify", "paid", "unpaid_reason",
              "signature", "identities", "pay_date", "enroll_type", "event_date", "employee_insured",
              "pay_method", "deposit_date"]
    ws.append(["序号", "家庭编号", "姓名*", "户主关系*", "性别*", "身份证号*", "告知、督促方式", "个人缴费*",
               "未缴费原因*", "参保人签字*", "身份类别", "缴费日期", "参保类型", "事件日期", "是否参加职工医保",
               "缴费方式", "缴库日期", "应缴", "资助类别", "待遇起始", "校验"])
    for i, m in enumerate(people):
        values = _ledger_values(m, i)
        row = []
        for field in fields:
            value = values[field]
            if isinstance(value, datetime.date):
                cell = WriteOnlyCell(ws, value)
                cell.number_format = "yyyy-mm-dd"
                value = cell
            row.append(value)
        ws.append(row)
    return wb


@functools.lru_cache(maxsize=16)
def _form(form: str, plan_id: str, village: str | None) -> bytes:
    from yibao.templates import builder
    return builder.build_bytes(form, plans.load(plan_id), TOWN, village)


def _layout(form: str, plan):
    """Where the builder put the form's header, data rows and columns."""
    from yibao.templates import builder, content
    from yibao.templates.spec import form as find_form
    return builder.Layout(find_form(form), plan, content.context(plan, TOWN))


def _ledger(plan, village: str, people: list[Member]):
    """The official 台账 template for the village, filled row by row."""
    import openpyxl
    from openpyxl.styles import Border, Side
    layout = _layout("ledger", plan)
    if len(people) > layout.form.rows:
        return _big_ledger(plan, village, people)
    # one build of the form for all villages: only the 填报单位 line names the village
    wb = openpyxl.load_workbook(io.BytesIO(_form("ledger", plan.id, None)))
    wb.calculation.fullCalcOnLoad = True    # rows filled here: the form's stored (blank) results are stale
    ws = wb.worksheets[0]
    for cell in ws[2]:
        if str(cell.value or "").startswith("填报单位"):
            cell.value = f"填报单位：{TOWN}\u3000\u3000{village}"
            break
    head = layout.data_start - 1
    cols = dict(layout.col)
    # 缴费方式 and 缴库日期 are not on 002 附件2: staff add them where the plan
    # asks for cash to be deposited in time; matched by header text
    extra = ws.max_column + 1
    thin = Side(style="thin")
    for offset, title in enumerate(("缴费方式", "缴库日期")):
        cell = ws.cell(head, extra + offset, title)
        cell.font = ws.cell(head, cols["name"]).font.copy()
        cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        ws.column_dimensions[openpyxl.utils.get_column_letter(extra + offset)].width = 12
    cols["pay_method"], cols["deposit_date"] = extra, extra + 1
    for i, m in enumerate(people):
        r = head + 1 + i
        for field, value in _ledger_values(m, i).items():
            col = cols.get(field)
            if col is None or value is None:
                continue
            cell = ws.cell(r, col)
            cell.value = value
            if isinstance(value, datetime.date):
                cell.number_format = "yyyy-mm-dd"
            elif field == "paid":
                cell.number_format = "0.00"
            elif field == "id_no" and isinstance(value, float):
                cell.number_format = "0"
    return wb


def _list_book(plan, department: str, sheets: dict[str, list[dict]]):
    import openpyxl
    layout = _layout("subsidy-list", plan)
    if max(len(rows) for rows in sheets.values()) > layout.form.rows:
        # longer than the form (benchmark data): plain sheets with the same headers
        big = openpyxl.Workbook()
        big.remove(big.active)
        for sheet, rows in sheets.items():
            _plain_sheet(big.create_sheet(sheet), rows)
        return big
    wb = openpyxl.load_workbook(io.BytesIO(_form("subsidy-list", plan.id, None)))
    wb.calculation.fullCalcOnLoad = True    # rows filled here: the form's stored (blank) results are stale
    template = wb.worksheets[0]
    head = layout.data_start - 1
    headers = {layout.headers[key].rstrip("*★"): c for key, c in layout.col.items()}
    # copies of the empty form first, one per list
    pages = [template] + [wb.copy_worksheet(template) for _ in range(len(sheets) - 1)]
    for ws, (sheet, rows) in zip(pages, sheets.items()):
        ws.title = sheet
        for cell in ws[2]:
            if str(cell.value or "").startswith("报送部门"):
                cell.value = f"报送部门（盖章）：示例县{department}"
                break
        for i, row in enumerate(rows):
            r = head + 1 + i
            ws.cell(r, headers["序号"], i + 1)
            for key, value in row.items():
                col = headers.get(key)
                if col and value not in ("", None):
                    cell = ws.cell(r, col, value)
                    if isinstance(value, datetime.date):
                        cell.number_format = "yyyy-mm-dd"
    return wb


def _plain_book(title: str, rows: list[dict]):
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.title = title
    _plain_sheet(ws, rows)
    return wb


def _plain_sheet(ws, rows: list[dict]):
    keys = list(rows[0]) if rows else ["姓名", "身份证号"]
    ws.append(keys)
    for r, row in enumerate(rows, 2):
        ws.append([row.get(k) for k in keys])
        for c, key in enumerate(keys, 1):
            if isinstance(row.get(key), datetime.date):
                ws.cell(r, c).number_format = "yyyy-mm-dd"
            elif key == "身份证号":
                ws.cell(r, c).number_format = "@"


def _task_book(plan, data: Town):
    import openpyxl
    wb = openpyxl.load_workbook(io.BytesIO(_form("tasks", plan.id, None)))
    ws = wb.worksheets[0]
    layout = _layout("tasks", plan)
    c_name, c_pop, c_prev, c_target = (layout.col[k] for k in ("unit", "population", "prev_target", "target"))
    head = layout.data_start - 1
    r = head + 1
    for row in data.tasks:
        ws.cell(r, c_name, row["村名"])
        ws.cell(r, c_pop, row["户籍人口数"])
        ws.cell(r, c_prev, row["上年目标任务数"])
        r += 1
    # the town's total for the year, from the county: the village figures are to be allocated
    for row in ws.iter_rows(min_row=r, max_row=ws.max_row):
        if any(str(c.value or "").replace("\u3000", "").replace(" ", "") == "合计" for c in row):
            ws.cell(row[0].row, c_target, data.total_target)
            break
    else:
        ws.cell(r, c_name, "合计")
        ws.cell(r, c_target, data.total_target)
    return wb


def write(data: Town, folder: Path) -> list[Path]:
    """Write the town's files into ``folder``; returns what was written."""
    plan = plans.load(PLAN_ID)
    folder = Path(folder)
    written = []
    for village, _ in VILLAGES:
        path = folder / "台账" / f"{village}.xlsx"
        _save(_ledger(plan, village, [m for m in data.members if m.village == village]), path)
        written.append(path)
    for department, sheets in data.lists.items():
        if not sheets:
            continue
        path = folder / "部门名单" / f"{department}.xlsx"
        _save(_list_book(plan, department, sheets), path)
        written.append(path)
    for title, rows in (("死亡人员名单", data.deceased), ("职工医保参保名单", data.employee)):
        path = folder / "部门名单" / f"{title}.xlsx"
        _save(_plain_book(title, rows), path)
        written.append(path)
    path = folder / "任务分配表.xlsx"
    _save(_task_book(plan, data), path)
    written.append(path)
    if data.payments:
        path = folder / EXPORT_FILE
        _write_export(data.payments, path)
        written.append(path)
    if data.platform:
        path = folder / PLATFORM_FILE
        _write_platform(data.platform, path)
        written.append(path)
    if data.last_year:
        last_plan = plans.load(LAST_PLAN_ID)
        for village, people in data.last_year.items():
            path = folder / LAST_FOLDER / f"{village}.xlsx"
            _save(_ledger(last_plan, village, people), path)
            written.append(path)
    from . import synth_roster
    register = synth_roster.register(data)
    written += synth_roster.write(register, folder)
    path = folder / "错误清单.md"
    lines = [f"# {TOWN}示例数据里故意放的错误", "",
             f"这些数据由 `yibao synth --persons {len(data.members)}` 生成，人员、身份证号（地区码 {REGION} 不存在）"
             "和方案都是虚构的。下面每一处错误都是故意放的，`yibao demo` 会把它们一一找出来。", "",
             "| 位置 | 错误 | yibao 怎么说 |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in data.mistakes]
    sections = (
        ("缴费导出与台账比对", "不一致", data.reconcile_mistakes,
         f"`{EXPORT_FILE}` 是虚构的税务缴费明细（GBK编码，证件号码写成 =\"…\"，入库日期带时间），"
         "由台账上已缴费的人生成，再故意放了下面这些不一致；`yibao reconcile` 会逐一找出并归类，其余的人都比对一致。"),
        ("医保平台缴费明细与台账比对", "不一致", data.platform_mistakes,
         f"`{PLATFORM_FILE}` 是虚构的医保信息平台缴费明细（.xlsx，列名与税务明细不同：人员编号、证件号码、"
         "险种类型、实缴金额、到账日期、参保地行政区划），由同一批已缴费的人生成，另外故意放了下面这些不一致；"
         "`yibao reconcile` 逐一找出并归类，其余的人都比对一致。"),
        ("上年度台账与今年台账（续保催缴）", "情况", data.renewal_mistakes,
         f"`{LAST_FOLDER}/` 是各村去年的台账（方案 {LAST_PLAN_ID}）：今年台账上的人（有身份类别或台账错误的除外）"
         "去年的缴费情况与今年相同，另外放了下面这些去年缴费、今年没有缴费的人；`yibao renewal` 只把他们列出来，"
         "该催缴的进催缴名单，今年已死亡、参加职工医保或在外地参保的列入“不需催缴”。"),
    )
    for title, what, rows, intro in sections:
        if rows:
            lines += ["", f"## {title}", "", intro, "", f"| 位置 | {what} | yibao 怎么说 |", "|---|---|---|"]
            lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    lines += synth_roster.mistake_lines(register)
    path.parent.mkdir(parents=True, exist_ok=True)
    from yibao.atomic import write_atomic
    write_atomic(path, ("\n".join(lines) + "\n").encode("utf-8"))
    written.append(path)
    return written


def _write_export(rows: list[dict], path: Path) -> None:
    """The export as the tax system saves it: GBK, comma-separated, the ID
    written as ``="…"`` (so Excel keeps its digits), date-times, yuan."""
    from yibao.atomic import write_atomic
    lines = [",".join(EXPORT_COLUMNS)]
    for r in rows:
        cells = []
        for key in EXPORT_COLUMNS:
            value = r[key]
            if key == "证件号码":
                value = f'="{value}"'
            elif key == "实缴金额":
                value = f"{value // 100}.{value % 100:02d}"
            elif isinstance(value, datetime.datetime):
                value = value.strftime("%Y-%m-%d %H:%M:%S")
            cells.append(str(value))
        lines.append(",".join(cells))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, ("\r\n".join(lines) + "\r\n").encode("gbk"))


# ---------------------------------------------------------------- command

def cmd_synth(args) -> int:
    from yibao.cli import UserError  # noqa: F401  (cli imports us lazily)
    if not MIN_PERSONS <= args.persons <= 2_000_000:
        raise UserError(f"人数应在{MIN_PERSONS}到2000000之间（少于{MIN_PERSONS}人放不下各种故意放的错误）")
    folder = Path(args.output)
    if folder.exists() and any(folder.iterdir()) and not args.force:
        raise UserError(f"文件夹“{folder}”不是空的；要在里面重新生成请加 --force（只替换本命令生成的文件）")
    data = town(args.persons, args.seed)
    written = write(data, folder)
    print(f"已生成虚构的{TOWN}：{len(data.members)}人、{len(VILLAGES)}个村（社区）、"
          f"{sum(1 for d in data.lists.values() if d)}个部门名单、{len(data.mistakes)}处故意放的错误、"
          f"{len(data.reconcile_mistakes) + len(data.platform_mistakes)}处缴费比对的不一致"
          f"（税务明细{len(data.reconcile_mistakes)}处、医保平台明细{len(data.platform_mistakes)}处）、"
          f"{len(data.renewal_mistakes)}个续保催缴要找出的人，"
          f"共{len(written)}个文件，在“{folder}”")
    return 0


def add_parser(sub):
    p = sub.add_parser(
        "synth", help="生成虚构的示例数据（演示、培训、测速用） / make fictional data",
        description=f"生成虚构的{TOWN}：各村台账、部门资助名单、死亡和职工医保名单、任务表和错误清单。"
                    "身份证号校验位正确，但地区码430999不存在，不会是真人的号码。"
                    " Makes a fictional town's ledgers, department lists and task table (valid check digits,"
                    " region code 430999 which no real county has).")
    p.add_argument("--persons", type=int, default=1000, help="人数（至少1000，默认1000） / number of persons (at least 1000)")
    p.add_argument("--seed", type=int, default=2027, help="随机种子，相同种子生成相同数据 / random seed")
    p.add_argument("-o", "--output", default="示例镇", help="输出文件夹（默认“示例镇”） / output folder")
    p.add_argument("--force", action="store_true", help="文件夹不空时也生成 / write into a non-empty folder")
    p.set_defaults(func=cmd_synth)
