"""What a real PC would trip over first, checked without Excel: the ribbon
against Microsoft's schema and Excel's control ids, the add-in as a virus
heuristic sees it, the function help Excel is asked to register, and the
xlwings version the add-in's VBA needs."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from yibao.addin import build, install, vbagen
from yibao.functions.udf import REGISTRY

ADDIN = Path(build.__file__).resolve().parent
# test references live in the repository, not in the installed package (CI installs non-editable)
REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "addin" / "reference"


# ---------------------------------------------------------------- ribbon

def test_ribbon_is_valid_against_microsofts_customui_schema():
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(REFERENCE / "customUI.xsd"))
    schema.validate(str(ADDIN / "customUI.xml"))
    # The check can fail: an attribute the schema does not have is refused.
    bad = (ADDIN / "customUI.xml").read_text(encoding="utf-8").replace(
        'size="large"', 'size="huge"', 1)
    assert not schema.is_valid(bad)


def _excel_control_ids() -> set[str]:
    lines = (REFERENCE / "excel_control_ids.txt").read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_every_icon_is_an_excel_control_id():
    ids = _excel_control_ids()
    assert len(ids) > 1500 and "TableInsertExcel" in ids
    assert "TableInsert" not in ids  # PowerPoint's and Word's id, blank in Excel
    text = (ADDIN / "customUI.xml").read_text(encoding="utf-8")
    icons = re.findall(r'imageMso="([^"]+)"', text)
    from yibao.macros.ribbon import ACTIONS
    assert len(icons) == len(ACTIONS)                    # one button per action
    assert [i for i in icons if i not in ids] == []


# ---------------------------------------------------------------- heuristics

def _mraptor(path: Path) -> tuple[int, str]:
    run = subprocess.run([sys.executable, "-m", "oletools.mraptor", str(path)],
                         capture_output=True, text=True, timeout=120)
    return run.returncode, run.stdout


def test_mraptor_rates_the_addin_as_it_rates_xlwings_own_addin(tmp_path):
    ours = build.build(tmp_path / "yibao.xlam")
    stock = build.xlwings_dir() / "addin" / "xlwings.xlam"
    code, out = _mraptor(ours)
    stock_code, stock_out = _mraptor(stock)
    assert stock_code == 2 and "Macro OK" in stock_out
    assert code == 2 and "Macro OK" in out, out
    assert "A" not in out.split("Macro OK", 1)[1].split("|")[1]  # no AutoExec flag


def test_no_vba_procedure_or_word_counts_as_auto_run():
    """mraptor's AutoExec pattern matches anywhere in the code, comments
    included; none of our modules may contain it."""
    from oletools.mraptor import re_autoexec
    for module in build.modules():
        if module.name in ("xlwings", "Dictionary"):
            continue
        assert not re_autoexec.search(module.source), (module.name,
                                                       re_autoexec.search(module.source))


# ---------------------------------------------------------------- function help

UDFS = build.source("yibao_udfs.bas")


def _logical_lines(text: str) -> list[str]:
    out, current = [], ""
    for line in text.split("\n"):
        part = line.strip() if current else line
        if line.endswith(" _"):
            current += part[:-2].rstrip() + " "
            continue
        out.append(current + part)
        current = ""
    return out


def test_every_function_gets_its_description_and_one_text_per_argument():
    calls = {}
    for line in _logical_lines(UDFS):
        match = re.match(r'\s+YibaoDescribe "(\w+)", "((?:[^"]|"")*)", failed((?:, "(?:[^"]|"")*")*)$',
                         line)
        if match:
            args = re.findall(r'"((?:[^"]|"")*)"', match.group(3))
            calls[match.group(1)] = (match.group(2).replace('""', '"'),
                                     [a.replace('""', '"') for a in args])
    assert set(calls) == set(REGISTRY)
    for name, spec in REGISTRY.items():
        description, args = calls[name]
        assert description == spec.help
        assert args == [a.help for a in spec.args]
        for text in [description, *args]:
            assert len(text.encode("utf-16-le")) // 2 <= 255


def test_macro_options_names_are_qualified_and_failures_reported_once():
    describe = re.search(r"Private Sub YibaoDescribe.*?End Sub", UDFS, re.S).group(0)
    assert 'macroName = book & "!" & funcName' in describe
    assert "book = ThisWorkbook.Name" in describe
    assert "Macro:=macroName" in describe and "Macro:=funcName" not in describe
    # ArgumentDescriptions exists from Excel 2010 (14.0); late binding keeps
    # older Excel from refusing to compile the module.
    assert "If Val(Application.Version) >= 14 Then" in describe
    assert "Set app = Application" in describe and "Application.MacroOptions" not in describe
    assert describe.count("ArgumentDescriptions:=") == 1
    # A failure is collected, not swallowed ...
    assert 'If Err.Number <> 0 Then failed = failed & "、" & funcName' in describe
    # ... and shown in one message after all functions were tried.
    loaded = re.search(r"Public Sub YibaoRibbonLoaded.*?End Sub", build.source("yibao_ribbon.bas"),
                       re.S).group(0)
    assert loaded.count("MsgBox") == 2
    assert re.search(r'failed = YibaoRegisterFunctions\(\)\s+If failed <> "" Then\s+MsgBox "函数说明',
                     loaded)


def test_vba_lines_stay_within_the_editors_limits():
    """VBA refuses a line over 1023 characters or more than 24 continuations."""
    for module in build.modules():
        for line in module.source.split("\n"):
            assert len(line) <= 1023, (module.name, line[:60])
        run = 0
        for line in module.source.split("\n"):
            run = run + 1 if line.endswith(" _") else 0
            assert run <= 24, module.name


def test_a_description_over_excels_limit_stops_the_generator():
    spec = next(iter(REGISTRY.values()))

    class Long:
        name, args = spec.name, spec.args
        help = "很长的说明" * 60
    with pytest.raises(vbagen.HelpTooLong, match="255"):
        vbagen.udf_module_text({spec.name: Long})


# ---------------------------------------------------------------- xlwings version

def test_the_required_xlwings_has_what_the_wrappers_call():
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    need = ".".join(map(str, build.MIN_XLWINGS))
    assert f'"xlwings>={need}"' in pyproject
    assert "Set yibaoServer = XLPy" in UDFS      # the wrappers get the server from XLPy (0.30.11+)
    assert re.search(r"^Function XLPy\(\)", build.xlwings_module_source(), re.M)


@pytest.mark.parametrize("version", ["0.30.0", "0.30.10", "0.29.1"])
def test_an_xlwings_without_xlpy_is_refused_in_chinese(monkeypatch, capsys, tmp_path, version):
    monkeypatch.setattr(build, "xlwings_version", lambda: version)
    from yibao.cli import main
    code = main(["addin", "build", "-o", str(tmp_path / "yibao.xlam")])
    err = capsys.readouterr().err
    assert code == 2 and "0.30.11" in err and "pip install -U xlwings" in err
    assert not (tmp_path / "yibao.xlam").exists()
    assert build.version_tuple("0.30.11") == (0, 30, 11) >= build.MIN_XLWINGS


def test_status_reports_an_addin_built_for_another_xlwings(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(install.sys, "platform", "win32")
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "me"))
    from yibao.cli import main
    assert main(["addin", "install"]) == 0
    built = build.xlwings_version()
    xlam = tmp_path / "Roaming" / "Microsoft" / "Excel" / "XLSTART" / "yibao.xlam"
    assert build.built_for(xlam.read_bytes()) == built
    # pip install -U xlwings: the installed add-in still names the old DLL.
    monkeypatch.setattr(build, "xlwings_version", lambda: "99.0.1")
    capsys.readouterr()
    assert main(["addin", "status"]) == 1
    out = capsys.readouterr().out
    assert f"按 xlwings {built} 生成，但本机的 xlwings 是 99.0.1" in out
    assert "yibao addin install" in out


def test_the_addin_names_the_dll_exactly_as_xlwings_vba_loads_it():
    """YibaoSetupProblem looks for the file xlwings' XLPyLoadDLL loads, and
    YibaoErrorText recognises xlwings' message when it cannot."""
    vba = build.xlwings_module_source()
    version = build.xlwings_version()
    assert f'Public Const XLWINGS_VERSION As String = "{version}"' in vba
    assert f'Const XLPyDLLName As String = "xlwings64-{version}.dll"' in vba
    assert f'Const XLPyDLLName As String = "xlwings32-{version}.dll"' in vba
    assert '"Could not load " + XLPyDLLName' in vba
    ours = build.source("yibao_ribbon.bas")
    assert 'dll = "xlwings64-" & XLWINGS_VERSION & ".dll"' in ours
    assert 'dll = "xlwings32-" & XLWINGS_VERSION & ".dll"' in ours
    assert 'InStr(1, message, "Could not load xlwings", vbTextCompare) = 1' in ours
    # Both folders xlwings tries: the interpreter's, and its parent (venv).
    assert 'LoadLibrary(ParentFolder(PYTHON_WIN) + "\\" + XLPyDLLName)' in vba
    assert 'LoadLibrary(ParentFolder(ParentFolder(PYTHON_WIN)) + "\\" + XLPyDLLName)' in vba
    assert 'FileExists(ParentFolder(python) & "\\" & dll)' in ours
    assert 'FileExists(ParentFolder(ParentFolder(python)) & "\\" & dll)' in ours
    assert "yibao addin install" in ours
    # Every function cell's error passes through the Chinese translation.
    for name in REGISTRY:
        assert f"    {name} = YibaoErrorText(Err.Description)" in UDFS


def test_build_says_which_xlwings_the_file_needs(tmp_path, capsys):
    from yibao.cli import main
    assert main(["addin", "build", "-o", str(tmp_path / "yibao.xlam")]) == 0
    out = capsys.readouterr().out
    assert f"只能用在装有 xlwings {build.xlwings_version()} 的电脑上" in out


def test_the_addin_records_the_xlwings_it_was_built_for():
    with zipfile.ZipFile(__import__("io").BytesIO(build.build_bytes())) as z:
        core = z.read("docProps/core.xml").decode("utf-8")
    assert f"按 xlwings {build.xlwings_version()} 生成" in core
    assert build.built_for(b"not a zip") is None
