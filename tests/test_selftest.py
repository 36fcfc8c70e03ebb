"""``yibao addin selftest`` against a recording stand-in for xlwings (issue 13
item 9): the command's logic, on Linux. The stand-in plays an Excel where
the add-in works (a function cell shows what our function gives, a button
writes its line), and can be told to break one function or one button."""

from __future__ import annotations

import datetime
import json
import re
import types
from pathlib import Path

import pytest

from yibao.addin import build, selftest
from yibao.functions.udf import REGISTRY
from yibao.macros.ribbon import ACTIONS

SIZES = (12, 30)


class FakeExcel:
    """Records every call the self-test makes; answers like a working Excel."""

    def __init__(self, broken_functions=(), action_lines=None, refuse_addin=False):
        self.calls: list[tuple] = []
        self.broken = set(broken_functions)
        self.action_lines = action_lines or {}
        self.refuse_addin = refuse_addin
        self.samples = {text: (name, args) for name, (text, args) in selftest.function_samples().items()}
        self.now = 0.0

    def clock(self):
        self.now += 0.01
        return self.now

    def module(self):
        excel = self

        class Range:
            def __init__(self, address):
                self.address = address
                self._formula = None
                outer = self

                class Api:
                    def __setattr__(self, name, value):
                        excel.calls.append(("api." + name, outer.address, value))
                self.api = Api()

            @property
            def formula(self):
                return self._formula

            @formula.setter
            def formula(self, text):
                excel.calls.append(("formula", self.address, text))
                self._formula = text

            @property
            def value(self):
                name, args = excel.samples[self._formula]
                if name in excel.broken:
                    return "#NAME?"
                value = selftest.expected(name, args)
                if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
                    value = datetime.datetime(value.year, value.month, value.day)
                return float(value) if isinstance(value, int) and not isinstance(value, bool) else value

        class Sheet:
            def range(self, address):
                return Range(address)

        class Book:
            def __init__(self, name):
                self.name = name
                self.sheets = [Sheet()]

            def close(self):
                excel.calls.append(("close", self.name))

            def activate(self):
                excel.calls.append(("activate", self.name))

        class Books(list):
            def open(self, path):
                excel.calls.append(("open", Path(path).name))
                if excel.refuse_addin and path.endswith(".xlam"):
                    raise RuntimeError("(-2147352567, '发生意外。')")
                book = Book(Path(path).name)
                self.append(book)
                return book

            def add(self):
                excel.calls.append(("add",))
                return Book("工作簿1")

        class Api:
            def Run(self, macro, code):                       # noqa: N802
                excel.calls.append(("Run", macro, code))
                action = re.search(r"r\.run\('(\w+)'", code).group(1)
                report = re.search(r"report=r'([^']+)'", code).group(1)
                line = excel.action_lines.get(action, f"{ACTIONS[action][1]}：已完成（模拟）")
                Path(report).write_text(line, encoding="utf-8")

            def CalculateFull(self):                          # noqa: N802
                excel.calls.append(("CalculateFull",))

        class App:
            version = "16.0"

            def __init__(self, visible=None, add_book=None):
                excel.calls.append(("App", visible, add_book))
                self.books = Books()
                self.api = Api()
                self.display_alerts = True

            def calculate(self):
                excel.calls.append(("calculate",))

            def quit(self):
                excel.calls.append(("quit",))

        return types.SimpleNamespace(App=App, __version__="0.37.8")


@pytest.fixture(scope="module")
def addin_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("xlstart") / "yibao.xlam"
    path.write_bytes(build.build_bytes())
    return path


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    """The synth town, made once (the self-test makes it when missing)."""
    from yibao import synth
    folder = tmp_path_factory.mktemp("work")
    synth.write(synth.town(1000), folder / "示例镇")
    return folder


def _run(excel: FakeExcel, workdir: Path, addin: Path) -> dict:
    return selftest.selftest(excel.module(), workdir, addin=addin, sizes=SIZES, clock=excel.clock,
                             progress=lambda *_: None)


def test_every_function_every_button_and_both_recalculations(town, addin_file):
    excel = FakeExcel()
    report = _run(excel, town, addin_file)
    checks = report["checks"]
    # every function entered, as the formula the checklist asks for, and read back
    assert report["functions_tested"] == report["functions_expected"] == sorted(REGISTRY)
    entered = [c[2] for c in excel.calls if c[0] == "formula"]
    assert entered == [text for text, _args in selftest.function_samples().values()]
    assert all(c["ok"] for c in checks if c["group"] == "函数")
    # every button: through the add-in's RunPython, with the command the button runs
    runs = [c for c in excel.calls if c[0] == "Run"]
    commands = selftest.ribbon_commands()
    assert {c[1] for c in runs} == {"'yibao.xlam'!RunPython"}
    assert len(runs) == len(ACTIONS) - len(selftest.MANUAL_ACTIONS)
    for _run_, _macro, code in runs:
        action = re.search(r"r\.run\('(\w+)'", code).group(1)
        assert code.startswith(commands[action][:-1])
    buttons = {c["name"]: c for c in checks if c["group"] == "功能区"}
    assert set(buttons) == {label for _m, label in ACTIONS.values()}
    manual = {ACTIONS[a][1] for a in selftest.MANUAL_ACTIONS}
    assert "合并资助名单" in manual and "缴费比对" in manual
    assert all(buttons[n]["ok"] is None for n in manual)        # a dialog: left to the person
    assert all(c["ok"] for n, c in buttons.items() if n not in manual)
    # recalculation timed at each size, per cell and per column
    assert [c[0] for c in excel.calls].count("CalculateFull") == 2 * len(SIZES)
    recalc = [(c["data"]["rows"], c["data"]["form"]) for c in checks if c["group"] == "重算"]
    assert recalc == [(n, form) for n in SIZES for form in ("cell", "column")]
    arrays = [c for c in excel.calls if c[0] == "api.FormulaArray"]
    assert len(arrays) == 4 * len(SIZES)                            # 4 function columns
    first, last = re.match(r"[A-Z]+(\d+):[A-Z]+(\d+)", arrays[0][1]).groups()
    assert int(last) - int(first) + 1 == SIZES[0]
    assert re.search(rf"\(F{first}:F{last},", arrays[0][2])          # the ID column as a range
    assert excel.calls[-1] == ("quit",)
    # the timed ledger: every row a fictional person, the sheet open for the array formulas
    import openpyxl
    ws = openpyxl.load_workbook(town / f"重算-{SIZES[0]}行.xlsx").worksheets[0]
    assert not ws.protection.sheet
    ids = [c.value for c in ws["F"] if isinstance(c.value, str) and c.value.startswith("430999")]
    assert len(ids) == SIZES[0]
    # the report, written
    data, text = selftest.write_report(report, town)
    assert json.loads(data.read_text(encoding="utf-8"))["checks"] == checks
    summary = text.read_text(encoding="utf-8-sig")
    assert "结论：全部通过" in summary and "需要手工确认" in summary
    assert "430999" not in summary                                  # no ID in what is sent back


def test_a_function_excel_shows_wrong_is_named_with_what_it_showed(town, addin_file):
    excel = FakeExcel(broken_functions={"PAYABLE"})
    report = _run(excel, town, addin_file)
    bad = [c for c in report["checks"] if c["ok"] is False]
    assert [c["name"] for c in bad] == ["PAYABLE"]
    assert "#NAME?" in bad[0]["detail"]
    text = selftest.summary(report)
    assert "结论：1项未通过" in text and "PAYABLE：未通过" in text


def test_a_button_that_answers_in_english_fails(town, addin_file):
    excel = FakeExcel(action_lines={"validate": "校验未完成：Traceback (most recent call last) KeyError"})
    report = _run(excel, town, addin_file)
    bad = [c["name"] for c in report["checks"] if c["ok"] is False]
    assert bad == ["校验"]


def test_an_addin_excel_will_not_open_stops_with_a_chinese_line(town, addin_file):
    excel = FakeExcel(refuse_addin=True)
    with pytest.raises(selftest.SelftestError, match="Excel 打不开加载项"):
        _run(excel, town, addin_file)
    assert ("quit",) in excel.calls                                 # Excel is not left running


def test_command_exit_codes_and_files(town, addin_file, tmp_path, capsys):
    args = types.SimpleNamespace(output=tmp_path / "报告", addin=addin_file, rows=list(SIZES))
    excel = FakeExcel(broken_functions={"MASK_ID"})
    import shutil
    shutil.copytree(town / "示例镇", tmp_path / "报告" / "示例镇")
    rc = selftest.cmd_selftest(args, xw=excel.module())
    out = capsys.readouterr().out
    assert rc == 1 and "1项未通过" in out
    assert (tmp_path / "报告" / "自检报告.json").is_file() and (tmp_path / "报告" / "自检报告.txt").is_file()
    missing = types.SimpleNamespace(output=tmp_path / "r2", addin=tmp_path / "nowhere.xlam", rows=list(SIZES))
    assert selftest.cmd_selftest(missing, xw=FakeExcel().module()) == 2
    assert "错误：没有找到已安装的加载项" in capsys.readouterr().err


def test_the_buttons_commands_are_read_from_the_addin():
    commands = selftest.ribbon_commands()
    assert set(commands) == set(ACTIONS)
    assert commands["validate"] == "import yibao.macros.ribbon as r; r.run('validate')"
