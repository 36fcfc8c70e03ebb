"""公示名单 (notice): the list of enrolled persons for posting (002 五(三)
缴费公示阶段: 导出已参保人员数据明细，加盖乡镇和村(社区)公章后张榜公示).

Privacy: ID numbers are masked (region and last four kept), no phone
numbers, no identity categories (being on a 低保 list is nobody's business
on a notice board), only who is enrolled and what they paid.
"""

from __future__ import annotations

from pathlib import Path

from yibao.functions import idno
from yibao.functions import plan as plans
from yibao.functions.values import yuan

from . import book as books
from .ledger import compute_records, read_ledger_tables, records_of
from .validate import resolve_plan

__all__ = ["notice_sheet", "run", "add_parser"]

HEADER = ["序号", "村（社区）", "姓名", "性别", "身份证号", "个人缴费（元）"]


def _period(plan: plans.Plan) -> str:
    for item in plan.data.get("schedule", []):
        if "公示" in item.get("stage", ""):
            return f"公示期：{item['start']:%Y年%m月%d日}至{item['end']:%Y年%m月%d日}（{item.get('clause', '')}）"
    return "公示期：    年  月  日至    年  月  日"


def notice_sheet(plan: plans.Plan, records, village: str = "") -> books.OutSheet:
    enrolled = [r for r in records if r.enrolled]
    enrolled.sort(key=lambda r: (r.village, r.family, r.sheet, r.row))
    title = f"{plan.county}{plan.town}{plan.year}年度城乡居民医保参保人员公示名单"
    rows = [[title], [f"填报单位：{plan.town}  {village or '        村（社区）'}"], HEADER]
    for i, r in enumerate(enrolled, 1):
        paid = r.paid if r.paid is not None else r.result.payable
        rows.append([i, r.village or village, r.name, idno.gender(r.id_no), idno.mask(r.id_no), yuan(paid)])
    rows += [[], [f"共{len(enrolled)}人。{_period(plan)}。如有异议，请在公示期内向村（社区）或乡镇医保办反映。"],
             ["村（社区）盖章：", None, None, "乡镇（街道）盖章：", None, "日期：    年  月  日"]]
    return books.OutSheet("公示名单", rows, header_rows=1, title_rows=2, footer_rows=3,
                          merges=["A1:F1"], widths={1: 6, 2: 14, 3: 12, 4: 6, 5: 22, 6: 14},
                          landscape=False)


def run(book, plan=None, policy: str | None = None, output: Path | None = None, village: str = "") -> str:
    grids = book.grids()
    plan = plan or resolve_plan(policy, grids)
    tables, _skipped = read_ledger_tables(grids)
    if not tables:
        raise books.BookError("没有找到台账（需要“身份证号”列）")
    records = compute_records(plan, records_of(tables))
    if not village:
        # the village the ledger names in its 填报单位 line, when it names one
        from .town import village_of_sheet
        named = {village_of_sheet(grids[t.sheet]) for t in tables} - {""}
        village = named.pop() if len(named) == 1 else ""
    sheet = notice_sheet(plan, records, village)
    count = sum(r.enrolled for r in records)
    where = books.deliver(book, sheet, output)
    return f"公示名单共{count}人（身份证号已脱敏），已写入{where}"


def cmd_notice(args) -> int:
    output = Path(args.output) if args.output else None
    print(run(books.FileBook(args.file), policy=args.policy, output=output, village=args.village or ""))
    return 0


def add_parser(sub):
    p = sub.add_parser(
        "notice", help="生成公示名单（身份证号脱敏） / public notice of enrolled persons",
        description="从台账导出已参保人员公示名单：身份证号只显示前6位和后4位，不含电话和资助身份。"
                    " Writes the list for posting, IDs masked, no phone numbers.")
    p.add_argument("file", help="台账文件 / ledger file")
    p.add_argument("--policy", help="方案编号（默认读台账中的“方案编号”） / plan id")
    p.add_argument("-o", "--output", help="写到新文件（默认写入台账的“公示名单”工作表） / new file")
    p.add_argument("--village", help="村（社区）名称 / village name")
    p.set_defaults(func=cmd_notice)
