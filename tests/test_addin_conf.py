"""The add-in's user settings (``%USERPROFILE%\\.yibao\\yibao.conf``) read back
the way xlwings' VBA reads them, on Windows accounts and Python folders with
Chinese names.

xlwings' VBA (``GetConfigFilePath``, ``GetConfigFromFile`` in the installed
``xlwings_custom_addin.bas``) finds the file through ``Environ("USERPROFILE")``
and reads it with ``Open … For Input`` and ``Input #``; ``XLPyLoadDLL`` then
loads ``xlwings64-<version>.dll`` from the interpreter's folder with
``LoadLibraryA``. VBA converts each of these strings through Windows' ANSI
code page (936 on Simplified Chinese Windows; 65001 when "Beta: Use Unicode
UTF-8" is on). The emulation below does the same conversions in Python.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from yibao.addin import build, install


def _xlwings_vba() -> str:
    return (build.xlwings_dir() / "xlwings_custom_addin.bas").read_text(encoding="utf-8")


def test_xlwings_vba_reads_the_conf_as_this_emulation_assumes():
    """The emulation is only as good as this reading of xlwings' VBA."""
    vba = _xlwings_vba()
    reader = re.search(r"Function GetConfigFromFile\(.*?End Function", vba, re.S).group(0)
    assert "Open sFile For Input As iFileNum" in reader
    assert "Input #iFileNum, sVarName, sVarValue" in reader
    assert "ADODB" not in reader  # no UTF-8 stream: bytes are decoded as ANSI
    assert 'Environ("USERPROFILE") & "\\." & PROJECT_NAME & "\\" & PROJECT_NAME & ".conf"' in vba
    assert 'Alias "LoadLibraryA"' in vba


def vba_ansi(text: str, codepage: str) -> str:
    """A Unicode string after VBA's round trip through the ANSI code page
    (``Environ``, ``Declare`` string arguments): unmappable characters → '?'."""
    return text.encode(codepage, errors="replace").decode(codepage)


def vba_input_pairs(data: bytes, codepage: str) -> list[tuple[str, str]]:
    """``Do While Not EOF: Input #f, name, value``: the bytes decoded with the
    ANSI code page; fields separated by commas or line ends, a field in
    double quotes runs to the next double quote."""
    text = data.decode(codepage, errors="replace")
    fields, i = [], 0
    while i < len(text):
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i >= len(text):
            break
        if text[i] == '"':
            end = text.index('"', i + 1)
            fields.append(text[i + 1:end])
            i = end + 1
        else:
            end = i
            while end < len(text) and text[end] not in ",\r\n":
                end += 1
            fields.append(text[i:end].strip())
            i = end
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == ",":
            i += 1
    return list(zip(fields[0::2], fields[1::2]))


def vba_get_config(userprofile: str, key: str, codepage: str) -> str | None:
    """``GetConfigFromFile(GetConfigFilePath(), key)`` as Excel runs it."""
    path = Path(vba_ansi(userprofile, codepage)) / ".yibao" / "yibao.conf"
    if not path.is_file():  # FileExists: the '?' of an unmappable name finds nothing
        return None
    for name, value in vba_input_pairs(path.read_bytes(), codepage):
        if name.lower() == key.lower():
            return value
    return None


def vba_load_dll(interpreter: str, codepage: str) -> bool:
    """``LoadLibraryA(ParentFolder(PYTHON_WIN) + "\\" + XLPyDLLName)``."""
    folder = vba_ansi(interpreter, codepage).rsplit("/", 1)[0]
    return (Path(folder) / f"xlwings64-{build.xlwings_version()}.dll").is_file()


@pytest.fixture
def windows(tmp_path, monkeypatch):
    """A Windows PC whose ANSI code page the test chooses."""
    def make(user: str, python_folder: str, codepage: str):
        monkeypatch.setattr(install.sys, "platform", "win32")
        monkeypatch.setattr(install, "ansi_codepage", lambda: codepage)
        profile = tmp_path / "Users" / user
        monkeypatch.setenv("USERPROFILE", str(profile))
        monkeypatch.setenv("APPDATA", str(profile / "AppData" / "Roaming"))
        python_dir = (profile / python_folder) if not python_folder.startswith("/") \
            else tmp_path / python_folder.lstrip("/")
        python_dir.mkdir(parents=True)
        exe = python_dir / "pythonw.exe"
        exe.write_bytes(b"")
        (python_dir / f"xlwings64-{build.xlwings_version()}.dll").write_bytes(b"")
        monkeypatch.setattr(install, "interpreter", lambda: str(exe))
        monkeypatch.setattr(install, "dll_path", lambda: None)
        return profile, str(exe)
    return make


CASES = [
    ("张三", "AppData/Local/Programs/Python/Python312", "cp936"),
    ("张三", "AppData/Local/Programs/Python/Python312", "utf-8"),
    ("Administrator", "/软件/Python312", "cp936"),
    ("王淼鑫", "/D盘/医保 工作/Python", "cp936"),
    ("张三", "AppData/Local/Programs/Python/Python312", "gbk"),
]


@pytest.mark.parametrize("user, python_folder, codepage", CASES)
def test_chinese_user_and_python_folders_reach_excel_intact(windows, capsys, user, python_folder,
                                                            codepage):
    profile, exe = windows(user, python_folder, codepage)
    from yibao.cli import main
    assert main(["addin", "install"]) == 0, capsys.readouterr().err
    assert vba_get_config(str(profile), "INTERPRETER_WIN", codepage) == exe
    assert vba_load_dll(exe, codepage)
    raw = (profile / ".yibao" / "yibao.conf").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.endswith(b"\r\n")
    # Our own reading agrees with Excel's, and status sees the same Python.
    assert install.read_conf(profile / ".yibao" / "yibao.conf", codepage)["INTERPRETER_WIN"] == exe
    capsys.readouterr()
    main(["addin", "status"])
    assert f"Excel 调用的 Python：{exe}" in capsys.readouterr().out


def test_a_utf8_conf_is_mojibake_to_excel_on_chinese_windows(tmp_path):
    """Why the encoding matters: the bytes earlier yibao builds wrote (UTF-8)."""
    profile = tmp_path / "张三"
    (profile / ".yibao").mkdir(parents=True)
    exe = str(profile / "Python312" / "pythonw.exe")
    (profile / ".yibao" / "yibao.conf").write_bytes(f'"INTERPRETER_WIN","{exe}"\n'.encode("utf-8"))
    read = vba_get_config(str(profile), "INTERPRETER_WIN", "cp936")
    assert read is not None and read != exe and "寮犱笁" in read


def test_an_old_utf8_conf_is_rewritten_in_the_ansi_code_page(windows, capsys):
    profile, exe = windows("张三", "AppData/Local/Programs/Python/Python312", "cp936")
    conf = profile / ".yibao" / "yibao.conf"
    conf.parent.mkdir(parents=True)
    conf.write_bytes('"INTERPRETER_WIN","C:\\旧的\\pythonw.exe"\n"PYTHONPATH","D:\\台账\\脚本"\n'
                     .encode("utf-8"))
    from yibao.cli import main
    assert main(["addin", "install"]) == 0
    assert vba_get_config(str(profile), "INTERPRETER_WIN", "cp936") == exe
    assert vba_get_config(str(profile), "PYTHONPATH", "cp936") == "D:\\台账\\脚本"


@pytest.mark.parametrize("user, python_folder, what", [
    ("李䶮", "AppData/Local/Programs/Python/Python312", "用户文件夹"),
    ("张三", "/工具/𬌗/Python312", "Python 所在的路径"),
])
def test_a_path_the_code_page_cannot_hold_is_refused_before_anything_is_written(
        windows, capsys, user, python_folder, what):
    profile, exe = windows(user, python_folder, "cp936")
    from yibao.cli import main
    code = main(["addin", "install"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("错误：") and err.count("\n") == 1
    assert what in err and "936" in err
    assert not (profile / ".yibao" / "yibao.conf").exists()
    assert not (profile / "AppData" / "Roaming" / "Microsoft" / "Excel" / "XLSTART").exists()
    # With the UTF-8 code page the same PC works.
    install.ansi_codepage = lambda: "utf-8"
    assert main(["addin", "install"]) == 0
    assert vba_get_config(str(profile), "INTERPRETER_WIN", "utf-8") == exe


# ---------------------------------------------------------------- kinds of Python

def test_a_conda_python_is_started_through_conda_activate(windows, capsys, monkeypatch, tmp_path):
    profile, exe = windows("张三", "AppData/Local/miniconda3/envs/医保", "cp936")
    base = str(profile / "AppData" / "Local" / "miniconda3")
    monkeypatch.setattr(install, "conda_env", lambda *a: (base, "医保"))
    from yibao.cli import main
    assert main(["addin", "install"]) == 0
    out = capsys.readouterr().out
    assert "conda 环境 医保" in out
    # xlwings' VBA: INTERPRETER_WIN empty, so it runs
    # "<CONDA PATH>\condabin\conda activate <CONDA ENV>" and loads the DLL
    # from <CONDA PATH>\envs\<CONDA ENV>.
    assert vba_get_config(str(profile), "INTERPRETER_WIN", "cp936") is None
    assert vba_get_config(str(profile), "CONDA PATH", "cp936") == base
    assert vba_get_config(str(profile), "CONDA ENV", "cp936") == "医保"
    vba = _xlwings_vba()
    assert 'PYTHON_WIN = CondaPath & "\\envs\\" & CondaEnv & "\\" & PYTHON_WIN' in vba
    main(["addin", "status"])
    assert "conda 环境 医保" in capsys.readouterr().out
    assert main(["addin", "remove"]) == 0
    assert install.read_conf(profile / ".yibao" / "yibao.conf", "cp936") == {}
    # Back to a python.org Python: the conda settings go, or RunPython would
    # still activate that env first.
    assert main(["addin", "install"]) == 0
    monkeypatch.setattr(install, "conda_env", lambda *a: None)
    assert main(["addin", "install"]) == 0
    assert vba_get_config(str(profile), "INTERPRETER_WIN", "cp936") == exe
    assert vba_get_config(str(profile), "CONDA PATH", "cp936") is None
    assert 'CondaCmd = CondaPath & "\\condabin\\conda activate " & CondaEnv' in vba


def test_conda_env_finds_base_named_and_path_envs(tmp_path):
    base = tmp_path / "miniconda3"
    (base / "condabin").mkdir(parents=True)
    (base / "conda-meta").mkdir()
    named = base / "envs" / "yibao"
    (named / "conda-meta").mkdir(parents=True)
    elsewhere = tmp_path / "项目" / "env"
    (elsewhere / "conda-meta").mkdir(parents=True)
    exe = str(base / "Scripts" / "conda.exe")
    assert install.conda_env(str(base), "") == (str(base), "base")
    assert install.conda_env(str(named), "") == (str(base), "yibao")
    assert install.conda_env(str(elsewhere), exe) == (str(base), str(elsewhere))
    assert install.conda_env(str(tmp_path / "python312"), exe) is None


def test_microsoft_store_python_is_refused_with_what_to_do(windows, capsys, monkeypatch):
    profile, exe = windows("张三", "AppData/Local/Programs/Python/Python312", "cp936")
    real = install.store_python
    monkeypatch.setattr(install, "store_python", lambda *a: True)
    from yibao.cli import main
    assert main(["addin", "install"]) == 2
    err = capsys.readouterr().err
    assert "Microsoft Store" in err and "python.org" in err and err.count("\n") == 1
    assert not (profile / ".yibao" / "yibao.conf").exists()
    store = ("C:\\Users\\张三\\AppData\\Local\\Microsoft\\WindowsApps\\"
             "PythonSoftwareFoundation.Python.3.12_qbz5n2kfra8p0\\python.exe")
    assert real(store, "C:\\Program Files\\WindowsApps\\x")
    assert not real("C:\\Python312\\python.exe", "C:\\Python312")


def test_xlwings_installed_for_the_user_only_is_explained(windows, capsys, monkeypatch, tmp_path):
    """An all-users Python without administrator rights: pip silently installs
    with --user, and the DLL lands where xlwings' VBA never looks."""
    profile, exe = windows("张三", "/Program Files/Python312", "cp936")
    prefix_dll = tmp_path / "Program Files" / "Python312" / "xlwings64-x.dll"
    user_dll = profile / "AppData" / "Roaming" / "Python" / "xlwings64-x.dll"
    user_dll.parent.mkdir(parents=True)
    user_dll.write_bytes(b"")
    monkeypatch.setattr(install, "dll_path", lambda: prefix_dll)
    monkeypatch.setattr(install, "user_dll_path", lambda: user_dll)
    from yibao.cli import main
    assert main(["addin", "install"]) == 0
    out = capsys.readouterr().out
    assert "以管理员身份运行" in out and "pip install --force-reinstall xlwings" in out


@pytest.mark.parametrize("folder, arrives", [
    ("D:\\2026年医保\\东山村", True),
    ("C:\\Users\\张三\\Desktop\\台账 (2)", True),
    ("C:\\Users\\Public\\李䶮的台账", False),  # outside code page 936: a '?' path, harmless
])
def test_a_ledger_in_a_chinese_folder_reaches_python(folder, arrives, monkeypatch):
    """The UDF server's command line (XLPyCommand) carries the ledger's full
    name through the DLL, i.e. through the ANSI code page; xlwings only adds
    its folder to sys.path, which our functions do not need."""
    from xlwings.utils import prepare_sys_path
    vba = _xlwings_vba()
    assert ('PYTHONPATH = AddExcelDir & ";" & ActiveWorkbook.FullName & ";" & '
            'ThisWorkbook.FullName & ";"') in vba
    fullname = folder + "\\参保缴费台账.xlsx"
    addin = "C:\\Users\\张三\\AppData\\Roaming\\Microsoft\\Excel\\XLSTART\\yibao.xlam"
    args = f"true;{vba_ansi(fullname, 'cp936')};{vba_ansi(addin, 'cp936')};;;;"
    monkeypatch.setattr(sys, "path", list(sys.path))
    prepare_sys_path(args)
    assert (folder.replace("\\", "/") in sys.path) is arrives
    import yibao.addin.udfs as udfs  # noqa: F401 - still importable


def test_an_ansi_conf_that_happens_to_be_valid_utf8_is_read_as_ansi(windows, capsys):
    """GBK bytes of 郑叶 are also valid UTF-8 (two Cyrillic/Hebrew letters)."""
    assert "郑叶".encode("gbk").decode("utf-8") != "郑叶"
    profile, exe = windows("郑叶", "AppData/Local/Programs/Python/Python312", "cp936")
    conf = profile / ".yibao" / "yibao.conf"
    conf.parent.mkdir(parents=True)
    # As xlwings' ribbon writes it (VBA Write #: ANSI, CRLF).
    conf.write_bytes('"PYTHONPATH","D:\\郑叶"\r\n'.encode("gbk"))
    assert install.read_conf(conf, "cp936") == {"PYTHONPATH": "D:\\郑叶"}
    from yibao.cli import main
    assert main(["addin", "install"]) == 0
    assert vba_get_config(str(profile), "PYTHONPATH", "cp936") == "D:\\郑叶"
    assert vba_get_config(str(profile), "INTERPRETER_WIN", "cp936") == exe
