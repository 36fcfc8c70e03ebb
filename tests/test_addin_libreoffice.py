"""LibreOffice opens the built yibao.xlam and finds the same VBA modules with
the same code: a second, independent reader of our vbaProject.bin.

LibreOffice (headless) is driven through Python-UNO, which Debian ships for
the system Python only (package python3-uno), so the driver below runs as a
subprocess of /usr/bin/python3. LibreOffice imports VBA into a Basic library
named after the VBA project; with "Executable code" on, each module starts
with ``Rem Attribute VBA_ModuleType=...`` and ``Option VBASupport 1`` and
has its ``Attribute`` lines removed, which the comparison allows for.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from yibao.addin import build

SYSTEM_PYTHON = "/usr/bin/python3"

DRIVER = r'''
import json, os, subprocess, sys, time
import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


path, port, profile, out_path = sys.argv[1:5]
office = subprocess.Popen(
    ["soffice", "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
     "-env:UserInstallation=" + uno.systemPathToFileUrl(profile),
     "--accept=socket,host=127.0.0.1,port=%s;urp;" % port],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
desktop = None
try:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(240):
        try:
            ctx = resolver.resolve(
                "uno:socket,host=127.0.0.1,port=%s;urp;StarOffice.ComponentContext" % port)
            break
        except Exception:
            if office.poll() is not None:
                raise SystemExit("soffice exited early")
            time.sleep(0.5)
    else:
        raise SystemExit("could not connect to soffice")
    smgr = ctx.ServiceManager
    # Tools > Options > Load/Save > VBA Properties: load the code, executable.
    config = smgr.createInstanceWithContext(
        "com.sun.star.configuration.ConfigurationProvider", ctx)
    vba = config.createInstanceWithArguments(
        "com.sun.star.configuration.ConfigurationUpdateAccess",
        (prop("nodepath", "/org.openoffice.Office.Calc/Filter/Import/VBA"),))
    vba.setPropertyValue("Load", True)
    vba.setPropertyValue("Executable", True)
    vba.commitChanges()
    desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    # LibreOffice's type detection does not know .xlam: name the xlsm filter.
    doc = desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(os.path.abspath(path)), "_blank", 0,
        (prop("Hidden", True), prop("MacroExecutionMode", 0),
         prop("FilterName", "Calc MS Excel 2007 VBA XML")))
    if doc is None:
        raise SystemExit("LibreOffice could not open " + path)
    result = {"sheets": list(doc.Sheets.getElementNames()), "libraries": {}}
    libraries = doc.BasicLibraries
    for name in libraries.getElementNames():
        if not libraries.isLibraryLoaded(name):
            libraries.loadLibrary(name)
        library = libraries.getByName(name)
        result["libraries"][name] = {m: library.getByName(m) for m in library.getElementNames()}
    doc.close(True)
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle, ensure_ascii=False)
finally:
    if desktop is not None:
        try:
            desktop.terminate()
        except Exception:
            pass
    try:
        office.wait(timeout=60)
    except subprocess.TimeoutExpired:
        office.kill()
'''


def _available() -> str | None:
    """Why LibreOffice cannot be driven here, or None."""
    if not shutil.which("soffice"):
        return "soffice not installed"
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True)
    if probe.returncode:
        return "python3-uno not installed for the system Python"
    return None


@pytest.fixture(scope="module")
def libreoffice_view(tmp_path_factory):
    reason = _available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"LibreOffice test cannot run in CI: {reason}")
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("lo")
    xlam = build.build(work / "yibao.xlam")
    driver = work / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = work / "modules.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    run = subprocess.run(
        [SYSTEM_PYTHON, str(driver), str(xlam), str(port), str(work / "profile"), str(out)],
        capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(out.read_text(encoding="utf-8"))


_ATTRIBUTE = re.compile(r"^Attribute \w+(\.\w+)? = .*$")


def _without_attributes(source: str) -> str:
    lines = source.replace("\r\n", "\n").split("\n")
    return "\n".join(l for l in lines if not _ATTRIBUTE.match(l)).rstrip("\n")


def _without_libreoffice_header(source: str) -> str:
    lines = source.replace("\r\n", "\n").split("\n")
    while lines and (lines[0].startswith("Rem Attribute VBA_ModuleType=")
                     or lines[0] in ("Option VBASupport 1", "Option ClassModule")):
        lines.pop(0)
    return "\n".join(lines).rstrip("\n")


def test_libreoffice_lists_the_same_modules_with_the_same_code(libreoffice_view):
    libraries = libreoffice_view["libraries"]
    assert build.PROJECT_NAME in libraries, list(libraries)
    found = libraries[build.PROJECT_NAME]
    expected = {m.name: m for m in build.modules()}
    assert set(found) == set(expected)
    for name, module in expected.items():
        assert _without_libreoffice_header(found[name]) == _without_attributes(module.source), name
    kinds = {name: found[name].split("\n", 1)[0] for name in found}
    assert kinds["Dictionary"] == "Rem Attribute VBA_ModuleType=VBAClassModule"
    assert kinds["ThisWorkbook"] == "Rem Attribute VBA_ModuleType=VBADocumentModule"
    assert kinds["yibao_udfs"] == "Rem Attribute VBA_ModuleType=VBAModule"


def test_libreoffice_reads_chinese_vba_text_and_the_config_sheet(libreoffice_view):
    ribbon = libreoffice_view["libraries"][build.PROJECT_NAME]["yibao_ribbon"]
    assert "请先打开要处理的台账工作簿" in ribbon
    assert libreoffice_view["sheets"] == [build.CONF_SHEET]
