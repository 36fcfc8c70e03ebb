"""The official ledger templates, opened with openpyxl: every form for every
seed plan is committed and equals what the builder makes; headers, lists,
validations, number formats, protection and print settings are as the
plans' forms need them."""
from __future__ import annotations

import functools
import re

import openpyxl
import pytest
from openpyxl.formula.translate import Translator

from conftest import make_id, run_yibao
from template_support import (FORM_IDS, PAIRS, PLAN_IDS, fingerprint, get_column_letter, layout_of,
                              load_bytes, main_sheet)
from yibao.functions import plan as plans
from yibao.macros.ledger import plan_id_in
from yibao.macros.table import field_of, find_table
from yibao.templates import builder, content, native
from yibao.templates.spec import form as find_form

PERSON_FORMS = ("ledger", "new-enrollee", "elsewhere", "register", "subsidy-list")


@functools.lru_cache(maxsize=None)
def committed(plan_id: str, form_id: str):
    return openpyxl.load_workbook(builder.built_path(plan_id, form_id))


def dvs_for(ws, coord: str):
    return [dv for dv in ws.data_validations.dataValidation if coord in dv.sqref]


def cf_formulas(ws, coord: str) -> list[str]:
    out = []
    for rng, rules in ws.conditional_formatting._cf_rules.items():
        if coord in rng.sqref:
            out += [f for r in rules for f in (r.formula or [])]
    return out


def list_items(wb, formula1: str) -> list[str]:
    """Items of a list validation: inline "a,b" or a defined name on _选项."""
    if formula1.startswith('"'):
        return formula1.strip('"').split(",")
    ref = wb.defined_names[formula1].attr_text
    sheet, rng = ref.rsplit("!", 1)
    ws = wb[sheet.strip("'")]
    return [c.value for row in ws[rng.replace("$", "")] for c in row]


# ---------------------------------------------------------------- committed = built

def test_every_form_exists_for_every_plan():
    missing = [(p, f) for p, f in PAIRS if not builder.built_path(p, f).is_file()]
    assert not missing
    assert len(PAIRS) == 4 * 7


@pytest.mark.parametrize("plan_id,form_id", PAIRS)
def test_committed_template_equals_built(plan_id, form_id):
    """Cell values, styles, merges, validations, conditional formats,
    widths, print settings and protection, compared as data."""
    built = load_bytes(builder.build_bytes(form_id, plan_id))
    assert fingerprint(committed(plan_id, form_id)) == fingerprint(built), \
        f"templates/built/{plan_id}/{form_id}.xlsx is stale: run python -m yibao.templates.builder"


def test_builds_are_byte_stable():
    a = builder.build_bytes("register", "xxzhen-2020")
    b = builder.build_bytes("register", "xxzhen-2020")
    assert a == b


# ---------------------------------------------------------------- titles and the plan's columns

def test_titles_units_and_years_come_from_the_plan():
    ws = main_sheet(committed("xinqiao-2021", "ledger"))
    assert ws["A1"].value == "衡山县2021年度城乡居民医保参保缴费台账"
    assert ws["A2"].value.startswith("填报单位：新桥镇") and "村（居委会）" in ws["A2"].value
    assert any(c.value == "单位：元" for c in ws[2])
    assert main_sheet(committed("xxzhen-2020", "register"))["A1"].value == \
        "XX区2020年度城乡居民基本医疗保险参保缴费基本信息登记表"
    assert main_sheet(committed("xxzhen-2020", "tasks"))["A1"].value == "XX镇2020年城乡居民基本医疗保险筹资任务分配表"
    assert main_sheet(committed("zaozhuang-2022", "tasks"))["A1"].value == "2022年度各镇街居民医保参保征缴任务表"
    assert main_sheet(committed("shuangshui-2025", "new-enrollee"))["A1"].value == \
        "六盘水市水城区2025年度城乡居民医保新增参保缴费基本信息登记表"
    assert main_sheet(committed("xinqiao-2021", "schedule"))["A1"].value == \
        "衡山县2021年度城乡居民医保参保缴费工作日程安排"


@pytest.mark.parametrize("plan_id,form_id", PAIRS)
def test_plan_id_cell_is_named_and_found_by_the_ledger_reader(plan_id, form_id):
    wb = committed(plan_id, form_id)
    ref = wb.defined_names["方案编号"].attr_text
    sheet, cell = ref.rsplit("!", 1)
    assert wb[sheet.strip("'")][cell.replace("$", "")].value == plan_id
    ws = main_sheet(wb)
    grid = [[c.value for c in row] for row in ws.iter_rows(max_row=5)]
    assert plan_id_in({ws.title: grid}) == plan_id


PLAN_COLUMNS = {
    "ledger": ["序号", "家庭编号", "姓名*", "户主关系*", "性别*", "身份证号*", "告知、督促方式", "个人缴费*",
               "未缴费原因*", "参保人签字*"],
    "new-enrollee": ["序号", "姓名*", "户主关系*", "性别*", "身份证号*", "联系电话", "个人交费*", "经办人*",
                     "参保人签字"],
    "elsewhere": ["序号", "姓名", "身份证号码", "户籍地", "参保地（凭证复印）", "参保类型（职工医保/城乡居民医保）",
                  "联系电话"],
    "register": ["序号", "户属性★", "户主关系★", "姓名★", "性别", "身份证号★", "联系电话", "个人交费★",
                 "参保人签字★", "备注"],
    "schedule": ["工作实施步骤", "时间节点", "工作安排"],
}


@pytest.mark.parametrize("form_id", sorted(PLAN_COLUMNS))
def test_plan_columns_as_on_the_paper_form_then_ours(form_id):
    ws = main_sheet(committed("xinqiao-2021", form_id))
    lay = layout_of("xinqiao-2021", form_id)
    top = [ws.cell(lay.header_top, c).value for c in range(1, lay.n_plan + 1)]
    if form_id == "register":   # 个人交费★ spans 实交额 | 资助额 on a second header row
        assert [v for v in top if v] == PLAN_COLUMNS[form_id]
        below = [ws.cell(lay.header_top + 1, c).value for c in range(1, lay.n_plan + 1)]
        assert [v for v in below if v] == ["实交额", "资助额"]
        assert f"H{lay.header_top}:I{lay.header_top}" in [str(m) for m in ws.merged_cells.ranges]
    else:
        assert top == PLAN_COLUMNS[form_id]
    # our columns come after, all of them, and are set apart (blue/grey header, thick left border)
    ours = [c for c in lay.columns if c.ours]
    assert all(lay.col[c.key] > lay.n_plan for c in ours)
    if ours:
        first = ws.cell(lay.header_top, lay.n_plan + 1)
        assert first.border.left.style == "medium"
        assert first.fill.fgColor.rgb in ("00DDEBF7", "00EDEDED")
        assert ws.cell(lay.first_data, lay.n_plan + 1).border.left.style == "medium"


def test_person_forms_gain_the_computed_columns():
    ws = main_sheet(committed("xinqiao-2021", "ledger"))
    lay = layout_of("xinqiao-2021", "ledger")
    heads = {ws.cell(lay.header_top, c).value: get_column_letter(c) for c in range(1, len(lay.columns) + 1)}
    for h in ("身份类别", "缴费日期", "参保类型", "事件日期", "是否参加职工医保", "应缴", "资助类别", "待遇起始",
              "校验", "号码核对"):
        assert h in heads
    r = lay.first_data
    assert ws[f"{heads['应缴']}{r}"].value == f"=PAYABLE(F{r},K{r},L{r},M{r},N{r},O{r},方案编号)"
    assert ws[f"{heads['资助类别']}{r}"].value.startswith(f"=SUBSIDY_TIER(F{r},")
    assert ws[f"{heads['待遇起始']}{r}"].value.startswith(f"=BENEFIT_START(F{r},")
    assert ws[f"{heads['待遇起始']}{r}"].number_format == "yyyy-mm-dd"
    assert ws[f"{heads['校验']}{r}"].value == f"=ID_CHECK(F{r})"
    assert "#NAME?" in ws["K1"].value and "yibao refresh" in ws["K1"].value   # the note row says so
    # 004: identities = 身份类别 plus 户属性, as the ledger reader takes them
    reg = main_sheet(committed("xxzhen-2020", "register"))
    lay = layout_of("xxzhen-2020", "register")
    f = reg.cell(lay.first_data, lay.col["calc_payable"]).value
    assert f.startswith(f"=PAYABLE(F{lay.first_data},L{lay.first_data}&IF(") and f"&B{lay.first_data}," in f


@pytest.mark.parametrize("plan_id,form_id", [(p, f) for p, f in PAIRS if f in PERSON_FORMS])
def test_ledger_reader_finds_the_table_with_our_columns(plan_id, form_id):
    """`yibao validate/refresh` read the templates by header text."""
    wb = openpyxl.load_workbook(builder.built_path(plan_id, form_id))
    ws = main_sheet(wb)
    lay = layout_of(plan_id, form_id)
    fill = {"name": "张三", "id_no": make_id("19800101", 11)}
    for k, v in fill.items():
        ws.cell(lay.first_data, lay.col[k]).value = v
    grid = [[c.value for c in row] for row in ws.iter_rows()]
    table = find_table(ws.title, grid)
    assert table.header_row == lay.data_start - 1
    assert table.columns["id_no"] == lay.col["id_no"]
    assert [r.number for r in table.rows] == [lay.first_data]      # totals, notes, signatures skipped
    for c in lay.columns:
        if c.ours and c.key != "id_native":
            assert field_of(lay.headers[c.key]) == c.key, c.header


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize("plan_id,form_id", [(p, f) for p, f in PAIRS if f in PERSON_FORMS])
def test_id_column_is_text_with_native_check_and_duplicate_rules(plan_id, form_id):
    ws = main_sheet(committed(plan_id, form_id))
    lay = layout_of(plan_id, form_id)
    L = lay.letter("id_no")
    for r in lay.data_rows():
        assert ws[f"{L}{r}"].number_format == "@"
        assert ws[f"{L}{r}"].protection.locked is False
    top = f"{L}{lay.first_data}"
    [dv] = dvs_for(ws, top)
    assert dv.type == "custom" and dv.errorStyle == "stop" and dv.showErrorMessage
    assert dv.formula1 == native.id_valid(top) and len(dv.formula1) < 255
    assert "{" not in dv.formula1          # no array constants (Excel refuses them here)
    assert str(dv.sqref) == lay.sqref("id_no")
    rules = cf_formulas(ws, top)
    assert native.id_invalid(top) in rules
    dup = native.id_duplicate(top, lay.column_range("id_no"))
    assert dup in rules and "COUNTIF" not in dup and "SUMPRODUCT" in dup
    last = f"{L}{lay.last_data}"
    assert any(last in rng.sqref for rng in ws.conditional_formatting._cf_rules)


def test_validation_formula_follows_each_row():
    """Relative references: the rule for row r checks row r."""
    top = "F5"
    moved = Translator("=" + native.id_valid(top), origin=top).translate_formula("F77")
    assert "F77" in moved and "F5" not in moved and 'INDIRECT("A1:A17")' in moved


@pytest.mark.parametrize("plan_id", PLAN_IDS)
def test_dropdown_lists_come_from_the_plan(plan_id):
    plan = plans.load(plan_id)
    lists = content.choice_lists(plan)
    wb = committed(plan_id, "ledger")
    ws = main_sheet(wb)
    lay = layout_of(plan_id, "ledger")
    expect = {"relation": lists["relation"], "gender": ["男", "女"], "identities": [c.name for c in plan.categories],
              "enroll_type": list(plan.enroll_types), "notify": ["电话告知", "上门告知"],
              "unpaid_reason": lists["unpaid_reason"], "employee_insured": ["是", "否"]}
    for key, items in expect.items():
        [dv] = dvs_for(ws, f"{lay.letter(key)}{lay.first_data}")
        assert dv.type == "list"
        assert list_items(wb, dv.formula1) == list(items), key
    [dv] = dvs_for(ws, f"{lay.letter('gender')}{lay.first_data}")
    assert dv.errorStyle == "stop"
    [dv] = dvs_for(ws, f"{lay.letter('identities')}{lay.first_data}")
    assert dv.errorStyle == "warning"      # several identities may be typed, separated by ；
    # 004's 户属性 list is the plan's own (附件2 注)
    wb4 = committed("xxzhen-2020", "register")
    lay4 = layout_of("xxzhen-2020", "register")
    [dv] = dvs_for(main_sheet(wb4), f"B{lay4.first_data}")
    assert list_items(wb4, dv.formula1) == list(plans.load("xxzhen-2020").forms.household_types)
    assert main_sheet(wb4).cell(lay4.first_data, lay4.col["household_type"]).value is None


@pytest.mark.parametrize("plan_id", PLAN_IDS)
def test_dates_limited_to_plausible_dates(plan_id):
    plan = plans.load(plan_id)
    ws = main_sheet(committed(plan_id, "ledger"))
    lay = layout_of(plan_id, "ledger")
    [dv] = dvs_for(ws, f"{lay.letter('pay_date')}{lay.first_data}")
    lo, hi = content.date_window(plan, "pay")
    assert (dv.type, dv.operator) == ("date", "between")
    assert dv.formula1 == f"DATE({lo.year},{lo.month},{lo.day})" and dv.formula2 == f"DATE({hi.year},{hi.month},{hi.day})"
    assert lo <= plan.rules[0].start and hi >= plan.year_end
    assert ws.cell(lay.first_data, lay.col["pay_date"]).number_format == "yyyy-mm-dd"
    [dv] = dvs_for(ws, f"{lay.letter('paid')}{lay.first_data}")
    assert (dv.type, dv.formula1) == ("decimal", "0")
    assert ws.cell(lay.first_data, lay.col["paid"]).number_format == "0.00"


@pytest.mark.parametrize("plan_id,form_id", [(p, f) for p, f in PAIRS if f in PERSON_FORMS])
def test_required_cells_marked_and_highlighted_while_empty(plan_id, form_id):
    ws = main_sheet(committed(plan_id, form_id))
    lay = layout_of(plan_id, form_id)
    for c in lay.columns:
        header = lay.headers[c.key]
        top = f"{lay.letter(c.key)}{lay.first_data}"
        highlight = [f for f in cf_formulas(ws, top) if f.startswith(f'AND({top}="",')]
        if c.required or c.required_unless:
            assert highlight, header
            assert "COUNTA(" in highlight[0]           # only once the row is in use
        else:
            assert not highlight, header
        if ("*" in header or "★" in header) and c.kind != "sign":
            assert c.required or c.required_unless or c.parent, header


@pytest.mark.parametrize("plan_id,form_id", PAIRS)
def test_formula_cells_locked_inputs_unlocked_no_password(plan_id, form_id):
    wb = committed(plan_id, form_id)
    ws = main_sheet(wb)
    lay = layout_of(plan_id, form_id)
    assert ws.protection.sheet is True and not ws.protection.password
    assert ws.protection.formatColumns is False      # staff may still widen columns
    r = lay.first_data
    for c in lay.columns:
        cell = ws.cell(r, c.key and lay.col[c.key])
        if c.kind in ("udf", "native", "seq"):
            assert cell.protection.locked, c.header
            if c.kind != "seq":
                assert isinstance(cell.value, str) and cell.value.startswith("="), c.header
        else:
            assert cell.protection.locked is False, c.header
    for row in ws.iter_rows(max_row=lay.data_start - 1):
        for cell in row:
            if cell.value and cell.row >= lay.header_top:
                assert cell.protection.locked            # headers cannot be typed over
    assert wb[builder.LISTS_SHEET].sheet_state == "hidden"


@pytest.mark.parametrize("plan_id,form_id", PAIRS)
def test_print_ready(plan_id, form_id):
    ws = main_sheet(committed(plan_id, form_id))
    lay = layout_of(plan_id, form_id)
    ps = ws.page_setup
    # the task table (five printed columns on one page) is portrait, so it prints at full size
    assert ps.orientation == ("portrait" if form_id == "tasks" else "landscape") and int(ps.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and int(ps.fitToWidth) == 1
    assert ws.print_title_rows == f"$1:${lay.data_start - 1}"
    assert ws.print_area.replace("$", "").split("!")[-1].startswith(f"A1:{lay.last_plan}")
    assert "&P" in ws.oddFooter.right.text and "&N" in ws.oddFooter.right.text
    assert ws.oddFooter.right.text == "第 &P 页 共 &N 页"
    # signature / stamp lines at the foot of the form
    last = int(re.search(r"(\d+)$", ws.print_area).group(1))
    foot = " ".join(str(ws.cell(r, 1).value or "") + str(ws.cell(r, 1 + 1).value or "")
                    for r in range(lay.after, last + 1))
    if form_id != "schedule":
        assert "签字" in foot or "填报人" in foot or "填表人" in foot
        assert "盖章" in foot or "盖章" in ws.oddFooter.left.text
        assert ws.oddFooter.left.text


def test_register_page_totals_every_page():
    ws = main_sheet(committed("xxzhen-2020", "register"))
    lay = layout_of("xxzhen-2020", "register")
    assert len(lay.page_totals) == 20 and lay.form.rows_per_page == 15
    breaks = sorted(b.id for b in ws.row_breaks.brk)
    assert breaks == lay.page_totals[:-1]
    for (a, b), row in zip(lay.segments, lay.page_totals):
        assert ws[f"H{row}"].value == f"=SUM(H{a}:H{b})"
        assert ws[f"I{row}"].value == f"=SUM(I{a}:I{b})"
        assert "本页合计" in ws[f"A{row}"].value and f"COUNTA(F{a}:F{b})" in ws[f"A{row}"].value
        assert ws[f"A{a}"].value == (row - lay.first_data) // 16 * 15 + 1     # 序号 runs on across pages
    total = lay.total_row
    assert ws[f"H{total}"].value == "=SUM(" + ",".join(f"H{p}" for p in lay.page_totals) + ")"
    fee = plans.load("xxzhen-2020").individual // 100
    assert any(f"<>{fee})" in f for f in cf_formulas(ws, f"H{lay.first_data}"))   # 实交额+资助额 = 250


def test_task_table_has_plan_milestones_and_work_fee():
    ws = main_sheet(committed("xxzhen-2020", "tasks"))
    lay = layout_of("xxzhen-2020", "tasks")
    heads = [ws.cell(lay.header_top, c).value for c in range(1, len(lay.columns) + 1)]
    assert heads[:5] == ["村　名", "2019年派出所户籍人口数", "2019年目标任务数", "2020预计净增数", "2020年目标任务数"]
    assert "12月31日前应完成（95%）" in heads and "2月29日前应完成（100%）" in heads
    assert any(h.startswith("工作经费") and "0.2元/人" in h for h in heads)
    r = lay.first_data
    assert ws[f"E{r}"].value == f'=IF(COUNT(D{r})=0,"",N(C{r})+N(D{r}))'  # blank until the net increase is typed
    assert ws[f"A{lay.total_row}"].value == "合　计" and ws[f"B{lay.total_row}"].value.startswith("=SUM(B")
    assert int(ws.page_setup.fitToHeight) == 1
    heads000 = [c.value for c in main_sheet(committed("zaozhuang-2022", "tasks"))[lay.header_top]]
    assert heads000[0] == "镇　街" and "12月20日前应完成（100%）" in heads000 and "征缴期应完成（超过98%）" in heads000  # 000 四(二)


@pytest.mark.parametrize("plan_id", PLAN_IDS)
def test_schedule_laid_out_from_the_plans_dates(plan_id):
    ws = main_sheet(committed(plan_id, "schedule"))
    lay = layout_of(plan_id, "schedule")
    items = content.schedule_items(plans.load(plan_id))
    assert items
    got = [(ws.cell(r, 2).value, ws.cell(r, 3).value) for r in range(lay.first_data, lay.first_data + len(items))]
    assert got == [(i.when, i.what) for i in items]
    text = " ".join(w for _, w in got)
    for m in plans.load(plan_id).milestones:
        assert f"参保率{'超过' if m.above else '达到'}{m.rate_text}" in text
    if plan_id == "xinqiao-2021":       # 002 附件1's own stages
        stages = {ws.cell(r, 1).value for r in range(lay.first_data, lay.first_data + len(items))} - {None}
        assert {"宣传发动阶段", "参保缴费阶段", "缴费公示阶段"} <= stages
        assert got[0][0] == "2020年10月13日至10月30日"


# ---------------------------------------------------------------- command line

def test_cli_list_names_every_form():
    out = run_yibao("template", "list").stdout
    for f in FORM_IDS:
        assert f in out
    assert "参保缴费台账" in out and "资助名单" in out


def test_cli_new_with_town_and_village(tmp_path):
    target = tmp_path / "台账.xlsx"
    proc = run_yibao("template", "new", "ledger", "--policy", "xinqiao-2021", "--town", "新桥镇",
                     "--village", "石桥村", "-o", str(target))
    assert "已生成" in proc.stdout
    ws = main_sheet(openpyxl.load_workbook(target))
    assert ws["A1"].value == "衡山县2021年度城乡居民医保参保缴费台账"
    assert "新桥镇" in ws["A2"].value and "石桥村" in ws["A2"].value
    # never overwrite without --force; with it, keep a .bak
    again = run_yibao("template", "new", "ledger", "--policy", "xinqiao-2021", "-o", str(target), check_rc=2)
    assert again.stderr.startswith("错误：") and "--force" in again.stderr and len(again.stderr.strip().splitlines()) == 1
    run_yibao("template", "new", "ledger", "--policy", "xinqiao-2021", "-o", str(target), "--force")
    assert (tmp_path / "台账.xlsx.bak").is_file()
    assert "石桥村" in main_sheet(load_bytes((tmp_path / "台账.xlsx.bak").read_bytes()))["A2"].value
    assert "石桥村" not in main_sheet(openpyxl.load_workbook(target))["A2"].value
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


@pytest.mark.parametrize("args,needle", [
    (("template", "new", "nosuch", "--policy", "xinqiao-2021"), "没有“nosuch”这个模板"),
    (("template", "new", "ledger", "--policy", "nosuch-2020"), "nosuch-2020"),
    (("template", "new", "ledger", "--policy", "xinqiao-2021", "-o", "out.txt"), ".xlsx"),
    (("template", "new", "ledger", "--policy", "xinqiao-2021", "--village", " "), "村名称"),
])
def test_cli_bad_input_is_one_chinese_line_exit_2(tmp_path, args, needle):
    proc = run_yibao(*args, check_rc=2, env={"PWD": str(tmp_path)})
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误：") and needle in lines[0]


def test_cli_new_matches_committed_template(tmp_path):
    target = tmp_path / "x.xlsx"
    run_yibao("template", "new", "register", "--policy", "xxzhen-2020", "-o", str(target))
    assert target.read_bytes() == builder.build_bytes("register", "xxzhen-2020")
    assert fingerprint(openpyxl.load_workbook(target)) == fingerprint(committed("xxzhen-2020", "register"))


def test_every_form_id_resolves():
    for f in FORM_IDS:
        assert find_form(f).id == f


def test_yibao_refresh_fills_the_computed_columns(tmp_path):
    """Where the add-in cannot run, `yibao refresh` writes the same values
    into our columns of a template; the native 号码核对 formula stays."""
    import datetime
    target = tmp_path / "台账.xlsx"
    run_yibao("template", "new", "ledger", "--policy", "xinqiao-2021", "-o", str(target))
    wb = openpyxl.load_workbook(target)
    ws = main_sheet(wb)
    lay = layout_of("xinqiao-2021", "ledger")
    r = lay.first_data
    good = make_id("19560705", 42)
    for key, value in {"name": "王五", "relation": "户主", "gender": "女", "id_no": good, "identities": "边缘户",
                       "pay_date": datetime.date(2020, 11, 2)}.items():
        ws.cell(r, lay.col[key]).value = value
    ws.cell(r + 1, lay.col["name"]).value = "赵六"
    ws.cell(r + 1, lay.col["id_no"]).value = good[:-1] + ("0" if good[-1] != "0" else "1")
    wb.save(target)
    run_yibao("refresh", str(target))
    ws = main_sheet(openpyxl.load_workbook(target))
    assert ws.cell(r, lay.col["calc_payable"]).value == 140          # 280 − 边缘人口 140
    assert ws.cell(r, lay.col["calc_tier"]).value == "边缘人口"
    assert ws.cell(r, lay.col["calc_benefit"]).value.date() == datetime.date(2021, 1, 1)
    assert ws.cell(r, lay.col["calc_check"]).value in (None, "")
    assert "校验位" in ws.cell(r + 1, lay.col["calc_check"]).value
    assert ws.cell(r, lay.col["id_native"]).value.startswith("=IF(")


def test_id_check_formula_fits_excel_2010_and_wps():
    """号码核对 strips pasted invisible characters with functions every
    spreadsheet since Excel 2010 has (no LET, LAMBDA, UNICHAR, TEXTJOIN),
    within Excel's limits: 8,192 characters, 64 nested functions."""
    import re
    from yibao.templates import native
    formula = native.id_native_message("F5", "$F$5:$F$504", "E5")
    outside = re.sub(r'"[^"]*"', '""', formula)        # string literals may hold anything
    names = set(re.findall(r"([A-Z][A-Z0-9.]*)\(", outside))
    assert names <= {"IF", "LEN", "SUBSTITUTE", "CLEAN", "IFERROR", "AND", "NOT", "MID", "MOD", "SUMPRODUCT",
                     "ROW", "INDIRECT", "UPPER", "RIGHT"}, names
    assert len(formula) < 8192
    depth = deepest = 0
    for ch in outside:
        depth += ch == "("
        depth -= ch == ")"
        deepest = max(deepest, depth)
    assert depth == 0 and deepest < 64, deepest
    for ch in ("\u200b", "\ufeff", "\u202a", "\u202c", "\u202d", "\u202e", "\u3000", "\u00a0"):
        assert f'"{ch}",""' in formula
