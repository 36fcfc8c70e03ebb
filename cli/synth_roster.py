"""The fictional town's household register and 异地参保 form, for ``yibao uninsured``.

:func:`register` (pure) turns a :class:`yibao.synth.Town` into the register
the police station keeps (户籍人口名单: every person of the villages once,
in their village, plus persons on no ledger) with a case planted for every
reason :mod:`yibao.macros.uninsured` knows, and the 异地参保信息登记表
(002 附件4) of one village; :func:`write` writes them::

    户籍人口/户籍人口名单.xlsx    the register: 户号, 姓名, 性别, 与户主关系, 公民身份号码, 出生日期,
                                 村（居）, 人口状态, 是否在校学生, 备注
    异地参保/异地参保登记表.xlsx  the 附件4 form (template ``elsewhere``), filled

It uses its own random stream: the town's other files stay as they were.
Every number is fictional (region 430999) with a valid check digit, except
the one planted with a wrong check digit. :attr:`Register.expected` is
what the command must say of every register person (the town's truth:
why each one was made unpaid), :attr:`Register.mistakes` the lines of
错误清单.md.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import random
from pathlib import Path

__all__ = ["ROSTER_FILE", "ELSEWHERE_FILE", "Register", "register", "write", "mistake_lines"]

ROSTER_FILE = "户籍人口/户籍人口名单.xlsx"
ELSEWHERE_FILE = "异地参保/异地参保登记表.xlsx"
COLUMNS = ("序号", "户号", "姓名", "性别", "与户主关系", "公民身份号码", "出生日期", "村（居）", "人口状态",
           "是否在校学生", "备注")


@dataclasses.dataclass
class Register:
    rows: list[dict]                                  # COLUMNS → value, in order
    elsewhere: list[dict]                             # the 附件4 form's rows
    elsewhere_village: str
    #: register ID (as the command reads it: 18 digits) → the category the command must give
    expected: dict[str, str]
    #: planted for the register: (category or finding, name, id_no)
    planted: list[tuple[str, str, str]]
    #: 错误清单.md lines: (where, what, what yibao says)
    mistakes: list[tuple[str, str, str]]
    #: ledger persons who are not on the register (name, id_no)
    outside: list[tuple[str, str]]
    #: register rows that repeat a person (count)
    repeats: int = 0


def _natural(m, dead_ids: set[str]) -> str:
    """What the town made of a ledger person: the category ``uninsured`` gives."""
    if m.id_no in dead_ids:
        return "死亡"
    if m.employee:
        return "职工医保"
    if m.unpaid_reason == "已在外地参保":
        return "异地参保"
    if m.unpaid_reason:
        return "原因不明"
    if m.id_cell != m.id_no:
        return "原因不明"           # the ledger's number is wrong: on no ledger as far as the register can tell
    return "参保"


def register(data, seed: int = 2027) -> Register:
    """The register and the 附件4 form of ``data`` (a :class:`yibao.synth.Town`), cases planted (pure)."""
    from yibao.functions import plan as plans
    from . import synth
    plan = plans.load(synth.PLAN_ID)
    year = plan.year_start.year
    rng = random.Random(seed * 31 + 14)
    used = {m.id_no for m in data.members} | {str(p.get("证件号码")) for p in data.payments}
    dead_ids = {d["身份证号"] for d in data.deceased}
    planted: list[tuple[str, str, str]] = []
    mistakes: list[tuple[str, str, str]] = []
    expected: dict[str, str] = {}

    flagged = {i for _c, _n, i in data.planted} | dead_ids
    named = {w.split("“")[-1].rstrip("”") for w, _a, _b in data.mistakes + data.reconcile_mistakes}
    seen: set[str] = set()
    people = []
    for m in data.members:
        if m.id_no in seen:
            continue            # entered in two villages' ledgers: one person, registered in the first
        seen.add(m.id_no)
        people.append(m)
    plain = [m for m in people if m.pay_date and m.enroll_type == "普通" and not m.identities
             and m.relation != "户主" and m.id_no not in flagged and m.name not in named and m.id_cell == m.id_no]
    by_village: dict[str, list] = {}
    for m in plain:
        by_village.setdefault(m.village, []).append(m)
    east, west, south, north = (by_village[v] for v, _ in synth.VILLAGES)

    rows: list[dict] = []
    status: dict[str, str] = {}
    notes: dict[str, str] = {}
    students: set[str] = set()
    shown_id: dict[str, str] = {}
    shown_name: dict[str, str] = {}

    def where(village, name):
        return f"{ROSTER_FILE} {village} 姓名“{name}”"

    # a. ledger persons changed on the register
    gone = east[2]                                  # on the ledger, not on the register: 外来/挂靠
    planted.append(("不在户籍名单", gone.name, gone.id_no))
    mistakes.append((f"台账/{gone.village}.xlsx 姓名“{gone.name}”", "在台账上已缴费，但不在户籍人口名单上（外来人员、挂靠等）",
                     "未参保核查：不在户籍名单（不计入汇总）"))
    wrong = east[4]                                 # the register's number has a wrong check digit
    shown_id[wrong.id_no] = synth._wrong_check_digit(wrong.id_no)
    planted.append(("身份证号有误", wrong.name, wrong.id_no))
    mistakes.append((where(wrong.village, wrong.name), "户籍名单上的身份证号校验位错误",
                     "未参保核查：身份证号有误（台账上这个人另列为不在户籍名单）"))
    old = next(m for m in west[2:] if m.born.year < 2000)   # the register keeps the old 15-digit number
    shown_id[old.id_no] = old.id_no[:6] + old.id_no[8:17]
    planted.append(("15位号码", old.name, old.id_no))
    mistakes.append((where(old.village, old.name), "户籍名单上是15位旧身份证号",
                     "未参保核查：按18位号码比对，计入参保"))
    renamed = south[2]                              # another name for one number
    other = renamed.name[0] + "春" + renamed.name[2:] if len(renamed.name) > 2 else renamed.name + "春"
    shown_name[renamed.id_no] = other
    planted.append(("姓名不一致", renamed.name, renamed.id_no))
    mistakes.append((where(renamed.village, other), f"户籍名单姓名“{other}”，台账为“{renamed.name}”",
                     "未参保核查：姓名不一致（计入参保）"))
    twice = north[2]                                # listed twice
    planted.append(("重复行", twice.name, twice.id_no))
    mistakes.append((where(twice.village, twice.name), "户籍名单上同一人出现两次", "未参保核查：户籍名单重复行，只计一次"))

    # b. persons on the register only, one per reason, in a household of their village
    def newcomer(village, relation, born, state="", note="", student="", surname=None):
        host = next(m for m in people if m.village == village and m.relation == "户主")
        born_id = synth.fictional_id(rng, born, used)
        name = (surname or host.name[0]) + "".join(rng.choice(synth.GIVEN) for _ in range(rng.choice((1, 2))))
        m = synth.Member(village, host.family, name, relation, born_id, born)
        status[m.id_no] = state
        notes[m.id_no] = note
        if student:
            students.add(m.id_no)
        return m

    extra = []
    cases = (
        ("迁出", "东山村", "子女", datetime.date(year - 27, 4, 9), dict(state="迁出", note=f"{year - 1}年6月迁往外省"),
         "人口状态为“迁出”"),
        ("服兵役", "西河村", "子女", datetime.date(year - 21, 7, 2), dict(state="服兵役"), "人口状态为“服兵役”"),
        ("服刑", "南岭村", "子女", datetime.date(year - 38, 2, 17), dict(state="服刑"), "人口状态为“服刑”"),
        ("死亡", "北坡社区", "父母", datetime.date(year - 88, 11, 23), dict(state="死亡"), "人口状态为“死亡”，不在死亡人员名单上"),
        ("在校学生", "东山村", "子女", datetime.date(year - 19, 9, 14), dict(student="是"), "是否在校学生为“是”，不在台账上"),
        ("新生儿未登记", "西河村", "子女", datetime.date(year, 3, 8), {}, f"{year}年3月8日出生，不在台账上"),
        ("原因不明", "南岭村", "配偶", datetime.date(year - 45, 5, 30), {}, "不在台账上，也不在任何名单上"),
        ("异地参保", "北坡社区", "子女", datetime.date(year - 31, 8, 19), {}, f"在{ELSEWHERE_FILE}上，不在台账上"),
    )
    away_person = None
    for reason, village, relation, born, how, what in cases:
        m = newcomer(village, relation, born, **how)
        extra.append(m)
        planted.append((reason, m.name, m.id_no))
        expected[m.id_no] = reason
        mistakes.append((where(village, m.name), what, f"未参保核查：{reason}"))
        if reason == "异地参保":
            away_person = m

    # consequences of the ledger's and the export's planted mistakes (listed above in 错误清单.md)
    for m in people:
        if m.id_cell != m.id_no:
            mistakes.append((f"台账/{m.village}.xlsx 姓名“{m.name}”", "台账身份证号有误（见上），户籍名单上是正确号码",
                             "未参保核查：原因不明（注明台账有同名人员身份证号有误），台账这一行列为不在户籍名单"))
        elif m.id_no in dead_ids:
            mistakes.append((f"台账/{m.village}.xlsx 姓名“{m.name}”", "在死亡人员名单上（见上）", "未参保核查：死亡"))
    for category, name, _id in data.planted:
        if category == "姓名不一致":
            mistakes.append((f"{synth.EXPORT_FILE} 姓名“{name}”", "缴费导出的姓名与台账、户籍名单不同（见上）",
                             "未参保核查：姓名不一致（计入参保）"))

    # c. the export's payer on no ledger (缴费比对: 已缴费未登记台账) lives in 东山村
    ledger_ids = {m.id_no for m in data.members}
    for category, name, id_no in data.planted:
        if category == "已缴费未登记台账" and id_no not in ledger_ids:
            born = datetime.date(int(id_no[6:10]), int(id_no[10:12]), int(id_no[12:14]))
            host = next(m for m in people if m.village == "东山村" and m.relation == "户主")
            extra.append(synth.Member("东山村", host.family, name, "其他", id_no, born))
            expected[id_no] = "参保"      # with the export; without it 原因不明
    # d. a ledger person written as not paid whom the export shows paid (缴费比对: 台账未记缴费)
    for category, name, id_no in data.planted:
        if category == "台账未记缴费" and id_no in ledger_ids:
            member = next(m for m in data.members if m.id_no == id_no)
            if _natural(member, dead_ids) != "参保":
                expected[id_no] = "参保"  # with the export; without it what the ledger says
                mistakes.append((f"台账/{member.village}.xlsx 姓名“{name}”",
                                 "台账写未缴费，缴费导出有本县缴费（见上）", "未参保核查：参保（按缴费导出）"))

    members = [m for m in people if m is not gone] + extra
    order = {v: i for i, (v, _w) in enumerate(synth.VILLAGES)}
    members.sort(key=lambda m: (order[m.village], m.family))
    for m in members:
        expected.setdefault(m.id_no, _natural(m, dead_ids))
    expected.pop(wrong.id_no, None)
    for m in members:
        for _ in range(2 if m is twice else 1):
            rows.append({"序号": len(rows) + 1, "户号": f"{order[m.village] + 1}{m.family}", "姓名": shown_name.get(m.id_no, m.name),
                         "性别": m.gender, "与户主关系": m.relation, "公民身份号码": shown_id.get(m.id_no, m.id_no),
                         "出生日期": m.born, "村（居）": m.village, "人口状态": status.get(m.id_no) or "正常",
                         "是否在校学生": "是" if m.id_no in students else "", "备注": notes.get(m.id_no, "")})
    form = [{"姓名": away_person.name, "身份证号码": away_person.id_no, "户籍地": f"示例县{synth.TOWN}{away_person.village}",
             "参保地": "广东省深圳市", "参保类型": "城乡居民医保", "联系电话": "13800001234"}]
    outside = [(gone.name, gone.id_no), (wrong.name, wrong.id_no)]
    return Register(rows, form, away_person.village, expected, planted, mistakes, outside, repeats=1)


def mistake_lines(reg: Register) -> list[str]:
    """The 错误清单.md section for the register."""
    lines = ["", "## 户籍人口名单与参保比对", "",
             f"`{ROSTER_FILE}` 是虚构的派出所户籍人口名单，`{ELSEWHERE_FILE}` 是虚构的异地参保信息登记表（仿 002 附件4）。"
             "名单上每一位台账人员的参保情况都来自台账（已缴费、资助参保、职工医保、已在外地参保、未缴费原因），"
             "再故意放了下面这些情况；`yibao uninsured` 会逐一找出并归类，其余的人按台账归类。", "",
             "| 位置 | 情况 | yibao 怎么说 |", "|---|---|---|"]
    return lines + [f"| {a} | {b} | {c} |" for a, b, c in reg.mistakes]


def _save(wb, path: Path) -> None:
    from yibao.atomic import write_atomic
    raw = io.BytesIO()
    wb.save(raw)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, raw.getvalue())


def _big_roster(reg: Register):
    """A register of benchmark size: the same columns, written fast, without styles."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from . import synth
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("户籍人口")
    ws.append([f"{synth.TOWN}户籍人口名单"])
    ws.append(list(COLUMNS))
    for row in reg.rows:
        cells = []
        for key in COLUMNS:
            value = row[key]
            if isinstance(value, datetime.date):
                value = WriteOnlyCell(ws, value)
                value.number_format = "yyyy-mm-dd"
            cells.append(value)
        ws.append(cells)
    return wb


def _roster_book(reg: Register):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from . import synth
    if len(reg.rows) > 5000:
        return _big_roster(reg)
    wb = Workbook()
    ws = wb.active
    ws.title = "户籍人口"
    ws.append([f"{synth.TOWN}户籍人口名单"])
    ws.append(["提供单位：示例县公安局示例镇派出所（虚构）"])
    ws.append(list(COLUMNS))
    thin = Side(style="thin")
    for c in range(1, len(COLUMNS) + 1):
        cell = ws.cell(3, c)
        cell.font = Font(bold=True)
        cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        cell.alignment = Alignment(horizontal="center")
    for row in reg.rows:
        ws.append([row[k] for k in COLUMNS])
        r = ws.max_row
        ws.cell(r, COLUMNS.index("公民身份号码") + 1).number_format = "@"
        ws.cell(r, COLUMNS.index("户号") + 1).number_format = "@"
        ws.cell(r, COLUMNS.index("出生日期") + 1).number_format = "yyyy-mm-dd"
    for c, width in enumerate((6, 9, 9, 5, 10, 20, 11, 10, 9, 12, 20), 1):
        ws.column_dimensions[chr(64 + c)].width = width
    ws.freeze_panes = "A4"
    return wb


def _elsewhere_book(reg: Register):
    import openpyxl
    from yibao.functions import plan as plans
    from . import synth
    plan = plans.load(synth.PLAN_ID)
    wb = openpyxl.load_workbook(io.BytesIO(synth._form("elsewhere", plan.id, reg.elsewhere_village)))
    wb.calculation.fullCalcOnLoad = True
    ws = wb.worksheets[0]
    layout = synth._layout("elsewhere", plan)
    head = layout.data_start - 1
    keys = {"姓名": "name", "身份证号码": "id_no", "户籍地": "domicile", "参保地": "insured_place",
            "参保类型": "insurance_kind", "联系电话": "phone"}
    for i, row in enumerate(reg.elsewhere):
        r = head + 1 + i
        ws.cell(r, layout.col["seq"], i + 1)
        for key, field in keys.items():
            cell = ws.cell(r, layout.col[field], row[key])
            if field in ("id_no", "phone"):
                cell.number_format = "@"
    return wb


def write(reg: Register, folder: Path) -> list[Path]:
    """Write the register and the 附件4 form into ``folder``; returns the paths."""
    folder = Path(folder)
    out = []
    for rel, book in ((ROSTER_FILE, _roster_book(reg)), (ELSEWHERE_FILE, _elsewhere_book(reg))):
        _save(book, folder / rel)
        out.append(folder / rel)
    return out
