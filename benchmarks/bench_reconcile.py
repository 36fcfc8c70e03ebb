"""Benchmark: `yibao reconcile` of a county's tax payment export against its
village ledgers, against the floor nothing can beat (a bare read of the same
files: python-calamine for the ledgers, the csv module for the export).

Target (issue 14): a 400,000-row export against 20 ledgers of 400,000 rows
in under 20 s and 1.5 GB. "20 ledgers of 400,000 rows" is read as a county
run: 20 village ledgers with 400,000 persons in all (20,000 each).

The export is as the tax system saves it (yibao.synth's writer): GBK CSV,
ID numbers written as ="…", 入库日期 with times, amounts in yuan. It is built
from the ledgers' persons: who pays something pays PAYABLE, with the
discrepancies reconcile is for at a few in a hundred (persons missing from
the export, other amounts, payments twice, refunds, another county, another
insurance, unreadable IDs, persons on no ledger filling up to the row count).
The files are generated once and cached (``--cache``, default a folder in
the system temp folder).

Every timed step runs in its own process (wall time, peak RSS from the
kernel); the ratio compares steps of one run on one machine.

    python benchmarks/bench_reconcile.py [--rows 400000] [--ledgers 20] [--repeat 3] [--write]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_actions import best, phase_table, phases, timed, yibao  # noqa: E402
from bench_engine import write_section  # noqa: E402
from make_ledger import IDENTITIES, make  # noqa: E402
from synth import fictional_id  # noqa: E402

POLICY = "xinqiao-2021"
VILLAGES = ["东山", "西河", "南岭", "北坡", "上湾", "下湾", "石桥", "柳塘", "枫林", "桃源",
            "杨家", "李家", "新塘", "马鞍", "龙泉", "凤山", "白沙", "青山", "长冲", "梅溪"]
#: a village's identity mix: one person in twenty with a subsidized identity
#: (the action benchmarks' ledgers have one in two, too many for a county)
MIX = [""] * 114 + [x for x in IDENTITIES if x]
VERSION = 1     # bump when the generated files change


def village_name(k: int) -> str:
    return VILLAGES[k % len(VILLAGES)] + ("" if k < len(VILLAGES) else str(k // len(VILLAGES) + 1)) + "村"


def export_rows(people: list[tuple], rows: int, seed: int = 14) -> tuple[list[dict], dict[str, int]]:
    """The tax export's rows (yibao.synth's columns, amounts in fen) from
    the ledgers' persons ((true ID, name, PAYABLE fen or None, pay date)),
    exactly ``rows`` of them, and how many of each kind were placed."""
    from yibao.functions import plan as plans
    from yibao.synth import INSURANCE
    plan = plans.load(POLICY)
    year, county = plan.year_start.year, plan.county
    rng = random.Random(seed)
    placed: dict[str, int] = {}
    out: list[dict] = []

    def add(kind, number, name, amount, day, insurance=INSURANCE, region=county):
        placed[kind] = placed.get(kind, 0) + 1
        at = datetime.datetime.combine(day, datetime.time(rng.randint(8, 17), rng.randrange(60), rng.randrange(60)))
        out.append({"姓名": name, "证件类型": "居民身份证", "证件号码": number, "险种": insurance,
                    "所属期起": f"{year}-01", "所属期止": f"{year}-12", "实缴金额": amount, "入库日期": at,
                    "所属区划": region, "征收机关": f"国家税务总局{county}税务局"})

    extras = max(rows // 200, 1)     # rows of each planted kind that are not a ledger person's one payment
    for number, name, payable, day in people:
        if len(out) >= rows - 3 * extras:
            break
        if not payable:             # fully subsidized (nothing through the tax system) or not computable
            continue
        roll = rng.random()
        if roll < 0.02:
            placed["on the ledger, not in the export"] = placed.get("on the ledger, not in the export", 0) + 1
        elif roll < 0.025:
            add("other amount", number, name, payable + rng.choice([-5000, 5000, 28000 - payable or 10000]), day)
        elif roll < 0.027:
            add("another county", number, name, payable, day, region="邻县")
        elif roll < 0.030:
            add("another name", number, name[0] + "小某", payable, day)
        else:
            add("paid PAYABLE", number, name, payable, day)
            if roll > 0.995:
                add("paid twice", number, name, payable, day + datetime.timedelta(days=3))
            elif roll > 0.993:
                add("refund", number, name, -payable, day + datetime.timedelta(days=10))
    for i in range(extras):
        day = datetime.date(year - 1, 10, 1) + datetime.timedelta(days=rng.randrange(80))
        born = datetime.date(rng.randrange(1950, 2005), rng.randrange(1, 13), rng.randrange(1, 29))
        add("another insurance", fictional_id(rng, born), "王某", 20000, day, insurance="城乡居民基本养老保险")
        if i % 10 == 0:
            add("unreadable ID", fictional_id(rng, born)[:17], "赵某", 28000, day)
    while len(out) < rows:
        day = datetime.date(year - 1, 10, 1) + datetime.timedelta(days=rng.randrange(80))
        born = datetime.date(rng.randrange(1935, 2020), rng.randrange(1, 13), rng.randrange(1, 29))
        add("on no ledger", fictional_id(rng, born), "钱某", 28000, day)
    out.sort(key=lambda r: r["入库日期"])
    for i, r in enumerate(out, 1):
        r["序号"] = i
    return out, placed


def files(rows: int, ledgers: int, persons: int, cache: Path) -> tuple[Path, list[Path], dict]:
    """The export and the ledgers, generated once into ``cache``."""
    import json
    folder = cache / f"reconcile-{rows}x{ledgers}x{persons}-v{VERSION}"
    export = folder / "税务缴费明细.csv"
    paths = [folder / f"{village_name(k)}.xlsx" for k in range(ledgers)]
    if (folder / "placed.json").exists():
        return export, paths, json.loads((folder / "placed.json").read_text(encoding="utf-8"))
    from yibao.synth import _write_export
    work = Path(tempfile.mkdtemp(dir=cache, prefix="making-"))
    people: list[tuple] = []
    per = persons // ledgers
    for k, path in enumerate(paths):
        print(f"making {path.name} ({per:,} rows)", file=sys.stderr)
        make(work / path.name, per, seed=100 + k, policy=POLICY, village=village_name(k), identities=MIX,
             people=people)
    out, placed = export_rows(people, rows)
    _write_export(out, work / export.name)
    (work / "placed.json").write_text(json.dumps(placed, ensure_ascii=False, indent=1), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(work, folder)
    return export, paths, placed


#: the floor: the export decoded and split by the csv module (calamine reads no CSV), the ledgers read by calamine
FLOOR = """
import csv, io, json, sys, time
from python_calamine import CalamineWorkbook
t = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    rows = list(csv.reader(io.StringIO(f.read().decode("gbk"))))
t1 = time.perf_counter()
for p in sys.argv[2:]:
    wb = CalamineWorkbook.from_path(p)
    for n in wb.sheet_names:
        wb.get_sheet_by_name(n).to_python()
print(json.dumps({"export": t1 - t, "ledgers": time.perf_counter() - t1}))
"""


def report(rows: int, ledgers: int, persons: int, repeat: int, cache: Path) -> str:
    import json
    export, paths, placed = files(rows, ledgers, persons, cache)
    size_export = export.stat().st_size / 1e6
    size_ledgers = sum(p.stat().st_size for p in paths) / 1e6
    before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "比对结果-缴费.xlsx"
        runs: dict[str, list[dict]] = {"floor": [], "reconcile": []}
        for _ in range(repeat):         # interleaved, so that a busy spell hits both alike
            runs["floor"].append(timed([sys.executable, "-c", FLOOR, str(export), *map(str, paths)]))
            out.unlink(missing_ok=True)
            runs["reconcile"].append(timed(yibao("reconcile", export, *paths, "-o", out)))
        out_mb = out.stat().st_size / 1e6
        split = phases("reconcile", export, Path(tmp) / "phases.xlsx", *paths)
    base, rec = best(runs["floor"]), best(runs["reconcile"])
    parts = json.loads(base["out"])
    load = os.getloadavg()

    def walls(r):
        return " ".join(f"{w:.2f}" for w in r["walls"])
    line = rec["out"].strip().splitlines()[-1]
    text = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}; "
        f"measured {datetime.date.today().isoformat()}.",
        "",
        f"Export: {rows:,} rows, tax-style GBK CSV (IDs as =\"…\", 入库日期 with times; {size_export:.1f} MB). "
        f"Ledgers: {ledgers} villages x {persons // ledgers:,} rows = {persons:,} persons "
        f"(002 台账 layout, {size_ledgers:.1f} MB .xlsx in all). "
        f"Each step run {repeat} times, interleaved; the best run counts, every run is listed. "
        f"Machine load (1/5/15-minute load average): {before[0]:.1f} / {before[1]:.1f} / {before[2]:.1f} before, "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} after (above {os.cpu_count()}: other jobs waiting for a core).",
        "",
        "| step | wall s (best) | x floor | peak RSS MB | every run, s |",
        "|---|---:|---:|---:|---|",
        f"| floor: export split by the csv module ({parts['export']:.2f} s) + ledgers read by python-calamine "
        f"({parts['ledgers']:.2f} s) | {base['wall']:.2f} | 1.00 | {base['rss_mb']:.0f} | {walls(base)} |",
        f"| `yibao reconcile` | {rec['wall']:.2f} | {rec['wall'] / base['wall']:.2f} | {rec['rss_mb']:.0f} | "
        f"{walls(rec)} |",
        "",
        f"Target under 20 s and 1.5 GB: **{'met' if rec['wall'] < 20 and rec['rss_mb'] < 1536 else 'not met'}** "
        f"in this run ({rec['wall']:.1f} s, {rec['rss_mb'] / 1024:.2f} GB). Result workbook {out_mb:.1f} MB; "
        f"the command said:",
        "",
        f"> {line}",
        "",
        "What the export holds (rows placed by the generator): "
        + "; ".join(f"{k} {v:,}" for k, v in placed.items()) + ".",
        "",
        "Where the time goes (CPU seconds per step in one process, `benchmarks/phases.py reconcile`):",
        "",
    ] + phase_table({"reconcile": split})
    return "\n".join(text) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400_000, help="export rows")
    parser.add_argument("--ledgers", type=int, default=20, help="village ledgers")
    parser.add_argument("--persons", type=int, default=400_000, help="persons on all ledgers together")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step (the best counts)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "yibao-bench",
                        help="where the generated files are kept between runs")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    text = report(args.rows, args.ledgers, args.persons, args.repeat, args.cache)
    print(text)
    if args.write:
        write_section(text, marker="reconcile")


if __name__ == "__main__":
    main()
