"""Our in-place actions on spreadsheet files from public test suites (issue 16,
item 12 "Files from the wider world").

``tests/corpus/public/`` holds real files saved by Excel (Windows, Mac,
Online), LibreOffice, Google Sheets, WPS, gnumeric and other writers, taken
from the test suites of calamine, XlsxWriter and SheetJS (its README lists
source, path, commit and licence of each). ``graft.py`` there adds our
ledger sheet (four fictional persons) to each, by text surgery, as a user
inserting the ledger into a workbook they already have.

Then ``yibao validate``, ``yibao refresh`` and ``yibao notice`` (the actions
that write into the user's workbook; notice without ``-o`` puts its 公示名单
sheet there) run through the command line. The outcome must be one of two:

* success (exit 0): every zip member the action had no need to change is
  byte for byte the same; in the parts it did change (workbook, styles,
  shared strings, content types, calculation chain) everything that was there
  is still there; every cell of every sheet reads back identical through
  openpyxl (a 0 stays 0, spaces kept), the computed columns of refresh
  aside; the action did what it said (our note on the wrong 个人缴费, the
  computed values); LibreOffice still opens the file and shows the ledger;
* refusal (exit 2): one Chinese message, no traceback, the file byte for
  byte unchanged.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

PUBLIC = Path(__file__).parent / "corpus" / "public"
sys.path.insert(0, str(PUBLIC))
sys.path.insert(0, str(PUBLIC.parent))
import graft  # noqa: E402
import make_corpus as mc  # noqa: E402

SOFFICE = shutil.which("soffice")
FILES = sorted(p.name for p in PUBLIC.iterdir() if p.suffix in (".xlsx", ".xlsm"))
ACTIONS = ("validate", "refresh", "notice")
OUR_SHEETS = {"校验报告", "_yibao标注", "公示名单"}
COMPUTED = {"P", "Q", "R", "S", "T"}     # 应缴 资助类别 待遇起始 校验 号码核对 in the ledger
WRONG_PAYMENT = "H7"                     # 300 where 400 is due: validate flags it

#: zip members each action may rewrite, besides the ledger's own parts (its
#: sheet, rels, notes) and parts it adds; the rest must stay byte for byte
MAY_CHANGE = {
    "validate": {"workbook", "workbook_rels", "styles", "sharedStrings", "[Content_Types].xml",
                 "docProps/app.xml"},
    "refresh": {"styles", "sharedStrings", "calcChain", "workbook", "workbook_rels",
                "[Content_Types].xml", "docProps/app.xml"},
    # its own sheet (workbook, relationships, content types) and the formats of its table
    "notice": {"workbook", "workbook_rels", "styles", "[Content_Types].xml", "docProps/app.xml"},
}

#: files the actions may only refuse, and why: the patcher cannot write them
#: whole (a success would be a lossy write)
MUST_REFUSE = {
    # zip members named with backslashes (xl\workbook.xml), as some Chinese
    # attendance software writes; calamine reads them, the patcher does not
    "calamine-issue_530.xlsx": "zip members named with backslashes",
}

#: (file, action) → why it fails today; strict: when it passes, the mark goes
XFAIL: dict[tuple[str, str], str] = {}


def _case(name, action):
    reason = XFAIL.get((name, action))
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(name, action, marks=marks, id=f"{Path(name).stem}-{action}")


# --------------------------------------------------------------- running
def _yibao(*args, cwd):
    env = dict(os.environ, YIBAO_HOME=str(Path(cwd) / "_home"))
    return subprocess.run([sys.executable, "-m", "yibao", *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", cwd=cwd, env=env, timeout=300)


class Run:
    def __init__(self, name, action, before: Path, after: Path, proc):
        self.name, self.action, self.before, self.after, self.proc = name, action, before, after, proc
        self.ledger_csv: str | None = None


@pytest.fixture(scope="session")
def grafted(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("public")
    plain = mc.filled(folder, "plain.xlsx")
    out = {}
    for name in FILES:
        target = folder / name
        done = graft.graft(PUBLIC / name, target, plain)
        assert done, name
        out[name] = target
    return out


@pytest.fixture(scope="session")
def runs(grafted, tmp_path_factory) -> dict[tuple[str, str], Run]:
    root = tmp_path_factory.mktemp("public_runs")
    done = {}
    for name, path in grafted.items():
        for action in ACTIONS:
            work = root / f"{Path(name).stem}-{action}"
            work.mkdir()
            ledger = Path(shutil.copy(path, work / f"{mc.VILLAGE}{path.suffix}"))
            before = Path(shutil.copy(path, root / f"{Path(name).stem}-{action}.before{path.suffix}"))
            done[(name, action)] = Run(name, action, before, ledger, _yibao(action, ledger, cwd=work))
    if SOFFICE:
        _libreoffice_reads(done, root / "_lo")
    return done


def _libreoffice_reads(done, stage: Path):
    """The ledger sheet of every file an action wrote, as LibreOffice shows it
    (one soffice call; every sheet to its own CSV)."""
    stage.mkdir()
    staged = {}
    for run in done.values():
        if run.proc.returncode == 0:
            name = f"{Path(run.name).stem}-{run.action}{run.after.suffix}"
            shutil.copy(run.after, stage / name)
            staged[Path(name).stem] = run
    if not staged:
        return
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
                        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
                        "--outdir", str(stage / "csv"), *sorted(str(p) for p in stage.iterdir() if p.is_file())],
                       capture_output=True, timeout=600)
    for stem, run in staged.items():
        target = stage / "csv" / f"{stem}-{mc.LEDGER}.csv"
        run.ledger_csv = target.read_text("utf-8", errors="replace") if target.exists() else None


# --------------------------------------------------------------- reading packages
def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}










def _roles(parts) -> dict[str, str]:
    """Zip member → the role MAY_CHANGE names it by."""
    wb_part = mc.workbook_part(parts)
    roles = {wb_part: "workbook", mc._rels_name(wb_part): "workbook_rels"}
    for kind, target in mc.rels(parts, wb_part).values():
        for role in ("styles", "sharedStrings", "calcChain"):
            if kind.endswith("/" + role):
                roles[target] = role
    ledger = mc.sheets(parts).get(mc.LEDGER)
    if ledger:
        roles[ledger] = roles[mc._rels_name(ledger)] = "ledger"
        for kind, target in mc.rels(parts, ledger).values():
            if kind.endswith(("/comments", "/vmlDrawing")):
                roles[target] = "ledger"
    return roles


def _canon(el) -> bytes:
    """An element as text, whitespace between elements aside (a writer may
    indent or not; the content is the same)."""
    el = ET.fromstring(ET.tostring(el))
    for e in el.iter():
        if e.text is not None and not e.text.strip():
            e.text = None
        if e.tail is not None and not e.tail.strip():
            e.tail = None
    el.tail = None
    return ET.tostring(el)


def _children(xml: bytes) -> list[ET.Element]:
    return list(ET.fromstring(xml))


def _kept_in_order(before: list[bytes], after: list[bytes]) -> bool:
    return after[:len(before)] == before


def _notes(parts, part) -> dict[str, str]:
    out = {}
    for kind, target in mc.rels(parts, part).values():
        if kind.endswith("/comments") and target in parts:
            for el in ET.fromstring(parts[target]).iter():
                if mc.local(el.tag) == "comment":
                    out[el.get("ref")] = "".join(t.text or "" for t in el.iter() if mc.local(t.tag) == "t")
    return out


def _cells(path) -> dict[str, dict[str, object]] | None:
    from openpyxl import load_workbook
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(path)
    except Exception:
        return None
    # the cells the file holds (iter_rows would make every cell of the used
    # range: a sheet with one cell at row 1,048,576 costs gigabytes)
    return {ws.title: {c.coordinate: c.value for c in ws._cells.values() if c.value is not None}
            for ws in wb.worksheets}


# --------------------------------------------------------------- checks
def _refused_cleanly(run: Run) -> list[str]:
    return mc.refused_cleanly(run.proc, run.before, run.after)


def _changed_parts_keep_theirs(before, after, roles) -> list[str]:
    """In the parts the action may rewrite, what the file had is still there."""
    problems = []
    by_role = {role: name for name, role in roles.items()}
    wb_b, wb_a = before[by_role["workbook"]], after[by_role["workbook"]]
    kids_a = {}
    for el in _children(wb_a):
        kids_a.setdefault(mc.local(el.tag), []).append(el)
    for el in _children(wb_b):
        name = mc.local(el.tag)
        if name == "sheets":
            kept = [(s.get("name"), s.get("sheetId"), s.get("state")) for s in el]
            now = [(s.get("name"), s.get("sheetId"), s.get("state")) for s in kids_a.get(name, [ET.Element("x")])[0]]
            if now[:len(kept)] != kept:
                problems.append(f"workbook sheets changed: {kept} → {now}")
        elif name == "definedNames":
            kept = {_canon(d) for d in el}
            now = {_canon(d) for k in kids_a.get(name, []) for d in k}
            if kept - now:
                problems.append(f"defined names lost: {sorted(kept - now)[:3]}")
        elif name == "calcPr":
            continue
        elif _canon(el) not in {_canon(e) for e in kids_a.get(name, [])}:
            problems.append(f"workbook <{name}> changed")
    if "styles" in by_role:
        st_b, st_a = _children(before[by_role["styles"]]), _children(after[by_role["styles"]])
        a_by = {mc.local(e.tag): e for e in st_a}
        for el in st_b:
            name = mc.local(el.tag)
            got = a_by.get(name)
            if got is None:
                problems.append(f"styles <{name}> dropped")
            elif name in ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs"):
                if not _kept_in_order([_canon(c) for c in el], [_canon(c) for c in got]):
                    problems.append(f"styles <{name}> renumbered or changed")
            elif name not in ("extLst",) and _canon(el) != _canon(got):
                problems.append(f"styles <{name}> changed")
    if "sharedStrings" in by_role:
        old = [_canon(c) for c in _children(before[by_role["sharedStrings"]])]
        new = [_canon(c) for c in _children(after.get(by_role["sharedStrings"], b"<sst/>"))]
        if not _kept_in_order(old, new):
            problems.append("shared strings renumbered or changed")
    if "calcChain" in by_role:
        ledger_id = next((s.get("sheetId") for s in ET.fromstring(wb_a).iter()
                          if mc.local(s.tag) == "sheet" and s.get("name") == mc.LEDGER), None)

        def chain(xml):
            out, sheet = [], None
            for c in ET.fromstring(xml):
                sheet = c.get("i", sheet)
                if sheet != ledger_id:
                    out.append((sheet, c.get("r")))
            return out
        name = by_role["calcChain"]
        if name not in after:
            problems.append("calculation chain dropped")
        elif chain(before[name]) != chain(after[name]):
            problems.append("calculation chain of the other sheets changed")
    ct_b = {_canon(e) for e in _children(before["[Content_Types].xml"])}
    ct_a = {_canon(e) for e in _children(after["[Content_Types].xml"])}
    if ct_b - ct_a:
        problems.append(f"content types dropped: {sorted(ct_b - ct_a)[:3]}")
    return problems


def _lost(run: Run) -> list[str]:
    problems: list[str] = []
    before, after = _members(run.before), _members(run.after)
    for name, data in after.items():
        if name.endswith((".xml", ".rels", ".vml")):
            try:
                ET.fromstring(data)
            except ET.ParseError as exc:
                problems.append(f"{name} is not well-formed XML ({exc})")
    if problems:
        return problems
    roles = _roles(before)
    allowed = MAY_CHANGE[run.action] | {"ledger"}
    for name, data in before.items():
        if roles.get(name, name) in allowed:
            continue
        if name not in after:
            problems.append(f"part {name} dropped")
        elif after[name] != data:
            problems.append(f"part {name} rewritten")
    problems += _changed_parts_keep_theirs(before, after, roles)
    sheets_b, sheets_a = mc.sheets(before), mc.sheets(after)
    for name in sheets_b:
        if name not in sheets_a:
            problems.append(f"sheet {name} dropped")
    ledger_a = sheets_a[mc.LEDGER]

    cells_b, cells_a = _cells(run.before), _cells(run.after)
    if cells_b is not None and cells_a is None:
        problems.append("openpyxl cannot open the file after the action")
    elif cells_b is not None:
        for sheet, cells in cells_b.items():
            for ref, value in cells.items():
                if (run.action == "refresh" and sheet == mc.LEDGER and re.sub(r"\d", "", ref) in COMPUTED
                        and int(re.sub(r"\D", "", ref)) >= mc.FIRST_ROW):
                    continue  # a formula of ours, replaced by its value
                got = cells_a.get(sheet, {}).get(ref)
                if got != value or type(got) is not type(value):
                    problems.append(f"{sheet}!{ref}: {value!r} → {got!r}")
        ledger = cells_a[mc.LEDGER]
        if run.action == "refresh":
            payable = [ledger.get(f"P{r}") for r in range(mc.FIRST_ROW, graft.LAST_ROW + 1)]
            starts = [ledger.get(f"R{r}") for r in range(mc.FIRST_ROW, graft.LAST_ROW + 1)]
            if payable != [400, 400, 0, 400]:
                problems.append(f"应缴 after refresh: {payable}")
            if any(getattr(s, "year", None) != 2026 for s in starts):
                problems.append(f"待遇起始 after refresh: {starts}")
            if "已刷新4行" not in run.proc.stdout:
                problems.append(f"refresh says {run.proc.stdout.strip()!r}")
        if run.action == "notice":
            # the three who paid in full (孙桂兰 paid 300 of 400: not listed)
            listed = set(cells_a.get("公示名单", {}).values())
            if not {p["C"] for p in mc.PERSONS[:3]} <= listed or "公示名单共3人" not in run.proc.stdout:
                problems.append(f"no 公示名单 sheet with the three paid persons: {run.proc.stdout.strip()!r}")
        if run.action == "validate":
            if "校验报告" not in cells_a:
                problems.append("no 校验报告 sheet")
            if WRONG_PAYMENT not in _notes(after, ledger_a):
                problems.append(f"the wrong 个人缴费 in {WRONG_PAYMENT} is not marked with our note")
    if SOFFICE:
        if run.ledger_csv is None:
            problems.append("LibreOffice cannot open the file (or shows no ledger sheet)")
        elif mc.PERSONS[0]["C"] not in run.ledger_csv:
            problems.append("LibreOffice no longer shows the persons")
    return problems


# --------------------------------------------------------------- the matrix
@pytest.mark.parametrize("name,action", [_case(n, a) for n in FILES for a in ACTIONS])
def test_public_file_keeps_everything_or_refuses_untouched(runs, name, action):
    """validate and refresh on each public file with our ledger added: success
    with nothing lost, or exit 2 with a Chinese line and the file untouched."""
    run = runs[(name, action)]
    if run.proc.returncode == 2:
        problems = _refused_cleanly(run)
    elif run.proc.returncode == 0:
        problems = _lost(run) if name not in MUST_REFUSE else [f"succeeded on a file with {MUST_REFUSE[name]}"]
    else:
        problems = [f"exit {run.proc.returncode}: {(run.proc.stdout + run.proc.stderr)[-400:]}"]
        if run.after.read_bytes() != run.before.read_bytes():
            problems.append("and the file changed")
    assert not problems, f"{name} {action}:\n" + "\n".join(problems)


# --------------------------------------------------------------- the corpus itself
def test_public_files_hold_what_they_are_chosen_for():
    """Each feature the matrix is meant to cover is really in some file (else
    the matrix would pass on files without it), and each file is listed in
    the README with its source."""
    readme = (PUBLIC / "README.md").read_text("utf-8")
    for name in FILES:
        assert f"`{name}`" in readme, name

    def parts_of(name):
        with zipfile.ZipFile(PUBLIC / name) as z:
            return {n: z.read(n) for n in z.namelist()}
    everything = {n: parts_of(n) for n in FILES}

    def anywhere(pattern: bytes, member=r".*") -> list[str]:
        return [n for n, parts in everything.items()
                if any(re.fullmatch(member, m) and re.search(pattern, d) for m, d in parts.items())]
    apps = {n: (re.search(rb"<Application>([^<]*)", p.get("docProps/app.xml", b"")) or [b"", b""])[1]
            for n, p in everything.items()}
    assert any(b"LibreOffice" in a for a in apps.values())
    assert any(b"WPS" in a for a in apps.values())
    assert any(a == b"Microsoft Excel" for a in apps.values())
    assert any(b"Macintosh" in a for a in apps.values())
    assert anywhere(rb"xmlns:mx=\"http://schemas.microsoft.com/office/mac/excel/2008/main\"", r"xl/workbook.xml")  # Google Sheets
    features = {
        "picture": anywhere(rb"<a:blip\b", r"xl/drawings/drawing\d+\.xml"),
        "note": anywhere(rb"<comments\b", r"xl/comments\d*\.xml"),
        "threaded comment": anywhere(rb"threadedComment", r"xl/threadedComments/.*"),
        "chart": anywhere(rb"chartSpace", r"xl/charts/chart\d+\.xml"),
        "defined name": anywhere(rb"<definedName\b", r"xl/workbook.xml"),
        "data validation": anywhere(rb"<dataValidation\b", r"xl/worksheets/sheet\d+\.xml"),
        "conditional format": anywhere(rb"<conditionalFormatting\b", r"xl/worksheets/sheet\d+\.xml"),
        "table": anywhere(rb"<table\b", r"xl/tables/table\d+\.xml"),
        "protection": anywhere(rb"<sheetProtection\b", r"xl/worksheets/sheet\d+\.xml"),
        "header/footer": anywhere(rb"<oddHeader>", r"xl/worksheets/sheet\d+\.xml"),
        "custom properties": anywhere(rb"<property\b", r"docProps/custom.xml"),
        "calcChain": anywhere(rb"<c\b", r"xl/calcChain.xml"),
        "1904": anywhere(rb'date1904="(1|true)"', r"xl/workbook.xml"),
        "shared strings": anywhere(rb"<si>", r"xl/sharedStrings.xml"),
        "inline strings": anywhere(rb't="inlineStr"', r"xl/worksheets/sheet\d+\.xml"),
        "rich text": anywhere(rb"<(\w+:)?r><(\w+:)?rPr>", r"xl/sharedStrings.xml"),
        "WPS in-cell picture": anywhere(rb"etc:cellImages", r"xl/cellimages.xml"),
        "Excel in-cell picture": anywhere(rb"rvData|<rv\b", r"xl/richData/rdrichvalue.xml"),
        "shared formula": anywhere(rb't="shared"', r"xl/worksheets/sheet\d+\.xml"),
        "hidden row": anywhere(rb'<row\b[^>]*hidden="(1|true)"', r"xl/worksheets/sheet\d+\.xml"),
        "autofilter": anywhere(rb"<autoFilter\b", r"xl/worksheets/sheet\d+\.xml"),
        "VBA": anywhere(rb".", r"xl/vbaProject.bin"),
        "Strict OOXML": anywhere(rb'conformance="strict"', r"xl/workbook.xml"),
    }
    missing = [k for k, v in features.items() if not v]
    assert not missing, missing
