"""`yibao uninsured ROSTER LEDGERS… [--export] [--employee] [--deaths] [--elsewhere]` (issue 14,
command 2): the household register against everyone enrolled. Each reason planted once, from
each source it can come from, and found; nothing else; counts tie to the register's rows;
inputs keep their bytes. Plan shili-2026 (fictional; ordinary payable 400元)."""
from __future__ import annotations

import doctest
import shutil
import hashlib
from pathlib import Path

import openpyxl
import pytest

from conftest import make_id, run_yibao

I = {k: make_id(birth, seq, "430999") for k, (birth, seq) in dict(
    paid=("19800101", 11), export_only=("19810202", 13), dead=("19400303", 15), moved=("19900404", 17),
    soldier=("20040505", 19), prisoner=("19850606", 21), employee=("19860707", 23), form=("19870808", 25),
    paid_away=("19880909", 27), student=("20070110", 29), newborn=("20260201", 31), refused=("19750303", 33),
    nowhere=("19760404", 35), old15=("19700505", 37), renamed=("19710606", 39), outsider=("19720707", 41),
    dead_moved=("19300808", 43), ledger_dead=("19350909", 45), misnamed=("19450101", 47)).items()}
OLD15 = I["old15"][:6] + I["old15"][8:17]
BAD = "4309991980010100"                       # 16 digits: the register's number cannot be read

#: register person → what the command must say
EXPECTED = {
    "paid": "参保", "export_only": "参保", "old15": "参保", "renamed": "参保",
    "dead": "死亡", "dead_moved": "死亡", "ledger_dead": "死亡", "moved": "迁出", "soldier": "服兵役",
    "prisoner": "服刑", "employee": "职工医保", "form": "异地参保", "paid_away": "异地参保",
    "student": "在校学生", "newborn": "新生儿未登记", "refused": "原因不明", "nowhere": "原因不明",
    "misnamed": "原因不明",
}


def register(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "户籍人口"
    ws.append(["示例镇户籍人口名单"])
    ws.append(["户号", "姓名", "与户主关系", "公民身份号码", "村（居）", "人口状态", "是否在校学生", "备注"])
    rows = [
        ("H01", "张一", "户主", I["paid"], "东山村", "正常", None, None),
        ("H01", "张二", "子女", I["export_only"], "东山村", "正常", None, None),
        ("H01", "张三", "父母", I["dead"], "东山村", "正常", None, None),              # on the death list
        ("H02", "李四", "户主", I["moved"], "东山村", "迁出", None, None),             # 人口状态
        ("H02", "李五", "子女", I["soldier"], "东山村", "正常", None, None),           # ledger's 未缴费原因
        ("H02", "李六", "配偶", I["prisoner"], "东山村", None, None, "服刑中"),        # 备注
        ("H03", "王七", "户主", I["employee"], "西山村", "正常", None, None),          # employee list
        ("H03", "王八", "配偶", I["form"], "西山村", "正常", None, None),              # 附件4 form
        ("H03", "王九", "子女", I["paid_away"], "西山村", "正常", None, None),         # export, another county
        ("H04", "赵十", "子女", I["student"], "西山村", "正常", "是", None),           # student flag
        ("H04", "赵宝", "子女", I["newborn"], "西山村", "正常", None, None),           # born 2026, on no ledger
        ("H04", "赵拒", "户主", I["refused"], "西山村", "正常", None, None),           # ledger: 本人不愿参保
        ("H05", "钱无", "户主", I["nowhere"], "西山村", "正常", None, None),           # nowhere at all
        ("H05", "钱旧", "配偶", OLD15, "西山村", "正常", None, None),                  # 15 digits, paid on the ledger
        ("H05", "孙五", "子女", I["renamed"], "西山村", "正常", None, None),           # the ledger says 孙午
        ("H06", "周错", "户主", BAD, "西山村", "正常", None, None),                    # unreadable
        ("H01", "张一", "户主", I["paid"], "东山村", "正常", None, None),              # the same person again
        ("H06", "周老", "父母", I["dead_moved"], "西山村", "迁出", None, None),        # death list wins over 迁出
        ("H06", "周故", "父母", I["ledger_dead"], "西山村", "正常", None, None),       # ledger: 已死亡
        ("H07", "吴生", "户主", I["misnamed"], "西山村", "正常", None, None),          # death list: another name
    ]
    for row in rows:
        ws.append(list(row))
        ws.cell(ws.max_row, 4).data_type = "s"
    wb.save(path)
    return path


def ledger(path: Path, village: str, people) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "参保缴费登记表"
    ws.append(["示例县城乡居民基本医疗保险参保缴费登记表"])
    ws.append([f"填报单位：示例镇　{village}", None, None, None, "方案编号", "shili-2026"])
    ws.append(["序号", "家庭编号", "姓名", "身份证号", "个人缴费", "缴费日期", "未缴费原因"])
    for i, (family, name, id_no, paid, reason) in enumerate(people, 1):
        ws.append([i, family, name, id_no, paid, "2025-10-15" if paid else None, reason])
        ws.cell(ws.max_row, 4).data_type = "s"
    wb.save(path)
    return path


def plain(path: Path, header, rows) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return path


def files(tmp_path: Path) -> dict[str, Path]:
    f = {
        "roster": register(tmp_path / "户籍人口名单.xlsx"),
        "east": ledger(tmp_path / "东山村.xlsx", "东山村", [
            ("H01", "张一", I["paid"], 400, None),
            ("H02", "李五", I["soldier"], None, "服兵役"),
            ("H09", "外来", I["outsider"], 400, None),                 # paid here, not on the register
        ]),
        "west": ledger(tmp_path / "西山村.xlsx", "西山村", [
            ("H04", "赵拒", I["refused"], None, "本人不愿参保"),
            ("H05", "钱旧", I["old15"], 400, None),
            ("H05", "孙午", I["renamed"], 400, None),
            ("H06", "周故", I["ledger_dead"], None, "已死亡"),
        ]),
        "deaths": plain(tmp_path / "死亡人员名单.xlsx", ("姓名", "身份证号", "死亡日期"),
                        [("张三", I["dead"], "2025-07-03"), ("周老", I["dead_moved"], "2025-08-01"),
                         ("吴死", I["misnamed"], "2025-09-01")]),
        "employee": plain(tmp_path / "职工医保参保名单.xlsx", ("姓名", "身份证号", "参保单位"),
                          [("王七", I["employee"], "示例县某公司")]),
        "form": plain(tmp_path / "异地参保登记表.xlsx",
                      ("序号", "姓名", "身份证号码", "户籍地", "参保地（凭证复印）", "参保类型（职工医保/城乡居民医保）"),
                      [(1, "王八", I["form"], "示例镇西山村", "广东省深圳市", "城乡居民医保")]),
    }
    export = tmp_path / "缴费导出.csv"
    export.write_bytes(("姓名,证件号码,险种,实缴金额,缴费日期,所属区划\r\n"
                        f'张二,="{I["export_only"]}",城乡居民基本医疗保险,400.00,2025-10-20,示例县\r\n'
                        f'王九,="{I["paid_away"]}",城乡居民基本医疗保险,380.00,2025-10-21,邻县\r\n').encode("gbk"))
    f["export"] = export
    return f


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listed(wb) -> dict[str, tuple]:
    """ID → (village sheet, category, 应参未参, source, note) over the 应参未参 sheets."""
    out = {}
    for ws in wb.worksheets:
        if ws.title.startswith("应参未参-"):
            for r in ws.iter_rows(min_row=4, values_only=True):
                if isinstance(r[0], int):
                    out[r[4]] = (ws.title[5:], r[5], r[6], r[7], r[8])
    return out


def run_all(f, *extra, check_rc=0):
    return run_yibao("uninsured", str(f["roster"]), str(f["east"]), str(f["west"]), "--export", str(f["export"]),
                     "--employee", str(f["employee"]), "--deaths", str(f["deaths"]), "--elsewhere", str(f["form"]),
                     *extra, check_rc=check_rc)


def test_each_reason_is_found_from_each_source_and_nothing_else(tmp_path):
    f = files(tmp_path)
    before = {p: digest(p) for p in f.values()}
    proc = run_all(f)
    assert {p: digest(p) for p in f.values()} == before               # no input file changes
    line = proc.stdout.strip()
    assert "\n" not in line and "户籍名单20行" in line and "各村各类合计与户籍名单行数相符" in line
    assert "430999" not in proc.stdout + proc.stderr                   # no ID in what is printed
    out = f["roster"].with_name("未参保原因-户籍比对.xlsx")
    wb = openpyxl.load_workbook(out)
    found = listed(wb)
    want = {I[k]: c for k, c in EXPECTED.items() if c != "参保"}
    want[BAD] = "身份证号有误"
    assert {i: v[1] for i, v in found.items()} == want
    # where each came from, as the workbook says
    assert "死亡人员名单" in found[I["dead"]][3] and "死亡人员名单" in found[I["dead_moved"]][3]
    assert "人口状态" in found[I["moved"]][3] and "未缴费原因" in found[I["soldier"]][3]
    assert "备注" in found[I["prisoner"]][3] and "职工医保参保名单" in found[I["employee"]][3]
    assert "异地参保登记表" in found[I["form"]][3] and "邻县" in found[I["paid_away"]][4]
    assert "不愿参保" in found[I["refused"]][4] and "不在任何台账上" in found[I["nowhere"]][4]
    # 应参未参: the ones to follow up; the exempt are listed with 否
    assert {i for i, v in found.items() if v[2] == "是"} == {I["student"], I["newborn"], I["refused"], I["nowhere"], I["misnamed"], BAD}
    assert {v[0] for v in found.values()} == {"东山村", "西山村"}

    summary = list(wb["未参保原因汇总"].iter_rows(values_only=True))
    head = summary[1]
    rows = {r[0]: dict(zip(head, r)) for r in summary[2:] if r[0] in ("东山村", "西山村", "合计")}
    total = rows["合计"]
    assert total["户籍名单行数"] == 20 and total["参保"] == 4 and total["重复行"] == 1
    assert (total["死亡"], total["迁出"], total["服兵役"], total["服刑"], total["职工医保"], total["异地参保"],
            total["在校学生"], total["新生儿未登记"], total["原因不明"], total["身份证号有误"]) == (3, 1, 1, 1, 1, 2, 1, 1, 3, 1)
    for r in rows.values():                                             # each village adds up to its rows
        assert sum(v for k, v in r.items() if k not in ("村（社区）", "户籍名单行数", "应参保人数", "参保率")) == r["户籍名单行数"]
    assert rows["东山村"]["户籍名单行数"] + rows["西山村"]["户籍名单行数"] == 20
    assert total["应参保人数"] == 20 - 1 - 9 and total["参保率"] == "40.00%"      # 4 / 10
    assert any(str(r[0]).startswith("账平") for r in summary)
    # the ledger person off the register, the name that differs, the repeated row
    outside = [r for r in wb["不在户籍名单"].iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    assert [(r[2], r[3]) for r in outside] == [("外来", I["outsider"])]
    names = [r for r in wb["姓名不一致"].iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    assert [(r[3], r[6]) for r in names] == [("孙五", "孙午"), ("吴生", "吴死")]
    assert "死亡人员名单" in found[I["misnamed"]][4] and "姓名不同，未采用" in found[I["misnamed"]][4]
    repeats = [r for r in wb["户籍名单重复行"].iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    assert [(r[2], r[4], r[5]) for r in repeats] == [("张一", "第19行", "第3行")]


def test_without_the_lists_the_register_and_ledgers_alone_decide(tmp_path):
    """No export, lists or form: those persons fall to what the register and ledgers say."""
    f = files(tmp_path)
    proc = run_yibao("uninsured", str(f["roster"]), str(f["east"]), str(f["west"]), "-o", str(tmp_path / "仅台账.xlsx"))
    found = listed(openpyxl.load_workbook(tmp_path / "仅台账.xlsx"))
    for key in ("export_only", "dead", "employee", "form", "paid_away"):
        assert found[I[key]][1] == "原因不明", key
    assert found[I["dead_moved"]][1] == "迁出" and found[I["ledger_dead"]][1] == "死亡"
    assert "各村各类合计与户籍名单行数相符" in proc.stdout


@pytest.mark.parametrize("case", ["ledger_first", "no_register", "no_ledgers", "our_result"])
def test_bad_input_is_one_chinese_line_and_exit_2(tmp_path, case):
    f = files(tmp_path)
    if case == "ledger_first":
        args = (str(f["east"]), str(f["west"]))
        said = "不是户籍人口名单"
    elif case == "no_register":
        args = (str(f["export"]), str(f["east"]))
        said = "户籍"
    elif case == "no_ledgers":
        args = (str(f["roster"]), str(f["deaths"]))
        said = "死亡人员名单"
    else:                   # last run's result given as the register
        run_yibao("uninsured", str(f["roster"]), str(f["east"]), "-o", str(tmp_path / "上次.xlsx"))
        args = (str(tmp_path / "上次.xlsx"), str(f["east"]))
        said = "结果文件"
    before = {p: digest(p) for p in f.values()}
    proc = run_yibao("uninsured", *args, check_rc=2)
    assert proc.stderr.startswith("错误：") and said in proc.stderr and "Traceback" not in proc.stderr
    assert {p: digest(p) for p in f.values()} == before
    assert not (tmp_path / "未参保原因-户籍比对.xlsx").exists()


def test_the_ribbon_entry_from_the_register_or_from_a_ledger(tmp_path):
    from yibao.macros import book as books
    from yibao.macros import uninsured
    f = files(tmp_path)
    asked = []

    def pick(title):
        asked.append(title)
        return [str(f["east"]), str(f["west"])] if "台账" in title else [str(f["roster"])]

    line = uninsured.ribbon(books.FileBook(f["roster"]), f["roster"], pick)
    assert "户籍名单20行" in line and "台账" in asked[0]
    asked.clear()
    line = uninsured.ribbon(books.FileBook(f["east"]), f["east"], pick)
    assert "户籍名单20行" in line and "户籍人口名单" in asked[0]
    with pytest.raises(books.BookError, match="没有选择"):
        uninsured.ribbon(books.FileBook(f["roster"]), f["roster"], lambda title: None)


def test_the_example_town_every_planted_case_found_nothing_else(tmp_path):
    """The bundled 示例镇: the register's planted cases and every ledger person's own reason."""
    from yibao import synth, synth_roster
    town = synth.town(1000)
    reg = synth_roster.register(town)
    ex = Path(__file__).resolve().parent.parent / "examples" / "示例镇"
    out = tmp_path / "核查.xlsx"
    run_yibao("uninsured", str(ex / synth_roster.ROSTER_FILE), *(str(ex / "台账" / f"{v}.xlsx") for v, _ in synth.VILLAGES),
              "--export", str(ex / synth.EXPORT_FILE), "--employee", str(ex / "部门名单" / "职工医保参保名单.xlsx"),
              "--deaths", str(ex / "部门名单" / "死亡人员名单.xlsx"), "--elsewhere", str(ex / synth_roster.ELSEWHERE_FILE),
              "-o", str(out))
    wb = openpyxl.load_workbook(out)
    found = listed(wb)
    wrong = next(i for c, _n, i in reg.planted if c == "身份证号有误")
    got = {i: v[1] for i, v in found.items() if v[1] != "身份证号有误"}
    assert got == {i: c for i, c in reg.expected.items() if c != "参保"}
    assert [v[1] for v in found.values()].count("身份证号有误") == 1 and wrong not in found
    for category, _name, id_no in reg.planted:
        if category in ("死亡", "迁出", "服兵役", "服刑", "在校学生", "新生儿未登记", "原因不明", "异地参保"):
            assert found[id_no][1] == category
    outside = {r[2] for r in wb["不在户籍名单"].iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)}
    ledger_bad = {m.name for m in town.members if m.id_cell != m.id_no}
    assert outside == {n for n, _i in reg.outside} | ledger_bad
    names = {r[4] for r in wb["姓名不一致"].iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)}
    assert names == {i for c, _n, i in reg.planted + town.planted if c == "姓名不一致"}
    repeats = [r for r in wb["户籍名单重复行"].iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    assert len(repeats) == reg.repeats


def test_docstring_examples():
    from yibao.macros import uninsured
    failures, tried = doctest.testmod(uninsured)
    assert failures == 0 and tried


def test_the_demo_runs_the_check_on_its_own_examples(tmp_path):
    """`yibao demo` runs uninsured after 缴费比对 with the export, the lists and the 附件4 form:
    the same persons in the same categories as the example test above, and says so in one line."""
    from yibao import synth, synth_roster
    folder = tmp_path / "演示"
    proc = run_yibao("demo", str(folder), "--no-pdf")
    result = folder / "未参保核查结果.xlsx"
    assert str(result) in proc.stdout and "各村各类合计与户籍名单行数相符" in proc.stdout
    assert "430999" not in proc.stdout + proc.stderr
    reg = synth_roster.register(synth.town(1000))
    found = listed(openpyxl.load_workbook(result))
    assert {i: v[1] for i, v in found.items() if v[1] != "身份证号有误"} == \
        {i: c for i, c in reg.expected.items() if c != "参保"}


@pytest.mark.skipif(not shutil.which("soffice"), reason="needs LibreOffice")
def test_the_workbook_prints_on_a4_readable_with_its_header_on_every_page(tmp_path):
    import pdfcheck
    f = files(tmp_path)
    run_all(f)
    out = f["roster"].with_name("未参保原因-户籍比对.xlsx")
    doc = pdfcheck.read(pdfcheck.render([out], tmp_path / "pdf")[out])
    problems = pdfcheck.problems(doc, min_font=9)
    assert not problems, "\n".join(problems)
    assert "未参保原因汇总" in doc.pages[0].text and "账平" in doc.pages[0].text
    assert len(doc.pages) == 6                  # summary, two villages, 不在户籍名单, 姓名不一致, 重复行: one page each
    villages = [page for page in doc.pages if "未参保人员" in page.text]
    assert len(villages) == 2 and all("说明" in page.text for page in villages)   # every column on the page


@pytest.mark.parametrize("target", ["employee", "deaths", "form", "east"])
def test_an_output_named_as_one_of_the_inputs_is_refused_not_written_over_it(tmp_path, target):
    """`-o 职工医保参保名单.xlsx` (or a ledger, the 附件4 form): the list was read, then replaced by
    the result. It is refused, nothing written."""
    f = files(tmp_path)
    before = {p: digest(p) for p in f.values()}
    proc = run_all(f, "--policy", "shili-2026", "-o", str(f[target]), check_rc=2)
    assert proc.stderr.count("\n") == 1 and "结果文件不能是" in proc.stderr and f[target].name in proc.stderr
    assert {p: digest(p) for p in f.values()} == before
    assert not [p for p in tmp_path.iterdir() if "备份" in p.name or "未参保原因" in p.name]


def test_a_register_without_a_header_is_refused_without_printing_its_ids(tmp_path):
    """The message quotes the first row to show what the file holds: not the ID numbers or phones in it."""
    f = files(tmp_path)
    bare = tmp_path / "户籍.csv"
    bare.write_text(f"张一,{I['paid']},东山村,13912345678\n李五,{I['soldier']},东山村,\n", encoding="utf-8")
    proc = run_yibao("uninsured", str(bare), str(f["east"]), check_rc=2)
    assert proc.stderr.count("\n") == 1 and "找不到表头" in proc.stderr and "“张一”" in proc.stderr
    assert I["paid"] not in proc.stderr and "13912345678" not in proc.stderr and "4309" not in proc.stderr
