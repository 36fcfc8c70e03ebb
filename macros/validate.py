"""校验 (validate): check every row of a ledger against the plan.

Findings per row: the ID number (check digit, birth date, damage from being
stored as a number), required cells (the form marks them with * or ★),
gender against the ID, duplicate IDs within a sheet, across sheets and across
workbooks, the amount paid against what the plan says is payable, identity
names against the plan, payment dates against the plan's windows, and cash
deposited later than the plan allows (002 四(二): the same day, at most 3
days, all before 12-31), and where the row's sources disagree on the
person's enrollment status (functions/status.py: on the death list but paid
or subsidized, subsidized but 不愿参保 or 已在外地参保, a 未缴费原因 with a
payment, on the employee list but paid here), each naming both sources.
The death list, employee list and merged roster come in as
:class:`~yibao.functions.status.SideLists`.

Output: a 校验报告 sheet (link to the cell, severity, Chinese message), the
offending cells filled and given a note in the ledger, and a one-line
summary. Values the user typed are never changed.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path

from yibao.functions import idno, plan as plans
from yibao.functions.values import yuan_text

from . import book as books
from yibao.functions.status import DECEASED, EMPLOYEE, PENDING, SideLists

from .ledger import Record, compute_records, plan_id_in, read_ledger_tables, records_of
from .table import cell_date, cell_text, is_blank
from .xlsxpatch import column_letter

__all__ = ["Finding", "check_records", "write_findings", "run", "add_parser"]

ERROR, WARNING, INFO = "错误", "警告", "提示"
REPORT_SHEET = "校验报告"


@dataclasses.dataclass(frozen=True)
class Finding:
    book: str
    sheet: str
    row: int
    col: int
    field: str
    severity: str
    message: str
    name: str = ""


def _col(rec: Record, field: str) -> int:
    return rec.columns.get(field) or rec.columns.get("id_no") or 1


def _required_fields(rec: Record, headers: dict[int, str]) -> list[str]:
    return [f for f, c in rec.columns.items()
            if any(mark in headers.get(c, "") for mark in ("*", "★", "＊")) and not f.startswith("calc_")
            and f not in ("signature",)]


def check_records(plan: plans.Plan, books_records: dict[str, list[Record]],
                  headers: dict[tuple[str, str], dict[int, str]]) -> list[Finding]:
    """All findings for records already computed (pure: no file access)."""
    findings: list[Finding] = []

    def add(book, rec, field, severity, message):
        findings.append(Finding(book, rec.sheet, rec.row, _col(rec, field), field, severity, message, rec.name))

    seen: dict[str, list[tuple[str, Record]]] = defaultdict(list)
    cash = plan.cash
    # the rule's numbers read once, not once per row
    cash_rule = cash and (cash.clause, cash.max_days, cash.same_day, cash.deadline)
    required_of: dict[tuple[str, str], list[str]] = {}
    for book, records in books_records.items():
        sheet, required = None, []
        for rec in records:
            if rec.sheet != sheet:          # records come sheet by sheet
                sheet = rec.sheet
                key = (book, sheet)
                if key not in required_of:
                    required_of[key] = _required_fields(rec, headers.get(key, {}))
                required = required_of[key]
            raw = rec.raw
            for field in required:
                value = raw.get(field)
                if not is_blank(value):
                    continue
                # 002 附件2: 个人缴费 for those who paid, 未缴费原因 for those who did not
                if field == "unpaid_reason" and (rec.enrolled or rec.paid or (
                        rec.status is not None and rec.status.kind in (DECEASED, EMPLOYEE))
                        or any(m.startswith("姓名不符") for m in rec.contradictions)):
                    # the death or employee list (or flag) is the reason; a list
                    # naming another person is the finding, not a missing reason
                    continue
                if field == "paid" and cell_text(rec.raw.get("unpaid_reason")):
                    continue
                header = headers.get(key, {}).get(rec.columns[field], field)
                add(book, rec, field, ERROR, f"必填项“{header.strip('*★＊ ')}”为空")
            for message in rec.contradictions:
                add(book, rec, _contradiction_field(rec, message), ERROR, message)
            if rec.status is not None and rec.status.kind == PENDING and rec.status.reason.startswith("“是否死亡”"):
                add(book, rec, "deceased", ERROR, rec.status.reason)
            if rec.id_error:
                add(book, rec, "id_no", ERROR, rec.id_error)
                continue
            upgraded = idno.upgrade_note(raw.get("id_no"), rec.id_no)
            if upgraded:        # an old 15-digit number, matched as its 18-digit form
                add(book, rec, "id_no", WARNING, upgraded)
            seen[rec.id_no].append((book, rec))
            if "gender" in rec.columns:
                typed = cell_text(rec.raw.get("gender"))
                actual = "男" if int(rec.id_no[16]) % 2 else "女"
                if typed and typed != actual:
                    add(book, rec, "gender", ERROR, f"性别填“{typed}”，身份证号显示为“{actual}”")
            if rec.input_error:
                add(book, rec, "pay_date", ERROR, rec.input_error)
                continue
            if rec.paid_error:
                add(book, rec, "paid", ERROR, rec.paid_error)
            result = rec.result
            if result is None:
                continue
            if not result.ok:
                if rec.person and rec.person.employee_insured and not rec.paid:
                    # in employee insurance and not enrolled here: right as it stands
                    continue
                field = "identities" if "身份类别" in result.message else (
                    "employee_insured" if "职工医保" in result.message else "pay_date")
                add(book, rec, field, ERROR, result.message)
                continue
            if result.message:
                add(book, rec, "identities" if "不符合条件" in result.message else "pay_date",
                    INFO, result.message)
            if rec.paid is not None and rec.paid != result.payable:
                add(book, rec, "paid", ERROR,
                    f"个人缴费填{yuan_text(rec.paid)}元，按方案应缴{yuan_text(result.payable)}元"
                    + (f"（{result.subsidy_tier}）" if result.subsidy_tier else ""))
            if cash_rule and "deposit_date" in rec.columns:
                _check_cash(book, rec, cash_rule, add)
    for number, places in seen.items():
        if len(places) < 2:
            continue
        for book, rec in places:
            others = [f"{'' if b == book else b + ' '}{r.sheet}第{r.row}行"
                      for b, r in places if r is not rec]
            where = "另一工作簿" if any(b != book for b, _r in places) else (
                "另一工作表" if any(r.sheet != rec.sheet for _b, r in places) else "本表")
            add(book, rec, "id_no", ERROR, f"身份证号重复（{where}）：又见于{'、'.join(others[:3])}")
    findings.sort(key=lambda f: (f.book, f.sheet, f.row, f.col))
    return findings


def _contradiction_field(rec: Record, message: str) -> str:
    """The cell a contradiction belongs on: the 未缴费原因 it contradicts,
    else the payment, else the 是否死亡 flag or the ID; a list's other name
    on the ID."""
    if message.startswith("姓名不符"):
        return "id_no"
    if message.startswith("未缴费原因") and "unpaid_reason" in rec.columns:
        return "unpaid_reason"
    if "个人缴费" in message and "paid" in rec.columns:
        return "paid"
    if "deceased" in rec.columns:
        return "deceased"
    return "id_no"


def _check_cash(book, rec: Record, cash_rule: tuple, add):
    raw = rec.raw
    try:
        # the pay date was read with the person; read again only where it could not be
        paid_on = rec.person.pay_date if rec.person is not None else cell_date(raw.get("pay_date"))
        deposited = cell_date(raw.get("deposit_date"))
    except Exception as exc:
        add(book, rec, "deposit_date", ERROR, str(exc))
        return
    if paid_on is None:
        return
    method = raw.get("pay_method")
    if method is not None and "pay_method" in rec.columns:
        method = cell_text(method)
        if method and "现金" not in method:
            return
    clause, limit, same_day, deadline = cash_rule
    if deposited is None:
        add(book, rec, "deposit_date", WARNING, f"现金收款未填缴库日期（{clause}）")
        return
    days = (deposited - paid_on).days
    if days < 0:
        add(book, rec, "deposit_date", ERROR, "缴库日期早于收款日期")
    elif days > limit:
        add(book, rec, "deposit_date", ERROR,
            f"现金收款后第{days}天才缴库，" + (f"方案要求当天缴存（{clause}）" if limit == 0
                                         else f"超过方案规定的最迟{limit}天（{clause}）"))
    elif days > 0 and same_day:
        add(book, rec, "deposit_date", INFO, f"现金未当日缴库（第{days}天），方案要求当日缴库（{clause}）")
    if deadline and deposited > deadline:
        add(book, rec, "deposit_date", ERROR, f"现金应在{deadline}前全部缴库（{clause}）")


def report_sheet(findings: list[Finding], single_book: bool) -> books.OutSheet:
    rows = [["序号", "工作表", "行", "单元格", "姓名", "严重程度", "问题"]]
    links = {}
    fills = {}
    for i, f in enumerate(findings, 1):
        sheet = f.sheet if single_book else f"{Path(f.book).name}：{f.sheet}"
        ref = f"{column_letter(f.col)}{f.row}"
        rows.append([i, sheet, f.row, ref, f.name, f.severity, f.message])
        if single_book:
            links[(i + 1, 4)] = f"'{f.sheet}'!{ref}"
        fills[(i + 1, 6)] = books.SEVERITY_FILL[f.severity]
    return books.OutSheet(REPORT_SHEET, rows, widths={1: 6, 2: 14, 3: 6, 4: 7, 5: 10, 6: 9, 7: 70},
                          links=links, fills=fills)


def summary_line(findings: list[Finding], checked: int) -> str:
    counts = defaultdict(int)
    for f in findings:
        counts[f.severity] += 1
    return (f"共检查{checked}行：错误{counts[ERROR]}处，警告{counts[WARNING]}处，提示{counts[INFO]}处；"
            f"详见“{REPORT_SHEET}”工作表")


def resolve_plan(policy: str | None, grids) -> plans.Plan:
    plan_id = policy or plan_id_in(grids)
    if not plan_id:
        raise books.BookError("不知道按哪个方案校验：请加 --policy 方案编号，或在台账里填“方案编号”")
    return plans.load(plan_id)


def write_findings(book, findings: list[Finding], sheets: set[str], mark: bool = True):
    """One workbook's findings into it: the report sheet and, with ``mark``,
    on each ledger sheet (``sheets``) last run's marks undone and a fill and
    note on every cell found wanting (the worst severity colours it)."""
    book.replace_sheet(report_sheet(findings, single_book=True))
    if not mark:
        return
    for sheet in sheets:
        book.clear_marks(sheet)
    notes = defaultdict(list)
    for f in findings:
        notes[(f.sheet, f.row, f.col)].append(f)
    for (sheet, row, col), fs in notes.items():
        worst = min(fs, key=lambda f: (ERROR, WARNING, INFO).index(f.severity)).severity
        book.mark(sheet, row, col, worst, "\n".join(f"{f.severity}：{f.message}" for f in fs))


@books.gc_paused()
def run(books_in: list, plan: plans.Plan | None = None, policy: str | None = None,
        mark: bool = True, progress=None, lists: SideLists | None = None) -> str:
    """Validate one or more workbooks (FileBook or Excel backend); write the
    report sheet and marks into each; return the one-line summary. ``lists``:
    the death list, employee list and merged roster the statuses are checked
    against (:func:`yibao.macros.lists.read_side_lists`)."""
    all_records: dict[str, list[Record]] = {}
    headers = {}
    seen_paths = set()
    for book in books_in:
        resolved = Path(str(book.path)).resolve()
        if resolved in seen_paths:
            raise books.BookError(f"“{Path(str(book.path)).name}”传入了两次：请每个台账只列一次；文件未改动")
        seen_paths.add(resolved)
    for book in books_in:
        grids = book.grids()
        plan = plan or resolve_plan(policy, grids)
        tables, skipped = read_ledger_tables(grids)
        if not tables:
            raise books.BookError(f"“{book.path.name}”里没有找到台账（需要“身份证号”列）"
                                  + ("：" + "；".join(skipped[:3]) if skipped else ""))
        records = records_of(tables)
        compute_records(plan, records, lists=lists)
        all_records[str(book.path)] = records
        for t in tables:
            headers[(str(book.path), t.sheet)] = t.headers
        if progress:
            progress(len(records))
    copy = same_file_content([Path(str(b.path)) for b in books_in]) or copy_of(all_records)
    if copy:
        raise books.BookError(copy)
    findings = check_records(plan, all_records, headers)
    by_book = defaultdict(list)
    for f in findings:
        by_book[f.book].append(f)
    on_threads = []
    for book in books_in:
        key = str(book.path)
        write_findings(book, by_book.get(key, []), {r.sheet for r in all_records[key]}, mark)
        stats = book.save()
        where = Path(str(book.path)).name if len(books_in) > 1 else ""
        on_threads += [(where, *cell) for cell in ((stats or {}).get("notes_on_threads") or [])]
    checked = sum(len(r) for r in all_records.values())
    return summary_line(findings, checked) + _unread_note(lists) + threads_note(on_threads, findings)


#: the share of one workbook's persons found in another at the same sheet and
#: row that makes it a copy of it (东山村 - 副本.xlsx), not two villages; and
#: the fewest persons for that to be told (two tiny ledgers may agree by chance)
COPY_SHARE = 0.8
COPY_MIN = 5


def same_file_content(paths: list[Path]) -> str:
    """The refusal line for two of ``paths`` with the same bytes (a copy
    made in Explorer), or ""; paths that are not files are passed over."""
    import hashlib
    seen: dict[tuple, Path] = {}
    for path in paths:
        try:
            if not path.is_file():
                continue
            key = (path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest())
        except OSError:
            continue
        if key in seen:
            first = seen[key]
            copy, original = (first, path) if "副本" in first.name and "副本" not in path.name else (path, first)
            return (f"“{copy.name}”是“{original.name}”的副本（两个文件内容完全相同）："
                    "是否传入了同一台账的副本？请只校验其中一个；两个文件都未改动")
        seen[key] = path
    return ""


def copy_of(all_records: dict[str, list[Record]]) -> str:
    """The Chinese line refusing a run given one ledger twice: the same file
    twice, or a workbook most of whose persons (:data:`COPY_SHARE`) stand in
    another at the same sheet and row (a Windows copy "东山村 - 副本.xlsx");
    "" when none is. Persons in two villages' ledgers at other rows are
    duplicates to flag, not copies. Pure; linear in the rows.

    >>> r = lambda n: Record("台账", n + 5, {}, {}, id_no=str(n))
    >>> copy_of({"/a/东山村.xlsx": [r(n) for n in range(10)], "/a/东山村 - 副本.xlsx": [r(n) for n in range(10)]}).split("：")[0]
    '“东山村 - 副本.xlsx”是“东山村.xlsx”的副本（10人中10人在同一表同一行）'
    >>> moved = [Record("台账", n + 30, {}, {}, id_no=str(n)) for n in range(10)]
    >>> copy_of({"/a/东山村.xlsx": [r(n) for n in range(10)], "/a/西河村.xlsx": moved})
    ''
    """
    placed = {book: {(rec.sheet, rec.row, rec.id_no) for rec in records if rec.id_no and not rec.id_error}
              for book, records in all_records.items()}
    books_ = list(placed)
    for i, a in enumerate(books_):
        for b in books_[i + 1:]:
            # the smaller is the copy; of two alike, the one named 副本, else the later
            small, large = (a, b) if (len(placed[a]), "副本" not in Path(a).name) < (
                len(placed[b]), "副本" not in Path(b).name) else (b, a)
            if len(placed[small]) < COPY_MIN:
                continue
            same = len(placed[small] & placed[large])
            if same >= COPY_SHARE * len(placed[small]):
                return (f"“{Path(small).name}”是“{Path(large).name}”的副本（{len(placed[small])}人中{same}人在同一表同一行）："
                        "是否传入了同一台账的副本？请只校验其中一个；两个文件都未改动")
    return ""


def threads_note(cells: list[tuple], findings: list[Finding], shown: int = 3) -> str:
    """A word on flagged cells that carry an Excel 365 threaded comment
    (会话式批注): our note cannot go beside it, so the finding is in the
    report only and the user must be told where. ``cells`` are (file name or
    "", sheet, row, col), from ``save()["notes_on_threads"]``.

    >>> threads_note([("", "台账", 5, 3)], [Finding("a.xlsx", "台账", 5, 3, "name", ERROR, "必填项“姓名”为空")])
    '；1个标出的单元格已有Excel新式批注（会话），问题未写入批注，只在“校验报告”中：台账!C5（必填项“姓名”为空），请到报告中查看'
    """
    if not cells:
        return ""
    said = {}
    for f in findings:
        said.setdefault((f.sheet, f.row, f.col), f.message)
    parts = []
    for book, sheet, row, col in cells[:shown]:
        ref = (f"{book} " if book else "") + f"{sheet}!{column_letter(col)}{row}"
        message = said.get((sheet, row, col))
        parts.append(ref + (f"（{message[:30]}）" if message else ""))
    more = f"等{len(cells)}处" if len(cells) > shown else ""
    return (f"；{len(cells)}个标出的单元格已有Excel新式批注（会话），问题未写入批注，只在“{REPORT_SHEET}”中："
            + "、".join(parts) + more + "，请到报告中查看")


def _unread_note(lists: SideLists | None) -> str:
    """A word on list rows whose ID could not be read: they cannot be
    matched, so nobody is struck off or excluded by them."""
    if lists is None or not lists.unreadable:
        return ""
    from .lists import KIND_NAMES
    places = "、".join(f"{KIND_NAMES.get(u.kind, u.kind)} {u.place}（{u.name}：{u.reason}）"
                      for u in lists.unreadable[:3])
    more = f"等{len(lists.unreadable)}行" if len(lists.unreadable) > 3 else ""
    return f"；名单中身份证号无法识别、未能比对的：{places}{more}，请核对"


def side_lists_of(args, say=lambda text: None) -> SideLists | None:
    """The side lists named on the command line (--lists, --deceased,
    --employee, --roster), or None when none is. A folder given to --lists
    is read whole; department subsidy lists in it are passed over (the
    merged roster stands for them, ``say`` tells which). Raises
    ``books.BookError`` (Chinese)."""
    from yibao.atomic import without_backups
    from .lists import SUBSIDY, classify_book, read_side_lists
    named = list(getattr(args, "lists", None) or []) + list(getattr(args, "roster", None) or [])
    deceased = list(getattr(args, "deceased", None) or [])
    employee = list(getattr(args, "employee", None) or [])
    if not (named or deceased or employee):
        return None
    paths, passed = [], []
    for item in named:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(("~$", "."))
                           and p.suffix.lower() in (".xlsx", ".xls", ".xlsm", ".csv", ".et"))
            for p in without_backups([str(p) for p in found], lambda _t: None):
                kinds = classify_book(books.read_grid_any(Path(p)), Path(p).name)
                if kinds and all(k.kind == SUBSIDY for k in kinds.values()):
                    passed.append(Path(p).name)
                    continue          # a department's subsidy list: the merged roster stands for it
                paths.append(Path(p))
        elif not path.exists():
            raise books.BookError(f"找不到名单文件：{path}")
        else:
            paths.append(path)
    for path in deceased + employee:
        if not Path(path).exists():
            raise books.BookError(f"找不到名单文件：{path}")
    if passed:
        say(f"提示：{'、'.join(passed)}是部门资助名单，不直接用（资助按方案计算；合并结果请用 --roster 指定）")
    return read_side_lists(paths, deceased=deceased, employee=employee)


def cmd_validate(args) -> int:
    import sys
    from yibao.atomic import without_backups
    paths = without_backups(args.files, lambda text: print(text, file=sys.stderr))
    if not paths:
        raise books.BookError("列出的都是备份文件，请列出台账本身")
    files = [books.FileBook(p, for_update=not args.no_mark) for p in paths]
    for book in files:
        if not book.path.exists():
            raise books.BookError(f"找不到文件：{book.path}")
    from ._bar import Bar
    bar = Bar("校验")
    counted = [0]

    def step(rows):
        counted[0] += 1
        bar(counted[0], len(files))
    lists = side_lists_of(args, lambda text: print(text, file=sys.stderr))
    line = run(files, policy=args.policy, mark=not args.no_mark, progress=step, lists=lists)
    bar.close()
    print(line)
    return 0


def add_parser(sub):
    p = sub.add_parser(
        "validate", help="校验台账：身份证号、必填项、重复、金额、缴费期 / check ledgers",
        description="逐行校验参保缴费台账，结果写入“校验报告”工作表并在台账中标注（不改动已填内容）。"
                    " Checks every ledger row; writes a report sheet and marks cells (values untouched).")
    p.add_argument("files", nargs="+", help="台账文件（.xlsx），可多个以查跨工作簿重复 / ledger files")
    p.add_argument("--policy", help="方案编号（默认读台账中的“方案编号”） / plan id")
    p.add_argument("--no-mark", action="store_true", help="只写报告，不在台账中标注 / report only")
    add_list_options(p)
    p.set_defaults(func=cmd_validate)


def add_list_options(p, roster: bool = True):
    """--deceased, --employee, --roster, --lists: the lists the enrollment
    status is checked against (validate and notice; the town commands
    without --roster, which summary defines for itself)."""
    p.add_argument("--deceased", action="append", metavar="死亡人员名单",
                   help="死亡人员名单：名单上的人不算参保（校验时有缴费或资助的报错） / death list")
    p.add_argument("--employee", action="append", metavar="职工医保参保名单",
                   help="职工医保参保名单：名单上的人不算居民参保（校验时在本地缴费的报错） / employee-insurance list")
    if roster:
        p.add_argument("--roster", action="append", metavar="资助名单比对结果",
                       help="合并后的资助名单（yibao dedupe 的结果） / merged subsidy roster")
    p.add_argument("--lists", action="append", metavar="名单或文件夹",
                   help="名单文件或整个部门名单文件夹，按内容认出死亡、职工医保名单 / lists or a folder of them")
