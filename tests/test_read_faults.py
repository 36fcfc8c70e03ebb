"""Sheets the reader cannot take as they are (issue 16, items 2 and 12):
never an empty sheet in silence, never an internal error.

- item 12 (b): LibreOffice's row-only ``<dimension ref="1:4"/>`` made calamine
  read the whole sheet as empty (a village dropped from the summary, exit 0);
  a worksheet that still cannot be read is an error naming it.
- item 12: Strict Open XML is refused in Chinese, untouched, by every action.
- item 2: a list whose cells are formulas saved without results (written by a
  script) says to open and save it in Excel/WPS first.

Fictional people, region 430999.
"""
from __future__ import annotations

import shutil
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from conftest import make_id, run_yibao
from yibao.macros.book import BookError, read_grid_any

sys.path.insert(0, str(Path(__file__).parent / "corpus"))
import make_corpus as mc  # noqa: E402

IDS = [make_id("19800101", 11, "430999"), make_id("19900202", 22, "430999"),
       make_id("20000303", 33, "430999"), make_id("19700404", 44, "430999")]


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _write(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def _list_file(path: Path, chart: bool = False) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "名单"
    ws.append(["序号", "姓名", "身份证号"])
    for i, idno in enumerate(IDS, 1):
        ws.append([i, f"测试{i}", idno])
    if chart:
        from openpyxl.chart import BarChart, Reference
        cs = wb.create_chartsheet("图表")
        bar = BarChart()
        bar.add_data(Reference(ws, min_col=1, min_row=2, max_row=5))
        cs.add_chart(bar)
    wb.save(path)
    return path


def _with_dimension(path: Path, ref: str) -> Path:
    parts = _members(path)
    sheet = parts["xl/worksheets/sheet1.xml"]
    start = sheet.index(b"<dimension ")
    end = sheet.index(b"/>", start) + 2
    parts["xl/worksheets/sheet1.xml"] = sheet[:start] + f'<dimension ref="{ref}"/>'.encode() + sheet[end:]
    return _write(path, parts)


# ------------------------------------------------------------ item 12 (b)
@pytest.mark.parametrize("ref", ["1:5", "A:C", ""])
def test_a_sheet_with_a_dimension_calamine_cannot_use_is_read_whole(tmp_path, ref):
    """LibreOffice's ``<dimension ref="1:5"/>`` (rows only; columns only and
    empty alike): every person is read, as from the same file without it."""
    plain = _list_file(tmp_path / "plain.xlsx")
    want = read_grid_any(plain)["名单"]
    odd = _with_dimension(_list_file(tmp_path / "lo.xlsx"), ref)
    assert f'<dimension ref="{ref}"/>'.encode() in _members(odd)["xl/worksheets/sheet1.xml"]
    got = read_grid_any(odd)["名单"]
    assert got == want
    assert [row[2] for row in got[1:]] == IDS


def test_a_worksheet_that_cannot_be_read_is_an_error_naming_it(tmp_path):
    """A worksheet calamine cannot parse (here an unclosed cell) is a Chinese
    error naming the file and the sheet, never an empty sheet."""
    path = _list_file(tmp_path / "坏表.xlsx")
    parts = _members(path)
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
        b"<sheetData>", b'<sheetData><row r="1"><c r="A1"><v>1</v></row>', 1)
    _write(path, parts)
    with pytest.raises(BookError) as err:
        read_grid_any(path)
    assert "坏表.xlsx" in str(err.value) and "“名单”" in str(err.value)


def test_a_chart_sheet_is_an_empty_sheet_not_an_error(tmp_path):
    grids = read_grid_any(_list_file(tmp_path / "图.xlsx", chart=True))
    assert grids["图表"] == []
    assert [row[2] for row in grids["名单"][1:]] == IDS


def test_summary_counts_the_village_saved_by_libreoffice(tmp_path):
    """Through the command line: a ledger with the row-only dimension is
    summed with all its persons (before the fix: 0 persons, exit 0)."""
    ledger = mc.filled(tmp_path, "东山村.xlsx", persons=mc.PERSONS[:2])
    whole = run_yibao("summary", str(ledger), "-o", str(tmp_path / "a.xlsx"), "--no-pdf")
    assert "2人" in whole.stdout, whole.stdout
    _with_dimension(ledger, "1:302")   # the ledger is sheet1
    assert b'<dimension ref="1:302"/>' in _members(ledger)["xl/worksheets/sheet1.xml"]
    again = run_yibao("summary", str(ledger), "-o", str(tmp_path / "b.xlsx"), "--no-pdf")
    assert again.stdout.replace("b.xlsx", "a.xlsx") == whole.stdout


# ------------------------------------------------------------ Strict OOXML
@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    return mc.strict_shape(tmp_path_factory.mktemp("strict"))


def test_strict_open_xml_is_refused_when_read(strict):
    with pytest.raises(BookError, match="严格 Open XML.*另存为普通的.xlsx"):
        read_grid_any(strict)


@pytest.mark.parametrize("action", ["validate", "refresh", "summary", "notice"])
def test_every_action_refuses_strict_open_xml_untouched(strict, tmp_path, action):
    """validate wrote a Transitional sheet into the Strict package (exit 0)
    and refresh ended in an internal error (exit 3); now each action says
    what to do, exit 2, and the file stays byte for byte."""
    ledger = Path(shutil.copy(strict, tmp_path / "东山村.xlsx"))
    before = ledger.read_bytes()
    args = [action, str(ledger)] + (["-o", str(tmp_path / "out.xlsx")] if action in ("summary", "notice") else [])
    if action == "summary":
        args.append("--no-pdf")
    proc = run_yibao(*args, check_rc=2)
    assert "“东山村.xlsx”是“严格 Open XML”格式，请用Excel另存为普通的.xlsx后再试" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert ledger.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["东山村.xlsx"]


# ------------------------------------------------------------ item 2: formulas without results
def _formula_list(path: Path, cached: bool = False, bare: bool = False) -> Path:
    """A 资助名单 as a script writes it: 姓名 and 身份证号 are formulas
    (openpyxl saves ``<f>…</f><v />``, no result); ``bare``: no ``<v>`` at
    all; ``cached``: the results saved, as Excel does after opening."""
    wb = Workbook()
    ws = wb.active
    ws.title = "资助名单"
    ws.append(["序号", "姓名", "身份证号", "人员类别"])
    for i, idno in enumerate(IDS, 1):
        ws.append([i, f'=CONCATENATE("测试","{i}")', f'="{idno}"', "特困供养人员"])
    ws.append(["合计", None, None, None])
    wb.save(path)
    parts = _members(path)
    # openpyxl writes an empty result as <v /> itself and as <v></v> through lxml: one form here
    sheet = parts["xl/worksheets/sheet1.xml"].replace(b"<v></v>", b"<v />").replace(b"<v/>", b"<v />")
    if bare:
        sheet = sheet.replace(b"<v />", b"")
    if cached:
        for i, idno in enumerate(IDS, 1):
            for col, value in (("B", f"测试{i}"), ("C", idno)):
                ref = f'<c r="{col}{i + 1}">'.encode()
                start = sheet.index(ref)
                end = sheet.index(b"<v />", start)
                sheet = (sheet[:start] + f'<c r="{col}{i + 1}" t="str">'.encode() + sheet[start + len(ref):end]
                         + f"<v>{value}</v>".encode() + sheet[end + 5:])
    parts["xl/worksheets/sheet1.xml"] = sheet
    return _write(path, parts)


@pytest.mark.parametrize("bare", [False, True], ids=["empty-v", "no-v"])
def test_a_list_of_formulas_without_results_says_to_save_it_in_excel(tmp_path, bare):
    """Before: every row "身份证号为空". Now one line naming the file, the
    sheet and the ID column, saying to open and save it in Excel/WPS."""
    path = _formula_list(tmp_path / "资助名单.xlsx", bare=bare)
    assert (b"<v />" in _members(path)["xl/worksheets/sheet1.xml"]) is not bare     # (normalized above)
    with pytest.raises(BookError) as err:
        read_grid_any(path)
    text = str(err.value)
    assert "“资助名单.xlsx”" in text and "“资助名单”" in text and "“身份证号”列是公式" in text
    assert "请先用Excel或WPS打开该文件并保存" in text


def test_the_same_list_saved_with_its_results_is_read(tmp_path):
    grid = read_grid_any(_formula_list(tmp_path / "资助名单.xlsx", cached=True))["资助名单"]
    assert [row[2] for row in grid[1:5]] == IDS
    assert [row[1] for row in grid[1:5]] == ["测试1", "测试2", "测试3", "测试4"]


def test_a_ledger_with_our_uncached_formula_rows_is_read(tmp_path):
    """Our ledger template has formulas without results in its computed
    columns, hundreds of rows down, under a few persons: read as always."""
    from openpyxl import load_workbook
    ledger = mc.filled(tmp_path, "东山村.xlsx", persons=mc.PERSONS[:2])
    sheet = _members(ledger)["xl/worksheets/sheet1.xml"]
    assert b"<v />" in sheet or b"<v></v>" in sheet       # formulas saved without results (lxml: <v></v>)
    grid = read_grid_any(ledger)[mc.LEDGER]
    ws = load_workbook(ledger)[mc.LEDGER]
    assert len(grid) > 100
    assert [row[5] for row in grid[mc.FIRST_ROW - 1:mc.FIRST_ROW + 1]] == [
        ws[f"F{r}"].value for r in (mc.FIRST_ROW, mc.FIRST_ROW + 1)] == [p["F"] for p in mc.PERSONS[:2]]


def test_summary_of_a_ledger_whose_ids_are_uncached_formulas_refuses(tmp_path):
    """Through the command line, on a ledger whose 身份证号 cells a script
    wrote as formulas: exit 2 with the line, never a summary of 0 persons."""
    from openpyxl import load_workbook
    ledger = mc.filled(tmp_path, "东山村.xlsx", persons=mc.PERSONS[:3])
    wb = load_workbook(ledger)
    ws = wb[mc.LEDGER]
    for i, person in enumerate(mc.PERSONS[:3]):
        ws[f"F{mc.FIRST_ROW + i}"] = f'="{person["F"]}"'
    wb.save(ledger)
    proc = run_yibao("summary", str(ledger), "-o", str(tmp_path / "汇总.xlsx"), "--no-pdf", check_rc=2)
    assert "列是公式" in proc.stdout + proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "汇总.xlsx").exists()


@pytest.mark.parametrize("action", ["validate", "refresh", "summary", "notice"])
@pytest.mark.parametrize("name", ["东山村.xlsx", "名单.csv"])
def test_an_empty_file_is_named_empty_not_a_missing_plan(tmp_path, action, name):
    """A 0-byte file (a copy or download that did not finish) says it is
    empty, in Chinese with exit 2, not "不知道按哪个方案" or "找不到表头"."""
    empty = tmp_path / name
    empty.write_bytes(b"")
    extra = ["-o", str(tmp_path / "out.xlsx")] if action in ("summary", "notice") else []
    proc = run_yibao(action, str(empty), *extra, check_rc=2)
    assert f"“{name}”是空文件" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert empty.read_bytes() == b"" and not (tmp_path / "out.xlsx").exists()
    with pytest.raises(BookError, match="空文件"):
        read_grid_any(empty)
