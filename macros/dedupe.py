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
  identity names, death/employee list rows whose ID cannot be read, and
  persons held back until such a row is checked (待核实);
- 反馈-<部门>: each department's own list with what became of every row
  (002 资助流程 3–4);
- 分类统计: counts and amounts by category, by funding source, by department,
  and 名单核对: per list, rows read = used + excluded by reason + reported.

The death and employee lists may come among the department lists; which is
which is read from the content (:mod:`yibao.macros.lists`).
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
from . import lists as kinds
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
    village: str = ""
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
    #: rows of the death and employee lists whose ID could not be read
    unreadable: int = 0
    #: persons held back until a death/employee entry is checked (待核实)
    pending: int = 0


def _truthy(value) -> bool:
    return cell_text(value) in ("是", "死亡", "已死亡", "1", "Y", "y", "√")


def read_lists(paths: list[Path], plan: plans.Plan) -> list[ListRow]:
    """Every row of every department subsidy list among ``paths`` (death and
    employee lists among them are left to :func:`read_all`)."""
    return read_all(paths, plan)[0]


def read_all(paths: list[Path], plan: plans.Plan | None, deceased=(), employee=()
             ) -> tuple[list[ListRow], list[kinds.SideRow], list[str], plans.Plan]:
    """(subsidy list rows, death and employee list rows, what was recognized,
    the plan) of ``paths``, each sheet's kind read from its content
    (:func:`yibao.macros.lists.classify`); ``deceased`` and ``employee``
    paths are that kind whatever they look like. ``plan`` None: the plan
    named by the first list with a 方案编号 cell, as validate resolves it.
    Raises ``books.BookError`` naming the option to use for a list that
    cannot be classified, or when no plan is given nor named."""
    forced = {Path(p): kinds.DECEASED for p in deceased}
    forced.update({Path(p): kinds.EMPLOYEE for p in employee})
    order = list(dict.fromkeys([Path(p) for p in paths] + list(forced)))
    rows: list[ListRow] = []
    side: list[kinds.SideRow] = []
    recognized: list[str] = []

    def is_category(text: str) -> bool:
        return plan.lookup(text) is not None

    # the next lists are read while this one is taken apart: calamine parses
    # without holding the GIL, so the reading runs on the second core
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=2) as pool:
        reads = [pool.submit(books.read_grid_any, path) for path in order]
        try:
            if plan is None:
                from .town import resolve_plan
                plan = resolve_plan(None, {}, [(path.name, read.result()) for path, read in zip(order, reads)])
            today, parsed = datetime.date.today(), {}
            for path, read in zip(order, reads):
                grids = read.result()
                try:
                    sheets = kinds.classify_book(grids, path.name, is_category)
                except AmbiguousColumns as exc:
                    raise books.BookError(f"“{path.name}”：{exc}") from None
                if path in forced:
                    if not sheets:
                        problems = []
                        for sheet, grid in grids.items():
                            try:
                                find_table(sheet, grid, required=("id_no",))
                            except TableError as exc:
                                problems.append(str(exc))
                        raise books.BookError(f"“{path.name}”里找不到{kinds.KIND_NAMES[forced[path]]}"
                                              "（需要“姓名”“身份证号”列）：" + "；".join(problems))
                    found = kinds.read_side_rows(path, forced[path], grids, today=today)
                    side += found
                    recognized.append(f"{path.name}（按选项作{kinds.KIND_NAMES[forced[path]]}，{len(found)}行）")
                    continue
                for sheet, kind in sheets.items():
                    if kind.kind is None:
                        raise books.BookError(kinds.unclassified_message(path.name, sheet, kind))
                    if kind.kind == kinds.ROSTER:
                        raise books.BookError(f"“{path.name}”是合并结果（资助名单汇总），不是部门名单：请不要把它和部门名单一起合并")
                subsidy = {sheet: grid for sheet, grid in grids.items()
                           if sheet in sheets and sheets[sheet].kind == kinds.SUBSIDY}
                if subsidy or not sheets:
                    _read_list(path, subsidy or grids, plan, rows, today, parsed)
                others = {k: v for k, v in sheets.items() if k not in subsidy}
                if others:
                    found = kinds.read_side_rows(path, "", grids, others, today)
                    side += found
                    for sheet, kind in others.items():
                        count = sum(1 for r in found if r.sheet == sheet)
                        recognized.append(f"{path.name}（{kind.why}，作{kinds.KIND_NAMES[kind.kind]}，{count}行）")
        finally:
            for read in reads:
                read.cancel()
    return rows, side, recognized, plan


#: the columns of a department list the merge reads
_LIST_FIELDS = ("department", "name", "id_no", "identities", "deceased", "village")


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
                cell_text(v.get("village")),
                # parsed here, while the next lists are still being read on the other core
                _parse_id(raw_id, today, parsed)))
    if not found:
        raise books.BookError(f"“{path.name}”里找不到资助名单（需要“姓名”“身份证号”列）：" + "；".join(problems))


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
        clause = plan.clause_of("selection")
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
          employee: set[str] = frozenset(), progress=None, side: list[kinds.SideRow] = ()) -> Merged:
    """The pure merge (no files).

    ``deceased`` and ``employee`` are ID sets; ``side`` the rows of the death
    and employee lists as read (:func:`yibao.macros.lists.read_side_rows`),
    whose source rows the exceptions name. A side row whose ID cannot be
    read is an exception of its own; when its name is on a subsidy list the
    person is 已死亡/已参加职工医保 if the digits that can still be read
    agree with the person's number, else held back as 待核实 naming both
    rows. The 分类统计 ends with a reconciliation per list: rows read =
    used + excluded by reason + reported in 异常名单.
    """
    side_place: dict[str, dict[str, str]] = {kinds.DECEASED: {}, kinds.EMPLOYEE: {}}
    for r in side:
        if r.number is not None and r.kind in side_place and not r.skipped:
            side_place[r.kind].setdefault(r.number, r.place)
    deceased = set(deceased) | set(side_place[kinds.DECEASED])
    employee = set(employee) | set(side_place[kinds.EMPLOYEE])
    exceptions: list[list] = []
    outcome: dict[int, str] = {}          # index in rows → feedback text
    by_id: dict[str, list[int]] = defaultdict(list)
    seen_in_list: set[tuple[str, str, str]] = set()
    # the plan's own clauses: 002 writes both down; a plan that does not still
    # excludes the employee-insured by its [scope]
    scope_clause = plan.clause_of("scope")
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

    # side rows whose number cannot be read: each reported; a name on the
    # subsidy lists is matched by the digits left, or held back (待核实)
    names_of: dict[str, list[str]] = defaultdict(list)
    for number, idx in by_id.items():
        for name in dict.fromkeys(kinds.name_key(rows[i].name) for i in idx if rows[i].name):
            names_of[name].append(number)
    side_hold: dict[str, tuple] = {}   # number → (kind, digits agree, "file 第N行", digits read)
    side_seen: set[tuple[str, str]] = set()
    side_outcome: list[str] = []
    for r in side:
        what = kinds.KIND_NAMES.get(r.kind, r.kind)
        if r.skipped:
            side_outcome.append("不用于比对（" + r.skipped + "）")
            continue
        if r.number is not None:
            key = (r.kind, r.number)
            side_outcome.append("重复行" if key in side_seen else "已用于比对")
            side_seen.add(key)
            continue
        side_outcome.append("身份证号无法识别")
        exceptions.append([f"{what}身份证号无法识别", what, f"{r.file}：{r.sheet}", r.row, r.name,
                           kinds.id_text(r.raw_id), "", f"{r.note}；此行无法比对，请核实后改正"])
        digits = kinds.id_digits(r.raw_id)
        for number in names_of.get(kinds.name_key(r.name), ()) if r.name else ():
            agrees = kinds.match_unread(r.name, digits, r.name, number) == "same"
            if number not in side_hold or (agrees and not side_hold[number][1]):
                side_hold[number] = (r.kind, agrees, r.place, len(digits))

    pending = 0
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
        held = side_hold.get(number)
        if number in deceased or any(rows[i].deceased for i in idx) or \
                (held and held[0] == kinds.DECEASED and held[1]):
            where = side_place[kinds.DECEASED].get(number)
            if where is None and held and held[0] == kinds.DECEASED:
                where = f"{held[2]}，身份证号损坏，按姓名和前{held[3]}位数字认定"
            where = f"（{where}）" if where else ""
            exception("已死亡", idx[0], f"在死亡人员名单中{where}，已从资助名单剔除{dead_clause}", number)
            for i in idx:
                outcome[i] = "已剔除：死亡人员"
            continue
        if number in employee or (held and held[0] == kinds.EMPLOYEE and held[1]):
            where = side_place[kinds.EMPLOYEE].get(number)
            if where is None and held and held[0] == kinds.EMPLOYEE:
                where = f"{held[2]}，身份证号损坏，按姓名和前{held[3]}位数字认定"
            where = f"（{where}）" if where else ""
            exception("已参加职工医保", idx[0], f"已参加职工医保{where}，不予资助{employee_clause}", number)
            for i in idx:
                outcome[i] = "已剔除：已参加职工医保"
            continue
        if held:
            what = kinds.KIND_NAMES[held[0]]
            first = rows[idx[0]]
            exception("待核实", idx[0], f"{what}{held[2]}有同名人员“{first.name}”，但其身份证号无法识别；"
                      f"与{first.source} 第{first.row}行是否同一人请核实，核实前暂不纳入资助", number)
            pending += 1
            for i in idx:
                outcome[i] = f"暂不纳入：待核实（{what}{held[2]}同名）"
            continue
        identities = tuple(dict.fromkeys(category(rows[i].identity) for i in idx))
        result = engine.compute_valid(plan, engine.Person(number, identities), born_on[number])
        if not result.ok:
            exception("无法计算", idx[0], result.message, number)
            for i in idx:
                outcome[i] = f"未纳入：{result.message}"
            continue
        chosen = result.subsidy_tier
        held_by = "；".join(f"{category(rows[i].identity)}（{rows[i].department}）" for i in idx)
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
        villages = [rows[i].village for i in idx if rows[i].village]
        village = max(dict.fromkeys(villages), key=villages.count) if villages else ""
        roster.append([len(roster) + 1, village, name, number, chosen, subsidy_shown,
                       funding_shown, payable_shown, held_by, why])
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
    stats += _reconciliation(rows, outcome, side, side_outcome)
    unreadable = sum(1 for o in side_outcome if o == "身份证号无法识别")
    return Merged(roster, exceptions, dict(feedback), stats, len(by_id), unreadable, pending)


def _bucket(outcome: str) -> str:
    """Where a subsidy list row went, for the reconciliation."""
    if outcome.startswith("已剔除："):
        return "剔除（" + outcome.removeprefix("已剔除：") + "）"
    if outcome.startswith("暂不纳入："):
        return "暂不纳入（待核实）"
    if outcome.startswith("未纳入") or outcome.startswith("重复行"):
        return "列入异常名单"
    if outcome.startswith("按本部门"):
        return "纳入资助（按本部门身份）"
    if outcome:
        return "纳入资助（按其他部门身份，本部门不重复资助）"
    return "未处理"          # never: every row gets an outcome


def _reconciliation(rows: list[ListRow], outcome: dict[int, str], side, side_outcome: list[str]) -> list[list]:
    """名单核对 rows of 分类统计: for every list (file：sheet) the rows read,
    then where they went; the parts add up to the rows read."""
    per: dict[str, dict[str, int]] = {}
    for i, r in enumerate(rows):
        parts = per.setdefault(r.source, {})
        parts[_bucket(outcome.get(i, ""))] = parts.get(_bucket(outcome.get(i, "")), 0) + 1
    for r, went in zip(side, side_outcome):
        parts = per.setdefault(f"{r.file}：{r.sheet}", {})
        went = {"已用于比对": f"已用于比对（{kinds.KIND_NAMES.get(r.kind, r.kind)}）", "重复行": "重复行（只计一次）",
                "身份证号无法识别": "身份证号无法识别（列入异常名单）"}.get(went, went)
        parts[went] = parts.get(went, 0) + 1
    out = []
    rank = ("纳入", "已用于比对", "剔除", "不用于比对", "重复", "暂不纳入", "列入异常名单", "身份证号无法识别", "未处理")
    for source, parts in per.items():
        out.append(["名单核对", f"{source}：读入行数", sum(parts.values()), None])
        for what, count in sorted(parts.items(), key=lambda kv: next(
                (k for k, word in enumerate(rank) if kv[0].startswith(word)), len(rank))):
            out.append(["名单核对", f"{source}：{what}", count, None])
    return out


ROSTER_HEADER = ["序号", "村（社区）", "姓名", "身份证号", "资助类别", "资助金额（元）", "资金来源", "个人应缴（元）",
                 "所有身份（报送部门）", "确定理由"]
EXCEPTION_HEADER = ["异常类型", "部门", "来源", "行", "姓名", "身份证号", "报送身份", "说明"]
FEEDBACK_HEADER = ["序号", "姓名", "身份证号", "报送身份", "比对结果"]


def sheets_of(plan: plans.Plan, merged: Merged) -> list[books.OutSheet]:
    title = f"{plan.name} 资助名单比对结果"
    out = [
        books.OutSheet("资助名单汇总", [[title]] + [ROSTER_HEADER] + merged.roster, title_rows=1,
                       widths={1: 6, 2: 12, 3: 10, 4: 21, 5: 20, 6: 10, 7: 30, 8: 10, 9: 40, 10: 60}),
        books.OutSheet("异常名单", [EXCEPTION_HEADER] + merged.exceptions,
                       widths={1: 14, 2: 12, 3: 24, 4: 5, 5: 10, 6: 21, 7: 16, 8: 60}),
        books.OutSheet("分类统计", merged.stats, widths={1: 10, 2: 36, 3: 10, 4: 14}),
    ]
    for dept, rows in sorted(merged.feedback.items()):
        out.append(books.OutSheet(f"反馈-{dept}", [[f"{dept} 资助名单比对反馈"], FEEDBACK_HEADER] + rows,
                                  title_rows=1, widths={1: 6, 2: 10, 3: 21, 4: 20, 5: 50}))
    return out


@books.gc_paused()
def run(paths: list[Path], plan: plans.Plan | None, output: Path, deceased=(), employee=(), progress=None) -> str:
    """Merge the lists among ``paths`` (subsidy, death and employee lists
    told apart by content; ``deceased``/``employee`` paths forced to that
    kind) into ``output``; returns the one Chinese line for the user.
    ``plan`` None: the 方案编号 the lists carry."""
    rows, side, recognized, plan = read_all(paths, plan, deceased, employee)
    if not rows:
        raise books.BookError("没有读到部门资助名单（需要“姓名”“身份证号”“身份类别”列）")
    merged = merge(plan, rows, progress=progress, side=side)
    books.write_new_workbook(output, sheets_of(plan, merged))
    granted = len(merged.roster)
    checks = "；".join(recognized) if recognized else "未提供死亡人员名单和职工医保参保名单，未做这两项比对"
    line = (f"共读入{len(rows)}行、{merged.persons}人：确定资助{granted}人，异常{len(merged.exceptions)}条；"
            f"比对名单：{checks}")
    def which(kind_test, limit=5):
        found = [f"{e[2]} 第{e[3]}行{e[4] or ''}" for e in merged.exceptions if kind_test(e[0])]
        return "、".join(found[:limit]) + ("等" if len(found) > limit else "")
    if merged.unreadable:
        line += (f"；死亡/职工医保名单中{merged.unreadable}行身份证号无法识别（"
                 + which(lambda k: k.endswith("名单身份证号无法识别")) + "），见异常名单")
    if merged.pending:
        line += f"；{merged.pending}人待核实，暂不纳入资助（" + which(lambda k: k == "待核实") + "）"
    return line + f"；结果已写入 {output}"


def cmd_dedupe(args) -> int:
    plan = plans.load(args.policy) if args.policy else None
    output = Path(args.output)
    if output.exists() and not args.force:
        raise books.BookError(f"{output} 已存在；要覆盖请加 --force（原文件会备份）")
    from ._bar import Bar
    bar = Bar("合并")
    import sys
    from yibao.atomic import without_backups

    def files(paths):
        # a wildcard sweeps in office lock files (~$民政.xlsx, .~lock.残联.xlsx#) and our backups
        return [Path(p) for p in without_backups(list(paths), lambda text: print(text, file=sys.stderr))]
    line = run(files(args.lists), plan, output, files(args.deceased), files(args.employee), progress=bar)
    bar.close()
    print(line)
    return 0


def add_parser(sub):
    p = sub.add_parser(
        "dedupe", help="合并各部门资助名单，一人只享受一种资助 / merge subsidy lists",
        description="读入各部门报送的资助名单，按方案“就高不重复”或资助顺序确定每人一种资助类别，"
                    "输出汇总名单、异常名单、分类统计和给各部门的反馈。死亡人员名单和职工医保参保名单可以和部门名单"
                    "一起给出（如 部门名单/*.xlsx），按表头、标题、文件名自动区分；看不出来的用 --deceased/--employee 指定。"
                    " Merges department subsidy lists by ID and picks one category per person; death and"
                    " employee-insurance lists among the files are recognized by their content.")
    p.add_argument("lists", nargs="+", help="各部门资助名单，可连同死亡和职工医保名单（.xlsx/.xls/.csv） / lists")
    p.add_argument("--policy", help="方案编号（默认读名单中的“方案编号”） / plan id")
    p.add_argument("-o", "--output", required=True, help="结果文件（.xlsx） / output workbook")
    p.add_argument("--deceased", action="append", default=[], help="死亡人员名单（不论表头如何都按死亡名单读） / deceased list")
    p.add_argument("--employee", action="append", default=[], help="已参加职工医保人员名单（不论表头如何都按此读） / employee-insured list")
    p.add_argument("--force", action="store_true", help="覆盖已有结果文件（先备份） / overwrite")
    p.set_defaults(func=cmd_dedupe)
