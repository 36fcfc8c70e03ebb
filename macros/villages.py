"""Reading per-village tables (任务分配表, 进度表) by header text.

The seed forms name their columns with years and lost characters
("2019年派出户籍口数", "2020年目标任务数"), so columns are found by what a
header contains, not by exact names.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from yibao.functions.values import BadValue, fen, to_date

from .book import BookError
from .table import cell_text

_DROP = re.compile(r"[\s★*＊:：()（）]")


def norm(header) -> str:
    return _DROP.sub("", unicodedata.normalize("NFKC", str(header or "")))


def _is_village(h: str) -> bool:
    return h in ("村", "村名", "村社区", "村居", "村居委会", "单位", "镇街", "镇街名称") or h.startswith("村名")


def find_village_table(sheet: str, grid: list[list[Any]], wanted: dict[str, callable]):
    """Header row, village column and each wanted column (by predicate on the
    normalized header; the last matching column wins for "target" so that
    "2019年目标任务数 … 2020年目标任务数" picks the newest)."""
    for r, row in enumerate(grid[:30]):
        heads = [norm(v) for v in row]
        village = next((c for c, h in enumerate(heads) if _is_village(h)), None)
        if village is None:
            continue
        cols = {}
        for key, test in wanted.items():
            hits = [c for c, h in enumerate(heads) if h and test(h)]
            if hits:
                cols[key] = hits
        if cols:
            return r, village, cols
    raise BookError(f"工作表“{sheet}”里找不到村（社区）表头（需要“村名”列）")


def rows_below(grid, header_row: int, village_col: int):
    """(sheet row number, village name, row) for each village row; stops at 合计."""
    for r in range(header_row + 1, len(grid)):
        row = grid[r]
        name = cell_text(row[village_col] if village_col < len(row) else None).replace(" ", "")
        if not name:
            continue
        if name.replace("　", "") in ("合计", "总计", "小计"):
            break
        yield r + 1, name, row


def number(value, what: str, village: str) -> int | None:
    if value is None or cell_text(value) == "":
        return None
    try:
        amount = fen(value)
    except BadValue:
        raise BookError(f"“{village}”的{what}“{cell_text(value)}”不是数字") from None
    if amount % 100:
        raise BookError(f"“{village}”的{what}应为整数人数，见到“{cell_text(value)}”")
    return amount // 100


def date_or_none(value, what: str, village: str):
    if value is None or cell_text(value) == "":
        return None
    try:
        return to_date(value if not isinstance(value, float) else int(value))
    except BadValue as exc:
        raise BookError(f"“{village}”的{what}：{exc}") from None
