"""公示名单 (notice): the list of enrolled persons for posting (002 五(三)
缴费公示阶段: 导出已参保人员数据明细，加盖乡镇和村(社区)公章后张榜公示).

Who is listed: the persons enrolled for the year, as their enrollment
status says (functions/status.py: 已缴费, 资助参保, 代缴); the rest are left
off and the command's message counts them by status (未缴费, 异地参保,
职工医保, 已死亡, 待核实). With the death list, employee list and merged
roster (``lists``) the statuses use them too.

Privacy: ID numbers are masked (region and last four kept), no phone
numbers, nothing that tells who is subsidized: no identity categories, and
by default no amount (a column of 0 and 400 would tell the village who is
on a 低保 list). ``amount=True`` (``--amount``) adds 个人缴费 where a
county's notice form requires it.

One person on two villages' ledgers is posted once: given the other
ledgers of the town (``others``, ``--others``), every person is counted
where the summary given the ledgers in the same order counts them
(:func:`yibao.macros.town.unique_persons`; ``台账/*.xlsx`` for both), and
the message says who was left off this notice and where they are listed.
"""

from __future__ import annotations

from pathlib import Path

from collections import Counter

from yibao.functions import idno
from yibao.functions import plan as plans
from yibao.functions import status as statuses
from yibao.functions.status import SideLists
from yibao.functions.values import yuan

from . import book as books
from .ledger import compute_records, read_ledger_tables, records_of
from .validate import resolve_plan

__all__ = ["notice_sheet", "run", "add_parser"]

HEADER = ["序号", "村（社区）", "姓名", "性别", "身份证号"]
AMOUNT_HEADER = "个人缴费（元）"


def _period(plan: plans.Plan) -> str:
    for item in plan.schedule:
        if "公示" in item.stage:
            return f"公示期：{item.start:%Y年%m月%d日}至{item.end:%Y年%m月%d日}（{item.clause}）"
    return "公示期：    年  月  日至    年  月  日"


def notice_sheet(plan: plans.Plan, records, village: str = "", amount: bool = False) -> books.OutSheet:
    """The 公示名单 sheet: the enrolled among ``records`` (computed: their
    ``status`` set), IDs masked; ``amount`` adds 个人缴费 in yuan."""
    enrolled = [r for r in records if r.enrolled]
    enrolled.sort(key=lambda r: (r.village, r.family, r.sheet, r.row))
    title = f"{plan.county}{plan.town}{plan.year}年度城乡居民医保参保人员公示名单"
    header = HEADER + [AMOUNT_HEADER] if amount else HEADER
    rows = [[title], [f"填报单位：{plan.town}  {village or '        村（社区）'}"], header]
    for i, r in enumerate(enrolled, 1):
        row = [i, r.village or village, r.name, idno.gender(r.id_no), idno.mask(r.id_no)]
        if amount:
            row.append(yuan(r.paid if r.paid is not None else r.result.payable))
        rows.append(row)
    rows += [[], [f"共{len(enrolled)}人。{_period(plan)}。如有异议，请在公示期内向村（社区）或乡镇医保办反映。"],
             ["村（社区）盖章：", None, None, "乡镇（街道）盖章：", None, "日期：    年  月  日"]]
    last = "F" if amount else "E"
    # narrow enough for A4 portrait (the 18-character masked ID fits 22): wider, the print plan
    # turned the list landscape at two thirds of the page width, half again as many pages
    widths = {1: 6, 2: 12, 3: 14, 4: 6, 5: 22}
    if amount:
        widths = {1: 6, 2: 14, 3: 12, 4: 6, 5: 22, 6: 14}
    return books.OutSheet("公示名单", rows, header_rows=1, title_rows=2, footer_rows=3,
                          merges=[f"A1:{last}1"], widths=widths, landscape=False)


def left_off(records) -> str:
    """'未列入12人：未缴费5人、异地参保3人…' (by status kind), or ''."""
    counts = Counter(r.status.kind if r.status is not None else statuses.PENDING
                     for r in records if not r.enrolled)
    if not counts:
        return ""
    parts = [f"{kind}{counts[kind]}人" for kind in statuses.KINDS if counts.get(kind)]
    return f"未列入{sum(counts.values())}人：{'、'.join(parts)}"


def elsewhere(dropped) -> str:
    """'2人在其他台账也有登记、按汇总计入那里，本名单不列：高春霞（北坡社区（北坡社区.xlsx 第10行））…'
    for (row left off here, row kept) pairs, or ''."""
    if not dropped:
        return ""
    from .town import place
    shown = "、".join(f"{mine.name or '（无姓名）'}（本台账第{mine.row}行，计入{place(kept)}）"
                     for mine, kept in dropped[:3])
    more = f"等{len(dropped)}人" if len(dropped) > 3 else ""
    return f"{len(dropped)}人在其他台账也有登记、按汇总只计入那里，本名单不列：{shown}{more}"


def run(book, plan=None, policy: str | None = None, output: Path | None = None, village: str = "",
        lists: SideLists | None = None, amount: bool = False, others: list[tuple[str, dict]] = ()) -> str:
    """Write the notice of one ledger (into it, or ``output``); returns the
    message: how many listed, how many left off and why. ``others``: the
    town's other ledgers ((label, grids), ...); a person also on one of them
    is listed on this notice only if the summary counts them here."""
    grids = book.grids()
    plan = plan or resolve_plan(policy, grids)
    tables, _skipped = read_ledger_tables(grids)
    if not tables:
        raise books.BookError("没有找到台账（需要“身份证号”列）")
    dropped = []
    if others:
        from .town import ledger_records, unique_persons
        mine = str(book.path)
        # the order summary is given them (this ledger where it is among them, else first):
        # a person on two ledgers is counted where summary counts them
        here = Path(mine).resolve()
        sources, seen = [], set()
        for label, g in others:
            at = Path(label).resolve()
            if at not in seen:
                seen.add(at)
                sources.append((mine, grids) if at == here else (label, g))
        if here not in seen:
            # --others names only the other villages: each village's run must agree on one order,
            # so take them all in file-name order (the order 台账/*.xlsx gives summary)
            sources = sorted([(mine, grids)] + sources, key=lambda source: Path(source[0]).name)
        everyone, _notes = ledger_records(plan, sources, lists=lists)
        persons = unique_persons(everyone)
        dropped = [(d, k) for d, k in persons.duplicates if d.book == mine and k.book != mine]
        gone = {id(d) for d, _k in dropped}
        records = [r for r in everyone if r.book == mine and id(r) not in gone]
    else:
        records = compute_records(plan, records_of(tables), lists=lists)
    if not village:
        # the village the ledger names in its 填报单位 line, when it names one
        from .town import village_of_sheet
        named = {village_of_sheet(grids[t.sheet]) for t in tables} - {""}
        village = named.pop() if len(named) == 1 else ""
    sheet = notice_sheet(plan, records, village, amount)
    count = sum(r.enrolled for r in records)
    where = books.deliver(book, sheet, output)
    off = left_off(records)
    twice = elsewhere(dropped)
    return (f"公示名单共{count}人（身份证号已脱敏{'' if amount else '，不含缴费金额'}），已写入{where}"
            + (f"；{off}" if off else "") + (f"；{twice}" if twice else ""))


def cmd_notice(args) -> int:
    output = Path(args.output) if args.output else None
    import sys
    from .validate import side_lists_of
    lists = side_lists_of(args, lambda text: print(text, file=sys.stderr))
    from .town import read_sources
    others = read_sources(args.others) if args.others else []
    print(run(books.FileBook(args.file), policy=args.policy, output=output, village=args.village or "",
              lists=lists, amount=args.amount, others=others))
    return 0


def add_parser(sub):
    p = sub.add_parser(
        "notice", help="生成公示名单（身份证号脱敏） / public notice of enrolled persons",
        description="从台账导出本年度已参保人员公示名单（已缴费、资助参保、代缴）：身份证号只显示前6位和后4位，"
                    "不含电话、资助身份和缴费金额（金额会让人看出谁受资助；县里表样要求时加 --amount）。"
                    " Writes the list of enrolled persons for posting, IDs masked, no amounts unless --amount.")
    p.add_argument("file", help="台账文件 / ledger file")
    p.add_argument("--policy", help="方案编号（默认读台账中的“方案编号”） / plan id")
    p.add_argument("-o", "--output", help="写到新文件（默认写入台账的“公示名单”工作表） / new file")
    p.add_argument("--village", help="村（社区）名称 / village name")
    p.add_argument("--others", nargs="+", metavar="台账", default=[],
                   help="本镇其他村（社区）的台账：在几个村重复登记的人只公示一次，列在汇总计入的村 / "
                        "the town's other ledgers, so that a person on two ledgers is posted once")
    p.add_argument("--amount", action="store_true",
                   help="加“个人缴费”列（县里公示表样要求时才加：0元和足额会显出谁受资助） / add the amount paid")
    from .validate import add_list_options
    add_list_options(p)
    p.set_defaults(func=cmd_notice)
