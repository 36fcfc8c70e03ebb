"""Rate arithmetic (exact fractions) and the plan's milestones
(``[[milestone]]``, typed in :class:`yibao.functions.plan.Milestone`:
001 七(七) 90% by 2024-12-31; 004 一(二) 95% by 2019-12-31 and 100% by
2020-02-29; 000 四(二) 100% by 2021-12-20 and above 98% standing)."""

from __future__ import annotations

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


#: the plan's one rate reader ("95%" → Fraction(19, 20))
parse_rate = plans.parse_rate
#: a progress target of the plan (functions/plan.py)
Milestone = plans.Milestone


def milestones(plan: plans.Plan) -> list[Milestone]:
    """The plan's milestones, by date (standing targets last), then rate."""
    return list(plan.milestones)


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
