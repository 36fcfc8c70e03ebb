"""Real-world files around a run: lock files, backups, concurrency, full
disks, links, permissions, BOMs, many files at once, and argparse errors in
Chinese (issue 16, items 2, 7, 11)."""
from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from conftest import run_yibao
from test_actions_ledger import A, B, ledger
from yibao import atomic
from yibao.macros import book as books
from yibao.macros import refresh


ROW = [1, "F1", "张三", "户主", "男", A, "电话", 380, None, None, "", None, None]


def small_ledger(path):
    return ledger(path, [ROW, [2, "F1", "李四", "配偶", "女", B, "电话", 380, None, None, "", None, None]])


def computed(path):
    ws = openpyxl.load_workbook(path)["台账"]
    return [ws.cell(r, 14).value for r in range(4, 6)]


# ---------------------------------------------------------------- lock files

def test_wildcard_run_skips_office_lock_files_with_one_notice(tmp_path):
    folder = tmp_path / "台账"
    folder.mkdir()
    small_ledger(folder / "东山村.xlsx")
    (folder / "~$东山村.xlsx").write_bytes(b"\x0bYibaoUser" + b"\0" * 150)   # Excel's owner file
    (folder / ".~lock.东山村.xlsx#").write_text(",张三,PC,01.12.2026 09:00,file:///tmp;\n")
    paths = sorted(str(p) for p in folder.iterdir())
    proc = run_yibao("validate", "--no-mark", *paths, check_rc=None)
    assert "ZipError" not in proc.stderr and "损坏" not in proc.stderr
    assert proc.stderr.count("已跳过锁定文件") == 2
    # the ledger itself is open: validate writes its report into it, so it says so
    assert proc.returncode == 2 and "正被Excel或WPS打开" in proc.stderr


def test_libreoffice_lock_file_refuses_the_write_untouched(tmp_path):
    path = small_ledger(tmp_path / "东山村.xlsx")
    before = path.read_bytes()
    (tmp_path / ".~lock.东山村.xlsx#").write_text(",张三,PC,01.12.2026 09:00,file:///tmp;\n")
    proc = run_yibao("refresh", str(path), check_rc=2)
    assert "正被LibreOffice打开" in proc.stderr
    assert path.read_bytes() == before


# ---------------------------------------------------------------- backups

def test_backups_within_one_second_keep_distinct_names(tmp_path):
    path = tmp_path / "东山村.xlsx"
    path.write_bytes(b"first")
    one = atomic.backup_copy(path)
    path.write_bytes(b"second")
    two = atomic.backup_copy(path)
    assert one != two and one.read_bytes() == b"first" and two.read_bytes() == b"second"
    assert atomic.is_backup(one) and atomic.is_backup(two)


def test_refresh_then_validate_keeps_the_pre_refresh_backup(tmp_path):
    path = small_ledger(tmp_path / "东山村.xlsx")
    original = path.read_bytes()
    run_yibao("refresh", str(path))
    run_yibao("validate", str(path), check_rc=None)
    backups = [p.read_bytes() for p in tmp_path.glob("*.备份-*")]
    assert original in backups, "the backup taken before refresh was overwritten"


def test_disk_full_leaves_no_truncated_backup_and_the_ledger_untouched(tmp_path, monkeypatch):
    path = tmp_path / "东山村.xlsx"
    path.write_bytes(b"ledger" * 1000)

    def full(src, dst, **kw):
        with open(dst, "wb") as out:
            out.write(b"led")            # half written, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))
    monkeypatch.setattr(shutil, "copy2", full)
    tmp = tmp_path / ".~yibao-new.xlsx"
    tmp.write_bytes(b"new")
    with pytest.raises(atomic.WriteRefused, match="磁盘空间不足"):
        atomic.commit(tmp, path, backup=True)
    assert path.read_bytes() == b"ledger" * 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, tmp.name])


def test_disk_full_is_a_chinese_line(tmp_path, monkeypatch):
    def full(*a, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(atomic.WriteRefused, match="磁盘空间不足"):
        atomic.write_atomic(tmp_path / "a.toml", "x = 1\n")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- concurrency

def test_a_second_command_on_a_locked_file_is_refused(tmp_path):
    path = small_ledger(tmp_path / "东山村.xlsx")
    before = path.read_bytes()
    lock = tmp_path / ".~yibao-lock.东山村.xlsx#"
    import socket
    lock.write_text(f"{socket.gethostname()} {os.getpid()}\n")     # this test process: alive
    proc = run_yibao("refresh", str(path), check_rc=2)
    assert "正被另一个yibao命令处理" in proc.stderr
    assert path.read_bytes() == before


def test_a_stale_lock_of_a_crashed_run_is_taken_over(tmp_path):
    path = small_ledger(tmp_path / "东山村.xlsx")
    import socket
    import subprocess
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".~yibao-lock.东山村.xlsx#").write_text(f"{socket.gethostname()} {dead.pid}\n")
    run_yibao("refresh", str(path))
    assert computed(path) == [380, 380] or all(v not in (None, "") for v in computed(path))
    assert not (tmp_path / ".~yibao-lock.东山村.xlsx#").exists()


def test_a_file_saved_by_someone_else_meanwhile_is_not_overwritten(tmp_path):
    path = small_ledger(tmp_path / "东山村.xlsx")
    book = books.FileBook(path, for_update=True)
    book.grids()
    other = small_ledger(tmp_path / "other.xlsx").read_bytes()
    os.utime(path, ns=(1, 1))                    # "Excel saved it" after we read
    path.write_bytes(other + b"")
    changed = path.read_bytes()
    try:
        with pytest.raises(atomic.WriteRefused, match="被其他程序改动过"):
            refresh.run(book, policy="xinqiao-2021")
        assert path.read_bytes() == changed
    finally:
        atomic.release(path)


# ---------------------------------------------------------------- links and permissions

@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_refresh_through_a_symlink_updates_the_real_file(tmp_path):
    real = small_ledger(tmp_path / "real.xlsx")
    link = tmp_path / "东山村.xlsx"
    link.symlink_to(real)
    run_yibao("refresh", str(link))
    assert link.is_symlink()
    assert all(v not in (None, "") for v in computed(real))


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_new_files_get_the_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        target = books.write_new_workbook(tmp_path / "汇总.xlsx", [books.OutSheet("汇总", [["a"]])])
        tmp = tmp_path / ".~yibao-x.pdf"
        tmp.write_bytes(b"%PDF")
        os.chmod(tmp, 0o600)                     # what mkstemp gives
        atomic.commit(tmp, tmp_path / "汇总.pdf")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "汇总.pdf").stat().st_mode) == 0o644


# ---------------------------------------------------------------- plan BOM, argparse

def test_a_plan_saved_with_a_utf8_bom_loads(tmp_path, user_home):
    from yibao.functions import plan as plans
    source = plans.find_plan_file("shili-2026").read_text(encoding="utf-8")
    path = tmp_path / "记事本.toml"
    path.write_bytes("\ufeff".encode("utf-8") + source.encode("utf-8"))
    proc = run_yibao("policy", "check", str(path))
    assert "检查通过" in proc.stdout


@pytest.mark.parametrize("args, expect", [
    (["synth", "--persons", "abc"], "应为整数"),
    (["calc"], "缺少参数"),
    (["policy", "show", "shili-2026", "extra"], "不认识的参数"),
])
def test_argparse_errors_reach_staff_in_chinese(args, expect):
    proc = run_yibao(*args, check_rc=2)
    assert expect in proc.stderr
    for english in ("invalid int value", "the following arguments are required", "unrecognized arguments"):
        assert english not in proc.stderr


# ---------------------------------------------------------------- refresh, many files

def test_refresh_takes_many_files_and_a_bad_one_does_not_stop_the_rest(tmp_path):
    folder = tmp_path / "台账"
    folder.mkdir()
    one = small_ledger(folder / "东山村.xlsx")
    two = small_ledger(folder / "西山村.xlsx")
    (folder / "坏文件.xlsx").write_bytes(b"not a zip at all")
    atomic.backup_copy(one)
    proc = run_yibao("refresh", *sorted(str(p) for p in folder.iterdir()), check_rc=2)
    lines = proc.stdout.splitlines()
    assert any(l.startswith("东山村.xlsx：已刷新2行") for l in lines)
    assert any(l.startswith("西山村.xlsx：已刷新2行") for l in lines)
    assert lines[-1] == "共3个文件：2个已刷新，1个出错（见上方错误）"
    assert "坏文件.xlsx" in proc.stderr and "Traceback" not in proc.stderr
    assert "已跳过备份文件" in proc.stderr
    for path in (one, two):
        assert all(v not in (None, "") for v in computed(path))


# ---------------------------------------------------------------- file kinds by content

PEOPLE = [["序号", "姓名", "身份证号", "身份类别"], ["1", "张三", A, "低保户"], ["2", "李四", B, "特困人员"]]


def _grid(path):
    grids = books.read_grid_any(path)
    assert len(grids) == 1
    return [[str(c) for c in row] for row in next(iter(grids.values())) if any(row)]


@pytest.mark.parametrize("name, encoding", [("民政.csv", "utf-8"), ("民政.xls", "utf-8"), ("民政.xls", "utf-16"),
                                            ("民政.csv", "gb18030")])
def test_tab_separated_text_under_any_name_is_read(tmp_path, name, encoding):
    path = tmp_path / name
    path.write_bytes("\r\n".join("\t".join(r) for r in PEOPLE).encode(encoding))
    assert _grid(path) == PEOPLE


def test_gbk_csv_with_bom_and_excel_text_wrappers_keeps_id_digits(tmp_path):
    path = tmp_path / "残联.csv"
    lines = ["序号,姓名,身份证号,身份类别"] + [f'{r[0]},{r[1]},="{r[2]}",{r[3]}' for r in PEOPLE[1:]]
    path.write_bytes("\r\n".join(lines).encode("gbk"))
    assert _grid(path) == PEOPLE
    bom = tmp_path / "残联8.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8"))
    assert _grid(bom) == PEOPLE


def test_html_table_saved_as_xls_is_read_as_text(tmp_path):
    rows = "".join("<tr>" + "".join(f"<td style='mso-number-format:\"\\@\"'>{c}</td>" for c in r) + "</tr>"
                   for r in PEOPLE[1:])
    page = ("<html xmlns:x=\"urn:schemas-microsoft-com:office:excel\"><head><meta charset=\"gbk\">"
            "<style>td{}</style></head><body><table border=1><tr><th>序号</th><th>姓名</th>"
            f"<th>身份证号</th><th>身份类别</th></tr>{rows}</table></body></html>")
    path = tmp_path / "系统导出.xls"
    path.write_bytes(page.encode("gbk"))
    assert _grid(path) == PEOPLE


def test_html_export_through_the_cli_is_not_called_broken(tmp_path):
    rows = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in PEOPLE)
    path = tmp_path / "低保名单.xls"
    path.write_text(f"<table>{rows}</table>", encoding="utf-8")
    proc = run_yibao("dedupe", str(path), "-o", str(tmp_path / "合并.xlsx"), check_rc=None)
    assert "损坏" not in proc.stderr and "Traceback" not in proc.stderr


def test_a_password_protected_xlsx_is_called_so(tmp_path):
    msoffcrypto = pytest.importorskip("msoffcrypto")
    import io
    plain = small_ledger(tmp_path / "plain.xlsx")
    out = io.BytesIO()
    with open(plain, "rb") as handle:
        office = msoffcrypto.OfficeFile(handle)
        office.encrypt("1234", out)
    path = tmp_path / "东山村.xlsx"
    path.write_bytes(out.getvalue())
    proc = run_yibao("validate", str(path), check_rc=2)
    assert "设置了打开密码" in proc.stderr and "损坏" not in proc.stderr


def test_xlsm_runs_without_a_traceback(tmp_path):
    path = tmp_path / "东山村.xlsm"
    wb = openpyxl.load_workbook(small_ledger(tmp_path / "a.xlsx"))
    wb.save(path)
    proc = run_yibao("refresh", str(path))
    assert "Traceback" not in proc.stderr and "已刷新2行" in proc.stdout
    assert all(v not in (None, "") for v in computed(path))


# ---------------------------------------------------------------- hostile files, bounded memory

LIMITED = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))
from yibao.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run_limited(*args):
    """The real command in a process that cannot take more than 1.5 GB."""
    import subprocess
    return subprocess.run([sys.executable, "-c", LIMITED, *args], capture_output=True, text=True,
                          encoding="utf-8", timeout=300)


def _rewrite_sheet(path, change):
    import zipfile
    src = path.read_bytes()
    out = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = change(data)
            zout.writestr(info.filename, data)
    out.replace(path)
    return src


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_AS")
@pytest.mark.parametrize("cell", ["XFD1048576", "CV1048576"])
def test_a_stray_far_cell_is_refused_in_bounded_memory(tmp_path, cell):
    path = small_ledger(tmp_path / "东山村.xlsx")
    row = cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    stray = f'<row r="{row}"><c r="{cell}" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'.encode()
    _rewrite_sheet(path, lambda xml: xml.replace(b"</sheetData>", stray))
    assert path.stat().st_size < 20_000
    before = path.read_bytes()
    proc = run_limited("validate", str(path))
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-500:])
    assert f"范围到了{cell}" in proc.stderr and "Ctrl+End" in proc.stderr
    assert path.read_bytes() == before


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_AS")
def test_a_zip_bomb_is_refused_in_bounded_memory(tmp_path):
    import zlib
    path = small_ledger(tmp_path / "东山村.xlsx")
    row = b"<row>" + b"<c><v>1</v></c>" * 100 + b"</row>"       # no r: nothing to measure but size

    def bomb(xml):
        head, _, rest = xml.partition(b"</sheetData>")
        return head + row * 250_000 + b"</sheetData>" + rest     # 400 MB inflated, about 1 MB on disk
    _rewrite_sheet(path, bomb)
    assert path.stat().st_size < 3_000_000
    proc = run_limited("validate", str(path))
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-500:])
    assert "超出可安全读取的范围" in proc.stderr


# ---------------------------------------------------------------- one workbook interface

def test_every_backend_implements_the_one_workbook_interface():
    import inspect
    from yibao.macros._excel import ExcelBook
    from test_actions_town import MemoryBook
    for backend in (books.FileBook, ExcelBook, MemoryBook):
        assert issubclass(backend, books.Book) and not inspect.isabstract(backend), backend
    assert {"grids", "replace_sheet", "mark", "clear_marks", "fill_computed", "save"} <= books.Book.__abstractmethods__

    class Partial(books.Book):          # a backend missing a method fails at once, not mid-action
        def grids(self):
            return {}
    with pytest.raises(TypeError):
        Partial()


@pytest.mark.parametrize("stray", [b'<row r="1048576"><c r="XFD1048576" s="1"/></row>',
                                   b'<row r="1048576" ht="20" customHeight="1"/>',
                                   b'<row r="1048576"><c r="XFD1048576" s="1"></c></row>'])
def test_far_formatting_without_a_value_is_not_refused(tmp_path, stray):
    """Empty formatted cells and rows span nothing calamine allocates: such a
    ledger (Excel writes them for a formatted far row) is read as usual."""
    path = small_ledger(tmp_path / "东山村.xlsx")
    _rewrite_sheet(path, lambda xml: xml.replace(b"</sheetData>", stray + b"</sheetData>"))
    grid = books.read_grid_any(path)["台账"]
    assert grid[3][5] == A and len(grid) < 100


def test_xml_spreadsheet_2003_saved_as_xls_is_read_as_text(tmp_path):
    def row(values, index=""):
        cells = "".join(f'<Cell><Data ss:Type="String">{v}</Data></Cell>' for v in values)
        return f"<Row{index}>{cells}</Row>"
    body = row(PEOPLE[0]) + row(PEOPLE[1]) + row(PEOPLE[2], ' ss:Index="4"')
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<?mso-application progid="Excel.Sheet"?>\n'
           '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
           'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet">'
           f'<Worksheet ss:Name="低保"><Table>{body}</Table></Worksheet></Workbook>')
    path = tmp_path / "民政导出.xls"
    path.write_text(xml, encoding="utf-8")
    grid = books.read_grid_any(path)["低保"]
    assert grid[0] == PEOPLE[0] and grid[1] == PEOPLE[1] and grid[3] == PEOPLE[2] and not any(grid[2])


def test_html_rowspan_keeps_every_later_cell_in_its_column(tmp_path):
    """A web export merging one household's 家庭编号 down its rows: the
    second person's ID stays under 身份证号, not under 姓名."""
    page = ("<table><tr><th>家庭编号</th><th>姓名</th><th>身份证号</th></tr>"
            f"<tr><td rowspan=2>F001</td><td>张三</td><td>{A}</td></tr>"
            f"<tr><td>李四</td><td>{B}</td></tr>"
            f"<tr><td>F002</td><td>王五</td><td>{A}</td></tr></table>")
    path = tmp_path / "导出.xls"
    path.write_text(page, encoding="utf-8")
    assert _grid(path) == [["家庭编号", "姓名", "身份证号"], ["F001", "张三", A], ["", "李四", B], ["F002", "王五", A]]


def test_a_result_sheet_is_not_written_over_a_file_changed_since_it_was_read(tmp_path):
    """validate --no-mark, quota, notice write their own sheet into the file
    they read: if another program (or a refresh) saved it meanwhile, the
    write is refused rather than undoing that save."""
    path = small_ledger(tmp_path / "东山村.xlsx")
    book = books.FileBook(path)
    book.grids()
    os.utime(path, ns=(1, 1))
    book.replace_sheet(books.OutSheet("校验报告", [["a"]]))
    with pytest.raises(atomic.WriteRefused):
        book.save()
    assert "校验报告" not in openpyxl.load_workbook(path).sheetnames


def test_two_commands_at_once_never_both_succeed_with_one_result_lost(tmp_path):
    """refresh and validate started together on one ledger, five times: each
    either reports success and its result is in the file, or is refused."""
    import subprocess
    for attempt in range(5):
        path = small_ledger(tmp_path / f"东山村{attempt}.xlsx")
        procs = [subprocess.Popen([sys.executable, "-m", "yibao", *cmd, str(path)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, encoding="utf-8")
                 for cmd in (["refresh"], ["validate"])]
        (r_out, r_err), (v_out, v_err) = (p.communicate(timeout=300) for p in procs)
        refreshed, validated = procs[0].returncode == 0, procs[1].returncode in (0, 1)
        assert refreshed or "正被另一个yibao命令处理" in r_err, r_err
        assert validated or "正被另一个yibao命令处理" in v_err, v_err
        wb = openpyxl.load_workbook(path)
        if refreshed:
            assert all(v not in (None, "") for v in computed(path)), "refresh said done, its values are gone"
        if validated:
            assert "校验报告" in wb.sheetnames, "validate said done, its report is gone"


@pytest.mark.parametrize("name", ["东山村.xls", "东山村.csv"])
def test_a_workbook_under_another_kinds_name_is_read_by_its_content(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(small_ledger(tmp_path / "real.xlsx").read_bytes())
    assert books.read_grid_any(path)["台账"][3][5] == A


def test_dedupe_and_summary_skip_office_lock_files_swept_in_by_a_wildcard(tmp_path):
    """Reviewer's case: ~$民政.xlsx beside the lists, ~$东山村.xlsx first in a summary glob."""
    import shutil
    from pathlib import Path
    root = Path(__file__).resolve().parents[1] / "examples" / "示例镇"
    lists = tmp_path / "部门名单"
    shutil.copytree(root / "部门名单", lists)
    (lists / "~$民政.xlsx").write_bytes(b"\x05Admin" + b"\x00" * 150)
    (lists / ".~lock.残联.xlsx#").write_text("Admin,host,user,01.12.2026 10:00,;", encoding="utf-8")
    paths = sorted(str(p) for p in lists.iterdir())
    proc = subprocess.run([sys.executable, "-m", "yibao", "dedupe", *paths, "--policy", "shili-2026",
                           "-o", str(tmp_path / "合并.xlsx")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "已跳过锁定文件" in proc.stderr and "确定资助" in proc.stdout
    ledgers = tmp_path / "台账"
    shutil.copytree(root / "台账", ledgers)
    (ledgers / "~$东山村.xlsx").write_bytes(b"\x05Admin" + b"\x00" * 150)
    files = [str(ledgers / "~$东山村.xlsx")] + sorted(str(p) for p in ledgers.glob("[!~]*.xlsx"))
    proc = subprocess.run([sys.executable, "-m", "yibao", "summary", *files, "--policy", "shili-2026",
                           "--no-pdf", "-o", str(tmp_path / "汇总.xlsx")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "已跳过锁定文件" in proc.stderr and "4个村（社区）" in proc.stdout


def test_a_second_refresh_with_nothing_to_change_leaves_the_file_and_says_so(tmp_path):
    """Reviewer's case: a second refresh printed "已刷新4行、16个计算单元格" and wrote a backup
    though every part was byte for byte the same (issue 16 item 5: never claim a change)."""
    import shutil
    from pathlib import Path
    src = Path(__file__).resolve().parents[1] / "examples" / "示例镇" / "台账" / "东山村.xlsx"
    target = tmp_path / "东山村.xlsx"
    shutil.copyfile(src, target)
    first = run_yibao("refresh", str(target))
    assert "个计算单元格" in first.stdout
    before = target.read_bytes()
    backups = set(tmp_path.iterdir())
    second = run_yibao("refresh", str(target))
    assert "计算结果均无变化，文件未改动" in second.stdout, second.stdout
    assert target.read_bytes() == before
    assert set(tmp_path.iterdir()) == backups       # no new backup either


def test_a_damaged_file_is_named_so_without_python_error_names(tmp_path):
    """Reviewer's case: staff saw （BadZipFile）/（CalamineError） in the message."""
    bad = tmp_path / "东山村.xlsx"
    bad.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    proc = run_yibao("validate", str(bad), check_rc=2)
    assert "损坏" in proc.stderr and "另存为" in proc.stderr, proc.stderr
    assert not any(word in proc.stderr for word in ("Error", "Zip", "Calamine", "Traceback")), proc.stderr
