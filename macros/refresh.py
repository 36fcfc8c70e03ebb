"""刷新 (refresh): fill the computed columns (应缴, 资助类别, 资助金额,
资金来源, 待遇起始, 校验) with values, identical to what the Excel functions
give, for WPS and LibreOffice users (where our functions cannot run) and for
sheets too large for live formulas. A row that cannot be computed gets the
error value #VALUE! in 应缴, 资助金额 and 待遇起始 (an error cell, as the
functions give) and its reason in the text columns.

Only cells in our computed columns are written, and only where they are
empty, hold a formula, or hold a value an earlier refresh wrote; a value the
user typed there is kept and counted.
"""

from __future__ import annotations

from pathlib import Path

from yibao.functions import idno
from yibao.functions.picks import PICKS, problem_value

from . import book as books
from .ledger import Record, compute_records, read_ledger_tables, records_of
from .validate import resolve_plan

__all__ = ["computed_values", "fill_values", "run", "add_parser"]

#: computed column field → the Excel function whose value it shows
COLUMN_FUNCTION = {
    "calc_payable": "PAYABLE",
    "calc_tier": "SUBSIDY_TIER",
    "calc_subsidy": "SUBSIDY_AMOUNT",
    "calc_funding": "FUNDING",
    "calc_benefit": "BENEFIT_START",
}
DATE_FORMAT = "yyyy-mm-dd"


def computed_values(records: list[Record]) -> dict[str, tuple[list[int], dict[int, list]]]:
    """sheet → (rows, {col: values}): every computed column present, its
    values in the order of ``rows``. Built a column at a time: a 100,000-row
    ledger has half a million of these cells."""
    out: dict[str, tuple[list[int], dict[int, list]]] = {}
    by_sheet: dict[str, list[Record]] = {}
    for rec in records:
        by_sheet.setdefault(rec.sheet, []).append(rec)
    for sheet, recs in by_sheet.items():
        columns = recs[0].columns       # one table per sheet: the same columns
        # a row that cannot be computed shows what the functions show: #VALUE! in the number
        # and date columns (written as an error cell, so a SUM over them cannot skip the row),
        # the reason in the text columns (picks.problem_value)
        problems = [rec.id_error or rec.input_error or (rec.result.message if rec.result and not rec.result.ok else "")
                    for rec in recs]
        results = [rec.result for rec in recs]
        cells: dict[int, list] = {}
        for field, function in COLUMN_FUNCTION.items():
            col = columns.get(field)
            if col:
                pick = PICKS[function]
                cells[col] = [problem_value(function, problem) if problem else pick(result)
                              for problem, result in zip(problems, results)]
        col = columns.get("calc_check")
        if col:
            # what =ID_CHECK() shows: the reason, or the note on an old 15-digit number
            # (valid and upgraded, issue 12 item 10), '' once the number validated
            cells[col] = [rec.id_error or idno.upgrade_note(rec.raw.get("id_no"), rec.id_no) for rec in recs]
        out[sheet] = ([rec.row for rec in recs], cells)
    return out


def fill_values(book, tables, values: dict[str, tuple[list[int], dict[int, list]]]) -> int:
    """Hand :func:`computed_values` to the book, benefit dates formatted as
    dates; returns how many cells were offered."""
    written = 0
    for sheet, (rows, cells) in values.items():
        date_cols = {c for t in tables if t.sheet == sheet for f, c in t.columns.items() if f == "calc_benefit"}
        book.fill_computed(sheet, rows, cells, {c: DATE_FORMAT for c in date_cols})
        written += len(rows) * len(cells)
    return written


@books.gc_paused()
def run(book, plan=None, policy: str | None = None) -> str:
    grids = book.grids()
    plan = plan or resolve_plan(policy, grids)
    tables, _skipped = read_ledger_tables(grids)
    tables = [t for t in tables if any(f.startswith("calc_") for f in t.columns)]
    if not tables:
        raise books.BookError("台账中没有计算列（应缴、资助类别、待遇起始、校验等），无需刷新")
    records = compute_records(plan, records_of(tables))
    written = fill_values(book, tables, computed_values(records))
    stats = book.save() or {}
    kept = stats.get("skipped", 0)
    # what the book really wrote, where it can tell (issue 16 item 5)
    if stats.get("unchanged"):
        line = f"已核对{len(records)}行：计算结果均无变化，文件未改动"
    else:
        line = f"已刷新{len(records)}行、{stats.get('written', written - kept)}个计算单元格"
    if kept:
        line += f"；{kept}个单元格已有手填内容，未覆盖"
    return line


def cmd_refresh(args) -> int:
    """``yibao refresh 台账/*.xlsx``: each ledger refreshed on its own. One
    file: its line (an error ends the command). Several: one line per file
    and a total; a file that fails gets its Chinese line on stderr and the
    others still run; exit code 2 if any failed."""
    import sys
    from yibao.atomic import WriteRefused, release, without_backups
    from yibao.macros.table import TableError
    from yibao.functions.plan import PlanError
    from yibao.functions.values import BadValue
    paths = without_backups(args.files, lambda text: print(text, file=sys.stderr))
    if not paths:
        raise books.BookError("列出的都是备份或锁定文件，请列出台账本身")
    if len(paths) == 1:
        print(run(books.FileBook(paths[0], for_update=True), policy=args.policy))
        return 0
    done = failed = 0
    for path in paths:
        name = Path(path).name
        try:
            line = run(books.FileBook(path, for_update=True), policy=args.policy)
        except (books.BookError, TableError, PlanError, BadValue, WriteRefused) as exc:
            print(f"错误：{name}：{exc}", file=sys.stderr)
            failed += 1
        else:
            print(f"{name}：{line}")
            done += 1
        finally:
            release(path)
    total = f"共{len(paths)}个文件：{done}个已刷新"
    print(total + (f"，{failed}个出错（见上方错误）" if failed else ""))
    return 2 if failed else 0


def add_parser(sub):
    p = sub.add_parser(
        "refresh", help="刷新计算列（应缴、资助类别、待遇起始、校验） / fill computed columns",
        description="把计算列填成数值，与Excel函数结果相同，供WPS、LibreOffice或大表使用；不覆盖手填内容。"
                    "可一次列出多个台账（如 台账/*.xlsx）。"
                    " Fills the computed columns with the values the functions give; user input is kept.")
    p.add_argument("files", nargs="+", help="台账文件（.xlsx），可多个 / ledger files")
    p.add_argument("--policy", help="方案编号（默认读台账中的“方案编号”） / plan id")
    p.set_defaults(func=cmd_refresh)
