"""Build a form (:mod:`yibao.templates.spec`) for a plan into an ``.xlsx``.

The only module of ``yibao.templates`` that touches openpyxl. Builds are
deterministic: fixed document properties and zip timestamps, so building
twice gives the same bytes (with the same openpyxl).

Layout of every sheet::

    row 1   title (merged over the plan's columns)  | note over our columns
    row 2   填报单位 line                            | 方案编号 | plan id
    row 3   headers (004 附件2: rows 3–4)            | our headers
    ...     data rows; 004 附件2 in pages of 15 rows, each closed by 本页合计
    ...     合计 (where the form has totals), signature lines, 填表说明
"""

from __future__ import annotations

import datetime
import io
import dataclasses
import re
import weakref
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.cell_range import MultiCellRange
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.properties import PageSetupProperties

from yibao.functions import plan as plans
from yibao.functions.values import yuan

from . import content, native
from .spec import FORMS, NOTE_OURS, NOTE_UDF, Column, Form, Segment, form as find_form

__all__ = ["build_workbook", "build_bytes", "write_template", "build_all", "BUILT_DIR", "built_path",
           "PLAN_IDS", "LISTS_SHEET", "Layout"]

BUILT_DIR = Path(__file__).resolve().parent / "built"
PLAN_IDS = ("zaozhuang-2022", "shuangshui-2025", "xinqiao-2021", "xxzhen-2020")
LISTS_SHEET = "_选项"
FIXED_TIME = datetime.datetime(2024, 1, 1, 0, 0, 0)
PLAN_NAME = "方案编号"

FONT = "宋体"
_thin = Side(style="thin", color="000000")
_medium = Side(style="medium", color="1F4E79")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
BORDER_APART = Border(left=_medium, right=_thin, top=_thin, bottom=_thin)
UNDERLINE = Border(bottom=_thin)
FILL_OURS_INPUT = PatternFill("solid", fgColor="DDEBF7")
FILL_COMPUTED = PatternFill("solid", fgColor="EDEDED")
FILL_TOTAL = PatternFill("solid", fgColor="F2F2F2")
FILL_NOTE = PatternFill("solid", fgColor="FFF9E5")
# conditional formats
CF_BAD = dict(fill=PatternFill("solid", bgColor="FFC7CE"), font=Font(color="9C0006", bold=True))
CF_DUP = dict(fill=PatternFill("solid", bgColor="F4B183"), font=Font(color="843C0C", bold=True))
CF_WARN = dict(fill=PatternFill("solid", bgColor="FFE699"))
CF_REQUIRED = dict(fill=PatternFill("solid", bgColor="FFF2CC"))
UNLOCKED = Protection(locked=False)
LOCKED = Protection(locked=True)

FORMATS = {"id": "@", "phone": "@", "text": "@", "name": "@", "choice": "@", "sign": "@",
           "money": "0.00", "count": "0", "date": "yyyy-mm-dd", "seq": "0"}
INPUT_KINDS = {"text", "name", "id", "phone", "money", "count", "date", "choice", "sign"}
PAGE_FOOTER = "第 &P 页 共 &N 页"
#: calcPr calcId of Excel 2019, 2021 and Microsoft 365. With the formulas'
#: results stored in the file (all blank in a new form) and no fullCalcOnLoad,
#: Excel opens a template without recalculating its 1,200 function cells
#: (issue 13 item 5); an older Excel recalculates once, as for any file saved
#: by a newer version, and saves its own calcPr.
CALC_ID = 191029


def built_path(plan_id: str, form_id: str) -> Path:
    return BUILT_DIR / plan_id / f"{form_id}.xlsx"


# ---------------------------------------------------------------- layout

class Layout:
    """Where everything of one form goes on its sheet."""

    def __init__(self, form: Form, plan: plans.Plan, ctx: dict[str, str], fit: bool = True):
        if fit and form.kind == "persons" and form.foot and not form.rows_per_page:
            form = dataclasses.replace(form, rows=fitted_rows(form, plan))
        self.form = form
        self.plan = plan
        self.schedule = content.schedule_items(plan) if form.kind == "schedule" else []
        self.columns: list[Column] = list(content.columns_for(form, plan))
        self.col = {c.key: i + 1 for i, c in enumerate(self.columns)}
        self.headers = {c.key: c.header.format(**ctx) for c in self.columns}
        self.n_plan = sum(1 for c in self.columns if not c.ours)
        self.last_plan = get_column_letter(self.n_plan)
        self.two_rows = any(c.parent for c in self.columns)
        self.header_top = 3
        self.data_start = self.header_top + (2 if self.two_rows else 1)
        self.segments: list[tuple[int, int]] = []     # (first, last) data rows
        self.page_totals: list[int] = []               # rows holding 本页合计
        row = self.data_start
        if form.rows_per_page:
            pages = -(-form.rows // form.rows_per_page)
            for _ in range(pages):
                self.segments.append((row, row + form.rows_per_page - 1))
                self.page_totals.append(row + form.rows_per_page)
                row += form.rows_per_page + 1
        else:
            rows = form.rows + len(self.schedule)
            self.segments.append((row, row + rows - 1))
            row += rows
        self.total_row = row if form.total_columns else None
        self.after = (row + 1) if self.total_row else row
        self.first_data = self.segments[0][0]
        self.last_data = self.segments[-1][1]
        plan_inputs = [c for c in self.columns if not c.ours and c.kind in INPUT_KINDS and c.kind != "sign"]
        self.row_inputs = (plan_inputs[0].key, plan_inputs[-1].key) if plan_inputs else None
        #: (row, col) → the result a formula gives in the new, empty form; stored in the file
        self.cached: dict[tuple[int, int], object] = {}

    def letter(self, key: str) -> str:
        return get_column_letter(self.col[key])

    def data_rows(self):
        for first, last in self.segments:
            yield from range(first, last + 1)

    def sqref(self, key: str) -> str:
        c = self.letter(key)
        return " ".join(f"{c}{a}:{c}{b}" for a, b in self.segments)

    def column_range(self, key: str) -> str:
        c = self.letter(key)
        return f"${c}${self.first_data}:${c}${self.last_data}"

    def expand(self, formula: str, row: int) -> str:
        """A formula template for one row (see spec's module docstring)."""
        def sub(m):
            key, _, mod = m.group(1).partition(":")
            if key == "id_native":
                return self._id_native(row)
            if key == "row_inputs":
                a, b = self.row_inputs
                return f"${self.letter(a)}{row}:${self.letter(b)}{row}"
            if mod == "range":
                return self.column_range(key)
            return f"{self.letter(key)}{row}"
        text = re.sub(r"\[\[([a-z_0-9:]+)\]\]", sub, formula)
        return text

    def _id_native(self, row: int) -> str:
        gender = f"{self.letter('gender')}{row}" if "gender" in self.col else None
        return native.id_native_message(f"{self.letter('id_no')}{row}", self.column_range("id_no"), gender)


# ---------------------------------------------------------------- building

def _font(size=10.5, bold=False, color=None, italic=False):
    return Font(name=FONT, size=size, bold=bold, color=color, italic=italic)


def _line(ws, layout: Layout, row: int, segments: tuple[Segment, ...], ctx, wb, height=22):
    col = 1
    for seg in segments:
        span = seg.span if seg.span is not None else max(layout.n_plan - col + 1, 1)
        last = col + span - 1
        cell = ws.cell(row, col)
        cell.value = seg.text.format(**ctx) if seg.text else None
        cell.font = _font(11)
        cell.alignment = Alignment(horizontal=seg.align, vertical="center")
        if seg.input:
            for c in range(col, last + 1):
                ws.cell(row, c).border = UNDERLINE
                ws.cell(row, c).protection = UNLOCKED
            cell.alignment = Alignment(horizontal="center", vertical="center")
            if seg.input == "date":
                cell.number_format = "yyyy-mm-dd"
                lo, hi = content.date_window(layout.plan, "list")
                _add_dv(ws, _date_dv(lo, hi, "日期"), f"{get_column_letter(col)}{row}")
            else:
                cell.number_format = "@"
            if seg.name:
                ref = f"'{ws.title}'!${get_column_letter(col)}${row}"
                wb.defined_names[seg.name] = DefinedName(seg.name, attr_text=ref)
        if last > col:
            ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=last)
        col = last + 1
        if col > layout.n_plan:
            break
    ws.row_dimensions[row].height = height


def _add_dv(ws, dv: DataValidation, sqref: str):
    dv.sqref = MultiCellRange(sqref)
    ws.add_data_validation(dv)


def _date_dv(lo: datetime.date, hi: datetime.date, what: str) -> DataValidation:
    return DataValidation(
        type="date", operator="between", allow_blank=True,
        formula1=f"DATE({lo.year},{lo.month},{lo.day})", formula2=f"DATE({hi.year},{hi.month},{hi.day})",
        showErrorMessage=True, errorStyle="stop", errorTitle=f"{what}不对",
        error=f"{what}应在{lo.year}年{lo.month}月{lo.day}日至{hi.year}年{hi.month}月{hi.day}日之间，"
              f"格式如 {lo.year}-{lo.month:02d}-{lo.day:02d}",
        showInputMessage=True, promptTitle=what, prompt=f"填日期，如 {lo.year}-{lo.month:02d}-{lo.day:02d}")


def _list_source(wb, lists_ws, key: str, items: tuple[str, ...], used: dict) -> str:
    inline = '"' + ",".join(items) + '"'
    if len(inline) <= 250 and not any("," in i or '"' in i for i in items):
        return inline
    if key not in used:
        col = len(used) + 1
        letter = get_column_letter(col)
        lists_ws.cell(1, col).value = content.LIST_NAMES[key]
        for i, item in enumerate(items, start=2):
            lists_ws.cell(i, col).value = item
        name = f"列表_{content.LIST_NAMES[key]}"
        wb.defined_names[name] = DefinedName(
            name, attr_text=f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(items) + 1}")
        used[key] = name
    return used[key]


def _validation(layout: Layout, c: Column, header: str, lists: dict, wb, lists_ws, used) -> DataValidation | None:
    plan = layout.plan
    what = re.sub(r"[*★（(].*$", "", header).strip() or header
    if c.kind == "id":
        ref = f"{layout.letter(c.key)}{layout.first_data}"
        return DataValidation(
            type="custom", formula1=native.id_valid(ref), allow_blank=True,
            showErrorMessage=True, errorStyle="stop", errorTitle="身份证号有误",
            error="身份证号应为18位，最后一位校验码须与前17位相符（末位X可大写或小写）。请对照户口簿逐位核对。",
            showInputMessage=True, promptTitle="身份证号",
            prompt="18位，以户口簿为准；本列为文本格式，号码不会被改成科学计数。")
    if c.kind == "choice":
        items = lists[c.choices]
        source = _list_source(wb, lists_ws, c.choices, items, used)
        return DataValidation(
            type="list", formula1=source, allow_blank=True, showDropDown=False,
            showErrorMessage=True, errorStyle="warning" if c.open_list else "stop",
            errorTitle=f"{what}不在列表中",
            error=(f"请从下拉列表选择{what}；确需填写其他内容可点“是”继续。" if c.open_list
                   else f"{what}只能从下拉列表选择：{'、'.join(items)[:120]}"),
            showInputMessage=bool(c.prompt), promptTitle=what if c.prompt else None, prompt=c.prompt)
    if c.kind == "date":
        lo, hi = content.date_window(plan, c.dates or "list")
        dv = _date_dv(lo, hi, what)
        if c.prompt:
            dv.prompt = c.prompt + f"；格式如 {lo.year}-{lo.month:02d}-{lo.day:02d}"
        return dv
    if c.kind == "money":
        top = yuan(plan.full_standard)
        return DataValidation(
            type="decimal", operator="between", formula1="0", formula2=str(top), allow_blank=True,
            showErrorMessage=True, errorStyle="stop", errorTitle=f"{what}不对",
            error=f"{what}应为0至{top}元之间的金额（单位：元）",
            showInputMessage=bool(c.prompt), promptTitle=what if c.prompt else None, prompt=c.prompt)
    if c.kind == "count":
        return DataValidation(
            type="whole", operator="between", formula1="0", formula2="10000000", allow_blank=True,
            showErrorMessage=True, errorStyle="stop", errorTitle=f"{what}不对", error="应为不小于0的整数（人）")
    if c.kind == "phone":
        return DataValidation(
            type="textLength", operator="between", formula1="7", formula2="13", allow_blank=True,
            showErrorMessage=True, errorStyle="warning", errorTitle="电话号码位数不对",
            error="手机号应为11位，座机号7至8位（可加区号）。确认无误可点“是”继续。")
    if c.kind == "name":
        return DataValidation(
            type="textLength", operator="between", formula1="2", formula2="30", allow_blank=True,
            showErrorMessage=True, errorStyle="warning", errorTitle="姓名长度不对",
            error="姓名通常为2个字以上，请以户口簿为准。确认无误可点“是”继续。",
            showInputMessage=bool(c.prompt), promptTitle=what if c.prompt else None, prompt=c.prompt)
    if c.prompt and c.kind in INPUT_KINDS:
        return DataValidation(type=None, allow_blank=True, showInputMessage=True, promptTitle=what,
                              prompt=c.prompt)
    return None


def build_workbook(form: Form | str, plan: plans.Plan | str, town: str | None = None,
                   village: str | None = None) -> Workbook:
    """The workbook of one form for one plan.

    Forms with a signature block under their rows (``foot``) get as many blank rows as fill whole
    printed pages with the block on the last one: a block on a page of its own is a page nobody
    signs (``_rows_for_foot``).
    """
    if isinstance(form, str):
        form = find_form(form)
    if isinstance(plan, str):
        plan = plans.load(plan)
    return _build_workbook(form, plan, town, village)


# A4 portrait printable size in points and the printed width of one unit of column width
# (Calibri 11). Excel prints a unit as about 5.25 pt + 3.75 pt per column; LibreOffice (Carlito)
# as about 7.05 pt, the wider of the two, so a form sized for LibreOffice fits in Excel too.
_A4 = (595.3, 841.9)
_CHAR_PT, _PAD_PT = 7.05, 0.0


def _page_scale_and_height(ws) -> tuple[float, float]:
    """(scale, printable height in pt) of the sheet's page setup, fit to width as set."""
    landscape = ws.page_setup.orientation == "landscape"
    width, height = (_A4[1], _A4[0]) if landscape else _A4
    m = ws.page_margins
    avail_w = width - (m.left + m.right) * 72
    avail_h = height - (m.top + m.bottom) * 72
    area = str(ws.print_area or "").split("!")[-1].replace("$", "")
    last_col = re.match(r"[A-Z]+\d+:([A-Z]+)", area)
    from openpyxl.utils import column_index_from_string
    n = column_index_from_string(last_col.group(1)) if last_col else ws.max_column
    cols_pt = sum((ws.column_dimensions[get_column_letter(i)].width or 8.43) * _CHAR_PT + _PAD_PT
                  for i in range(1, n + 1))
    scale = min(1.0, avail_w / cols_pt) if ws.page_setup.fitToWidth else 1.0
    return scale, avail_h


def _row_pt(ws, r: int) -> float:
    h = ws.row_dimensions[r].height
    return float(h) if h else float(ws.sheet_format.defaultRowHeight or 15)


def _rows_for_foot(ws, form: Form) -> int:
    """The number of data rows that ends the last printed page with the foot block on it.

    Greedy page fill of the built sheet: the title rows repeat on every page; a page holds
    ``per`` data rows; the foot block (blank row plus its lines) takes ``foot`` rows' worth of
    the last page. Returns ``form.rows`` rounded down to ``k * per - foot`` (at least one page).
    """
    scale, avail = _page_scale_and_height(ws)
    titles = str(ws.print_title_rows or "")
    m = re.match(r"\$?(\d+):\$?(\d+)", titles)
    top, head_end = (int(m.group(1)), int(m.group(2))) if m else (1, 0)
    head = sum(_row_pt(ws, r) for r in range(top, head_end + 1))
    data_row = _row_pt(ws, head_end + 1)
    per = int((avail / scale - head) // data_row)
    last_data = head_end + form.rows
    foot_pt = sum(_row_pt(ws, r) for r in range(last_data + 1, ws.max_row + 1))
    foot = int(-(-foot_pt // data_row))
    if per <= foot:
        return form.rows
    pages = max(1, (form.rows + foot) // per)
    return pages * per - foot


_FITTED: dict[tuple[str, str, int], int] = {}


def fitted_rows(form: Form, plan: plans.Plan) -> int:
    """Data rows of ``form`` for ``plan`` so that the foot block ends the last printed page."""
    key = (form.id, plan.id, form.rows)
    if key not in _FITTED:
        wb = _build_workbook(form, plan, None, None, fit=False)
        _FITTED[key] = _rows_for_foot(wb.worksheets[0], form)
    return _FITTED[key]


def _build_workbook(form: Form, plan: plans.Plan, town, village, fit: bool = True) -> Workbook:
    ctx = content.context(plan, town, village)
    layout = Layout(form, plan, ctx, fit=fit)
    form = layout.form
    lists = content.choice_lists(plan)

    wb = Workbook()
    ws = wb.active
    ws.title = form.sheet
    lists_ws = wb.create_sheet(LISTS_SHEET)
    lists_ws.sheet_state = "hidden"
    lists_ws.protection.sheet = True
    used_lists: dict[str, str] = {}
    wb.properties.creator = "yibao"
    wb.properties.lastModifiedBy = "yibao"
    wb.properties.title = f"{form.title.format(**ctx)}"
    wb.properties.subject = f"{form.name}（{form.source}）"
    wb.properties.keywords = f"yibao-template {form.id} {plan.id}"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME

    cols = layout.columns
    n_all = len(cols)
    ours = [c for c in cols if c.ours]
    first_ours = layout.n_plan + 1
    last_row = _build_header(ws, wb, layout, ctx, ours, first_ours, n_all)
    _build_body(ws, layout, lists, wb, lists_ws, used_lists)
    last_row = _build_foot(ws, wb, layout, ctx)
    _build_print(ws, layout, last_row)

    if any(c.kind == "udf" for c in cols):
        # results stored, nothing to recalculate on open (forms without our
        # functions keep openpyxl's full calculation on load: cheap, and their
        # totals of native formulas need no stored results)
        wb.calculation.calcId = CALC_ID
        wb.calculation.fullCalcOnLoad = False
        _CACHED[wb] = {ws.title: layout.cached}

    ws.sheet_view.showGridLines = False
    name_col = layout.col.get("name", 1)
    ws.freeze_panes = ws.cell(layout.data_start, name_col + 1 if form.kind == "persons" else 2)
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.formatCells = True
    ws.protection.selectLockedCells = False
    ws.protection.selectUnlockedCells = False
    if not used_lists:
        lists_ws.cell(1, 1).value = "（本表下拉列表均直接写在数据验证中）"
    wb.active = 0
    return wb


def _build_header(ws, wb, layout: Layout, ctx, ours, first_ours, n_all):
    form = layout.form
    # row 1: title over the plan's columns; the note over ours
    title = ws.cell(1, 1, form.title.format(**ctx))
    title.font = _font(16, bold=True)
    title.alignment = Alignment(horizontal="center", vertical="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=layout.n_plan)
    ws.row_dimensions[1].height = 36
    if ours:
        has_udf = any(c.kind == "udf" for c in ours)
        note = ws.cell(1, first_ours, NOTE_OURS + (NOTE_UDF if has_udf else ""))
        note.font = _font(9, color="7F6000")
        note.fill = FILL_NOTE
        note.alignment = Alignment(wrap_text=True, vertical="top", horizontal="left")
        if n_all > first_ours:
            ws.merge_cells(start_row=1, start_column=first_ours, end_row=1, end_column=n_all)
        if has_udf:
            ws.row_dimensions[1].height = 52
    # row 2: unit line; 方案编号 beside it
    if form.unit_line:
        _line(ws, layout, 2, form.unit_line, ctx, wb)
    label = ws.cell(2, first_ours, PLAN_NAME)
    label.font = _font(10, bold=True)
    label.alignment = Alignment(horizontal="right", vertical="center")
    pid = ws.cell(2, first_ours + 1, layout.plan.id)
    pid.font = _font(10, bold=True, color="1F4E79")
    pid.number_format = "@"
    wb.defined_names[PLAN_NAME] = DefinedName(
        PLAN_NAME, attr_text=f"'{ws.title}'!${get_column_letter(first_ours + 1)}$2")
    if ours:
        rest = ws.cell(2, first_ours + 2, f"（{layout.plan.name}）")
        rest.font = _font(9, color="595959")
        if n_all > first_ours + 2:
            ws.merge_cells(start_row=2, start_column=first_ours + 2, end_row=2, end_column=n_all)
    # header rows
    top = layout.header_top
    parents: dict[str, list[int]] = {}
    for i, c in enumerate(layout.columns, start=1):
        header = layout.headers[c.key]
        apart = c.ours and i == first_ours
        fill = None
        if c.ours:
            fill = FILL_COMPUTED if c.kind in ("udf", "native") else FILL_OURS_INPUT
        rows = (top, top + 1) if layout.two_rows else (top,)
        if c.parent:
            parents.setdefault(c.parent, []).append(i)
            cell = ws.cell(top + 1, i, header)
        else:
            cell = ws.cell(top, i, header)
        for r in rows:
            x = ws.cell(r, i)
            x.border = BORDER_APART if apart else BORDER
            x.font = _font(10.5, bold=True)
            x.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            if fill:
                x.fill = fill
        if layout.two_rows and not c.parent:
            ws.merge_cells(start_row=top, start_column=i, end_row=top + 1, end_column=i)
        ws.column_dimensions[get_column_letter(i)].width = c.width
    for parent, idx in parents.items():
        ws.cell(top, idx[0], parent)
        ws.merge_cells(start_row=top, start_column=idx[0], end_row=top, end_column=idx[-1])
    for r in (range(top, top + 2) if layout.two_rows else (top,)):
        ws.row_dimensions[r].height = 22 if layout.two_rows else 34
    return top


def _build_body(ws, layout: Layout, lists, wb, lists_ws, used_lists):
    form = layout.form
    plan = layout.plan
    first_ours = layout.n_plan + 1
    seq = 0
    for r in layout.data_rows():
        seq += 1
        ws.row_dimensions[r].height = 20
        for i, c in enumerate(layout.columns, start=1):
            cell = ws.cell(r, i)
            cell.border = BORDER_APART if i == first_ours else BORDER
            cell.font = _font(10.5)
            fmt = c.number_format or FORMATS.get(c.kind)
            if fmt:
                cell.number_format = fmt
            if c.kind == "seq":
                cell.value = seq
                cell.alignment = Alignment(horizontal="center", vertical="center")
                cell.protection = LOCKED
            elif c.kind in ("udf", "native"):
                cell.value = layout.expand(c.formula, r)
                layout.cached[(r, i)] = ""      # every row formula is blank while its row is
                cell.protection = LOCKED
                cell.fill = FILL_COMPUTED
                cell.font = _font(10, color="404040")
                cell.alignment = Alignment(vertical="center", shrink_to_fit=True)
            else:
                cell.protection = UNLOCKED
                cell.alignment = Alignment(vertical="center",
                                           horizontal="center" if c.kind in ("choice", "date") else None)
                if c.ours:
                    cell.fill = FILL_OURS_INPUT
    # schedule: prefilled, editable rows (the plan's dates) above the blank ones
    if form.kind == "schedule":
        _fill_schedule(ws, layout)
    # totals: per page (004 附件2) and overall
    for (first, last), row in zip(layout.segments, layout.page_totals):
        _total_row(ws, layout, row, [(first, last)], page=True)
    if layout.total_row:
        if layout.page_totals:
            _total_row(ws, layout, layout.total_row, None, page=False)
        else:
            _total_row(ws, layout, layout.total_row, layout.segments, page=False)
    # validations, one per column over all data segments
    for c in layout.columns:
        if c.kind in ("udf", "native", "seq"):
            continue
        dv = _validation(layout, c, layout.headers[c.key], lists, wb, lists_ws, used_lists)
        if dv is not None:
            _add_dv(ws, dv, layout.sqref(c.key))
    _conditional_formats(ws, layout)


def _total_row(ws, layout: Layout, row: int, segments, page: bool):
    form = layout.form
    keys = form.total_columns
    first_total = min(layout.col[k] for k in keys)
    label_end = first_total - 1
    ws.row_dimensions[row].height = 22
    for i, c in enumerate(layout.columns, start=1):
        cell = ws.cell(row, i)
        cell.border = BORDER_APART if i == layout.n_plan + 1 else BORDER
        cell.font = _font(10.5, bold=True)
        cell.fill = FILL_TOTAL
        cell.protection = LOCKED
        fmt = c.number_format or FORMATS.get(c.kind)
        if c.key in keys:
            L = layout.letter(c.key)
            if segments is not None:
                cell.value = "=SUM(" + ",".join(f"{L}{a}:{L}{b}" for a, b in segments) + ")"
            else:
                cell.value = "=SUM(" + ",".join(f"{L}{p}" for p in layout.page_totals) + ")"
            cell.number_format = fmt or "General"
            layout.cached[(row, i)] = 0
        elif c.kind == "native" and form.kind == "tasks" and i > label_end:
            cell.value = layout.expand(c.formula, row)
            cell.number_format = fmt or "General"
    label = ws.cell(row, 1)
    if "id_no" in layout.col:
        idc = layout.letter("id_no")
        ranges = segments if segments is not None else layout.segments
        count = "+".join(f'COUNTA({idc}{a}:{idc}{b})' for a, b in ranges)
        households, pure = _page_counts(layout, ranges)
        label.value = f'="{"本页合计" if page else "合计"}（"&({count})&"人{households}）"{pure}'
        # the label an empty form shows (every count 0), stored so Excel need not recalculate on open
        empty_households = "，0户" if households else ""
        empty_pure = "".join(("；" if i == 0 else "、") + c + "0户" for i, c in enumerate(
            c for c in layout.plan.forms.page_counts if c.startswith("纯"))) if pure else ""
        layout.cached[(row, 1)] = f'{"本页合计" if page else "合计"}（0人{empty_households}）{empty_pure}'
    else:
        label.value = "本页合计" if page else "合　计"
    label.alignment = Alignment(horizontal="center", vertical="center")
    if label_end > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=label_end)
    if page and row != layout.page_totals[-1]:
        ws.row_breaks.append(Break(id=row))


def _page_counts(layout: Layout, ranges) -> str:
    """The rest of a 本页合计 label where the plan asks for 页计 (004 附件2:
    参加居民医保户数, 纯低保户, 纯建档立卡, 纯三四级残疾): households are the
    rows whose 户主关系 is 户主, a 纯 household one whose 户属性 is only that
    kind. Returns the text inside the brackets and after them, both ''
    when the plan asks none or the form lacks the columns."""
    forms = layout.plan.forms
    if not forms.page_counts or not {"relation", "household_type"} <= set(layout.col):
        return "", ""
    rel, kind = layout.letter("relation"), layout.letter("household_type")

    def heads(types=None):
        parts = []
        for a, b in ranges:
            if types is None:
                parts.append(f'COUNTIF({rel}{a}:{rel}{b},"户主")')
            else:
                parts += [f'COUNTIFS({rel}{a}:{rel}{b},"户主",{kind}{a}:{kind}{b},"{t}")' for t in types]
        return "+".join(parts) or "0"

    households = f'，"&({heads()})&"户' if "参加居民医保户数" in forms.page_counts else ""
    out = []
    for i, c in enumerate(c for c in forms.page_counts if c.startswith("纯")):
        out.append(f'"{"；" if i == 0 else "、"}{c}"&({heads(forms.types_for(c))})&"户"')
    return households, "".join("&" + part for part in out)


def _fill_schedule(ws, layout: Layout):
    """The plan's dated items fill the first rows (editable); each stage's
    cells are merged, as on 002 附件1."""
    items = layout.schedule
    first = layout.first_data
    for k, item in enumerate(items):
        r = first + k
        ws.row_dimensions[r].height = 34
        for i, value in enumerate((item.stage, item.when, item.what), start=1):
            cell = ws.cell(r, i)
            cell.value = value
            cell.alignment = Alignment(vertical="center", wrap_text=True,
                                       horizontal="left" if i == 3 else "center")
    start = 0
    for k in range(1, len(items) + 1):
        if k == len(items) or items[k].stage != items[start].stage:
            if k - 1 > start:
                ws.merge_cells(start_row=first + start, start_column=1, end_row=first + k - 1, end_column=1)
            start = k


def _conditional_formats(ws, layout: Layout):
    cols = layout.columns
    top = f"{layout.first_data}"

    def ref(key):
        return f"{layout.letter(key)}{top}"

    in_use = None
    if layout.row_inputs:
        a, b = layout.row_inputs
        in_use = f"COUNTA(${layout.letter(a)}{top}:${layout.letter(b)}{top})>0"
    if "id_no" in layout.col:
        c = ref("id_no")
        sq = layout.sqref("id_no")
        ws.conditional_formatting.add(sq, FormulaRule(formula=[native.id_invalid(c)], stopIfTrue=True, **CF_BAD))
        ws.conditional_formatting.add(
            sq, FormulaRule(formula=[native.id_duplicate(c, layout.column_range("id_no"))], **CF_DUP))
        if "gender" in layout.col:
            ws.conditional_formatting.add(
                layout.sqref("gender"), FormulaRule(formula=[native.gender_mismatch(ref("gender"), c)], **CF_WARN))
    if in_use:
        for col in cols:
            if col.required or col.required_unless:
                x = ref(col.key)
                cond = f'AND({x}="",{in_use})'
                if col.required_unless:
                    cond = f'AND({x}="",{ref(col.required_unless)}="",{in_use})'
                ws.conditional_formatting.add(layout.sqref(col.key), FormulaRule(formula=[cond], **CF_REQUIRED))
    if "paid" in layout.col and "subsidy_paid" in layout.col:
        p, s = ref("paid"), ref("subsidy_paid")
        fee = yuan(layout.plan.individual)
        cond = f'AND(ISNUMBER({p}),N({p})+N({s})<>{fee})'
        sq = layout.sqref("paid") + " " + layout.sqref("subsidy_paid")
        ws.conditional_formatting.add(sq, FormulaRule(formula=[cond], **CF_WARN))


def _build_foot(ws, wb, layout: Layout, ctx) -> int:
    row = layout.after + 1
    for segments in layout.form.foot:
        _line(ws, layout, row, segments, ctx, wb, height=24)
        row += 1
    return row - 1


def _build_print(ws, layout: Layout, last_row: int):
    ps = ws.page_setup
    ps.paperSize = ws.PAPERSIZE_A4
    # the task table (5 printed columns, one page) is a portrait page at full size
    ps.orientation = "portrait" if layout.form.kind == "tasks" else "landscape"
    ps.fitToWidth = 1
    ps.fitToHeight = 1 if layout.form.kind == "tasks" else 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = 0.5
    ws.page_margins.bottom = 0.7
    ws.page_margins.header = 0.25
    ws.page_margins.footer = 0.3
    ws.print_title_rows = f"1:{layout.data_start - 1}"
    ws.print_area = f"A1:{layout.last_plan}{last_row}"
    _fit_columns(ws, layout)
    if layout.form.print_footer:
        ws.oddFooter.left.text = layout.form.print_footer
        ws.oddFooter.left.size = 9
    ws.oddFooter.right.text = PAGE_FOOTER
    ws.oddFooter.right.size = 9
    # the footer keeps its 9 pt when the sheet is fitted to the page width
    ws.HeaderFooter.scaleWithDoc = False


def _fit_columns(ws, layout: Layout):
    """Narrow the printed columns so that the page is not shrunk to fit its width.

    Fit-to-width scales the whole page, fonts included (9 pt at 88 % prints at 7.9 pt, below
    what staff can read); narrower columns wrap their text instead, at full size.
    """
    scale, _ = _page_scale_and_height(ws)
    if scale >= 1.0:
        return
    factor = scale * 0.98
    for i in range(1, layout.n_plan + 1):
        dim = ws.column_dimensions[get_column_letter(i)]
        dim.width = round((dim.width or 8.43) * factor, 1)


# ---------------------------------------------------------------- saving

_CORE_TIME = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


_CACHED: "weakref.WeakKeyDictionary[Workbook, dict]" = weakref.WeakKeyDictionary()
_FORMULA_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"([^>]*)><f>([^<]*)</f>(?:<v\s*/>|<v></v>)</c>')


def _store_results(xml: bytes, cached: dict[tuple[int, int], object]) -> bytes:
    """Write each formula's known result into the sheet XML (openpyxl writes
    none), so that Excel has nothing to recalculate on open."""
    from openpyxl.utils import column_index_from_string
    from xml.sax.saxutils import escape

    def put(m):
        key = (int(m.group(2)), column_index_from_string(m.group(1).decode()))
        if key not in cached or b" t=" in m.group(3):
            return m.group(0)
        value = cached[key]
        head = b'<c r="' + m.group(1) + m.group(2) + b'"' + m.group(3)
        if isinstance(value, str):
            head += b' t="str"'
            stored = escape(value).encode("utf-8")
        else:
            stored = str(value).encode()
        return head + b"><f>" + m.group(4) + b"</f><v>" + stored + b"</v></c>"
    return _FORMULA_CELL.sub(put, xml)


def build_bytes(form, plan, town=None, village=None) -> bytes:
    """The ``.xlsx`` bytes, stable from build to build, with every formula's
    result in the new form stored (see :data:`CALC_ID`)."""
    wb = build_workbook(form, plan, town, village)
    cached = _CACHED.get(wb, {})
    sheet_parts = {f"xl/worksheets/sheet{i}.xml": cached.get(ws.title, {})
                   for i, ws in enumerate(wb.worksheets, start=1)}
    raw = io.BytesIO()
    wb.save(raw)
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _CORE_TIME.sub(lambda m: m.group(1) + stamp + m.group(3), data)
            if sheet_parts.get(info.filename):
                data = _store_results(data, sheet_parts[info.filename])
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, data)
    return out.getvalue()


def write_template(path: Path, data: bytes, force: bool = False) -> Path | None:
    """Write atomically; an existing file is kept as ``.bak`` (only with
    ``force``). Returns the backup path, if one was made."""
    path = Path(path)
    if path.exists() and not force:
        raise FileExistsError(path)
    from yibao.atomic import write_atomic
    return write_atomic(path, data, backup=True)


def build_all(outdir: Path = BUILT_DIR, plan_ids=PLAN_IDS) -> list[Path]:
    """Build every form for every seed plan into ``outdir/<plan>/<form>.xlsx``."""
    written = []
    for pid in plan_ids:
        plan = plans.load(pid)
        for f in FORMS:
            path = Path(outdir) / pid / f"{f.id}.xlsx"
            data = build_bytes(f, plan)
            if not (path.exists() and path.read_bytes() == data):
                write_template(path, data, force=True)
                bak = path.with_name(path.name + ".bak")
                if bak.exists():
                    bak.unlink()
            written.append(path)
    return written


if __name__ == "__main__":   # python -m yibao.templates.builder: rebuild templates/built/
    import time
    t0 = time.perf_counter()
    paths = build_all()
    print(f"{len(paths)} templates in {time.perf_counter() - t0:.1f}s under {BUILT_DIR}")
