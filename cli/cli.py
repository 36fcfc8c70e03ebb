"""The ``yibao`` command: every ribbon action, headless, plus plan tools.

Thin shell: parse arguments, read files, call the functional core, print.
Errors a user can cause end as one Chinese line on stderr and a non-zero
exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import calendar
import datetime
import errno
import json
import re
import sys
from pathlib import Path

from yibao import __version__
from yibao.atomic import write_atomic
from yibao.functions import engine, plan as plans
from yibao.functions import person as person_reading
from yibao.functions.values import BadValue, yuan_text


class UserError(Exception):
    """A problem to report in one line and exit 2."""


def _utf8_streams():
    # Windows consoles default to a legacy code page; our output is Chinese.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8")
        except (AttributeError, ValueError):
            pass


# ---------------------------------------------------------------- calc

def cmd_calc(args) -> int:
    try:
        plan = plans.load(args.policy)
    except plans.PlanError as exc:
        raise UserError(_plan_error_text(exc)) from None
    out = sys.stdout
    write = out.write
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    source = open(args.input, "rb") if args.input else sys.stdin.buffer
    today = datetime.date.today()
    pending: list[str] = []
    with source:
        try:
            for number, raw in enumerate(source, 1):
                try:
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
                except UnicodeDecodeError:
                    raise UserError(f"第{number}行不是UTF-8编码") from None
                if not line:
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise UserError(f"第{number}行不是有效的JSON（第{exc.colno}列起无法识别；每行应为一个对象，如 "
                                    f"{{\"id_no\": \"...\"}}）") from None
                if not isinstance(row, dict):
                    raise UserError(f"第{number}行应为一个JSON对象，如 {{\"id_no\": \"...\"}}")
                try:
                    # the one reading of a row every shell uses (README "`yibao calc` contract")
                    person = person_reading.person_from_json(row)
                except BadValue as exc:
                    result = engine.Result(ok=False, message=str(exc))
                else:
                    result = engine.compute(plan, person, today)
                pending.append(dumps(result.to_json()))
                if len(pending) >= 2000:
                    write("\n".join(pending) + "\n")
                    pending.clear()
        finally:
            if pending:  # what was computed before a bad line still goes out
                write("\n".join(pending) + "\n")
    out.flush()
    return 0


# ---------------------------------------------------------------- policy

def _plan_error_text(exc: plans.PlanError) -> str:
    return exc.text()


def cmd_policy_list(args) -> int:
    rows = plans.list_plans()
    for pid, path, origin in rows:
        try:
            p = plans.load(path)
            title = p.name
        except plans.PlanError as exc:
            title = f"（有错误：{exc}）"
        print(f"{pid}\t{origin}\t{title}")
    print(f"共{len(rows)}个方案；用户方案目录：{plans.user_plan_dir()}")
    return 0


def cmd_policy_show(args) -> int:
    try:
        p = plans.load(args.id)
    except plans.PlanError as exc:
        raise UserError(_plan_error_text(exc)) from None
    print(describe(p))
    return 0


def describe(p: plans.Plan) -> str:
    """A plan in words, clause by clause, for `yibao policy show`."""
    lines = [
        f"{p.name}（{p.id}）",
        f"文件：{p.path}",
        f"个人缴费 {yuan_text(p.individual)} 元，财政补助 {yuan_text(p.fiscal)} 元，"
        f"筹资标准 {yuan_text(p.full_standard)} 元  [{p.clause_of('fee')}]",
        f"待遇年度 {p.year_start} 至 {p.year_end}",
        f"{engine.age_rule_text(p)}  [{p.clause_of('age')}]",
        *([f"     ※ 解释：{p.age_interpretation}"] if p.age_interpretation else []),
        f"参保类型：{'、'.join(p.enroll_types)}",
        "",
        "缴费期（按顺序匹配）：",
    ]
    benefit = {"year_start": "待遇年度首日", "pay_date": "缴费之日", "birth_date": "出生之日",
               "next_month": "缴费次月1日"}
    for r in p.rules:
        who = []
        if r.types is not None:
            who.append("、".join(sorted(r.types)))
        if r.holds_any:
            who.append("持有" + "、".join(sorted(r.holds_any)) + "之一")
        if r.subsidized_only:
            who.append("政府资助人员")
        if r.within_days is not None:
            who.append(f"{'出生' if r.event == 'birth' else '事件'}后{r.within_days}天内")
        fee = "个人缴费" if r.amount == "individual" else "筹资标准全额"
        start = benefit[r.benefit_from] + (f"后{r.wait_days}天" if r.wait_days else "")
        lines.append(f"  {r.index}. {r.name}：{r.start} 至 {r.end}，{('、'.join(who) or '所有人')}，"
                     f"按{fee}{'，可享受资助' if r.subsidy else ''}，待遇自{start}起  [{r.clause}]")
        if r.interpretation:
            lines.append(f"     ※ 解释：{r.interpretation}")
    rule = "就高不重复（同额按顺序）" if p.selection == "highest" else "严格按顺序"
    lines += ["", f"多重身份：{rule}：{' > '.join(p.order)}", "", "身份类别："]
    for c in p.categories:
        if c.kind == "full":
            amount = "全额资助"
        elif c.kind == "amount":
            amount = f"资助{yuan_text(c.amount)}元"
        elif c.kind == "share":
            amount = f"资助个人缴费的{c.share * 100:g}%"
        else:
            amount = "代缴对象" if c.proxy else "不资助（仅作条件）"
        funding = "、".join(f"{s}{v * 100:g}%" if k == "share" else f"{s}{yuan_text(v)}元"
                           for s, k, v in c.funding)
        extra = []
        if c.aliases:
            extra.append("也写作：" + "、".join(c.aliases))
        lines.append(f"  {c.name}：{amount}{'（' + funding + '）' if funding else ''}"
                     f"{'；' + '；'.join(extra) if extra else ''}  [{c.clause}]")
        for kind, text in c.conditions():
            lines.append(f"     {kind}：{text}  [{c.clause}]")
        if c.interpretation:
            lines.append(f"     ※ 解释：{c.interpretation}")
    if p.proxy_source:
        lines.append(f"代缴：{p.proxy_payer}代缴资助后余额，资金来源“{p.proxy_source}”  "
                     f"[{p.clause_of('proxy')}]")
    lines += _describe_work(p)
    lines += _describe_open(p)
    return "\n".join(lines)


def _describe_work(p: plans.Plan) -> list[str]:
    """The sections the actions read: cash, work fee, rewards, deductions,
    milestones, forms, schedule and its steps."""
    out = []

    def cite(entry):
        return f"  [{entry.clause}]" if entry.clause else ""

    def note(entry):
        text = getattr(entry, "interpretation", "")
        return [f"     ※ 解释：{text}"] if text else []

    if p.cash:
        out.append(f"现金代收：{p.cash.wording()}{cite(p.cash)}")
        out += note(p.cash)
    if p.work_fee:
        out.append(f"工作经费：每参保一人{p.work_fee.per_person_text}元{cite(p.work_fee)}")
    for r in p.rewards:
        out.append(f"奖励：{r.by:%Y年%m月%d日}前参保率达到{r.rate_text}，每参保一人奖励{yuan_text(r.per_person)}元{cite(r)}")
    d = p.deduction
    if d:
        parts = [f"参保率低于{d.min_rate_text}" if d.min_rate is not None else "",
                 f"建档立卡（脱贫）人口参保率低于{d.min_poor_rate_text}" if d.min_poor_rate is not None else ""]
        out.append(f"扣减：{'或'.join(x for x in parts if x)}的，扣减相应工作经费{cite(d)}")
    for m in p.milestones:
        when = f"{m.date:%Y年%m月%d日}前完成{m.text}" if m.date else f"参保率{'超过' if m.above else '达到'}{m.rate_text}（常年目标）"
        out.append(f"进度节点：{when}{('（原文：' + m.wording + '）') if m.wording else ''}{cite(m)}")
        out += note(m)
    f = p.forms
    if f.clause or f.household_types or f.page_counts or f.signatures:
        text = f"表格：汇总表一式{f.copies}份"
        if f.household_types:
            text += f"；户属性：{'、'.join(f.household_types)}"
        if f.page_counts:
            text += f"；每页页计：{'、'.join(f.page_counts)}"
        if f.signatures:
            text += f"；签字：{'、'.join(f.signatures)}"
        out.append(text + cite(f))
    for st in p.schedule:
        out.append(f"日程：{st.stage} {st.start} 至 {st.end}{cite(st)}")
    for st in p.steps:
        out.append(f"工作步骤：{st.when} {st.name}：{st.what}{cite(st)}")
        out += note(st)
    return ([""] + out) if out else []


def _describe_open(p: plans.Plan) -> list[str]:
    """The questions the plan leaves open, with the answer the county chose
    (``[open.<key>]``) or the default."""
    out = ["", "方案未写明、由县里决定的问题（改方案文件的 [open.键名] 即可）："]
    moot = {"tie_funding": p.selection != "highest", "wait_count": not any(r.wait_days for r in p.rules),
            "proxy_windows": not p.proxy_source}
    for q in p.open_questions:
        if moot.get(q.key) and not q.written:
            continue        # the plan has no such case: nothing to decide
        value = "、".join(q.value) if isinstance(q.value, tuple) else q.value
        where = f"  [{q.clause}]" if q.clause else "  （方案文件未写，取默认值）"
        out.append(f"  {q.question}：{q.key} = {value}（{q.meaning}）{where}")
        if q.interpretation:
            out.append(f"     ※ 解释：{q.interpretation}")
    if len(out) == 2:       # every question moot: say so, not a heading over nothing
        out.append("  无：本方案不涉及同额资助由谁出资、待遇等待期怎么数、代缴适用哪些缴费期")
    return out


_ID_LINE = re.compile(r'^id\s*=\s*"[^"]*"', re.MULTILINE)
_DATE = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")
_YEAR_IN_TEXT = re.compile(r"(?<![\d〔\[(（])((?:19|20)\d\d)(?=年)")
_KEY = re.compile(r"^\s*([A-Za-z_]+)\s*=")
#: keys whose text cites where a value came from: kept as written, not moved
_CITATIONS = ("clause", "interpretation", "note", "id", "seed")


def next_year(text: str) -> str:
    """A plan file moved one year on: ``year``, every date, and years written
    as "2025年" in names and messages. Citations (clause, interpretation,
    note) and comments stay as they were: they still name last year's text.

    >>> print(next_year('year = 2025\\nend = 2024-02-29\\nname = "X县2025年度方案"\\nclause = "国发〔2019〕3号 2019年"'))
    year = 2026
    end = 2025-02-28
    name = "X县2026年度方案"
    clause = "国发〔2019〕3号 2019年"
    """
    out = []
    for line in text.split("\n"):
        key = _KEY.match(line)
        if line.lstrip().startswith("#") or (key and key.group(1) in _CITATIONS):
            out.append(line)
            continue
        if key and key.group(1) == "year":
            line = re.sub(r"\d{4}", lambda m: str(int(m.group()) + 1), line, count=1)
        parts = line.split('"')
        for i, part in enumerate(parts):
            if i % 2 == 0:      # outside quotes: TOML date literals
                parts[i] = _DATE.sub(_shift_date, part)
            else:               # inside quotes: "2025年9月1日"
                parts[i] = _YEAR_IN_TEXT.sub(lambda m: str(int(m.group(1)) + 1), part)
        out.append('"'.join(parts))
    return "\n".join(out)


def _shift_date(m) -> str:
    year, month, day = int(m.group(1)) + 1, int(m.group(2)), int(m.group(3))
    if (month, day) == (2, 29) and not calendar.isleap(year):
        day = 28
    return f"{year:04d}-{month:02d}-{day:02d}"


def cmd_policy_new(args) -> int:
    if not plans.PLAN_ID.fullmatch(args.id):
        raise UserError(f"方案编号“{args.id}”{plans.PLAN_ID_RULE}（如 shuangshui-2026）")
    try:
        source = plans.find_plan_file(args.source)
    except plans.PlanError as exc:
        raise UserError(str(exc)) from None
    target = Path(args.output) if args.output else plans.user_plan_dir() / f"{args.id}.toml"
    if target.exists() and not args.force:
        raise UserError(f"{target} 已存在；要覆盖请加 --force（原文件会备份为 .bak）")
    text = source.read_text(encoding="utf-8")
    if args.next_year:
        text = next_year(text)
    text, count = _ID_LINE.subn(f'id = "{args.id}"', text, count=1)
    if not count:
        text = f'id = "{args.id}"\n' + text
    header = f"# 由 {source.stem} 复制而来：请逐项核对新年度方案并更新 clause\n"
    write_atomic(target, header + text, backup=True)
    if args.next_year:
        print(f"已写入 {target}：年度、各日期和名称中的年份已顺延一年，金额和条款出处（clause）仍是 {source.stem} 的，"
              f"请按新方案逐项核对修改，然后运行：yibao policy check \"{target}\"")
    else:
        print(f"已写入 {target}；其中 name、year、金额和各日期仍是 {source.stem} 的，请按新方案逐项修改，"
              f"然后运行：yibao policy check \"{target}\"")
    return 0


def cmd_policy_use(args) -> int:
    try:
        p = plans.load(args.id)
    except plans.PlanError as exc:
        raise UserError(_plan_error_text(exc)) from None
    target = plans.user_plan_dir().parent / "default-policy.txt"
    write_atomic(target, args.id + "\n", backup=False)
    print(f"默认方案已设为“{p.name}”（{args.id}）：公式不写方案编号时按此方案计算")
    return 0


def cmd_policy_check(args) -> int:
    problems = plans.check_file(args.file)
    if problems:
        for line in problems:
            print(line)
        print(f"共{len(problems)}处错误")
        return 1
    p = plans.load_file(args.file)
    print(f"方案“{p.name}”（{p.id}）检查通过：{len(p.categories)}个身份类别，{len(p.rules)}条缴费期规则")
    return 0


# ---------------------------------------------------------------- parser

#: argparse's English messages (Python 3.9-3.13 wording) → Chinese
_ARGPARSE_ZH = [
    (re.compile(r"the following arguments are required: (.+)"), r"缺少参数：\1"),
    (re.compile(r"unrecognized arguments: (.+)"), r"不认识的参数：\1"),
    (re.compile(r"argument (\S+): invalid int value: '(.*)'"), r"参数 \1 应为整数，而不是“\2”"),
    (re.compile(r"argument (\S+): invalid float value: '(.*)'"), r"参数 \1 应为数字，而不是“\2”"),
    (re.compile(r"argument (\S+): invalid choice: '?(.*?)'? \(choose from (.*)\)"),
     r"参数 \1 不能是“\2”，可选：\3"),
    (re.compile(r"argument (\S+): expected one argument"), r"参数 \1 后面应写一个值"),
    (re.compile(r"argument (\S+): expected at least one argument"), r"参数 \1 后面至少写一个值"),
    (re.compile(r"argument (\S+): not allowed with argument (\S+)"), r"参数 \1 不能与 \2 同时使用"),
    (re.compile(r"argument (\S+): invalid (.*) value: '(.*)'"), r"参数 \1 的值“\3”无效"),
    (re.compile(r"ambiguous option: (\S+) could match (.*)"), r"参数 \1 不明确，可能是：\2"),
]


def chinese_usage_error(message: str) -> str:
    """argparse's English error ``message`` in Chinese (unknown ones kept).

    >>> chinese_usage_error("argument --persons: invalid int value: 'abc'")
    '参数 --persons 应为整数，而不是“abc”'
    >>> chinese_usage_error("the following arguments are required: files")
    '缺少参数：文件'
    """
    for pattern, repl in _ARGPARSE_ZH:
        m = pattern.fullmatch(message.strip())
        if m:
            text = m.expand(repl)
            if text.startswith("缺少参数："):
                names = [_ARG_NAMES.get(n.strip(), n.strip()) for n in text[5:].split(",")]
                text = "缺少参数：" + "、".join(names)
            return text
    return message


#: positional argument names as staff know them
_ARG_NAMES = {"files": "文件", "file": "文件", "ledgers": "台账文件", "lists": "名单文件", "id": "方案编号",
              "folder": "文件夹"}


class ChineseArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors reach staff in Chinese, exit 2."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"错误：{chinese_usage_error(message)}（用 {self.prog} -h 查看用法）\n")


def build_parser() -> argparse.ArgumentParser:
    parser = ChineseArgumentParser(
        prog="yibao",
        description="城乡居民医保参保征缴工具 / Enrollment tools for resident medical insurance",
    )
    parser.add_argument("--version", action="version", version=f"yibao {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="命令")

    calc = sub.add_parser(
        "calc", help="按方案计算每人应缴、资助与待遇起始（JSON Lines） / compute per person",
        description="从标准输入逐行读入JSON对象，逐行输出计算结果。"
                    " Reads JSON Lines on stdin, writes one result object per line.",
    )
    calc.add_argument("--policy", required=True, help="方案编号或方案文件路径 / plan id or .toml path")
    calc.add_argument("--input", help="从文件读入而不是标准输入 / read this file instead of stdin")
    calc.set_defaults(func=cmd_calc)

    policy = sub.add_parser("policy", help="查看、复制、检查方案文件 / plan files")
    psub = policy.add_subparsers(dest="policy_command", metavar="子命令")
    p = psub.add_parser("list", help="列出全部方案 / list plans")
    p.set_defaults(func=cmd_policy_list)
    p = psub.add_parser("show", help="逐条显示一个方案 / show a plan")
    p.add_argument("id", help="方案编号或文件 / plan id or file")
    p.set_defaults(func=cmd_policy_show)
    p = psub.add_parser("new", help="复制一个方案作为新年度方案 / copy a plan to edit")
    p.add_argument("id", help="新方案编号，如 shuangshui-2026 / new plan id")
    p.add_argument("--from", dest="source", required=True, help="复制哪个方案 / plan to copy")
    p.add_argument("-o", "--output", help="写到这个文件（默认用户方案目录） / output file")
    p.add_argument("--next-year", action="store_true",
                   help="年度、日期和名称中的年份顺延一年（金额、条款出处不变） / move year and dates on by one year")
    p.add_argument("--force", action="store_true", help="覆盖已有文件（先备份） / overwrite, keeping a backup")
    p.set_defaults(func=cmd_policy_new)
    p = psub.add_parser("use", help="设为默认方案（公式未写方案时使用） / set the default plan")
    p.add_argument("id", help="方案编号或文件 / plan id or file")
    p.set_defaults(func=cmd_policy_use)
    p = psub.add_parser("check", help="检查方案文件 / check a plan file")
    p.add_argument("file", help="方案文件 / plan file (.toml)")
    p.set_defaults(func=cmd_policy_check)
    policy.set_defaults(func=lambda a: (policy.print_help(), 0)[1])

    from yibao.macros.commands import add_all
    add_all(sub)
    from yibao.addin.cli import add_parser as add_addin
    add_addin(sub)
    from yibao.templates.cli import add_parser as add_template
    add_template(sub)
    from yibao.synth import add_parser as add_synth
    add_synth(sub)
    from yibao.demo import add_parser as add_demo
    add_demo(sub)
    from yibao.app import add_parser as add_app
    add_app(sub)
    return parser


def _user_errors():
    """Exception types whose message is for the user as it stands."""
    from yibao.functions.plan import PlanError
    from yibao.macros.book import BookError
    from yibao.macros.table import TableError
    from yibao.atomic import WriteRefused
    return (PlanError, BookError, TableError, BadValue, WriteRefused)


def main(argv: list[str] | None = None) -> int:
    _utf8_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except UserError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except _user_errors() as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return 130
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            print(f"错误：磁盘空间不足，未能写入{exc.filename or ''}；请清理磁盘后再试", file=sys.stderr)
            return 2
        print(f"错误：无法读写文件：{exc.filename or ''}（{exc.strerror}）", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug of ours: still one readable line, no traceback
        print(f"错误：程序内部错误，请把这一行报告给开发人员：{type(exc).__name__}: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
