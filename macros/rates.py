"""Rate arithmetic (exact fractions) and the plan's milestones
(``[[milestone]]``: 001 七(七) 90% by 2024-12-31; 004 一(二) 95% by
2019-12-31 and 100% by 2020-02-29)."""

from __future__ import annotations

import dataclasses
import datetime
import math
from fractions import Fraction

from yibao.functions import plan as plans

__all__ = ["rate_of", "need_for", "percent_text", "percent_value", "parse_rate", "Milestone", "milestones",
           "unit_label", "day_text", "reach_date"]


def rate_of(done: int | None, target: int | None) -> Fraction | None:
    if done is None or not target:
        return None
    return Fraction(done, target)


def need_for(target: int, rate: Fraction) -> int:
    """Persons needed to reach ``rate`` of ``target`` (rounded up)."""
    return math.ceil(target * rate)


def percent_text(rate: Fraction | None, places: int = 1) -> str:
    if rate is None:
        return ""
    scaled = rate * 100 * 10 ** places
    value = (scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator)   # half up
    text = f"{value / 10 ** places:.{places}f}"
    return f"{text}%"


def percent_value(rate: Fraction | None, places: int = 4):
    """A rate for a cell formatted as a percentage (4 decimals: 95.12%)."""
    if rate is None:
        return None
    from decimal import ROUND_HALF_UP, Decimal
    return float((Decimal(rate.numerator) / Decimal(rate.denominator)).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def parse_rate(text) -> Fraction:
    """'95%' or '0.95' → Fraction."""
    value = str(text).strip()
    if value.endswith("%"):
        return Fraction(value[:-1]) / 100
    return Fraction(value)


@dataclasses.dataclass(frozen=True)
class Milestone:
    date: datetime.date
    rate: Fraction
    text: str       # "95%"
    clause: str

    @property
    def label(self) -> str:
        return f"{self.date.month}月{self.date.day}日前完成{self.text}"


def milestones(plan: plans.Plan) -> list[Milestone]:
    out = []
    for m in plan.data.get("milestone", []):
        out.append(Milestone(m["date"], parse_rate(m["rate"]), str(m["rate"]), m.get("clause", "")))
    return sorted(out, key=lambda m: (m.date, m.rate))


def unit_label(plan: plans.Plan) -> str:
    """村（社区） for a town plan; 镇街 for a city-wide plan (000 divides the city among towns)."""
    return "村（社区）" if plan.town else "镇街"


def day_text(day: datetime.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def reach_date(dates: list[datetime.date], need: int) -> datetime.date | None:
    """The day the count of payments first reached ``need`` (dated only)."""
    if need <= 0:
        return min(dates) if dates else None
    ordered = sorted(dates)
    return ordered[need - 1] if len(ordered) >= need else None
