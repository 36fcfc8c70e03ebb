"""Every printed output, rendered by LibreOffice and read back from the PDF (issue 11, 打印).

What staff stamp and post must be readable on A4: body text at least 9 pt, nothing outside the
page, the column headers on every page, no trailing page without content, chart value axes from 0.
The demo season (``yibao demo``) gives the town's outputs; ``yibao template new`` the blank forms.
One LibreOffice run renders them all (tests/pdfcheck.py).
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

import pdfcheck
from conftest import make_id

pytestmark = pytest.mark.skipif(not pdfcheck.available(), reason="LibreOffice (soffice) not installed")

MIN_PT = 9.0

TEMPLATES = ("ledger", "new-enrollee", "elsewhere", "register", "tasks", "subsidy-list", "schedule")


def _yibao(*args, cwd):
    return subprocess.run([sys.executable, "-m", "yibao", *args], cwd=cwd, capture_output=True,
                          text=True, encoding="utf-8", timeout=600)


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """{name: Printout} of every output; names as in the demo folder, templates as 模板/<id>."""
    root = tmp_path_factory.mktemp("print")
    r = _yibao("demo", "示例镇-演示", cwd=root)
    assert r.returncode == 0, r.stderr
    demo = root / "示例镇-演示"
    files = {
        "资助名单比对结果": demo / "资助名单比对结果.xlsx",
        "台账/东山村": demo / "台账" / "东山村.xlsx",
        "任务分配表": demo / "任务分配表.xlsx",
        "汇总上报": demo / "汇总上报.xlsx",
        "公示名单/东山村": demo / "公示名单" / "东山村.xlsx",
    }
    for form in TEMPLATES:
        out = root / "模板" / f"{form}.xlsx"
        out.parent.mkdir(exist_ok=True)
        r = _yibao("template", "new", form, "--policy", "shili-2026", "--town", "示例镇", "--village", "东山村",
                   "-o", str(out), cwd=root)
        assert r.returncode == 0, r.stderr
        files[f"模板/{form}"] = out
    # 核对三 with a long list: the merged roster and 70 more fictional persons on no ledger
    long_roster = root / "长名单" / "资助名单比对结果.xlsx"
    long_roster.parent.mkdir()
    wb = openpyxl.load_workbook(demo / "资助名单比对结果.xlsx")
    ws = wb["资助名单汇总"]
    for k in range(70):
        ws.append([ws.max_row - 1, "东山村", f"名单外{k}", make_id(f"1960{k % 12 + 1:02d}15", 101 + 2 * k, "430999"),
                   "低保对象", 200, "医疗救助", 200, "低保对象（民政）", "唯一资助身份"])
    wb.save(long_roster)
    long_out = long_roster.parent / "汇总上报.xlsx"
    r = _yibao("summary", *[str(demo / "台账" / f"{v}.xlsx") for v in ("东山村", "西河村", "南岭村", "北坡社区")],
               "--roster", str(long_roster), "--lists", str(demo / "原始数据" / "部门名单"), "--town", "示例镇",
               "-o", str(long_out), cwd=root)
    assert r.returncode == 0, r.stderr
    files["长核对/汇总上报"] = long_out
    pdfs = pdfcheck.render(files.values(), root / "pdf")
    docs = {name: pdfcheck.read(pdfs[path]) for name, path in files.items()}
    docs["汇总上报.pdf"] = pdfcheck.read(demo / "汇总上报.pdf")
    docs["长核对/汇总上报.pdf"] = pdfcheck.read(long_out.with_suffix(".pdf"))
    docs["_files"] = files
    return docs


def _check(doc, headers=()):
    problems = pdfcheck.problems(doc, min_font=MIN_PT, headers=headers)
    assert not problems, f"{doc.path.name} ({doc.count} pages, smallest {doc.smallest_font()} pt):\n" + "\n".join(problems)


# ---------------------------------------------------------------- blank forms

@pytest.mark.parametrize("form", TEMPLATES)
def test_blank_form_prints_readable_on_a4(printed, form):
    doc = printed[f"模板/{form}"]
    _check(doc)


@pytest.mark.parametrize("form,header", [("ledger", "身份证号"), ("new-enrollee", "身份证号"),
                                         ("elsewhere", "身份证号"), ("subsidy-list", "身份证号")])
def test_blank_form_repeats_its_header_on_every_page(printed, form, header):
    doc = printed[f"模板/{form}"]
    assert doc.count > 1
    assert not doc.missing_on_pages(header)


@pytest.mark.parametrize("form", ["ledger", "new-enrollee", "elsewhere", "subsidy-list"])
def test_signature_block_shares_the_last_page_with_rows(printed, form):
    """The block under the rows (填表人、填表说明) is on the last page, below numbered rows, not alone."""
    doc = printed[f"模板/{form}"]
    last = doc.pages[-1]
    assert "填" in last.text
    seq = [int(w.text) for w in last.words if re.fullmatch(r"\d{1,4}", w.text)]
    assert seq, f"{form}: the last page has no rows, only the signature block"


def test_task_form_does_not_print_last_years_targets_as_this_years(printed):
    """004 附件1: this year's column is blank until the net increase is typed, so what prints under the
    town's total (988 from the county) is not last year's figures summing to something else."""
    doc = printed["任务分配表"]
    first = doc.pages[0]
    assert "988" in first.text
    numbers = [w.text for w in first.words if re.fullmatch(r"\d+", w.text)]
    # each village's last-year target appears once (its own column), not again as this year's
    assert numbers.count("264") == 1, numbers


# ---------------------------------------------------------------- the demo season's outputs

def test_ledger_printout(printed):
    doc = printed["台账/东山村"]
    ledger_pages = [p for p in doc.pages if "城乡居民医保参保缴费台账" in p.text]
    assert ledger_pages and all("身份证号" in p.text for p in ledger_pages)
    _check(doc)


def test_merged_list_printout(printed):
    doc = printed["资助名单比对结果"]
    _check(doc)


def test_task_workbook_printout(printed):
    doc = printed["任务分配表"]
    _check(doc)


def test_notice_printout(printed):
    doc = printed["公示名单/东山村"]
    _check(doc)


def test_summary_workbook_printout(printed):
    doc = printed["汇总上报"]
    _check(doc)


def test_summary_pdf_printout(printed):
    """The PDF the summary command writes itself (the demo passes --roster): three copies, each the
    summary page, its 附表 of subsidies by category and the 附表 of the persons 核对三 found,
    labelled 第k份／共3份 in the top right corner of every page; the stamped page carries 核对三's
    totals only, never the persons' names."""
    doc = printed["汇总上报.pdf"]
    _check(doc)
    assert doc.count == 9
    for k, page in enumerate(doc.pages):
        label = [w for w in page.words if w.text.startswith(f"第{k // 3 + 1}份")]
        assert label, f"page {k + 1}: no 第{k // 3 + 1}份 label"
        assert label[0].x0 > page.width / 2 and label[0].top < page.height / 4
    for first in (0, 3, 6):
        stamped, by_category, persons = doc.pages[first:first + 3]
        assert "核对一" in stamped.text and "核对三" in stamped.text and "逐人列于附表" in stamped.text
        assert "资助类别明细" in by_category.text
        assert "资助名单核对明细" in persons.text and "林军明" in persons.text
        assert "林军明" not in stamped.text


def _roster_check(path):
    """(differences of the 资助名单核对 sheet, its 合计 row's 差额), both in fen."""
    ws = openpyxl.load_workbook(path)["汇总上报-资助名单核对"]
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    total = next(r for r in rows if r[1] == "合计")
    persons = [r for r in rows if isinstance(r[0], int)]
    return [round(r[5] * 100) for r in persons], round(total[5] * 100)


def test_summary_with_a_long_roster_check_keeps_the_stamped_page_to_one_sheet_of_paper(printed):
    """核对三 naming 76 persons: the stamped page of each copy is still one page with the totals
    line, the persons are on their 附表 over several pages, its header on every one of them, and
    their differences add up to the 合计 row, to the fen."""
    doc = printed["长核对/汇总上报.pdf"]
    _check(doc)
    stamped = [p for p in doc.pages if "核对一" in p.text]
    assert len(stamped) == 3
    for page in stamped:
        line = re.search(r"核对三：资助名单合计([\d,.]+)元（(\d+)人）＝本表资助合计([\d,.]+)元([＋－])差额([\d,.]+)元"
                         r"（涉及(\d+)人", page.text)
        assert line, page.text
        listed, mine, diff = (Decimal(line.group(i).replace(",", "")) for i in (1, 3, 5))
        assert listed == mine + (diff if line.group(4) == "＋" else -diff)
        assert "名单外1" not in page.text
    check_pages = [p for p in doc.pages if "资助名单核对明细" in p.text or "名单外" in p.text]
    assert len(check_pages) >= 6
    for page in check_pages:
        assert "原因" in page.text and "差额" in page.text, f"page {page.number}: no header"
    # every page of a copy, continuation pages of the long 附表 too, carries its copy's label top right
    copy = 0
    for page in doc.pages:
        copy += "核对一" in page.text          # each copy starts with its stamped page
        label = [w for w in page.words if w.text.startswith(f"第{copy}份／共3份")]
        assert label and label[0].x0 > page.width / 2 and label[0].top < page.height / 8, \
            f"page {page.number}: no 第{copy}份／共3份 label at the top right"
    # each person's place (村 第N行) stays on its row's line: nothing wraps onto a line of its own
    for page in check_pages:
        rows = [w for w in page.words if re.fullmatch(r"第\d+行.*", w.text)]
        for w in rows:
            assert any(abs(o.top - w.top) < 3 and "名单" not in o.text and o.x1 <= w.x0 and re.search(r"[\u4e00-\u9fff]", o.text)
                       for o in page.words if o is not w), f"page {page.number}: {w.text} wrapped off its row"
        assert not any(w.text.startswith(("行）", "）")) for w in page.words), f"page {page.number}: a place wraps"
    book = printed["长核对/汇总上报"]
    _check(book)
    diffs, total = _roster_check(printed["_files"]["长核对/汇总上报"])
    assert len(diffs) == int(line.group(6)) >= 76
    assert sum(diffs) == total == round(diff * 100) * (1 if line.group(4) == "＋" else -1)


def test_progress_chart_value_axis_starts_at_zero(printed):
    """A bar of 92% against one of 96% must not look four times as long: the axis starts at 0."""
    path = printed["_files"]["任务分配表"]
    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if re.match(r"xl/charts/[^/]+\.xml$", n)]
        assert charts, "no chart in the task workbook"
        for name in charts:
            xml = z.read(name).decode("utf-8")
            axes = re.findall(r"<(?:c:)?valAx>.*?</(?:c:)?valAx>", xml, re.S)
            assert axes, f"{name}: no value axis"
            for ax in axes:
                assert re.search(r'<(?:c:)?min val="0(\.0)?"\s*/>', ax), f"{name}: value axis not from 0"
