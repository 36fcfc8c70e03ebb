"""`yibao reconcile EXPORT LEDGERS…` (issue 14, command 1): a payment export
(tax-style GBK CSV with ="…" IDs and date-times, a platform .xlsx, an HTML
table saved as .xls) against two village ledgers of the fictional plan
shili-2026 (ordinary payable 400元, 低保户 200元, 特困人员 0元). Each
category is planted once and found; nothing else is flagged; inputs keep
their bytes."""
from __future__ import annotations

import datetime
import hashlib
import re
from pathlib import Path

import openpyxl
import pytest

from conftest import make_id, run_yibao

I = {k: make_id("19700101", seq, "430999") for k, seq in
     dict(ok=11, chase=13, amount=15, unpaid=17, twice=19, quiet=21, name=23, old15=25, full=27,
          add=29, away=31).items()}
OLD15 = I["old15"][:6] + I["old15"][8:17]          # the 15-digit form of the same person


def ledger(path: Path, village: str, people):
    """A village ledger as the template lays it out: title, 填报单位 line, header."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "参保缴费登记表"
    ws.append([f"示例县2026年度城乡居民基本医疗保险参保缴费登记表"])
    ws.append([f"填报单位：示例镇　{village}", None, None, None, "方案编号", "shili-2026"])
    ws.append(["序号", "姓名", "身份证号", "身份类别", "个人缴费", "缴费日期"])
    for i, (name, id_no, identity, paid) in enumerate(people, 1):
        ws.append([i, name, id_no, identity, paid, "2025-10-15" if paid else None])
        ws.cell(ws.max_row, 3).data_type = "s"
    wb.save(path)
    return path


def ledgers(tmp_path):
    east = ledger(tmp_path / "东山村.xlsx", "东山村", [
        ("张一", I["ok"], None, 400),
        ("李二", I["chase"], None, 400),          # marked paid, absent from the export: to chase
        ("王三", I["amount"], "低保户", 200),      # paid the full 400 in the export: refund
        ("赵四", I["unpaid"], None, None),        # export says paid: update the ledger
        ("钱五", I["twice"], None, 400),          # paid twice in the export
        ("孙六", I["quiet"], None, None),         # not paid anywhere: agrees, not flagged
        ("周七", I["name"], None, 400),           # the export spells the name differently
    ])
    west = ledger(tmp_path / "西山村.xlsx", "西山村", [
        ("吴八", I["old15"], None, 400),          # the export carries the old 15-digit number
        ("陈九", I["full"], "特困人员", None),     # fully subsidized, nothing to pay, not in the export
    ])
    return east, west


# (name, id as the export writes it, amount, date-time, region)
PAID = [
    ("张一", I["ok"], "400.00", "2025-10-15 09:31:27", "示例县"),
    ("王三", I["amount"], "400.00", "2025-10-16 10:02:11", "示例县"),
    ("赵四", I["unpaid"], "400.00", "2025-10-16 11:15:00", "示例县"),
    ("钱五", I["twice"], "400.00", "2025-10-17 08:00:05", "示例县"),
    ("钱五", I["twice"], "400.00", "2025-10-20 16:45:30", "示例县"),
    ("周柒", I["name"], "400.00", "2025-10-18 14:20:00", "示例县"),
    ("吴八", OLD15, "400.00", "2025-10-19 09:00:00", "示例县"),
    ("郑十", I["add"], "400.00", "2025-10-21 10:10:10", "示例县"),       # on no ledger: to add
    ("冯十一", I["away"], "400.00", "2025-10-22 15:30:00", "外省某县"),    # paid in another region
]
TOTAL = 9 * 400


def tax_csv(path: Path, rows=PAID, bad_id=True):
    """A tax-bureau style export: GBK, ="…" around IDs, date-times, a title and a 合计 line."""
    lines = ["城乡居民基本医疗保险费缴费明细", "",
             "序号,缴费人姓名,证件类型,缴费人证件号码,征收品目,实缴金额,入库日期,所属区划"]
    for i, (name, id_no, amount, when, region) in enumerate(rows, 1):
        lines.append(f'{i},{name},居民身份证,="{id_no}",城乡居民基本医疗保险,{amount},{when},{region}')
    if bad_id:
        lines.append(f'{len(rows) + 1},何十二,居民身份证,="4309991970010100",城乡居民基本医疗保险,400.00,'
                     f'2025-10-23 09:00:00,示例县')
    lines.append(f"合计,,,,,{TOTAL + 400 * bad_id}.00,,")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path


def platform_xlsx(path: Path, rows=PAID):
    """A 医保信息平台 style export: .xlsx, IDs as text, amounts as numbers."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "参保缴费明细"
    ws.append(["姓名", "证件号码", "人员编号", "险种类型", "缴费金额", "缴费日期", "参保地"])
    for i, (name, id_no, amount, when, region) in enumerate(rows, 1):
        # dates as real date-time cells; one ID pasted with a zero-width space from a web page
        ws.append([name, id_no + ("\u200b" if i == 1 else ""), f"P{i:06d}", "城乡居民基本医疗保险", float(amount),
                   datetime.datetime.fromisoformat(when), region])
        ws.cell(ws.max_row, 2).data_type = "s"
    wb.save(path)
    return path


def html_xls(path: Path, rows=PAID):
    """An HTML table saved with an .xls name, as web systems export."""
    body = "".join(f"<tr><td>{n}</td><td>{i}</td><td>{a}</td><td>{w}</td><td>{r}</td></tr>"
                   for n, i, a, w, r in rows)
    path.write_text("<html><head><meta charset='utf-8'></head><body><table>"
                    "<tr><td>姓名</td><td>身份证号码</td><td>缴费金额</td><td>缴费时间</td><td>参保地区</td></tr>"
                    f"{body}</table></body></html>", encoding="utf-8")
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sheet_rows(path: Path, name: str) -> list[tuple]:
    ws = openpyxl.load_workbook(path)[name]
    return [r for r in ws.iter_rows(min_row=4, values_only=True) if r[0] is not None]


@pytest.mark.parametrize("kind", ["tax_csv", "platform_xlsx", "html_xls"])
def test_each_category_is_found_once_and_nothing_else(tmp_path, kind):
    east, west = ledgers(tmp_path)
    export = {"tax_csv": lambda: tax_csv(tmp_path / "缴费明细.csv"),
              "platform_xlsx": lambda: platform_xlsx(tmp_path / "平台导出.xlsx"),
              "html_xls": lambda: html_xls(tmp_path / "网页导出.xls")}[kind]()
    before = {p: digest(p) for p in (export, east, west)}
    # the HTML case finds the plan in the ledgers' 方案编号 cell
    policy = [] if kind == "html_xls" else ["--policy", "shili-2026"]
    proc = run_yibao("reconcile", str(export), str(east), str(west), *policy)
    assert {p: digest(p) for p in (export, east, west)} == before      # inputs never modified
    out = export.with_name("比对结果-缴费.xlsx")
    line = proc.stdout.strip()
    assert "\n" not in line and "各类合计相符" in line and "结果已写入 比对结果-缴费.xlsx" in line
    assert "430999" not in proc.stdout + proc.stderr                  # no ID in what is printed
    bad = 1 if kind == "tax_csv" else 0
    assert f"比对导出{len(PAID) + bad}行、台账9人" in line

    wb = openpyxl.load_workbook(out)
    flagged = {name: {(r[1], r[2]) for r in sheet_rows(out, name)} for name in wb.sheetnames[2:]}
    expected = {
        "已缴费未登记台账": {("（不在台账）", "郑十")},
        "在外地缴费": {("（不在台账）", "冯十一")},
        "金额与应缴不符": {("东山村", "王三")},
        "重复缴费": {("东山村", "钱五")},
        "台账未记缴费": {("东山村", "赵四")},
        "台账已缴费导出无记录": {("东山村", "李二")},
        "姓名不一致": {("东山村", "周七")},
    }
    if bad:
        expected["证件号码无法识别"] = {("（不在台账）", "何十二")}
    assert flagged == expected

    amount = sheet_rows(out, "金额与应缴不符")[0]
    assert amount[3] == I["amount"] and amount[7] == 400 and amount[8] == 200 and "差额200元" in amount[10]
    chase = sheet_rows(out, "台账已缴费导出无记录")[0]
    assert (chase[4], chase[5]) == ("东山村.xlsx", 5)                   # ledger file and row
    assert "与导出第" in sheet_rows(out, "重复缴费")[0][10]
    assert "周柒" in sheet_rows(out, "姓名不一致")[0][10]

    summary = {r[0]: r for r in wb["比对汇总"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert summary["一致"][2] == 4                        # 张一, 钱五's first payment, 吴八 (15-digit), 周七
    assert summary["导出合计"][2:4] == (len(PAID) + bad, TOTAL + 400 * bad)
    assert summary["台账合计"][2] == 9 and summary["在导出中"][2] == 6
    assert (summary["未缴费导出无记录"][2], summary["全额资助导出无记录"][2]) == (1, 1)   # 孙六, 陈九: listed, not flagged
    assert any(str(k).startswith("账平") for k in summary)
    per = [r for r in wb["分村统计"].iter_rows(min_row=3, values_only=True) if r[0]]
    assert per[-1][3:5] == (len(PAID) + bad + 3, TOTAL + 400 * bad)   # export rows + unmatched ledger persons
    east_sub = next(r for r in per if r[:2] == ("东山村", "小计"))
    assert east_sub[3] == 8 and east_sub[4] == 2400        # 6 payments (张一 王三 赵四 钱五×2 周柒) + 李二 孙六


def test_unmatched_headers_exit_2_with_found_and_expected_names_then_named_columns_work(tmp_path):
    east, west = ledgers(tmp_path)
    export = tmp_path / "导出.txt"
    rows = "\n".join(f"{n}\t{i}\t{a}\t{w}" for n, i, a, w, _r in PAID)
    export.write_text(f"户名\t号码\t实收\t时间\n{rows}\n", encoding="gb18030")
    before = digest(export)
    proc = run_yibao("reconcile", str(export), str(east), str(west), "--policy", "shili-2026", check_rc=2)
    err = proc.stderr.strip()
    assert "\n" not in err and err.startswith("错误：") and "Traceback" not in proc.stderr
    assert "“户名”“号码”“实收”“时间”" in err and "证件号码" in err and "--id-col" in err
    assert not (tmp_path / "比对结果-缴费.xlsx").exists()

    out = tmp_path / "结果.xlsx"
    proc = run_yibao("reconcile", str(export), str(east), str(west), "--policy", "shili-2026",
                     "--id-col", "号码", "--amount-col", "实收", "--name-col", "户名", "-o", str(out))
    assert digest(export) == before
    assert "已缴费未登记台账2" in proc.stdout          # no region column: 冯十一 is one more to add
    assert {r[2] for r in sheet_rows(out, "金额与应缴不符")} == {"王三"}


def test_no_ledger_and_a_named_column_missing_are_one_chinese_line(tmp_path):
    export = tax_csv(tmp_path / "缴费明细.csv")
    east, _west = ledgers(tmp_path)
    proc = run_yibao("reconcile", str(export), str(east), "--policy", "shili-2026", "--id-col", "身份证",
                     check_rc=2)
    assert proc.stderr.count("\n") == 1 and "“身份证”" in proc.stderr and "缴费人证件号码" in proc.stderr


def test_classify_is_pure_and_ties(tmp_path):
    """The core on records alone: every export row and ledger person once, money to the fen."""
    from yibao.functions import plan as plans
    from yibao.macros import reconcile, town
    from yibao.macros.book import read_grid_any
    east, west = ledgers(tmp_path)
    export = platform_xlsx(tmp_path / "平台导出.xlsx")
    grids = read_grid_any(export)
    table = reconcile.find_export(grids)
    payments = reconcile.read_payments(grids[table.sheet], table)
    assert payments[0].pay_date.isoformat() == "2025-10-15" and payments[0].amount == 40000
    assert payments[6].id_no == I["old15"]                              # 15 digits read as the 18-digit form
    plan = plans.load("shili-2026")
    records, _ = town.ledger_records(plan, [(str(east), read_grid_any(east)), (str(west), read_grid_any(west))])
    outcome = reconcile.classify(payments, town.unique_persons(records), ("示例县", "示例"))
    assert outcome.ties()
    assert [c for _p, c, _r, _n in outcome.export].count(reconcile.OK) == 4
    assert {r.name: c for r, c in outcome.ledger}["陈九"] == reconcile.SUBSIDIZED_ABSENT
    assert {r.name: c for r, c in outcome.ledger}["孙六"] == reconcile.NOT_PAID
    # an amount that cannot be read is listed, not taken as agreeing (another period: not a second payment)
    odd = reconcile.Payment(99, "张一", I["ok"], amount_error="无法识别的金额“四百”", period="2027")
    outcome = reconcile.classify([odd], town.unique_persons(records))
    assert [(c, n) for _p, c, _r, n in outcome.export] == [(reconcile.AMOUNT, "无法识别的金额“四百”")]


def test_region_codes_compared_by_prefix_only_when_told_which_is_ours(tmp_path):
    east, west = ledgers(tmp_path)
    coded = [(n, i, a, w, "440105000000" if r == "外省某县" else "430999000000") for n, i, a, w, r in PAID]
    export = platform_xlsx(tmp_path / "平台导出.xlsx", coded)
    proc = run_yibao("reconcile", str(export), str(east), str(west), "--policy", "shili-2026")
    # no row says 示例县: not everyone is called 外地; the line says why and what to do
    assert "在外地缴费" not in proc.stdout and "未比对参保地" in proc.stdout and "--region" in proc.stdout
    proc = run_yibao("reconcile", str(export), str(east), str(west), "--policy", "shili-2026",
                     "--region", "430999")
    assert "在外地缴费1" in proc.stdout and "已缴费未登记台账1" in proc.stdout
    out = tmp_path / "比对结果-缴费.xlsx"
    assert [r[2] for r in sheet_rows(out, "在外地缴费")] == ["冯十一"]


def test_a_file_without_headers_is_refused_without_printing_an_id(tmp_path):
    east, west = ledgers(tmp_path)
    export = tmp_path / "无表头.csv"
    export.write_text("\n".join(f"{n},{i},{a}" for n, i, a, _w, _r in PAID), encoding="utf-8")
    proc = run_yibao("reconcile", str(export), str(east), str(west), "--policy", "shili-2026", check_rc=2)
    assert "找不到证件号码列" in proc.stderr and "4309" not in proc.stderr and proc.stderr.count("\n") == 1


def test_a_rerun_over_a_wildcard_does_not_read_its_previous_result_as_a_ledger(tmp_path):
    east, west = ledgers(tmp_path)
    export = platform_xlsx(tmp_path / "平台导出.xlsx")
    first = run_yibao("reconcile", str(export), str(east), str(west), "--policy", "shili-2026").stdout
    out = tmp_path / "比对结果-缴费.xlsx"
    # `yibao reconcile 平台导出.xlsx *.xlsx`: the export and the last result come along
    again = run_yibao("reconcile", str(export), str(east), str(out), str(export), str(west),
                      "--policy", "shili-2026").stdout
    assert again == first and "台账9人" in again


def test_the_result_prints_on_a4_readable_each_table_one_page_wide(tmp_path):
    """Every sheet through LibreOffice: A4, body at least 9 pt, nothing cut off, and no
    table split across pages sideways (a 60-row list runs down, its header on every page)."""
    import pdfcheck
    if not pdfcheck.available():
        pytest.skip("LibreOffice (soffice) not installed")
    east, west = ledgers(tmp_path)
    more = [(f"补录{k}", make_id(f"1980{k % 12 + 1:02d}15", 101 + 2 * k, "430999"), "400.00",
             "2025-11-01 08:30:00", "示例县") for k in range(60)]
    export = tax_csv(tmp_path / "缴费明细.csv", PAID + more)
    # --fill: its 已从导出填入 and 台账与导出不一致 sheets print one page wide too
    run_yibao("reconcile", str(export), str(east), str(west), "--policy", "shili-2026", "--fill")
    out = tmp_path / "比对结果-缴费.xlsx"
    assert {"已从导出填入", "台账与导出不一致"} <= set(openpyxl.load_workbook(out).sheetnames)
    doc = pdfcheck.read(pdfcheck.render([out], tmp_path / "pdf")[out])
    assert not pdfcheck.problems(doc, min_font=9.0)
    to_add = [p for p in doc.pages if re.search(r"补录\d", p.text)]
    assert len(to_add) >= 2 and all("身份证号" in p.text and "台账文件" in p.text for p in to_add)
    # 比对汇总, 分村统计 and one page per other category: only the long list takes more than one page
    sheets = len(openpyxl.load_workbook(out).sheetnames)
    assert doc.count == sheets - 1 + len(to_add)


def test_an_export_continued_on_a_second_sheet_is_read_whole(tmp_path):
    """.xls holds 65,536 rows a sheet: long exports go on in 明细2 with the same header."""
    east, west = ledgers(tmp_path)
    export = platform_xlsx(tmp_path / "平台导出.xlsx", PAID[:5])
    wb = openpyxl.load_workbook(export)
    ws = wb.create_sheet("明细2")
    ws.append(list(next(wb.active.iter_rows(max_row=1, values_only=True))))
    for name, id_no, amount, when, region in PAID[5:]:
        ws.append([name, id_no, "", "城乡居民基本医疗保险", float(amount), when, region])
    wb.save(export)
    proc = run_yibao("reconcile", str(export), str(east), str(west), "--policy", "shili-2026")
    assert f"比对导出{len(PAID)}行" in proc.stdout and "已缴费未登记台账1" in proc.stdout
    added = sheet_rows(tmp_path / "比对结果-缴费.xlsx", "已缴费未登记台账")
    assert [(r[2], r[6]) for r in added] == [("郑十", 4)] and "明细2" in added[0][10]


def _flagged(out: Path, skip=()) -> list[tuple[str, str, str]]:
    """(sheet, name, ID) of every row on the category sheets (after 比对汇总 and 分村统计)."""
    wb = openpyxl.load_workbook(out, read_only=True)
    return [(ws.title, r[2], str(r[3])) for ws in wb.worksheets[2:] if ws.title not in skip
            for r in ws.iter_rows(min_row=4, values_only=True) if r[0] is not None]


@pytest.mark.parametrize("seed", [2027, 11])
def test_synth_town_every_planted_discrepancy_is_found_and_nothing_else(tmp_path, seed):
    """The synthetic town's two exports (the examples' and the demo's): the tax bureau's
    GBK CSV and the 医保信息平台's .xlsx with other column names. Every discrepancy the
    generator planted in each is on its category's sheet, found by name and ID from the
    generator's own record, and no other person is; with --fill, the cells written and
    the typed cells kept are exactly the planted ones too."""
    from yibao import synth
    folder = tmp_path / "town"
    run_yibao("synth", "--persons", "1000", "--seed", str(seed), "-o", str(folder))
    export = folder / synth.EXPORT_FILE
    platform = folder / synth.PLATFORM_FILE
    raw = export.read_bytes()
    text = raw.decode("gbk")                         # GBK, as the tax system saves it
    assert re.search(r',="430999\d{11}[\dX]",', text) and re.search(r",\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,", text)
    head = [c.value for c in openpyxl.load_workbook(platform).active[2]]
    assert {"人员编号", "证件号码", "险种类型", "实缴金额", "到账日期", "参保地行政区划"} <= set(head)
    ledgers = sorted((folder / "台账").glob("*.xlsx"))
    before = {p: digest(p) for p in [export, platform, *ledgers]}
    data = synth.town(1000, seed)
    listed = (folder / "错误清单.md").read_text(encoding="utf-8")
    for given, planted, section, says in ((export, data.planted, "## 缴费导出与台账比对", "比对："),
                                          (platform, data.platform_planted, "## 医保平台缴费明细与台账比对", "平台比对：")):
        out = tmp_path / f"比对结果-{given.stem}.xlsx"
        proc = run_yibao("reconcile", str(given), *map(str, ledgers), "-o", str(out))
        assert "各类合计相符" in proc.stdout
        flagged = _flagged(out)
        assert sorted((c, n) for c, n, _i in flagged) == sorted((c, n) for c, n, _i in planted), given.name
        ids = {(c, n): i for c, n, i in planted}
        for category, name, id_no in flagged:
            if category != "台账身份证号有误":            # the ledger's wrong number is shown as typed
                assert id_no == ids[category, name]
        part = listed.split(section)[1].split("\n## ")[0]
        for category, name, _i in planted:
            assert f"“{name}”" in part and f"{says}{category}" in part
        # no ID in what the command printed
        assert not re.search(r"\d{15}", proc.stdout + proc.stderr)
    assert {p: digest(p) for p in before} == before
    assert {c for c, _n, _i in data.platform_planted} >= {"退费冲减", "非居民医保", "证件号码无法识别",
                                                          "台账已缴费导出无记录"}

    # --fill on the tax export: the planted cells are written or listed, no other
    proc = run_yibao("reconcile", str(export), *map(str, ledgers), "-o", str(tmp_path / "填入.xlsx"), "--fill")
    assert "已从导出填入1人的2个缴费单元格" in proc.stdout and "2处手填与导出不同" in proc.stdout, proc.stdout
    found = [(c, n, i) for c, n, i in _flagged(tmp_path / "填入.xlsx") if c in ("已从导出填入", "台账与导出不一致")]
    assert sorted(found) == sorted(data.fill_planted)
    assert digest(export) == before[export]
    assert len(list((folder / "台账").glob("*.备份-*.xlsx"))) == 1      # the one ledger written was backed up


def test_a_refund_row_is_a_refund_not_a_second_payment(tmp_path):
    # tax exports list a refund as a negative row of the same person: 张一 paid 400 and was refunded 400
    east, west = ledgers(tmp_path)
    rows = PAID[:1] + [("张一", I["ok"], "-400.00", "2025-11-02 10:00:00", "示例县")]
    export = tax_csv(tmp_path / "缴费明细.csv", rows, bad_id=False)
    proc = run_yibao("reconcile", str(export), str(east), str(west), "--policy", "shili-2026")
    assert "各类合计相符" in proc.stdout and "退费冲减1" in proc.stdout and "重复缴费" not in proc.stdout
    out = export.with_name("比对结果-缴费.xlsx")
    refund = sheet_rows(out, "退费冲减")
    assert [(r[2], r[7]) for r in refund] == [("张一", -400)] and "冲减导出第4行" in refund[0][10]
    assert "重复缴费" not in openpyxl.load_workbook(out).sheetnames
    summary = {r[0]: r for r in openpyxl.load_workbook(out)["比对汇总"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert summary["导出合计"][2:4] == (2, 0) and summary["退费冲减"][2:4] == (1, -400)


def test_an_amount_a_formula_left_as_399_99999999999994_is_the_400_excel_shows(tmp_path):
    # an export or ledger cell computed by a formula keeps binary noise; Excel shows 400.00
    east, west = ledgers(tmp_path)
    export = platform_xlsx(tmp_path / "平台导出.xlsx", [("张一", I["ok"], "399.99999999999994", "2025-10-15 09:31:27", "示例县")])
    proc = run_yibao("reconcile", str(export), str(east), str(west), "--policy", "shili-2026")
    assert "一致1" in proc.stdout and "金额与应缴不符" not in proc.stdout and "各类合计相符" in proc.stdout


def test_a_second_header_line_and_a_header_repeated_per_page_are_not_payments(tmp_path):
    east, west = ledgers(tmp_path)
    export = tax_csv(tmp_path / "缴费明细.csv", PAID[:4], bad_id=False)
    lines = export.read_bytes().decode("gbk").split("\r\n")
    header = lines[2]
    lines[3:3] = ["No,Name,IdType,IdNo,Item,Amount,Date,Area"]          # field names under the Chinese header
    lines[6:6] = [header]                                                 # the header again (next printed page)
    lines[7:7] = [',无号者,居民身份证,,城乡居民基本医疗保险,400.00,2025-10-19 09:00:00,示例县']   # a real row, no ID
    export.write_bytes("\r\n".join(lines).encode("gbk"))
    proc = run_yibao("reconcile", str(export), str(east), str(west), "--policy", "shili-2026")
    assert "比对导出5行" in proc.stdout and "证件号码无法识别1" in proc.stdout, proc.stdout
    assert [r[2] for r in sheet_rows(export.with_name("比对结果-缴费.xlsx"), "证件号码无法识别")] == ["无号者"]


def test_one_name_written_two_ways_is_not_a_name_mismatch(tmp_path):
    # full-width letters and another middle dot (one name_key with validate); only 周柒 differs
    east = ledger(tmp_path / "东山村.xlsx", "东山村", [("Ａｌｉ·木合", I["ok"], None, 400), ("周七", I["name"], None, 400)])
    rows = [("Ali•木合", I["ok"], "400.00", "2025-10-15 09:31:27", "示例县"),
            ("周柒", I["name"], "400.00", "2025-10-18 14:20:00", "示例县")]
    export = platform_xlsx(tmp_path / "平台导出.xlsx", rows)
    proc = run_yibao("reconcile", str(export), str(east), "--policy", "shili-2026")
    assert "1人姓名与台账不同" in proc.stdout, proc.stdout
    assert [r[2] for r in sheet_rows(export.with_name("比对结果-缴费.xlsx"), "姓名不一致")] == ["周七"]


@pytest.mark.parametrize("first", ["ledger", "result"])
def test_a_ledger_or_our_result_given_as_the_export_is_refused_not_reconciled(tmp_path, first):
    """`yibao reconcile 东山村.xlsx 西山村.xlsx` (the export forgotten) or the last result
    first: its persons would be read as payments. One Chinese line, exit 2, nothing written."""
    east, west = ledgers(tmp_path)
    export = platform_xlsx(tmp_path / "平台导出.xlsx")
    if first == "result":
        run_yibao("reconcile", str(export), str(east), str(west), "--policy", "shili-2026")
        given = tmp_path / "比对结果-缴费.xlsx"
    else:
        given = east
    before = {p: digest(p) for p in tmp_path.iterdir()}
    proc = run_yibao("reconcile", str(given), str(west), "--policy", "shili-2026", check_rc=2)
    err = proc.stderr.strip()
    assert "\n" not in err and "Traceback" not in proc.stderr and "不是缴费导出" in err
    assert ("是台账" if first == "ledger" else "结果工作簿") in err and given.name in err
    assert {p: digest(p) for p in tmp_path.iterdir()} == before       # nothing written, nothing changed
    # a ledger without the template's 方案编号 cell is still known by its form's columns
    import openpyxl as xl
    wb = xl.load_workbook(west)
    wb.active["E2"] = wb.active["F2"] = None
    wb.active["G3"] = "告知、督促方式"
    wb.save(tmp_path / "无方案编号.xlsx")
    proc = run_yibao("reconcile", str(tmp_path / "无方案编号.xlsx"), str(east), "--policy", "shili-2026", check_rc=2)
    assert "是台账" in proc.stderr


def _picture_and_note(path: Path):
    """The agent's own things in a ledger: a photo of the receipt and a note on a cell."""
    import io
    from openpyxl.comments import Comment
    from openpyxl.drawing.image import Image
    from PIL import Image as Pil
    png = io.BytesIO()
    Pil.new("RGB", (40, 20), (200, 30, 30)).save(png, format="PNG")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws.add_image(Image(io.BytesIO(png.getvalue())), "H4")
    ws["B6"].comment = Comment("本人外出，家属代缴", "王专干")
    ws["E4"] = 300                      # 张一: typed 300, the export says 400
    wb.save(path)


def _members(path: Path, under: str) -> dict[str, bytes]:
    import zipfile
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith(under)}


def test_fill_writes_only_empty_payment_cells_keeps_typed_ones_and_lists_differences(tmp_path):
    """`--fill`: 赵四's empty 个人缴费/缴费日期 take the export's 400 and date; every typed cell
    keeps its value (a differing one is listed on 台账与导出不一致); the ledger is backed up
    first and keeps its picture and note; the export is not touched."""
    east, west = ledgers(tmp_path)
    _picture_and_note(east)
    export = tax_csv(tmp_path / "缴费明细.csv")
    before_export = digest(export)
    before = openpyxl.load_workbook(east).active
    typed_before = {(r, c): before.cell(r, c).value for r in range(4, 11) for c in (5, 6)
                    if before.cell(r, c).value is not None}
    media, notes = _members(east, "xl/media/"), _members(east, "xl/comments")
    assert media and notes
    east_bytes = east.read_bytes()

    proc = run_yibao("reconcile", str(export), str(east), str(west), "--policy", "shili-2026", "--fill")
    line = proc.stdout.strip()
    assert "已从导出填入1人的2个缴费单元格" in line and "台账与导出不一致" in line, line
    assert digest(export) == before_export
    backups = list(tmp_path.glob("东山村.备份-*.xlsx"))
    assert len(backups) == 1 and backups[0].read_bytes() == east_bytes
    ws = openpyxl.load_workbook(east).active
    assert ws["E7"].value == 400 and ws["F7"].value == datetime.datetime(2025, 10, 16)   # 赵四, from the export
    assert ws["F7"].number_format == "yyyy-mm-dd"
    assert {k: ws.cell(*k).value for k in typed_before} == typed_before                   # typed cells as they were
    assert _members(east, "xl/media/") == media and _members(east, "xl/comments") == notes
    assert ws["B6"].comment.text.startswith("本人外出")
    assert not list(tmp_path.glob("西山村.备份-*.xlsx"))          # 吴八's cells are all typed: nothing to write

    out = tmp_path / "比对结果-缴费.xlsx"
    filled = {(r[2], r[7], r[9]) for r in sheet_rows(out, "已从导出填入")}
    assert filled == {("赵四", "个人缴费", 400), ("赵四", "缴费日期", "2025-10-16")}
    differ = {(r[2], r[7]): (r[8], r[9]) for r in sheet_rows(out, "台账与导出不一致")}
    assert differ == {("张一", "个人缴费"): ("300", 400),
                      ("王三", "缴费日期"): ("2025-10-15", "2025-10-16"),   # 王三's amount: on 金额与应缴不符
                      ("钱五", "缴费日期"): ("2025-10-15", "2025-10-17"),   # the first payment; the second is 重复缴费
                      ("周七", "缴费日期"): ("2025-10-15", "2025-10-18"),
                      ("吴八", "缴费日期"): ("2025-10-15", "2025-10-19")}

    # again: what was filled is the export's already, nothing new to write, no second backup
    again = run_yibao("reconcile", str(export), str(east), str(west), "--policy", "shili-2026", "--fill").stdout
    assert "已从导出填入" not in again and len(list(tmp_path.glob("东山村.备份-*.xlsx"))) == 1


def test_without_fill_no_ledger_is_written(tmp_path):
    east, west = ledgers(tmp_path)
    export = tax_csv(tmp_path / "缴费明细.csv")
    before = {p: digest(p) for p in (east, west)}
    run_yibao("reconcile", str(export), str(east), str(west), "--policy", "shili-2026")
    assert {p: digest(p) for p in (east, west)} == before and not list(tmp_path.glob("*备份*"))
    assert "已从导出填入" not in openpyxl.load_workbook(tmp_path / "比对结果-缴费.xlsx").sheetnames


def test_the_ribbon_button_reconciles_the_live_ledger_with_the_ones_picked(tmp_path):
    """reconcile.ribbon: the export asked for first, then other ledgers (may be none); the
    live workbook is one of the ledgers; nothing is written into any ledger."""
    from yibao.macros import book as books
    from yibao.macros import reconcile
    east, west = ledgers(tmp_path)
    export = tax_csv(tmp_path / "缴费明细.csv")
    answers = [None]
    asked = []

    def pick_files(title):
        asked.append(title)
        return answers.pop(0)

    assert "未选择" in reconcile.ribbon(books.FileBook(east), east, pick_files)
    before = {p: digest(p) for p in (export, east, west)}
    answers[:] = [[str(export)], None]
    alone = reconcile.ribbon(books.FileBook(east), east, pick_files)
    assert "缴费导出" in asked[1] and "台账" in asked[2]
    assert "台账7人" in alone and "各类合计相符" in alone            # 东山村 alone: 吴八 is one more to add
    answers[:] = [[str(export)], [str(west), str(east)]]
    both = reconcile.ribbon(books.FileBook(east), east, pick_files)
    assert "台账9人" in both and "已缴费未登记台账1" in both
    assert {p: digest(p) for p in (export, east, west)} == before


def test_an_export_with_columns_a_ledger_also_has_is_still_an_export():
    """应缴金额, 资助类别 and 姓名/身份证号 are in exports too: only a 方案编号 cell or a column
    only ledgers have (告知、督促方式, 参保人签字, 未缴费原因, 校验) makes a file a ledger."""
    from yibao.macros import reconcile
    from yibao.macros.book import BookError
    head = ["姓名", "身份证号码", "资助类别", "应缴金额", "实缴金额", "缴费日期", "险种类型"]
    export = {"明细": [head, ["张一", I["ok"], "", 400, 400, "2025-10-15", "城乡居民基本医疗保险"]]}
    reconcile.refuse_as_export(Path("平台导出.xlsx"), export)          # no error
    for ledger_only in ("告知、督促方式", "参保人签字*", "未缴费原因", "校验"):
        with pytest.raises(BookError, match="是台账"):
            reconcile.refuse_as_export(Path("台账.xlsx"), {"明细": [head + [ledger_only]]})


def test_pay_dates_and_amounts_read_once_each_read_as_in_any_other_row():
    """An export repeats its amounts and dates down 400,000 rows and
    read_payments reads each once (benchmarks/bench_reconcile.py); a date
    with a time of day is the date of its date part only when the time
    exists, and a repeated amount that cannot be read is reported on every row."""
    from yibao.functions.values import BadValue, to_date
    from yibao.macros import reconcile
    header = ["姓名", "证件号码", "实缴金额", "入库日期"]
    dates = ["2025-10-15 09:31:27", "2025/10/16 23:59:59", "2025-10-17 24:00:00", "2025-10-18 09:61:00",
             "2025-02-30 09:00:00", "2025-10-19T09:00:00", "2025年10月20日 9时31分", "2025-10-15 09:31:27", " ", ""]
    amounts = ["400.00", "四百", "400.00", "四百", "200", "", "400.00", "四百", "400.00", "1e3"]
    grid = [header] + [["张一", I["ok"], a, d] for a, d in zip(amounts, dates)]
    table = reconcile.find_export({"明细": grid})
    payments = reconcile.read_payments(grid, table)

    def expected(text):
        try:
            return to_date(text) if text.strip() else None
        except BadValue:
            return None
    assert [p.pay_date for p in payments] == [expected(d) for d in dates]
    assert [p.pay_date for p in payments][:5] == [datetime.date(2025, 10, 15), datetime.date(2025, 10, 16),
                                                 None, None, None]
    assert [p.amount for p in payments] == [40000, None, 40000, None, 20000, None, 40000, None, 40000, 100000]
    assert [bool(p.amount_error) for p in payments] == [a == "四百" for a in amounts]


def test_headers_with_a_yuan_unit_and_other_export_names_are_read_not_skipped(tmp_path):
    """Exports often head money “实缴金额（元）” and times “缴款时间”: the amounts are compared,
    not dropped with “导出没有缴费金额列”."""
    east, west = ledgers(tmp_path)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["人员姓名", "公民身份号码", "缴费金额（元）", "缴款时间", "参保地区"])
    for name, id_no, amount, when, region in PAID:
        ws.append([name, id_no, float(amount), datetime.datetime.fromisoformat(when), region])
        ws.cell(ws.max_row, 2).data_type = "s"
    export = tmp_path / "导出.xlsx"
    wb.save(export)
    out = tmp_path / "结果.xlsx"
    proc = run_yibao("reconcile", str(export), str(east), str(west), "--policy", "shili-2026", "-o", str(out))
    assert "未比对金额" not in proc.stdout and f"金额合计{TOTAL}元" in proc.stdout
    assert {r[2] for r in sheet_rows(out, "金额与应缴不符")} == {"王三"}
    assert sheet_rows(out, "重复缴费")[0][9] == "2025-10-20"        # the pay date read from 缴款时间


def test_an_output_named_as_one_of_the_ledgers_is_refused_not_written_over_it(tmp_path):
    """`-o 东山村.xlsx` with 东山村.xlsx among the ledgers: that ledger was left out of the
    comparison and replaced by the result. It is refused, nothing written."""
    east, west = ledgers(tmp_path)
    export = tax_csv(tmp_path / "缴费明细.csv")
    before = {p: digest(p) for p in (export, east, west)}
    proc = run_yibao("reconcile", str(export), str(east), str(west), "--policy", "shili-2026", "-o", str(east),
                     check_rc=2)
    assert proc.stderr.count("\n") == 1 and "台账" in proc.stderr and "东山村.xlsx" in proc.stderr
    assert {p: digest(p) for p in (export, east, west)} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["东山村.xlsx", "西山村.xlsx", "缴费明细.csv"])


def test_an_output_named_as_the_death_list_is_refused_not_written_over_it(tmp_path):
    east, west = ledgers(tmp_path)
    export = tax_csv(tmp_path / "缴费明细.csv")
    deaths = tmp_path / "死亡人员名单.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "身份证号", "死亡日期"])
    wb.active.append(["孙六", I["quiet"], "2025-08-01"])
    wb.save(deaths)
    before = digest(deaths)
    proc = run_yibao("reconcile", str(export), str(east), str(west), "--policy", "shili-2026",
                     "--deceased", str(deaths), "-o", str(deaths), check_rc=2)
    assert proc.stderr.count("\n") == 1 and "死亡人员名单.xlsx" in proc.stderr
    assert digest(deaths) == before and not [p for p in tmp_path.iterdir() if "备份" in p.name]
