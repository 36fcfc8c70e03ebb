"""合并资助名单 (dedupe): merge the subsidy lists departments send, one
subsidy per person by the plan's rule.

Each department (民政, 乡村振兴/扶贫, 残联, 退役军人, 卫健 ...) hands in a 资助名单:
one workbook per department, or one sheet per department. We normalize ID
numbers and identity names, merge by ID, choose one category per person by
the plan (就高不重复 with ties by the plan's order, or 002's strict order),
and write:

- 资助名单汇总: ID, name, chosen category, amount, funding sources, every
  identity held (and who reported it), and why this one won;
- 异常名单: bad IDs, one ID under two names, persons on a deceased list,
  persons already in employee insurance, repeats within one list, unknown
  identity names;
- 反馈-<部门>: each department's own list with what became of every row
  (002 资助流程 3–4);
- 分类统计: counts and amounts by category, by funding source, by department.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from pathlib import Path

from yibao.functions import engine, idno
from yibao.functions import plan as plans
from yibao.functions.values import yuan, yuan_text

from . import book as books
from .table import AmbiguousColumns, TableError, cell_text, find_table

__all__ = ["ListRow", "Merged", "merge", "run", "add_parser"]


@dataclasses.dataclass(slots=True)
class ListRow:
    department: str
    source: str          # "file：sheet"
    row: int
    name: str
    raw_id: object
    identity: str
    deceased: bool = False
    # the ID number read when the list was (see read_lists): (number, birth
    # date), or the InvalidID it raised; None when not read yet
    parsed: tuple | idno.InvalidID | None = None


@dataclasses.dataclass
class Merged:
    roster: list[list]
    exceptions: list[list]
    feedback: dict[str, list[list]]
    stats: list[list]
    persons: int


def _truthy(value) -> bool:
    return cell_text(value) in ("是", "死亡", "已死亡", "1", "Y", "y", "√")


def read_lists(paths: list[Path], plan: plans.Plan) -> list[ListRow]:
    """Every row of every department list."""
    rows: list[ListRow] = []
    # the next lists are read while this one is taken apart: calamine parses
    # without holding the GIL, so the reading runs on the second core
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=2) as pool:
        reads = [pool.submit(books.read_grid_any, path) for path in paths]
        try:
            today, parsed = datetime.date.today(), {}
            for path, read in zip(paths, reads):
                _read_list(path, read.result(), plan, rows, today, parsed)
        finally:
            for read in reads:
                read.cancel()
    return rows


#: the columns of a department list the merge reads
_LIST_FIELDS = ("department", "name", "id_no", "identities", "deceased")


def _parse_id(raw, today: datetime.date, memo: dict):
    """``idno.parse`` of a list's ID cell, or the InvalidID it raises; a
    number on several lists is parsed once."""
    if raw.__class__ is str:
        found = memo.get(raw)
        if found is not None:
            return found
    try:
        found = idno.parse(raw, today)
    except idno.InvalidID as exc:
        return exc
    if raw.__class__ is str:
        memo[raw] = found
    return found


def _read_list(path: Path, grids: dict, plan: plans.Plan, rows: list[ListRow],
               today: datetime.date, parsed: dict):
    """The rows of one department's workbook, added to ``rows`` (ID numbers
    parsed against ``today``, each once across the lists through ``parsed``)."""
    found = False
    problems = []
    for sheet, grid in grids.items():
        try:
            table = find_table(sheet, grid, required=("id_no",), carry=_LIST_FIELDS)
        except AmbiguousColumns as exc:
            raise books.BookError(f"“{path.name}”：{exc}") from None
        except TableError as exc:
            problems.append(str(exc))
            continue
        found = True
        several = len(grids) > 1
        default_dept = sheet if several else path.stem
        default_identity = None
        for candidate in (sheet, path.stem, *path.stem.replace("_", "-").split("-")):
            cat = plan.lookup(candidate)
            if cat is not None:
                default_identity = cat.name
                break
        if default_identity is None:
            try:
                table.require("identities", hint="，文件名和工作表名也不是本方案的身份类别")
            except TableError as exc:
                raise books.BookError(f"“{path.name}”：{exc}") from None
        source = f"{path.name}：{sheet}"
        for row in table.rows:
            v = row.values
            raw_id = v.get("id_no")
            rows.append(ListRow(
                cell_text(v.get("department")) or default_dept, source, row.number, cell_text(v.get("name")),
                raw_id, cell_text(v.get("identities")) or (default_identity or ""), _truthy(v.get("deceased")),
                # parsed here, while the next lists are still being read on the other core
                _parse_id(raw_id, today, parsed)))
    if not found:
        raise books.BookError(f"“{path.name}”里找不到资助名单（需要“姓名”“身份证号”列）：" + "；".join(problems))


def read_id_set(paths: list[Path]) -> set[str]:
    """IDs listed in deceased or employee-insurance lists."""
    found = set()
    for path in paths:
        problems, read = [], False
        for sheet, grid in books.read_grid_any(path).items():
            try:
                table = find_table(sheet, grid, required=("id_no",))
            except TableError as exc:
                problems.append(str(exc))
                continue
            read = True
            for row in table.rows:
                try:
                    found.add(idno.validate(row.values.get("id_no")))
                except idno.InvalidID:
                    pass
        if not read:        # a list that cannot be read must not quietly exclude no one
            raise books.BookError(f"“{Path(path).name}”里找不到名单（需要“身份证号”列）：" + "；".join(problems))
    return found


def _why(plan: plans.Plan, cats: list[plans.Category], chosen: str | None, result: engine.Result) -> str:
    fee = plan.individual
    subsidized = [c for c in cats if c.subsidized]
    if chosen and all(c.name != chosen for c in subsidized):
        subsidized.append(plan.by_name[chosen])   # assigned from the ID's age (000 二(二)(2))
    if not subsidized:
        return "所持身份不享受资助"
    if len(subsidized) == 1:
        text = f"唯一资助身份：{subsidized[0].name}（{yuan_text(subsidized[0].subsidy_fen(fee))}元）"
    else:
        clause = plan.data.get("selection", {}).get("clause", "")
        others = [c for c in subsidized if c.name != chosen]
        win = next(c for c in subsidized if c.name == chosen)
        if plan.selection == "order":
            text = (f"按资助顺序：{chosen}排在" + "、".join(c.name for c in others) + f"之前（{clause}）")
        else:
            parts = []
            for c in others:
                if c.subsidy_fen(fee) < win.subsidy_fen(fee):
                    parts.append(f"高于{c.name}（{yuan_text(c.subsidy_fen(fee))}元）")
                else:
                    parts.append(f"与{c.name}同额，按方案顺序在前")
            text = (f"就高不重复：{chosen}资助{yuan_text(win.subsidy_fen(fee))}元，" + "；".join(parts)
                    + f"（{clause}）")
    if plan.proxy_source and any(src == plan.proxy_source for src, _f in result.funding):
        text += f"；余额由{plan.proxy_payer}代缴"
    return text


def merge(plan: plans.Plan, rows: list[ListRow], deceased: set[str] = frozenset(),
          employee: set[str] = frozenset(), progress=None) -> Merged:
    """The pure merge (no files)."""
    exceptions: list[list] = []
    outcome: dict[int, str] = {}          # index in rows → feedback text
    by_id: dict[str, list[int]] = defaultdict(list)
    seen_in_list: set[tuple[str, str, str]] = set()
    # the plan's own clauses: 002 writes both down; a plan that does not still
    # excludes the employee-insured by its [scope]
    scope_clause = plan.data.get("scope", {}).get("clause", "")
    employee_clause = f"（{scope_clause}）" if scope_clause else ""
    dead_clause = "（002 资助流程4）" if plan.seed == "002" else ""
    today = datetime.date.today()
    born_on: dict[str, datetime.date] = {}
    category_names: dict[str, str | None] = {}   # identity text → the plan's name for it

    def category(text: str) -> str | None:
        try:
            return category_names[text]
        except KeyError:
            cat = plan.lookup(text)
            name = category_names[text] = cat.name if cat is not None else None
            return name

    shown_of: dict[tuple, tuple] = {}

    def exception(kind, i, message, id_text=None):
        r = rows[i]
        exceptions.append([kind, r.department, r.source, r.row, r.name,
                           id_text if id_text is not None else cell_text(r.raw_id), r.identity, message])

    parsed: dict = {}
    for i, r in enumerate(rows):
        # read_lists parsed the number already; rows made otherwise are parsed here
        found = r.parsed if r.parsed is not None else _parse_id(r.raw_id, today, parsed)
        if isinstance(found, idno.InvalidID):
            exception("身份证号有误", i, str(found),
                      f"{r.raw_id:.5E}" if isinstance(r.raw_id, float) else None)
            outcome[i] = f"未纳入：{found}"
            continue
        number, born_on_id = found
        if not r.identity:
            exception("缺少身份类别", i, "名单未写身份类别，文件名或工作表名也不是本方案的身份类别", number)
            outcome[i] = "未纳入：缺少身份类别"
            continue
        mine = category(r.identity)
        if mine is None:
            names = "、".join(plan.category_names())
            exception("未知身份类别", i, f"“{r.identity}”不是本方案的身份类别（{names}）", number)
            outcome[i] = f"未纳入：未知身份类别“{r.identity}”"
            continue
        key = (r.department, number, mine)
        if key in seen_in_list:
            exception("同一名单重复", i, "同一部门名单中重复出现，只计一次", number)
            outcome[i] = "重复行，只计一次"
            continue
        seen_in_list.add(key)
        by_id[number].append(i)
        born_on[number] = born_on_id

    roster: list[list] = []
    stats_cat: dict[str, list] = defaultdict(lambda: [0, 0])
    stats_src: dict[str, int] = defaultdict(int)
    stats_dept: dict[str, list] = defaultdict(lambda: [0, 0])
    numbers = sorted(by_id)
    for n, number in enumerate(numbers):
        if progress and n % 5000 == 0:
            progress(n, len(numbers))
        idx = by_id[number]
        if len(idx) == 1:               # most persons are on one list: no vote to count
            name = rows[idx[0]].name
            names = (name,) if name else ()
        else:
            # the most frequent name, the first listed on a tie (as Counter.most_common)
            names = {}
            for i in idx:
                if rows[i].name:
                    names[rows[i].name] = names.get(rows[i].name, 0) + 1
            name = max(names, key=names.get) if names else ""
        for i in idx:
            stats_dept[rows[i].department][0] += 1
        if len(names) > 1:
            listed = "、".join(f"{k}（{rows[next(i for i in idx if rows[i].name == k)].department}）" for k in names)
            exception("一人两名", idx[0], f"同一身份证号对应不同姓名：{listed}，请核实", number)
        if number in deceased or any(rows[i].deceased for i in idx):
            exception("已死亡", idx[0], f"在死亡人员名单中，已从资助名单剔除{dead_clause}", number)
            for i in idx:
                outcome[i] = "已剔除：死亡人员"
            continue
        if number in employee:
            exception("已参加职工医保", idx[0], f"已参加职工医保，不予资助{employee_clause}", number)
            for i in idx:
                outcome[i] = "已剔除：已参加职工医保"
            continue
        identities = tuple(dict.fromkeys(category(rows[i].identity) for i in idx))
        result = engine.compute_valid(plan, engine.Person(number, identities), born_on[number])
        if not result.ok:
            exception("无法计算", idx[0], result.message, number)
            for i in idx:
                outcome[i] = f"未纳入：{result.message}"
            continue
        chosen = result.subsidy_tier
        held = "；".join(f"{category(rows[i].identity)}（{rows[i].department}）" for i in idx)
        if not result.subsidy:
            exception("不享受资助", idx[0], result.message or "所持身份不享受资助", number)
            for i in idx:
                outcome[i] = "未纳入：所持身份不享受资助"
            continue
        # amounts as shown and why this category: the same for everyone with
        # the same identities and outcome
        shown_key = (identities, chosen, result.funding, result.subsidy, result.payable)
        shown = shown_of.get(shown_key)
        if shown is None:
            shown = shown_of[shown_key] = (
                yuan(result.subsidy), result.funding_text, yuan(result.payable),
                _why(plan, [plan.by_name[x] for x in identities], chosen, result))
        subsidy_shown, funding_shown, payable_shown, why = shown
        roster.append([len(roster) + 1, name, number, chosen, subsidy_shown,
                       funding_shown, payable_shown, held, why])
        stats_cat[chosen][0] += 1
        stats_cat[chosen][1] += result.subsidy
        for source, amount in result.funding:
            stats_src[source] += amount
        for i in idx:
            mine = category(rows[i].identity)
            if mine == chosen:
                outcome[i] = f"按本部门报送身份“{mine}”资助"
                stats_dept[rows[i].department][1] += 1
            else:
                giver = next((rows[j].department for j in idx if category(rows[j].identity) == chosen), "")
                outcome[i] = f"按“{chosen}”资助（{giver}），本部门身份不重复资助"

    feedback: dict[str, list[list]] = defaultdict(list)
    for i, r in enumerate(rows):
        feedback[r.department].append([len(feedback[r.department]) + 1, r.name, cell_text(r.raw_id)
                                       if not isinstance(r.raw_id, float) else f"{r.raw_id:.5E}",
                                       r.identity, outcome.get(i, "")])
    stats = [["分类", "项目", "人数", "金额（元）"]]
    order = {name: k for k, name in enumerate(plan.order)}
    for cat, (count, amount) in sorted(stats_cat.items(), key=lambda kv: order.get(kv[0], 99)):
        stats.append(["资助类别", cat, count, yuan(amount)])
    stats.append(["资助类别", "合计", sum(c for c, _a in stats_cat.values()),
                  yuan(sum(a for _c, a in stats_cat.values()))])
    for source, amount in sorted(stats_src.items()):
        stats.append(["资金来源", source, None, yuan(amount)])
    stats.append(["资金来源", "合计", None, yuan(sum(stats_src.values()))])
    for dept, (listed, granted) in sorted(stats_dept.items()):
        stats.append(["报送部门", f"{dept}：报送", listed, None])
        stats.append(["报送部门", f"{dept}：按本部门身份资助", granted, None])
    return Merged(roster, exceptions, dict(feedback), stats, len(by_id))


ROSTER_HEADER = ["序号", "姓名", "身份证号", "资助类别", "资助金额（元）", "资金来源", "个人应缴（元）",
                 "所有身份（报送部门）", "确定理由"]
EXCEPTION_HEADER = ["异常类型", "部门", "来源", "行", "姓名", "身份证号", "报送身份", "说明"]
FEEDBACK_HEADER = ["序号", "姓名", "身份证号", "报送身份", "比对结果"]


def sheets_of(plan: plans.Plan, merged: Merged) -> list[books.OutSheet]:
    title = f"{plan.name} 资助名单比对结果"
    out = [
        books.OutSheet("资助名单汇总", [[title]] + [ROSTER_HEADER] + merged.roster, title_rows=1,
                       widths={1: 6, 2: 10, 3: 21, 4: 20, 5: 10, 6: 30, 7: 10, 8: 40, 9: 60}),
        books.OutSheet("异常名单", [EXCEPTION_HEADER] + merged.exceptions,
                       widths={1: 14, 2: 12, 3: 24, 4: 5, 5: 10, 6: 21, 7: 16, 8: 60}),
        books.OutSheet("分类统计", merged.stats, widths={1: 10, 2: 36, 3: 10, 4: 14}),
    ]
    for dept, rows in sorted(merged.feedback.items()):
        out.append(books.OutSheet(f"反馈-{dept}", [[f"{dept} 资助名单比对反馈"], FEEDBACK_HEADER] + rows,
                                  title_rows=1, widths={1: 6, 2: 10, 3: 21, 4: 20, 5: 50}))
    return out


@books.gc_paused()
def run(paths: list[Path], plan: plans.Plan, output: Path, deceased=(), employee=(), progress=None) -> str:
    rows = read_lists(paths, plan)
    merged = merge(plan, rows, read_id_set(list(deceased)), read_id_set(list(employee)), progress)
    books.write_new_workbook(output, sheets_of(plan, merged))
    granted = len(merged.roster)
    return (f"共读入{len(rows)}行、{merged.persons}人：确定资助{granted}人，异常{len(merged.exceptions)}条；"
            f"结果已写入 {output}")


def cmd_dedupe(args) -> int:
    plan = plans.load(args.policy)
    output = Path(args.output)
    if output.exists() and not args.force:
        raise books.BookError(f"{output} 已存在；要覆盖请加 --force（原文件会备份）")
    from ._bar import Bar
    bar = Bar("合并")
    line = run([Path(p) for p in args.lists], plan, output,
               [Path(p) for p in args.deceased], [Path(p) for p in args.employee], progress=bar)
    bar.close()
    print(line)
    return 0


def add_parser(sub):
    p = sub.add_parser(
        "dedupe", help="合并各部门资助名单，一人只享受一种资助 / merge subsidy lists",
        description="读入各部门报送的资助名单，按方案“就高不重复”或资助顺序确定每人一种资助类别，"
                    "输出汇总名单、异常名单、分类统计和给各部门的反馈。"
                    " Merges department subsidy lists by ID and picks one category per person.")
    p.add_argument("lists", nargs="+", help="各部门资助名单（.xlsx/.xls/.csv） / department lists")
    p.add_argument("--policy", required=True, help="方案编号 / plan id")
    p.add_argument("-o", "--output", required=True, help="结果文件（.xlsx） / output workbook")
    p.add_argument("--deceased", action="append", default=[], help="死亡人员名单 / deceased list")
    p.add_argument("--employee", action="append", default=[], help="已参加职工医保人员名单 / employee-insured list")
    p.add_argument("--force", action="store_true", help="覆盖已有结果文件（先备份） / overwrite")
    p.set_defaults(func=cmd_dedupe)
