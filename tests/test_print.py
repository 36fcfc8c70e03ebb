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
from pathlib import Path

import pytest

import pdfcheck

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
    pdfs = pdfcheck.render(files.values(), root / "pdf")
    docs = {name: pdfcheck.read(pdfs[path]) for name, path in files.items()}
    docs["汇总上报.pdf"] = pdfcheck.read(demo / "汇总上报.pdf")
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
    """The PDF the summary command writes itself: three copies, each the summary page and its
    附表 (subsidies by category), labelled 第k份／共3份 in the top right corner of both."""
    doc = printed["汇总上报.pdf"]
    _check(doc)
    assert doc.count == 6
    for k, page in enumerate(doc.pages):
        label = [w for w in page.words if w.text.startswith(f"第{k // 2 + 1}份")]
        assert label, f"page {k + 1}: no 第{k // 2 + 1}份 label"
        assert label[0].x0 > page.width / 2 and label[0].top < page.height / 4
    assert "资助类别明细" in doc.pages[1].text and "核对一" in doc.pages[0].text


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
