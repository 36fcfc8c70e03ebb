"""The official ledger forms as data: one :class:`Form` per form, the single
source of truth for what the built workbooks hold.

Nothing here touches openpyxl; :mod:`yibao.templates.builder` turns a form
plus a plan into a workbook. Texts may carry placeholders filled from the
plan (``{county}``, ``{year}``, ``{prev_year}``, ``{town_part}`` ...; see
:func:`yibao.templates.content.context`). Formula templates name other
columns of the same row as ``[[key]]``, a whole data column as
``[[key:range]]``, the row range of the plan's own input cells as
``[[row_inputs]]`` and the plan-id cell as ``方案编号`` (a defined name).

Column kinds:

``seq``      序号, prefilled 1..n, locked
``text``     free text, unlocked, stored as text
``name``     a person's name
``id``       身份证号: text format, native check-digit validation, duplicate
             and wrong-ID highlighting
``phone``    telephone, text format
``money``    yuan, 2 decimals, limited to 0..the plan's full standard
``count``    whole number of persons
``date``     date, limited to the plausible window named by ``dates``
``choice``   dropdown from the list named by ``choices``
``sign``     handwritten on paper (signature); never highlighted
``udf``      our add-in function (locked); shows #NAME? where the add-in is absent
``native``   a native Excel formula (locked), works in Excel, WPS and LibreOffice
"""

from __future__ import annotations

import dataclasses

__all__ = ["Column", "Segment", "Form", "FORMS", "FORM_IDS", "form", "PERSON_ARGS"]


@dataclasses.dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: float
    kind: str = "text"
    required: bool = False
    #: required unless this other column is filled (个人缴费 / 未缴费原因)
    required_unless: str | None = None
    choices: str | None = None
    #: a dropdown whose list is a suggestion: other text allowed after a warning
    open_list: bool = False
    dates: str | None = None
    formula: str | None = None
    number_format: str | None = None
    #: our column (not on the paper form): set apart, not printed
    ours: bool = False
    #: parent header spanning several columns on a two-row header (004 个人交费★)
    parent: str | None = None
    prompt: str | None = None


@dataclasses.dataclass(frozen=True)
class Segment:
    """A piece of a text line above or below the table: fixed text, or an
    input cell (``input`` names its kind: ``text`` or ``date``)."""
    text: str = ""
    span: int | None = None      # columns it covers; None = to the last plan column
    input: str | None = None
    align: str = "left"
    name: str | None = None      # a defined name for the input cell (e.g. 报送部门)


@dataclasses.dataclass(frozen=True)
class Form:
    id: str                      # English id used on the command line
    name: str                    # Chinese name staff know it by
    sheet: str                   # worksheet name
    source: str                  # where in the seed plans it comes from
    title: str
    columns: tuple[Column, ...]
    unit_line: tuple[Segment, ...] = ()
    foot: tuple[tuple[Segment, ...], ...] = ()
    rows: int = 300              # data rows (all pages)
    rows_per_page: int | None = None   # page blocks with 本页合计 (004 附件2)
    total_columns: tuple[str, ...] = ()  # columns summed per page / in 合计
    print_footer: str = ""       # left footer on every printed page
    kind: str = "persons"        # persons | tasks | schedule
    description: str = ""        # for `yibao template list` and docs


# The arguments every person function takes, in order (see yibao.functions.udf).
PERSON_ARGS = ("[[id_no]]", "[[identities]]", "[[pay_date]]", "[[enroll_type]]", "[[event_date]]",
               "[[employee_insured]]", "方案编号")


def _person(function: str, identities: str = "[[identities]]") -> str:
    args = list(PERSON_ARGS)
    args[1] = identities
    return f"={function}({','.join(args)})"


_NOTE_UDF = ("灰色栏为公式：应缴、资助类别、待遇起始、校验等用医保征缴加载项的函数计算，"
             "在WPS或LibreOffice中未装加载项时显示#NAME?等错误值，属正常现象，"
             "运行“yibao refresh 文件”可填入计算结果；号码核对栏无需加载项。")

#: our input columns: what the functions need beyond the plan's own columns
_OUR_INPUTS = (
    Column("identities", "身份类别", 16, "choice", choices="identity", open_list=True, ours=True,
           prompt="从下拉列表选择；有多个身份时用“；”分隔，如“低保对象；一二级残疾人”"),
    Column("pay_date", "缴费日期", 11.5, "date", dates="pay", ours=True,
           prompt="实际缴费日期；空着按集中征缴期计算"),
    Column("enroll_type", "参保类型", 11, "choice", choices="enroll_type", ours=True,
           prompt="空着为普通参保"),
    Column("event_date", "事件日期", 11.5, "date", dates="event", ours=True,
           prompt="职工医保待遇结束日、退出现役日等；新生儿不用填"),
    Column("employee_insured", "是否参加职工医保", 9, "choice", choices="yes_no", ours=True,
           prompt="已参加职工医保的填“是”"),
)

_ID_NATIVE = "[[id_native]]"     # the builder expands it (see yibao.templates.native)


def _computed(identities: str = "[[identities]]", subsidy: bool = False) -> tuple[Column, ...]:
    cols = [
        Column("calc_payable", "应缴", 8, "udf", formula=_person("PAYABLE", identities),
               number_format="0.00", ours=True),
        Column("calc_tier", "资助类别", 16, "udf", formula=_person("SUBSIDY_TIER", identities), ours=True),
    ]
    if subsidy:
        cols.append(Column("calc_subsidy", "资助金额", 8, "udf", formula=_person("SUBSIDY_AMOUNT", identities),
                           number_format="0.00", ours=True))
    cols += [
        Column("calc_benefit", "待遇起始", 11.5, "udf", formula=_person("BENEFIT_START", identities),
               number_format="yyyy-mm-dd", ours=True),
        Column("calc_check", "校验", 16, "udf", formula="=ID_CHECK([[id_no]])", ours=True),
        Column("id_native", "号码核对", 16, "native", formula=_ID_NATIVE, ours=True),
    ]
    return tuple(cols)


_NOTES_002 = (
    (Segment("填表说明："),),
    (Segment("1. 标注“*”为必填项目，且确保真实、准确。"),),
    (Segment("2. 户主关系、姓名、性别、身份证号以户口簿登记信息为准。"),),
)

LEDGER = Form(
    id="ledger", name="参保缴费台账", sheet="参保缴费台账", source="002 附件2",
    title="{county}{year}年度城乡居民医保参保缴费台账",
    description="逐户逐人登记告知督促和缴费情况（村、社区用）",
    unit_line=(Segment("填报单位：{town_part}　　{village_part}", span=7),
               Segment("单位：元", span=None, align="right")),
    columns=(
        Column("seq", "序号", 5, "seq"),
        Column("family", "家庭编号", 9, "text", prompt="同一户填同一编号"),
        Column("name", "姓名*", 9, "name", required=True),
        Column("relation", "户主关系*", 9, "choice", required=True, choices="relation", open_list=True),
        Column("gender", "性别*", 5.5, "choice", required=True, choices="gender"),
        Column("id_no", "身份证号*", 21, "id", required=True),
        Column("notify", "告知、督促方式", 11, "choice", choices="notify", open_list=True),
        Column("paid", "个人缴费*", 9, "money", required_unless="unpaid_reason"),
        Column("unpaid_reason", "未缴费原因*", 14, "choice", required_unless="paid", choices="unpaid_reason",
               open_list=True),
        Column("signature", "参保人签字*", 11, "sign"),
    ) + _OUR_INPUTS + _computed(),
    foot=(
        (Segment("填表人（签字）：＿＿＿＿＿＿＿＿　　　负责人（签字）：＿＿＿＿＿＿＿＿　　　电话：＿＿＿＿＿＿＿＿"),),
        (Segment("村（居）委会（盖章）　　　　　　　　　　　　　　年　　月　　日", align="right"),),
    ) + _NOTES_002 + ((Segment("3. 告知、督促方式填写“电话告知”或“上门告知”。"),),),
    rows=300,
    print_footer="填表人（签字）：　　　　　　负责人（签字）：　　　　　　（盖章）",
)

NEW_ENROLLEE = Form(
    id="new-enrollee", name="新增参保缴费基本信息登记表", sheet="新增参保登记表", source="002 附件3",
    title="{county}{year}年度城乡居民医保新增参保缴费基本信息登记表",
    description="新增参保（含往年参保信息有误）人员登记，上报乡镇集中处理",
    unit_line=(Segment("填报单位：{town_part}　　{village_part}", span=6),
               Segment("单位：元", span=None, align="right")),
    columns=(
        Column("seq", "序号", 5, "seq"),
        Column("name", "姓名*", 9, "name", required=True),
        Column("relation", "户主关系*", 9, "choice", required=True, choices="relation", open_list=True),
        Column("gender", "性别*", 5.5, "choice", required=True, choices="gender"),
        Column("id_no", "身份证号*", 21, "id", required=True),
        Column("phone", "联系电话", 13, "phone"),
        Column("paid", "个人交费*", 9, "money", required=True),
        Column("agent", "经办人*", 9, "name", required=True),
        Column("signature", "参保人签字", 11, "sign"),
    ) + _OUR_INPUTS + _computed(),
    foot=(
        (Segment("填表人（签字）：＿＿＿＿＿＿＿＿　　　电话：＿＿＿＿＿＿＿＿"),),
        (Segment("村（居）委会（盖章）　　　　　　　　　　　　　　年　　月　　日", align="right"),),
    ) + _NOTES_002,
    rows=100,
    print_footer="填表人（签字）：　　　　　　电话：　　　　　　（盖章）",
)

ELSEWHERE = Form(
    id="elsewhere", name="异地参保信息登记表", sheet="异地参保登记表", source="002 附件4",
    title="{county}{year}年度城乡居民异地参保信息登记表",
    description="已在外地参保（职工医保或外地居民医保）的本地户籍人员，附参保凭证复印件",
    unit_line=(Segment("填报单位：{town_part}　　{village_part}", span=None),),
    columns=(
        Column("seq", "序号", 5, "seq"),
        Column("name", "姓名", 10, "name", required=True),
        Column("id_no", "身份证号码", 21, "id", required=True),
        Column("domicile", "户籍地", 16, "text", required=True),
        Column("insured_place", "参保地（凭证复印）", 18, "text", required=True,
               prompt="参保所在地（省市县）；请收集参保凭证复印件作附件"),
        Column("insurance_kind", "参保类型（职工医保/城乡居民医保）", 16, "choice", required=True,
               choices="insurance_kind"),
        Column("phone", "联系电话", 13, "phone"),
        Column("calc_check", "校验", 16, "udf", formula="=ID_CHECK([[id_no]])", ours=True),
        Column("id_native", "号码核对", 16, "native", formula=_ID_NATIVE, ours=True),
    ),
    foot=(
        (Segment("填报人：＿＿＿＿＿＿＿＿　　　联系电话：＿＿＿＿＿＿＿＿　　　填报时间：　　　　年　　月　　日"),),
        (Segment("注：本表由村组（社区）填报，村组（社区）工作人员需收集异地参保凭证资料作附件，"
                 "由乡镇（街道）汇总后交医保部门备案，以备上级部门核查。"),),
    ),
    rows=100,
    print_footer="填报人：　　　　　　联系电话：　　　　　　（盖章）",
)

REGISTER = Form(
    id="register", name="参保缴费基本信息登记表", sheet="参保缴费登记表", source="004 附件2",
    title="{county}{year}年度城乡居民基本医疗保险参保缴费基本信息登记表",
    description="以户为单位入户登记代收，一式三份，逐页合计，户主签字（004 六(一)）",
    unit_line=(Segment("填报单位：{town_part_street}　　{village_part_community}　　　　　组", span=None),),
    columns=(
        Column("seq", "序号", 5, "seq"),
        Column("household_type", "户属性★", 12, "choice", required=True, choices="household_type",
               open_list=True),
        Column("relation", "户主关系★", 9, "choice", required=True, choices="relation", open_list=True),
        Column("name", "姓名★", 9, "name", required=True),
        Column("gender", "性别", 5.5, "choice", choices="gender"),
        Column("id_no", "身份证号★", 21, "id", required=True),
        Column("phone", "联系电话", 13, "phone"),
        Column("paid", "实交额", 8.5, "money", required=True, parent="个人交费★",
               prompt="本人实际交的钱（元）；实交额＋资助额＝个人缴费标准"),
        Column("subsidy_paid", "资助额", 8.5, "money", parent="个人交费★",
               prompt="政府资助的部分（元）"),
        Column("signature", "参保人签字★", 11, "sign"),
        Column("note", "备注", 10, "text"),
    ) + _OUR_INPUTS + _computed(
        identities='[[identities]]&IF(AND([[identities]]<>"",[[household_type]]<>""),"；","")&[[household_type]]'),
    foot=(
        (Segment("{register_signatures}"),),
        (Segment("村（居）委会（盖章）　　　　　　　　　　　　　　年　　月　　日", align="right"),),
        (Segment("注：1. 标注“★”为必填项目；户属性填写一般户、建档立卡贫困户、一般低保户等。"),),
        (Segment("2. 本表一式三份，加盖村（居）委公章，报社保中心、卫生院各一份，留存一份备查。"),),
    ),
    rows=300, rows_per_page=15, total_columns=("paid", "subsidy_paid"),
    print_footer="收款填表人（签字）：　　　　　户主确认见参保人签字栏　　　　　（盖章）",
)

SUBSIDY_LIST = Form(
    id="subsidy-list", name="资助名单", sheet="资助名单", source="002 四(四) 资助流程",
    title="{county}{year}年度城乡居民医保参保资助名单",
    description="各部门报送县医保事务中心的困难群众资助名单（纸质盖章＋电子档），合并去重的输入",
    unit_line=(Segment("报送部门（盖章）：", span=2), Segment("", span=3, input="text", name="报送部门"),
               Segment("名单截止日期：", span=2), Segment("", span=1, input="date", name="名单截止日期")),
    columns=(
        Column("seq", "序号", 5, "seq"),
        Column("name", "姓名*", 9, "name", required=True),
        Column("gender", "性别*", 5.5, "choice", required=True, choices="gender"),
        Column("id_no", "身份证号*", 21, "id", required=True),
        Column("identities", "身份类别*", 20, "choice", required=True, choices="identity", open_list=True,
               prompt="按本部门认定的身份填写；有多个身份时用“；”分隔"),
        Column("town_name", "乡镇（街道）*", 11, "text", required=True),
        Column("village", "村（社区）*", 11, "text", required=True),
        Column("confirmed", "认定日期", 11.5, "date", dates="list"),
        Column("deceased", "是否死亡", 7, "choice", choices="yes_no",
               prompt="12月20日前报送已死亡人员时填“是”"),
        Column("phone", "联系电话", 13, "phone"),
        Column("note", "备注", 10, "text"),
        Column("department", "提供部门", 12, "native", formula='=IF([[id_no]]="","",报送部门)', ours=True),
        Column("calc_tier", "资助类别", 16, "udf",
               formula='=SUBSIDY_TIER([[id_no]],[[identities]],"","","","",方案编号)', ours=True),
        Column("calc_subsidy", "资助金额", 8, "udf",
               formula='=SUBSIDY_AMOUNT([[id_no]],[[identities]],"","","","",方案编号)', number_format="0.00", ours=True),
        Column("calc_check", "校验", 16, "udf", formula="=ID_CHECK([[id_no]])", ours=True),
        Column("id_native", "号码核对", 16, "native", formula=_ID_NATIVE, ours=True),
    ),
    foot=(
        (Segment("填报人：＿＿＿＿＿＿＿＿　　　审核人：＿＿＿＿＿＿＿＿　　　联系电话：＿＿＿＿＿＿＿＿"),),
        (Segment("报送单位（盖章）　　　　　　　　　　　　　　年　　月　　日", align="right"),),
        (Segment("说明：1. 人员信息项目须齐全且精准无误，纸质档加盖单位公章，同时报送电子档。"),),
        (Segment("2. 每月底前报送新增核定人员；已死亡人员在“是否死亡”栏填“是”。"),),
    ),
    rows=500,
    print_footer="填报人：　　　　　　审核人：　　　　　　报送单位（盖章）",
)

TASKS = Form(
    id="tasks", name="筹资任务分配表", sheet="任务分配表", source="004 附件1、000 附件",
    title="{task_title}",
    description="把参保目标任务分解到村（社区）或镇街，附本方案时间节点应完成数",
    kind="tasks",
    unit_line=(Segment("单位：人", span=None, align="right"),),
    columns=(
        Column("unit", "{unit_label}", 14, "text"),
        Column("population", "{prev_year}年派出所户籍人口数", 12, "count"),
        Column("prev_target", "{prev_year}年目标任务数", 12, "count"),
        Column("net_increase", "{year}预计净增数", 11, "count"),
        Column("target", "{year}年目标任务数", 12, "native",
               # blank until the year's net increase is typed (0 counts): last year's figure is not this
               # year's target, and printed under a town total it would not add up (004 附件1)
               formula='=IF(COUNT([[net_increase]])=0,"",N([[prev_target]])+N([[net_increase]]))',
               number_format="0"),
        Column("target_rate", "目标参保率", 10, "native",
               formula='=IF(OR(N([[population]])=0,[[target]]=""),"",[[target]]/[[population]])',
               number_format="0.0%", ours=True),
        # one "应完成" column per plan milestone is added by the builder (content.milestones)
        Column("actual", "实际参保数", 10, "count", ours=True),
        Column("done_rate", "完成率", 9, "native",
               formula='=IF(OR([[target]]="",[[actual]]=""),"",[[actual]]/[[target]])',
               number_format="0.0%", ours=True),
    ),
    foot=(
        (Segment("填表人：＿＿＿＿＿＿　　审核人：＿＿＿＿＿＿　　（盖章）　　年　　月　　日"),),
    ),
    rows=20, total_columns=("population", "prev_target", "net_increase", "target", "actual"),
    print_footer="填表人：　　　　　　审核人：　　　　　　（盖章）",
)

SCHEDULE = Form(
    id="schedule", name="工作日程安排", sheet="工作日程安排", source="002 附件1",
    title="{county}{year}年度城乡居民医保参保缴费工作日程安排",
    description="按方案的日期排出的工作日程：各阶段、时间节点和工作安排",
    kind="schedule",
    columns=(
        Column("stage", "工作实施步骤", 16, "text"),
        Column("when", "时间节点", 26, "text"),
        Column("what", "工作安排", 90, "text"),
    ),
    foot=((Segment("注：时间节点按本方案文件生成，乡镇可在空行补充本地安排。"),),),
    rows=6,
    print_footer="",
)

FORMS: tuple[Form, ...] = (LEDGER, NEW_ENROLLEE, ELSEWHERE, REGISTER, TASKS, SUBSIDY_LIST, SCHEDULE)
FORM_IDS = tuple(f.id for f in FORMS)

#: note shown above our columns on every form that has add-in formulas
NOTE_UDF = _NOTE_UDF
NOTE_OURS = "以下为辅助栏（不打印）：蓝色栏供计算填写，灰色栏自动计算。"


def form(form_id: str) -> Form:
    for f in FORMS:
        if f.id == form_id or f.name == form_id:
            return f
    raise KeyError(form_id)
