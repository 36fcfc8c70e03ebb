"""汇总上报 (summary): the stamped summary a town submits.

Per village: households and persons enrolled, individual payments, subsidies
by category and by funding source; 004 附件2's page totals (纯低保户,
纯建档立卡, 纯三四级残疾: households all of whose enrolled members are
subsidized in that one category); signature lines (收款填表人, 缴费操作人,
卫健工作人员, 日期), stamp boxes (村委会盖章, 乡镇盖章) and the number of
copies the plan asks for (004 六(一): 一式三份). A PDF is made through
LibreOffice where it is installed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections import defaultdict
from pathlib import Path

from yibao.functions import plan as plans
from yibao.functions.values import yuan

from . import book as books
from .ledger import compute_records, read_ledger_tables, records_of

__all__ = ["summarize", "run", "add_parser"]

#: 004 附件2 页计: label → the category whose "pure" households are counted
PURE_HOUSEHOLDS = {"纯低保户": "城乡低保对象", "纯建档立卡": "建档立卡贫困人口中非低保对象",
                   "纯三四级残疾": "三四级残疾人"}


def summarize(plan: plans.Plan, by_village: dict[str, list]):
    """Rows of the summary table (pure)."""
    tiers = [c.name for c in plan.categories if c.subsidized]
    sources = sorted({s for c in plan.categories for s, _k, _v in c.funding} |
                     ({plan.proxy_source} if plan.proxy_source else set()))
    pure = {k: v for k, v in PURE_HOUSEHOLDS.items() if v in plan.by_name} if plan.seed == "004" else {}
    header = (["村（社区）", "参保户数", "参保人数", "个人缴费（元）", "资助合计（元）"]
              + [f"{t}（人）" for t in tiers] + [f"{s}（元）" for s in sources] + [f"{k}（户）" for k in pure])
    rows, total = [], None
    for village, records in by_village.items():
        enrolled = [r for r in records if r.enrolled]
        households = defaultdict(list)
        for r in enrolled:
            households[r.family or f"{r.sheet}:{r.row}"].append(r)
        paid = sum(r.paid if r.paid is not None else r.result.payable for r in enrolled)
        subsidy = sum(r.result.subsidy for r in enrolled)
        per_tier = {t: sum(1 for r in enrolled if r.result.subsidy_tier == t) for t in tiers}
        per_source = defaultdict(int)
        for r in enrolled:
            for s, amount in r.result.funding:
                per_source[s] += amount
        pure_counts = {k: sum(1 for members in households.values()
                              if all(m.result.subsidy_tier == cat for m in members)) for k, cat in pure.items()}
        values = ([len(households), len(enrolled), paid, subsidy] + [per_tier[t] for t in tiers]
                  + [per_source[s] for s in sources] + [pure_counts[k] for k in pure])
        total = values if total is None else [a + b for a, b in zip(total, values)]
        rows.append([village] + values)
    money_cols = {3, 4} | set(range(5 + len(tiers), 5 + len(tiers) + len(sources)))
    fmt = lambda vals: [yuan(v) if i in money_cols else v for i, v in enumerate(vals, 1)]
    body = [[r[0]] + fmt(r[1:]) for r in rows]
    body.append(["合计"] + fmt(total or [0] * (len(header) - 1)))
    return header, body


def run(paths: list[Path], plan: plans.Plan, output: Path, town: str = "") -> str:
    by_village: dict[str, list] = {}
    for path in paths:
        grids = books.read_grid_any(path)
        tables, _skipped = read_ledger_tables(grids)
        if not tables:
            raise books.BookError(f"“{path.name}”里没有找到台账（需要“身份证号”列）")
        for rec in compute_records(plan, records_of(tables)):
            by_village.setdefault(rec.village or path.stem, []).append(rec)
    header, body = summarize(plan, by_village)
    width = len(header)
    copies = plan.data.get("forms", {}).get("copies")
    title = f"{plan.county}{town or plan.town}{plan.year}年度城乡居民基本医疗保险参保缴费汇总表"
    rows = [[title], [f"填报单位：{town or plan.town}（盖章）" + " " * 8 + "单位：户、人、元"], header] + body
    rows += [[], ["收款填表人（签字）：", None, None, "缴费操作人（签字）：", None, None, "卫健工作人员（签字）：",
                  None, None, "日期：    年  月  日"],
             [], ["村（居）委会（盖章）", None, None, None, "乡镇（街道）（盖章）"],
             [], [], []]
    if copies:
        rows.append([f"本表一式{'一二三四五'[copies - 1] if copies <= 5 else copies}份，加盖村（居）委会公章，"
                     f"报社保中心、卫生院各一份，村（居）委会留存一份（{plan.data['forms'].get('clause', '')}）"])
    sheet = books.OutSheet("汇总上报", rows, title_rows=2, footer_rows=len(rows) - 3 - len(body),
                           merges=[f"A1:{chr(64 + min(width, 26))}1"],
                           widths={1: 14, **{c: 11 for c in range(2, width + 1)}})
    books.write_new_workbook(output, [sheet])
    pdf = to_pdf(output)
    enrolled = body[-1][2]
    line = f"{len(by_village)}个村（社区）参保{enrolled}人，汇总表已写入 {output}"
    return line + (f"，PDF：{pdf}" if pdf else "（未安装LibreOffice，未生成PDF）")


def to_pdf(path: Path) -> Path | None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        return None
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless",
                               "--convert-to", "pdf", "--outdir", str(path.parent), str(path)],
                              capture_output=True, timeout=300)
    pdf = path.with_suffix(".pdf")
    return pdf if proc.returncode == 0 and pdf.exists() else None


def cmd_summary(args) -> int:
    output = Path(args.output)
    if output.exists() and not args.force:
        raise books.BookError(f"{output} 已存在；要覆盖请加 --force（原文件会备份）")
    print(run([Path(p) for p in args.files], plans.load(args.policy), output, args.town or ""))
    return 0


def add_parser(sub):
    p = sub.add_parser("summary", help="生成盖章上报的汇总表（含PDF） / stamped summary for submission",
                       description="按村汇总参保户数、人数、个人缴费、各类资助和资金来源，附签字栏和盖章栏；"
                                   "装有LibreOffice时同时生成PDF。 Per-village totals with signature and stamp lines.")
    p.add_argument("files", nargs="+", help="各村台账 / ledgers")
    p.add_argument("--policy", required=True, help="方案编号 / plan id")
    p.add_argument("-o", "--output", required=True, help="汇总表文件（.xlsx） / output")
    p.add_argument("--town", help="乡镇名称 / town")
    p.add_argument("--force", action="store_true", help="覆盖已有文件（先备份） / overwrite")
    p.set_defaults(func=cmd_summary)
