"""The page's forms, read from the command line's own argparse parsers.

Each action the page offers is a ``yibao`` subcommand (the ribbon's
buttons, :data:`yibao.macros.commands.ACTION_MODULES` and ``template new``
for 新建台账); its arguments become fields: positional arguments and the
list options (--lists, --deceased, …) are files, ``-o`` is a file name in
the app's results folder, ``store_true`` options are check boxes, the rest
text. A command another module adds to ACTION_MODULES appears here with no
page code. :func:`argv` turns the page's answers back into the argv the
command line would be given.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path

#: the page's order of the season; commands not listed follow in ACTION_MODULES order
SEASON = ["new_ledger", "dedupe", "refresh", "validate", "reconcile", "quota", "progress", "reward",
          "summary", "notice", "renewal"]

#: labels for commands the ribbon has no button for (else the help's first words)
LABELS = {"reconcile": "缴费比对", "renewal": "续保催缴"}
#: options whose values are files (besides every positional argument)
FILE_OPTIONS = {"deceased", "employee", "roster", "lists", "others", "last", "this", "last_export", "export",
                "elsewhere"}
#: the folder a command writes several files into (split's --out): a name in the app's results folder,
#: by default the command's own "名单名-分村"
FOLDER_OUTPUTS = {"out": "{stem}-分村"}
#: options the page sets itself: the plan (chosen once at the top) and the output (results folder)
PLAN, OUTPUT = "policy", "output"
#: file kinds an action reads, for the file pickers
READABLE = (".xlsx", ".xlsm", ".xls", ".csv", ".txt", ".et")


@dataclass
class Field:
    dest: str
    label: str              # Chinese help, as the command line gives it
    kind: str               # files | file | flag | text | int | output | outdir
    option: str | None      # the option string, None for positional
    required: bool
    multiple: bool
    repeat: bool = False    # an append option: the option written before each file
    inplace: bool = False   # an -o the command may go without: it then writes into the input workbook
    folders: bool = False   # the command takes a folder here as it is (else the page lists its files)
    choices: list | None = None
    fixed: str | None = None

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Action:
    id: str
    command: list[str]      # the subcommand words, e.g. ["template", "new"]
    label: str
    help: str
    fields: list[Field] = field(default_factory=list)
    plan: bool = False      # takes --policy
    plan_required: bool = False

    def to_json(self) -> dict:
        return {"id": self.id, "label": self.label, "help": self.help, "plan": self.plan,
                "plan_required": self.plan_required, "fields": [f.to_json() for f in self.fields]}


def _chinese(text: str | None) -> str:
    """The Chinese half of a bilingual help text ("中文 / English")."""
    text = (text or "").split(" / ")[0].strip()
    return re.sub(r"\s+[A-Z][A-Za-z ,.'()\-;:]+$", "", text)


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            return dict(a.choices)
    return {}


def _helps(parser: argparse.ArgumentParser) -> dict[str, str]:
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            return {c.dest: c.help for c in a._choices_actions}
    return {}


def _fields(parser: argparse.ArgumentParser, fixed: dict[str, str]) -> list[Field]:
    out = []
    for a in parser._actions:
        if isinstance(a, (argparse._HelpAction, argparse._VersionAction)) or a.dest == PLAN:
            continue
        if any(f.dest == a.dest for f in out):
            continue                    # a second spelling of an option (--deaths for --deceased): one box
        positional = not a.option_strings
        option = None if positional else max(a.option_strings, key=len)
        multiple = a.nargs in ("+", "*") or isinstance(a, argparse._AppendAction)
        if a.dest in fixed:
            kind = "fixed"
        elif isinstance(a, argparse._StoreTrueAction):
            kind = "flag"
        elif a.dest == OUTPUT:
            kind = "output"
        elif a.dest in FOLDER_OUTPUTS:
            kind = "outdir"
        elif a.type is int:
            kind = "int"
        elif a.dest == "date":
            kind = "date"
        elif a.choices:
            kind = "text"
        elif positional or a.dest in FILE_OPTIONS:
            kind = "files" if multiple else "file"
        else:
            kind = "text"
        label = _chinese(a.help) or a.dest
        if kind == "outdir" or kind == "output" and "默认写入" not in (a.help or ""):
            # the command's default place (beside a file, the working folder) is not where the page writes
            label = re.sub(r"[（(]默认[^）)]*[）)]", "", label).strip() or label
        out.append(Field(a.dest, label, kind, option,
                         a.nargs not in ("*", "?") if positional else bool(a.required), multiple,
                         isinstance(a, argparse._AppendAction), kind == "output" and "默认写入" in (a.help or ""),
                         kind in ("file", "files") and "文件夹" in (a.help or "") + (a.metavar or ""),
                         [str(c) for c in a.choices] if a.choices and kind == "text" else None,
                         fixed.get(a.dest)))
    return out


def actions(parser: argparse.ArgumentParser | None = None) -> dict[str, Action]:
    """Every action the page offers, in the season's order."""
    from yibao.cli import build_parser
    from yibao.macros.commands import ACTION_MODULES
    from yibao.macros.ribbon import ACTIONS as RIBBON
    parser = parser or build_parser()
    commands = _subparsers(parser)
    helps = _helps(parser)
    labels = {aid: label for aid, (_module, label) in RIBBON.items()}
    found: dict[str, Action] = {}
    if "template" in commands and "new" in _subparsers(commands["template"]):
        sub = _subparsers(commands["template"])["new"]
        found["new_ledger"] = Action("new_ledger", ["template", "new"], labels.get("new_ledger", "新建台账"),
                                     "按所选方案生成一个新的参保缴费台账（带实时校验的Excel表格）",
                                     _fields(sub, {"form": "ledger"}), plan=True, plan_required=True)
    for name in ACTION_MODULES:
        if name not in commands:
            continue                    # a module not written yet
        sub = commands[name]
        plan = any(a.dest == PLAN for a in sub._actions)
        label = labels.get(name) or LABELS.get(name) or re.split(r"[：:（(]", _chinese(helps.get(name)))[0]
        found[name] = Action(name, [name], label, _chinese(sub.description) or _chinese(helps.get(name)),
                             _fields(sub, {}), plan=plan)
    order = {aid: i for i, aid in enumerate(SEASON)}
    return dict(sorted(found.items(), key=lambda kv: order.get(kv[0], len(order))))


def default_name(action: Action, values: dict) -> str:
    if action.id == "new_ledger":
        return f"{(values.get('village') or '').strip()}参保缴费台账.xlsx"
    return f"{action.label}结果.xlsx"


def expand(paths: list[Path]) -> list[Path]:
    """Files given as folders become the folder's spreadsheets (sorted), as
    ``台账/*.xlsx`` would on the command line, less the backups the commands
    leave beside a file and the lock files of open workbooks (which the
    commands would skip with a note)."""
    from yibao.atomic import is_backup, is_lock_file
    out = []
    for p in paths:
        if p.is_dir():
            out += sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() in READABLE
                          and not is_backup(q) and not is_lock_file(q) and not q.name.startswith("."))
        else:
            out.append(p)
    return out


def argv(action: Action, values: dict, plan: str | None, output_folder: Path) -> list[str]:
    """The command line for ``action`` with the page's ``values``
    ({dest: str | bool | [path, …]}; paths already checked and expanded).
    ``-o`` names are taken as file names in ``output_folder``."""
    from yibao.cli import UserError
    args = list(action.command)
    options: list[str] = []
    for f in action.fields:
        value = values.get(f.dest)
        if f.kind == "fixed":
            args.append(f.fixed)
            continue
        if f.kind == "flag":
            if value:
                options.append(f.option)
            continue
        if f.kind == "output":
            name = (value or "").strip()
            if not name and not f.inplace:  # never the command's own default (beside a file, or the working folder)
                name = default_name(action, values)
            if name:
                name = Path(name).name      # only a name: the folder is the app's
                if not name.lower().endswith((".xlsx", ".xlsm")):
                    name += ".xlsx"
                options += [f.option, str(output_folder / name)]
            continue
        if f.kind == "outdir":        # never a folder the page names: a folder in the results folder
            name = Path(str(value or "").strip()).name
            if name in ("", ".", ".."):
                first = next((values[g.dest] for g in action.fields if g.kind in ("file", "files") and values.get(g.dest)),
                             [])
                name = FOLDER_OUTPUTS[f.dest].format(stem=Path(str(first[0])).stem if first else action.label)
            options += [f.option, str(output_folder / name)]
            continue
        if f.kind in ("files", "file"):
            items = [str(v) for v in (value or [])]
            if not items:
                if f.required:
                    raise UserError(f"请先选择：{f.label}")
                continue
            if f.kind == "file" and len(items) > 1:
                raise UserError(f"“{f.label}”只能选一个文件，现在选了{len(items)}个")
            if f.option is None:
                args += items
            elif f.repeat:
                for item in items:
                    options += [f.option, item]
            else:
                options += [f.option, *items]
            continue
        text = str(value).strip() if value not in (None, "") else ""
        if text and f.repeat:           # --fix 东山村=3 --fix 西河村=5, typed as one line
            for item in re.split(r"[;；,，\s]+", text):
                if item:
                    options += [f.option, item]
        elif text:
            options += [f.option, text] if f.option else [text]
        elif f.required:
            raise UserError(f"请填写：{f.label}")
    if action.plan and plan:
        options += ["--policy", plan]
    elif action.plan_required:
        raise UserError(f"{action.label}要先在页面上方选择方案")
    # options first: a positional list (nargs="+") would swallow what follows it
    return args[:len(action.command)] + options + ["--"] + args[len(action.command):] \
        if len(args) > len(action.command) else args + options

