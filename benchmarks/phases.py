"""Where an action's time goes: the steps of `yibao validate`, `yibao refresh`
and `yibao dedupe` timed one by one in one process (CPU seconds, the cyclic
GC paused as the actions pause it). The steps mirror ``run()`` of each action;
this is a breakdown for docs/performance.md, not a second implementation.

    python benchmarks/phases.py validate|refresh LEDGER.xlsx
    python benchmarks/phases.py dedupe POLICY OUT.xlsx LIST.xlsx...
    python benchmarks/phases.py reconcile EXPORT OUT.xlsx LEDGER.xlsx...

Prints one JSON object: step → seconds.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

START = time.process_time()


class Clock:
    def __init__(self):
        self.steps: dict[str, float] = {}
        self.last = START

    def __call__(self, step: str):
        now = time.process_time()
        self.steps[step] = round(now - self.last, 3)
        self.last = now


def ledger_action(action: str, path: str) -> dict:
    clock = Clock()
    from yibao.macros import book as books, refresh, validate
    from yibao.macros.ledger import compute_records, read_ledger_tables, records_of
    clock("start (interpreter, imports)")
    gc.disable()
    book = books.FileBook(path, for_update=True)
    grids = book.grids()
    clock("read cells (python-calamine)")
    plan = validate.resolve_plan(None, grids)
    tables, _skipped = read_ledger_tables(grids)
    clock("find table, rows")
    records = records_of(tables)
    clock("records (ID, amount, dates, identities)")
    compute_records(plan, records)
    clock("engine")
    if action == "validate":
        findings = validate.check_records(plan, {str(book.path): records},
                                          {(str(book.path), t.sheet): t.headers for t in tables})
        clock("checks")
        validate.write_findings(book, findings, {r.sheet for r in records})
        book.save()
        clock("write report, marks, notes into the .xlsx")
    else:
        values = refresh.computed_values(records)
        clock("computed values")
        refresh.fill_values(book, tables, values)
        book.save()
        clock("write computed cells into the .xlsx")
    return clock.steps


def dedupe(policy: str, output: str, lists: list[str]) -> dict:
    clock = Clock()
    from yibao.functions import plan as plans
    from yibao.macros import book as books, dedupe
    clock("start (interpreter, imports)")
    gc.disable()
    plan = plans.load(policy)
    rows = dedupe.read_lists([Path(p) for p in lists], plan)
    clock("read lists (calamine, tables, rows)")
    merged = dedupe.merge(plan, rows)
    clock("merge")
    books.write_new_workbook(Path(output), dedupe.sheets_of(plan, merged))
    clock("write result workbook")
    return clock.steps


def reconcile(export: str, output: str, ledgers: list[str]) -> dict:
    """The steps of ``reconcile.run`` (one export sheet, no side lists),
    one after the other: the command reads the ledgers on a second thread
    while it parses the export."""
    clock = Clock()
    from yibao.macros import book as books, reconcile, town
    clock("start (interpreter, imports)")
    gc.disable()
    grids = books.read_grid_any(Path(export))
    clock("read export (decode, split)")
    table = reconcile.find_export(grids)
    payments = reconcile.read_payments(grids[table.sheet], table)
    clock("export rows (ID, amount, date)")
    sources = town.read_sources(ledgers)
    clock("read ledgers (python-calamine)")
    first = sources[0][1]
    plan = town.resolve_plan(None, first, sources[1:])
    records, _notes = town.ledger_records(plan, sources)
    clock("ledger records, engine, status")
    persons = town.unique_persons(records)
    regions = reconcile._regions(plan, None) if "region" in table.columns else ()
    outcome = reconcile.classify(payments, persons, regions, plan.proxy_source)
    clock("each person once, classify")
    sheets = reconcile.sheets_of(outcome, plan.name, Path(export).name)
    clock("result sheets")
    books.write_new_workbook(Path(output), sheets)
    clock("write result workbook")
    return clock.steps


if __name__ == "__main__":
    if sys.argv[1] == "reconcile":
        print(json.dumps(reconcile(sys.argv[2], sys.argv[3], sys.argv[4:]), ensure_ascii=False))
    elif sys.argv[1] == "dedupe":
        print(json.dumps(dedupe(sys.argv[2], sys.argv[3], sys.argv[4:]), ensure_ascii=False))
    else:
        print(json.dumps(ledger_action(sys.argv[1], sys.argv[2]), ensure_ascii=False))
