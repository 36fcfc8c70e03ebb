"""Synthetic persons for benchmarks: fictional IDs with valid check digits,
mixed ages, identities, payment dates and enrollment types."""
from __future__ import annotations

import datetime
import random

from stdnum.cn.ric import calc_check_digit

from yibao.functions import plan as plans
from yibao.functions.engine import Person


def fictional_id(rng: random.Random, born: datetime.date) -> str:
    body = f"{rng.choice(['520221', '430423', '370402', '430111'])}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + calc_check_digit(body + "0")


def persons(plan_id: str, count: int, seed: int = 7) -> list[Person]:
    plan = plans.load(plan_id)
    rng = random.Random(seed)
    names = [c.name for c in plan.categories if not c.from_age]
    aliases = [a for c in plan.categories for a in c.aliases]
    first = min(r.start for r in plan.rules)
    last = max(r.end for r in plan.rules)
    span = (last - first).days
    out = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.06:
            kind = "新生儿"
            born = plan.year_start + datetime.timedelta(days=rng.randrange(0, 330))
        else:
            kind = rng.choice(plan.enroll_types) if roll < 0.15 else "普通"
            born = datetime.date(rng.randrange(1920, 2024), rng.randrange(1, 13), rng.randrange(1, 29))
        k = rng.choices([0, 1, 2, 3], weights=[70, 20, 8, 2])[0]
        ids = tuple(rng.choice(names + aliases) for _ in range(k))
        pay = first + datetime.timedelta(days=rng.randrange(span + 1))
        event = pay - datetime.timedelta(days=rng.randrange(0, 150)) if kind in ("职工医保转入", "退役军人") else None
        out.append(Person(fictional_id(rng, born), ids, pay, kind, event, rng.random() < 0.01))
    return out
