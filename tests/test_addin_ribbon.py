"""The add-in's sources agree with each other: ribbon XML against the Office
customUI schema and the VBA, UDF wrappers against the function registry, and
the ``yibao addin`` commands."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from yibao.addin import build, install
from yibao.functions.udf import REGISTRY

ADDIN = Path(build.__file__).resolve().parent
NS = "http://schemas.microsoft.com/office/2006/01/customui"

#: The ribbon actions of yibao.macros.ribbon (fixed names) and their labels.
ACTIONS = {
    "new_ledger": "新建台账", "validate": "校验", "refresh": "刷新",
    "dedupe": "合并资助名单", "quota": "任务分配", "reward": "奖励测算",
    "progress": "进度通报", "summary": "汇总上报", "notice": "公示名单",
    "reconcile": "缴费比对", "uninsured": "应参未参", "renewal": "续保催缴",
    "split": "分村下发", "gather": "收回汇总",
}

# The part of the Office 2007 customUI schema (customui.xsd, [MS-CUSTOMUI])
# we use: element -> (allowed attributes, allowed child elements).
_CONTROL = {"id", "idQ", "idMso", "tag", "label", "getLabel", "image", "imageMso",
            "getImage", "screentip", "getScreentip", "supertip", "getSupertip",
            "keytip", "getKeytip", "enabled", "getEnabled", "visible", "getVisible",
            "insertAfterMso", "insertBeforeMso", "insertAfterQ", "insertBeforeQ"}
SCHEMA = {
    "customUI": ({"onLoad", "loadImage"}, {"commands", "ribbon"}),
    "ribbon": ({"startFromScratch"}, {"officeMenu", "qat", "contextualTabs", "tabs"}),
    "tabs": (set(), {"tab"}),
    "tab": ({"id", "idQ", "idMso", "tag", "label", "getLabel", "keytip", "getKeytip",
             "visible", "getVisible", "insertAfterMso", "insertBeforeMso",
             "insertAfterQ", "insertBeforeQ"}, {"group"}),
    "group": (_CONTROL - {"enabled", "getEnabled"},
              {"button", "separator", "box", "buttonGroup", "checkBox", "comboBox",
               "dropDown", "editBox", "gallery", "labelControl", "menu",
               "splitButton", "toggleButton", "dynamicMenu", "control",
               "dialogBoxLauncher"}),
    "button": (_CONTROL | {"size", "getSize", "showLabel", "getShowLabel", "showImage",
                           "getShowImage", "onAction", "description", "getDescription"},
               set()),
}


@pytest.fixture(scope="module")
def ribbon():
    return ET.parse(ADDIN / "customUI.xml").getroot()


def _local(tag: str) -> str:
    assert tag.startswith("{" + NS + "}"), tag
    return tag.split("}", 1)[1]


def test_ribbon_uses_only_customui_schema_elements_and_attributes(ribbon):
    assert _local(ribbon.tag) == "customUI"
    ids = []
    for element in ribbon.iter():
        name = _local(element.tag)
        assert name in SCHEMA, name
        attributes, children = SCHEMA[name]
        assert set(element.attrib) <= attributes, (name, set(element.attrib) - attributes)
        for child in element:
            assert _local(child.tag) in children, (name, child.tag)
        for key, value in element.attrib.items():
            assert len(value) <= 1024, key
            if key == "size":
                assert value in ("normal", "large")
            if key == "startFromScratch":
                assert value in ("true", "false")
        if "id" in element.attrib:
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", element.attrib["id"])
            ids.append(element.attrib["id"])
    assert len(ids) == len(set(ids))


def test_ribbon_has_one_tab_with_a_button_for_every_action(ribbon):
    tabs = ribbon.findall(f".//{{{NS}}}tab")
    assert [t.get("label") for t in tabs] == ["医保征缴"]
    buttons = {b.get("id"): b for b in ribbon.iter(f"{{{NS}}}button")}
    assert set(buttons) == {f"yibao_{a}" for a in ACTIONS}
    for action, label in ACTIONS.items():
        button = buttons[f"yibao_{action}"]
        assert button.get("label") == label
        assert button.get("screentip") and button.get("supertip")
        assert re.search(r"[\u4e00-\u9fff]", button.get("supertip"))
        assert re.fullmatch(r"[A-Za-z0-9]+", button.get("imageMso"))


def _procedures() -> dict[str, dict[str, str]]:
    """module name -> {procedure name: parameter list} for every module."""
    out = {}
    for module in build.modules():
        procs = {}
        for match in re.finditer(
                r"^(?:(?:Public|Private|Friend)\s+)?(?:Sub|Function)\s+(\w+)\s*\(([^)]*)\)",
                module.source, re.M | re.I):
            procs[match.group(1)] = match.group(2)
        out[module.name] = procs
    return out


def test_every_onaction_names_a_procedure_in_the_vba(ribbon):
    procedures = _procedures()
    callbacks = [e.get("onAction") for e in ribbon.iter() if e.get("onAction")]
    assert callbacks
    for callback in callbacks:
        module, _, proc = callback.rpartition(".")
        if module:
            assert proc in procedures[module], callback
            params = procedures[module][proc]
        else:
            found = [m for m, p in procedures.items() if proc in p]
            assert len(found) == 1, callback
            params = procedures[found[0]][proc]
        # The onAction signature of a button: (control As IRibbonControl).
        assert re.fullmatch(r"\s*(ByRef\s+|ByVal\s+)?\w+\s+As\s+IRibbonControl\s*", params)


def test_ribbon_callback_runs_each_python_action():
    text = build.source("yibao_ribbon.bas")
    for action in ACTIONS:
        line = re.search(rf'Case "yibao_{action}": pythonCode = "(.*)"', text)
        assert line, action
        assert line.group(1) == f"import yibao.macros.ribbon as r; r.run('{action}')"
    assert "RunPython pythonCode" in text


def test_ribbon_action_names_match_the_macros_module():
    ribbon_py = pytest.importorskip("yibao.macros.ribbon")
    assert set(getattr(ribbon_py, "ACTIONS", ACTIONS)) == set(ACTIONS)


def test_every_registered_function_has_a_wrapper_with_the_same_arguments():
    procedures = _procedures()["yibao_udfs"]
    assert REGISTRY
    for name, spec in REGISTRY.items():
        assert name in procedures, name
        params = [p.strip() for p in procedures[name].split(",") if p.strip()]
        expected = [("Optional " if a.optional else "") + a.name for a in spec.args]
        assert params == expected, name
    text = build.source("yibao_udfs.bas")
    for name, spec in REGISTRY.items():
        array = ", ".join(a.name for a in spec.args)
        assert f'{name} = YibaoCall("{name}", Array({array}))' in text
        assert f'    YibaoDescribe "{name}", ' in text
    # Only registry functions are wrapped (plus the registration procedures and the one caller).
    assert set(procedures) == set(REGISTRY) | {"YibaoRegisterFunctions", "YibaoDescribe", "YibaoCall"}
    assert 'yibaoServer.CallUDF("yibao.addin.udfs", udfName, args)' in text


def test_udf_module_is_the_one_the_conf_sheet_names():
    assert dict(build.conf_rows())["UDF Modules"] == "yibao.addin.udfs"
    import yibao.addin.udfs as udfs
    assert set(udfs.__all__) == set(REGISTRY)


def test_ribbon_onload_registers_the_function_help_once(ribbon):
    assert ribbon.get("onLoad") == "yibao_ribbon.YibaoRibbonLoaded"
    params = _procedures()["yibao_ribbon"]["YibaoRibbonLoaded"]
    # The onLoad signature: (ribbon As IRibbonUI).
    assert re.fullmatch(r"\s*(ByRef\s+|ByVal\s+)?\w+\s+As\s+IRibbonUI\s*", params)
    body = re.search(r"Public Sub YibaoRibbonLoaded.*?End Sub", build.source("yibao_ribbon.bas"),
                     re.S).group(0)
    assert body.count("YibaoRegisterFunctions()") == 1
    assert "ThisWorkbook.Saved = True" in body


def test_vba_sources_encode_in_the_project_codepage():
    for module in build.modules():
        module.source.encode("gbk")


# ---------------------------------------------------------------- commands

def _run(capsys, *argv):
    from yibao.cli import main
    code = main(["addin", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_build_writes_the_addin(tmp_path, capsys):
    target = tmp_path / "sub" / "yibao.xlam"
    code, out, err = _run(capsys, "build", "-o", target)
    assert code == 0 and not err
    assert target.read_bytes() == build.build_bytes()
    assert "已生成" in out
    assert not list(target.parent.glob("*.tmp"))


def test_cli_build_error_is_one_chinese_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, out, err = _run(capsys, "build", "-o", blocker / "yibao.xlam")
    assert code == 2
    assert err.startswith("错误：") and err.count("\n") == 1


def test_install_on_linux_says_why_not(capsys, monkeypatch):
    monkeypatch.setattr(install.sys, "platform", "linux")
    code, out, err = _run(capsys, "install")
    assert code == 2 and "Windows" in err and err.count("\n") == 1


def test_install_status_remove_on_windows(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(install.sys, "platform", "win32")
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "me"))
    xlstart = tmp_path / "Roaming" / "Microsoft" / "Excel" / "XLSTART"
    conf = tmp_path / "me" / ".yibao" / "yibao.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text('"SHOW CONSOLE","True"\n', encoding="utf-8")

    code, out, err = _run(capsys, "status")
    assert code == 1 and "未安装" in out

    code, out, err = _run(capsys, "install")
    assert code == 0, err
    assert (xlstart / "yibao.xlam").read_bytes() == build.build_bytes()
    assert "已安装加载项" in out and "重新启动 Excel" in out
    values = install.read_conf(conf)
    assert values["SHOW CONSOLE"] == "True"  # other settings kept
    assert values["INTERPRETER_WIN"] == install.interpreter()

    code, out, err = _run(capsys, "install")
    assert code == 0 and "已更新加载项" in out

    code, out, err = _run(capsys, "status")
    assert "与当前版本一致" in out

    code, out, err = _run(capsys, "remove")
    assert code == 0 and "已删除加载项" in out
    assert not (xlstart / "yibao.xlam").exists()
    assert install.read_conf(conf) == {"SHOW CONSOLE": "True"}
    code, out, err = _run(capsys, "remove")
    assert code == 0 and "无需删除" in out


def test_fallback_sets_up_the_stock_xlwings_addin(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(install.sys, "platform", "win32")
    monkeypatch.setenv("APPDATA", str(tmp_path / "Roaming"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "me"))
    xlstart = tmp_path / "Roaming" / "Microsoft" / "Excel" / "XLSTART"
    _run(capsys, "install")
    code, out, err = _run(capsys, "fallback", "--vba-dir", tmp_path / "vba")
    assert code == 0, err
    stock = build.xlwings_dir() / "addin" / "xlwings.xlam"
    assert (xlstart / "xlwings.xlam").read_bytes() == stock.read_bytes()
    assert not (xlstart / "yibao.xlam").exists()
    values = install.read_conf(tmp_path / "me" / ".xlwings" / "xlwings.conf")
    assert values["UDF Modules"] == "yibao.addin.udfs"
    for name in install.FALLBACK_FILES:
        written = (tmp_path / "vba" / name).read_bytes().decode("gbk")
        assert written.replace("\r\n", "\n") == build.source(name)
    assert "docs/windows.md" in out


def test_mac_locations(monkeypatch):
    monkeypatch.setattr(install.sys, "platform", "darwin")
    platform = install.detect()
    assert platform.system == "mac"
    assert platform.xlstart.parts[-3:] == ("User Content.localized", "Startup.localized", "Excel")
    assert platform.conf_file.name == "yibao.conf"
    assert "com.microsoft.Excel" in str(platform.conf_file)
    assert platform.interpreter_key == "INTERPRETER_MAC"


def test_addin_help_is_chinese_and_english(capsys):
    with pytest.raises(SystemExit):
        _run(capsys, "build", "--help")
    out = capsys.readouterr().out
    assert "输出文件" in out and "output file" in out



def test_every_ribbon_button_reaches_a_real_function():
    """Each button's module imports and has what macros/ribbon.py calls on it
    (a button whose module is missing could only ever show an error)."""
    import importlib
    ribbon_py = importlib.import_module("yibao.macros.ribbon")
    for action, (module_name, _label) in ribbon_py.ACTIONS.items():
        module = importlib.import_module(module_name)
        entry = ("new_ledger" if action == "new_ledger"
                 else "ribbon" if action in ribbon_py.OWN_RIBBON else "run")
        assert callable(getattr(module, entry)), action


def test_new_ledger_button_writes_the_plans_ledger_beside_the_workbook_never_over_a_file(tmp_path):
    import shutil
    from pathlib import Path

    import openpyxl
    from yibao.macros.book import FileBook
    from yibao.templates.ribbon import new_ledger

    source = Path(__file__).resolve().parent.parent / "examples" / "示例镇" / "台账" / "东山村.xlsx"
    here = tmp_path / "东山村.xlsx"
    shutil.copyfile(source, here)
    before = here.read_bytes()
    first, line = new_ledger(FileBook(here))
    assert first == tmp_path / "参保缴费台账-东山村.xlsx" and "shili-2026" in line
    second, _ = new_ledger(FileBook(here))
    assert second == tmp_path / "参保缴费台账-东山村-2.xlsx"
    ws = openpyxl.load_workbook(second).worksheets[0]
    texts = [c.value for row in ws.iter_rows(max_row=3) for c in row if c.value]
    assert "shili-2026" in texts and any("示例镇" in str(t) and "东山村" in str(t) for t in texts)
    assert here.read_bytes() == before
