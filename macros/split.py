"""`yibao split LIST` (issue 14, command 4): one workbook per village to verify.

LIST is any of our lists (缴费比对结果 of ``yibao reconcile``, the chase list of
``yibao renewal``, 应参未参名单) or a plain list with a 村 column. Each sheet's
header row and village column are found by the one header scanner
(:func:`yibao.macros.table.find_table`, names in ``functions/headers.toml``);
a sheet with person rows but no village column belongs to one village when
its name says so (``催缴-东山村``) or its 填报单位 line does (a ledger). Sheets without person rows (汇总,
分村统计) are not split and are named in the result line.

Each village gets ``<村>.xlsx`` in the output folder (default
``<LIST stem>-分村/`` beside LIST): per list sheet its rows with every column,
then 核实结果 (a dropdown of reasons fitting the sheet) and 核实说明 (free
text), the only unlocked cells of a protected sheet (no password:
审阅 → 撤销工作表保护); a hidden column 核对编号 (``<sheet no>-<source row>``)
lets ``yibao gather`` match a row back after the village sorted the sheet.
A very hidden sheet (:data:`MANIFEST`) keeps what was sent: the split's id,
the villages and their row counts, each sheet's columns and reasons, and
this village's rows as sent (never another village's). Rows without a
village go to ``未分村.xlsx``. Counts tie: person rows read = rows written.

IDs stay whole (village agents verify people by them); the result line and
logs carry none. LIST is only read.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import re
from pathlib import Path
from typing import Any

from . import book as books
from .table import TableError, cell_text, column_name, field_of, find_table, is_blank

__all__ = ["RESULT", "NOTE", "KEY", "MANIFEST", "UNASSIGNED", "ListSheet", "read_lists", "reasons_for",
           "split_book", "run", "ribbon", "add_parser"]

RESULT = "核实结果"
NOTE = "核实说明"
KEY = "核对编号"
#: the very hidden sheet that records what was sent
MANIFEST = "_yibao拆分"
MAGIC = "yibao拆分"
UNASSIGNED = "未分村"

#: the 核实结果 dropdown per kind of sheet: the answers a village agent gives
#: for the rows of that sheet; matched by sheet name (exact, then the part
#: before "-": 催缴-东山村 → 催缴), else :data:`GENERAL`
REASONS: dict[str, tuple[str, ...]] = {
    # yibao reconcile (缴费比对结果)
    "已缴费未登记台账": ("已补录台账", "非本村人员", "重复登记", "其他"),
    "台账已缴费导出无记录": ("已缴费有凭证", "未缴费已督促", "已更正台账", "其他"),
    "金额与应缴不符": ("已更正身份类别", "已补缴差额", "已办理退费", "金额无误", "其他"),
    "重复缴费": ("已办理退费", "非重复缴费", "其他"),
    "在外地缴费": ("异地参保", "已更正台账", "其他"),
    "台账未记缴费": ("已更正台账", "其他"),
    "台账身份证号有误": ("已更正身份证号", "号码无误", "其他"),
    "姓名不一致": ("已更正台账姓名", "导出姓名有误", "其他"),
    # yibao renewal (续保催缴名单)
    "催缴": ("已缴费", "承诺缴费", "职工医保", "异地参保", "在校学生", "服兵役", "死亡", "迁出",
           "联系不上", "拒缴", "其他"),
    "不需催缴": ("情况属实", "已更正台账", "已缴费", "其他"),
    "待核实": ("已缴费", "已更正台账", "职工医保", "异地参保", "死亡", "迁出", "其他"),
}
#: the dropdown of any other list (应参未参名单, a plain list)
GENERAL = ("已缴费", "已补录", "职工医保", "异地参保", "在校学生", "服兵役", "死亡", "迁出", "拒缴", "其他")


def reasons_for(sheet: str) -> tuple[str, ...]:
    """The 核实结果 dropdown of a sheet, by its name.

    >>> reasons_for("催缴-东山村")[:2], reasons_for("重复缴费"), reasons_for("名单")[0]
    (('已缴费', '承诺缴费'), ('已办理退费', '非重复缴费', '其他'), '已缴费')
    """
    return REASONS.get(sheet) or REASONS.get(sheet.split("-")[0]) or GENERAL


@dataclasses.dataclass
class ListSheet:
    """One sheet of LIST with person rows: its titles, header rows (as
    read), and the rows as (1-based source row, values, village or "")."""
    name: str
    titles: list[str]
    header: list[list[Any]]
    rows: list[tuple[int, list[Any], str]]
    width: int
    reasons: tuple[str, ...]
    whole_village: str = ""      # the village the sheet's name gives (催缴-东山村)


_VILLAGE_WORD = re.compile(r"(村|社区|居委会|街道|村委会)$")


def _not_a_village(text: str) -> bool:
    """Our placeholders (（不在台账）, （未填村名）) and totals are not villages."""
    return not text or (text[0] in "（(" and text[-1] in "）)") or text in ("合计", "小计", "总计")


def _header_start(grid: list[list[Any]], table) -> int:
    """0-based first header row (the row whose texts the scanner found)."""
    last = table.header_row - 1
    for r in (last, last - 1):
        if r >= 0 and [cell_text(v) for v in grid[r] if not is_blank(v)] == table.found:
            return r
    return last


def read_lists(grids: dict[str, list[list[Any]]]) -> tuple[list[ListSheet], list[str]]:
    """The list sheets of a workbook, and the names of the sheets passed
    over (no person rows: 汇总, 分村统计, our own manifest). Raises
    TableError (a sheet with two ID columns)."""
    sheets, skipped = [], []
    for name, grid in grids.items():
        if name.startswith("_"):              # hidden helper sheets (_选项, _yibao标注, our record)
            continue
        try:
            table = find_table(name, grid, required=())
        except TableError as exc:
            if type(exc).__name__ == "AmbiguousColumns":
                raise
            skipped.append(name)
            continue
        if "name" not in table.columns and "id_no" not in table.columns or not table.rows:
            skipped.append(name)
            continue
        start = _header_start(grid, table)
        width = max(len(grid[r]) for r in range(start, table.header_row))
        while width > 1 and all(is_blank(grid[r][width - 1]) for r in range(start, table.header_row)
                                if width - 1 < len(grid[r])):
            width -= 1
        titles = [" ".join(cell_text(v) for v in grid[r] if not is_blank(v)) for r in range(start)]
        titles = [t for t in titles if t]
        vcol = table.columns.get("village")
        whole = ""
        if vcol is None and "-" in name:
            tail = name.split("-", 1)[1].strip()
            if _VILLAGE_WORD.search(tail):
                whole = tail
        if vcol is None and not whole:
            from .town import village_of_sheet      # a ledger's 填报单位 line (填报单位：示例镇　东山村)
            whole = village_of_sheet(grid)
        rows = []
        for row in table.rows:
            raw = grid[row.number - 1]
            values = [_plain(raw[c]) if c < len(raw) else None for c in range(width)]
            village = cell_text(row.values.get("village")) if vcol else whole
            rows.append((row.number, values, "" if _not_a_village(village) else village))
        sheets.append(ListSheet(name, titles, [[_plain(v) for v in grid[r][:width]] + [None] * (width - len(grid[r]))
                                               for r in range(start, table.header_row)],
                                rows, width, reasons_for(name), whole))
    return sheets, skipped


def _plain(value):
    """A cell as written back: blanks None, whole floats int, midnight datetimes dates."""
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date()
    return value


def _units(value) -> float:
    text = cell_text(value)
    return sum(2.0 if ord(ch) > 0x2E7F else 1.1 for ch in text)


#: Excel column widths: 核实结果 and 核实说明 each, and what a sheet may have in all to print on
#: one A4 landscape page width at a readable size (books.FIT_LIMIT of the printable width)
RESULT_WIDTH = 11.0
PAGE_UNITS = 118.0


def _fit_widths(header: list, body: list[list], budget: float = PAGE_UNITS - 2 * RESULT_WIDTH,
                floor: float = 8.0) -> dict[int, float]:
    """Column widths (Excel units) of the list's columns: each as wide as
    its widest cell (the header may wrap onto two lines), the widest text
    columns narrowed until the sheet with 核实结果 and 核实说明 fits the page
    width (their text wraps when printed); ID columns keep their 18 digits."""
    widths, keep = {}, set()
    for c, head in enumerate(header):
        widest = max((_units(r[c]) for r in body if c < len(r)), default=0)
        widths[c + 1] = max(4.0, min(30.0, max(widest, _units(head) if _units(head) <= 10 else max(10.0, _units(head) / 2)) + 1))
        if field_of(cell_text(head)) == "id_no":
            keep.add(c + 1)
    # first the columns of Chinese text (they wrap between any two characters), then the others
    cjk = {c + 1 for c in range(len(header))
           if any(any(ord(ch) > 0x2E7F for ch in cell_text(r[c])) for r in body if c < len(r))}
    for pool, least in ((cjk, max(floor, 14.0)), (set(widths), floor)):
        while sum(widths.values()) > budget:
            narrow = [c for c in pool if c not in keep and widths[c] > least]
            if not narrow:
                break
            widths[max(narrow, key=lambda c: widths[c])] -= 0.5
    return widths


def _safe_name(village: str) -> str:
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", village).strip(" .") or "村"


def split_id(list_name: str, data: bytes | None) -> str:
    """The id of one split: the list's name and content and the time, hashed (12 hex)."""
    h = hashlib.sha256(list_name.encode())
    h.update(data or b"")
    h.update(datetime.datetime.now().isoformat().encode())
    return h.hexdigest()[:12]


def _full_ids(ls: ListSheet, rows) -> bool:
    """Whether the rows show whole ID numbers (renewal's chase list masks them)."""
    cols = [c for c, h in enumerate(ls.header[-1]) if field_of(cell_text(h)) == "id_no"]
    return any(len(cell_text(values[c])) >= 15 and "*" not in cell_text(values[c])
               for _r, values, *_v in rows for c in cols)


def _village_sheet(ls: ListSheet, village: str, rows: list[tuple[int, list, str]]) -> books.OutSheet:
    """The sheet a village fills: titles, the list's header and this
    village's rows, 核实结果 and 核实说明 (fill colour: the cells to fill)."""
    width = ls.width
    source_title = ls.titles[0] if ls.titles else ls.name
    whole = _full_ids(ls, rows)
    titles = [(ls.name if village in ls.name else f"{village}：{ls.name}") + f"（{len(rows)}行）",
              f"请在“{RESULT}”列下拉选择，需要说明的写在“{NOTE}”列；其他列是系统数据，请勿修改。"
              + ("含完整身份证号，" if whole else "") + "只供本村核实，请勿外传"]
    if ls.titles[1:] or source_title != ls.name:
        titles.insert(1, "；".join(ls.titles[1:]) or source_title)
    header = [list(h) + [None, None] for h in ls.header]
    header[-1][width:width + 2] = [RESULT, NOTE]
    body = [list(values) + [None, None] for _r, values, _v in rows]
    all_rows = [[t] for t in titles] + header + body
    widths = _fit_widths(header[-1][:width], body)
    widths[width + 1] = RESULT_WIDTH
    widths[width + 2] = RESULT_WIDTH
    top = len(titles) + len(header)
    fills = {}
    for r in range(top + 1, top + len(body) + 1):
        fills[(r, width + 1)] = fills[(r, width + 2)] = "FFFFF2CC"
    last = column_name(width + 2)
    return books.OutSheet(ls.name, all_rows, header_rows=len(header), title_rows=len(titles),
                          widths=widths, fills=fills, merges=[f"A{i}:{last}{i}" for i in range(1, len(titles) + 1)])


def _manifest_rows(sid: str, list_name: str, village: str, counts: dict[str, int],
                   sheets: list[ListSheet], titles: list[str], mine: dict[int, list]) -> list[list]:
    rows: list[list] = [[MAGIC, sid, list_name, village, datetime.datetime.now().isoformat(timespec="seconds"),
                         sum(counts.values())]]
    for v, n in counts.items():
        rows.append(["村", v, n])
    for i, ls in enumerate(sheets, 1):
        rows.append(["表", i, ls.name, titles[i - 1], "、".join(ls.reasons)])
        rows.append(["列", i, *[cell_text(v) for v in ls.header[-1]]])
    for i, ls in enumerate(sheets, 1):
        for source_row, values in mine.get(i, []):
            rows.append(["行", f"{i}-{source_row}", i, source_row, *values])
    return rows


def _write_village(path: Path, sheets: list[tuple[ListSheet, books.OutSheet, list[str]]], manifest: list[list]):
    """One village workbook (openpyxl: data validation and protection)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill, Protection
    from openpyxl.worksheet.datavalidation import DataValidation
    wb = Workbook()
    wb.remove(wb.active)
    titles = books._sheet_titles([out.name for _ls, out, _k in sheets])
    for title, (ls, out, keys) in zip(titles, sheets):
        ws = wb.create_sheet(title)
        books._fill_sheet(ws, out)
        width = ls.width
        first = out.title_rows + out.header_rows + 1
        last = first + len(keys) - 1
        header_row = out.title_rows + out.header_rows
        for c in (width + 1, width + 2):
            ws.cell(header_row, c).fill = PatternFill("solid", fgColor="FFFFD966")
        key_col = width + 3
        ws.cell(header_row, key_col, KEY).font = Font(bold=True)
        for r, key in enumerate(keys, first):
            ws.cell(r, key_col, key)
            for c in (width + 1, width + 2):
                ws.cell(r, c).protection = Protection(locked=False)
        ws.column_dimensions[column_name(key_col)].hidden = True
        if keys:
            dv = DataValidation(type="list", formula1='"' + ",".join(ls.reasons) + '"', allow_blank=True,
                                showErrorMessage=True, showInputMessage=True, errorTitle="核实结果",
                                error="请从下拉列表中选择；列表里没有的情况选“其他”，并在核实说明中写明",
                                promptTitle="核实结果", prompt="请从下拉列表中选择")
            dv.add(f"{column_name(width + 1)}{first}:{column_name(width + 1)}{last}")
            ws.add_data_validation(dv)
            ws.auto_filter.ref = f"A{header_row}:{column_name(width + 2)}{last}"
        p = ws.protection
        p.sheet = True
        p.formatColumns = p.formatRows = p.autoFilter = p.sort = False
    hidden = wb.create_sheet(MANIFEST)
    for r, row in enumerate(manifest, 1):
        for c, value in enumerate(row, 1):
            if value is not None:
                books._put(hidden.cell(r, c), value)
    hidden.sheet_state = "veryHidden"
    hidden.protection.sheet = True
    wb.active = 0
    wb.properties.creator = "yibao"
    books.atomic_save(wb, path, backup=False)


def split_book(grids: dict[str, list[list[Any]]], list_path: Path, out_dir: Path | None = None,
               data: bytes | None = None) -> str:
    """Split the workbook ``grids`` (read from ``list_path``) into one
    workbook per village in ``out_dir``; return the Chinese result line.
    Raises BookError (no list sheet, no village column, files already in
    the way) — nothing is written then."""
    list_path = Path(list_path)
    if MANIFEST in grids:
        raise books.BookError(f"“{list_path.name}”是拆分出的村核实表，不能再拆：村里填好后请用 yibao gather 合并")
    sheets, skipped = read_lists(grids)
    taken = [ls.name for ls in sheets if any(cell_text(h) in (RESULT, NOTE, KEY) for h in ls.header[-1])]
    if taken:
        raise books.BookError(f"“{list_path.name}”的“{taken[0]}”表已有“{RESULT}”等列（可能是合并后的核实汇总）："
                              "请拆原来的名单，或先把这些列改名")
    if not sheets:
        raise books.BookError(f"“{list_path.name}”里找不到名单（需要“姓名”或“身份证号”列和“村”列）")
    if not any(ls.rows and any(v for _r, _vals, v in ls.rows) for ls in sheets):
        raise books.BookError(f"“{list_path.name}”的名单没有“村”列（也认“村（社区）”“村名”等列名），无法分村")
    out_dir = Path(out_dir) if out_dir else list_path.with_name(f"{list_path.stem}-分村")
    per: dict[str, dict[int, list]] = {}
    for i, ls in enumerate(sheets, 1):
        for source_row, values, village in ls.rows:
            per.setdefault(village or UNASSIGNED, {}).setdefault(i, []).append((source_row, values))
    order = sorted(per, key=lambda v: (v == UNASSIGNED, v))
    counts = {v: sum(len(rows) for rows in per[v].values()) for v in order}
    targets = {v: out_dir / f"{_safe_name(v)}.xlsx" for v in order}
    if len(set(targets.values())) < len(targets):
        raise books.BookError("有两个村的名称只差特殊符号，文件名会重复：请先改正名单中的村名")
    existing = [p.name for p in targets.values() if p.exists()]
    if existing:
        raise books.BookError(f"文件夹“{out_dir.name}”里已有{'、'.join(existing[:3])}等文件（可能是村里交回的），"
                              "为免覆盖已停止：请用 --out 换一个文件夹，或先把它们移走")
    out_dir.mkdir(parents=True, exist_ok=True)
    sid = split_id(list_path.name, data)
    titles = books._sheet_titles([ls.name for ls in sheets])
    for v in order:
        parts = []
        for i, ls in enumerate(sheets, 1):
            mine = per[v].get(i)
            if not mine:
                continue
            rows = [(r, vals, v) for r, vals in mine]
            parts.append((ls, _village_sheet(ls, v, rows), [f"{i}-{r}" for r, _vals in mine]))
        _write_village(targets[v], parts, _manifest_rows(sid, list_path.name, v, counts, sheets, titles, per[v]))
    total = sum(len(ls.rows) for ls in sheets)
    written = sum(counts.values())
    named = [v for v in order if v != UNASSIGNED]
    line = (f"已把“{list_path.name}”的{len(sheets)}张名单共{total}行分成{len(named)}个村的核实表："
            + "、".join(f"{v}{counts[v]}行" for v in named))
    if UNASSIGNED in counts:
        line += f"；{counts[UNASSIGNED]}行没有村名，放在“{UNASSIGNED}.xlsx”"
    line += f"；合计{written}行，" + ("与原表相符" if written == total else "与原表不符，请报告此问题")
    if skipped:
        line += f"；{'、'.join(skipped)}不是人员名单，未拆分"
    full = any(_full_ids(ls, ls.rows) for ls in sheets)
    return line + f"；结果在“{out_dir.name}”文件夹，每村一个文件，" + ("含完整身份证号，" if full else "") + "只发给本村代办员"


def run(path, out_dir=None) -> str:
    """Split the list file ``path`` (read only)."""
    path = Path(path)
    if not path.exists():
        raise books.BookError(f"找不到文件“{path.name}”")
    grids = books.read_grid_any(path)
    return split_book(grids, path, out_dir, path.read_bytes())


def ribbon(live, workbook, pick_files=None) -> str:
    """The ribbon button: split the workbook the button was pressed in
    (as saved at ``workbook``); the villages' files go beside it."""
    workbook = Path(workbook)
    data = workbook.read_bytes() if workbook.exists() else None
    return split_book(live.grids(), workbook, None, data)


def cmd_split(args) -> int:
    print(run(args.list, args.out))
    return 0


def add_parser(sub):
    p = sub.add_parser(
        "split", help="名单分村，发村核实 / split a list into one workbook per village",
        description="把缴费比对结果、续保催缴名单、应参未参名单或任何带“村”列的名单按村拆开，每村一个工作簿："
                    "本村的行、可下拉选择的“核实结果”列和“核实说明”列（只有这两列可填，其他列受保护）。"
                    "原名单不改动。村里填好交回后用 yibao gather 合并。"
                    " Writes one workbook per village; the list is only read.")
    p.add_argument("list", help="名单文件（只读） / the list workbook (read only)")
    p.add_argument("--by", default="村", choices=["村"], help="按什么拆分（目前只按村） / split by village")
    p.add_argument("--out", help="输出文件夹（默认名单旁的“名单名-分村”） / output folder")
    p.set_defaults(func=cmd_split)
