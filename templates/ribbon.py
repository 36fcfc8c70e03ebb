"""The 新建台账 ribbon button: a new ledger for the plan in force, beside
the workbook the button was pressed in.

The plan is the 方案编号 of that workbook, else the default plan
(``yibao policy use``, or the ``YIBAO_POLICY`` environment variable); the
town and village are taken from its 填报单位 line when it has one. A file
is never written over: a free name is chosen (…-2.xlsx, …-3.xlsx).
"""

from __future__ import annotations

from pathlib import Path

from yibao.functions import plan as plans

__all__ = ["new_ledger", "free_name"]


def free_name(folder: Path, stem: str) -> Path:
    """``folder/stem.xlsx``, or the first of ``stem-2.xlsx``, ``stem-3.xlsx``… not taken."""
    path = folder / f"{stem}.xlsx"
    n = 2
    while path.exists():
        path = folder / f"{stem}-{n}.xlsx"
        n += 1
    return path


def _unit_of(grids) -> tuple[str | None, str | None]:
    """(town, village) of the first sheet whose 填报单位 line names either."""
    from yibao.macros.town import unit_of_sheet
    for grid in grids.values():
        town, village = unit_of_sheet(grid)
        if town or village:
            return town or None, village or None
    return None, None


def new_ledger(book, folder: Path | None = None) -> tuple[Path, str]:
    """Write the ledger template; returns (path, the line to show)."""
    from yibao.functions.udf import default_policy_id
    from yibao.macros.book import BookError
    from yibao.macros.ledger import plan_id_in

    from . import builder

    grids = book.grids()
    plan_id = plan_id_in(grids) or default_policy_id()
    if not plan_id:
        raise BookError("不知道用哪个方案：请先在命令行运行 yibao policy use 方案编号，或在台账中填写“方案编号”")
    try:
        plan = plans.load(plan_id)
    except plans.PlanError as exc:
        raise BookError(str(exc)) from None
    town, village = _unit_of(grids)
    here = Path(book.path)
    folder = folder or (here.parent if here.is_absolute() else Path.home() / "Documents")
    stem = f"参保缴费台账-{village}" if village else "参保缴费台账"
    target = free_name(folder, stem)
    builder.write_template(target, builder.build_bytes("ledger", plan, town, village))
    return target, f"已新建台账：{target}（方案 {plan.id}）"
