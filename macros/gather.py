"""`yibao gather RETURNED…` (issue 14, command 4): the villages' answers merged.

RETURNED are the workbooks ``yibao split`` wrote, as the villages send them
back (saved by Excel, WPS or LibreOffice; rows sorted, rows added, cells
unlocked and changed). Each carries the split's record (sheet
:data:`~yibao.macros.split.MANIFEST`): what was sent to that village. Rows are
matched by the hidden 核对编号 (when a village deleted that column, by the ID
number), never by position.

One new workbook (default ``<LIST stem>-核实汇总.xlsx`` beside the split
folder):

- 汇总: rows per village × 核实结果 (未填写, 填写无效, 回传中缺失 and 未交回
  counted too), each village's total against the rows sent, the tie line;
- 冲突: system cells the village changed (system value, village value), rows
  the villages added, rows missing from a return, one row answered twice
  with different answers, 核实结果 not in the sheet's dropdown, villages
  that did not return;
- per list sheet: every row sent, with the system's values (as sent), then
  核实结果, 核实说明, 核实村 (only when the list has no village column) and
  情况 (未填写, 填写无效, 回传中缺失, 系统列被改动).

The returned files and the list are only read. IDs stay whole in the
workbook (township use); the result line carries none.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from . import book as books
from .split import KEY, MAGIC, MANIFEST, NOTE, PAGE_UNITS, RESULT, _fit_widths, _plain
from .table import cell_text, column_name, field_of, is_blank

__all__ = ["Sent", "read_sent", "gather", "run", "ribbon", "add_parser"]

UNFILLED, INVALID, MISSING, NOT_BACK = "未填写", "填写无效", "回传中缺失", "未交回"


@dataclasses.dataclass
class Sent:
    """What split sent one village (read from a returned file's manifest)."""
    sid: str
    list_name: str
    village: str
    total: int
    counts: dict[str, int]                               # every village of the split → rows sent
    sheets: dict[int, tuple[str, str, tuple[str, ...], list[str]]]   # no → (name, title, reasons, headers)
    rows: dict[str, tuple[int, int, list[Any]]]          # key → (sheet no, source row, values)


def read_sent(path: Path, grids: dict[str, list[list[Any]]]) -> Sent:
    """The manifest of a returned file; BookError when it has none."""
    grid = grids.get(MANIFEST)
    if not grid or not grid[0] or cell_text(grid[0][0]) != MAGIC:
        raise books.BookError(f"“{path.name}”不是 yibao split 生成的村核实表（找不到拆分记录），"
                              "请只列出各村交回的核实表")
    head = grid[0]
    try:
        sent = Sent(cell_text(head[1]), cell_text(head[2]), cell_text(head[3]), int(float(head[5])), {}, {}, {})
        for row in grid[1:]:
            kind = cell_text(row[0]) if row else ""
            if kind == "村":
                sent.counts[cell_text(row[1])] = int(float(row[2]))
            elif kind == "表":
                reasons = tuple(r for r in cell_text(row[4]).split("、") if r)
                sent.sheets[int(float(row[1]))] = (cell_text(row[2]), cell_text(row[3]), reasons, [])
            elif kind == "列":
                headers = sent.sheets[int(float(row[1]))][3]
                headers.extend(cell_text(v) for v in row[2:])
                while headers and not headers[-1]:
                    headers.pop()
            elif kind == "行":
                no = int(float(row[2]))
                width = len(sent.sheets[no][3])
                values = list(row[4:4 + width]) + [None] * max(0, width - len(row[4:]))
                sent.rows[cell_text(row[1])] = (no, int(float(row[3])), values)
    except (IndexError, ValueError, KeyError, TypeError):
        raise books.BookError(f"“{path.name}”的拆分记录已损坏，无法合并：请让村里用原来发的文件重新填写") from None
    return sent


@dataclasses.dataclass
class Answer:
    key: str
    file: str
    village: str           # the village of the file it came back in
    sheet: str             # the sheet's name in that file
    row: int               # its row there
    result: str
    note: str
    changed: list[tuple[str, str, str]]    # (column, system value, village value)


@dataclasses.dataclass
class Returned:
    path: Path
    sent: Sent
    answers: list[Answer]
    added: list[tuple[str, int, str, str]]          # (sheet, row, name, the row's texts)
    deleted_columns: list[tuple[str, str]]          # (sheet, column header)


def _header_row(grid: list[list[Any]]) -> int | None:
    for r, row in enumerate(grid[:40]):
        if any(cell_text(v) == RESULT for v in row):
            return r
    return None


def _columns(header: list[Any]) -> dict[tuple[str, int], int]:
    """(header text, occurrence) → 0-based column."""
    out, seen = {}, {}
    for c, v in enumerate(header):
        text = cell_text(v)
        if text:
            n = seen[text] = seen.get(text, 0) + 1
            out[(text, n)] = c
    return out


def _keyed(headers: list[str]) -> list[tuple[str, int]]:
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        seen[h] = seen.get(h, 0) + 1
        out.append((h, seen[h]))
    return out


def read_returned(path: Path, grids: dict, sent: Sent, owners: dict[str, str]) -> Returned:
    """One returned workbook: each row's answer matched by key (or ID
    number), what the village changed or added. ``owners``: key → the
    village it was sent to, over every returned file."""
    by_title = {title: no for no, (_n, title, _r, _h) in sent.sheets.items()}
    answers, added, deleted = [], [], []
    matched: set[str] = set()
    unkeyed: list[tuple[str, int, list, dict, int]] = []
    for name, grid in grids.items():
        if name == MANIFEST:
            continue
        hr = _header_row(grid)
        if hr is None:
            if name in by_title:        # a list sheet whose 核实结果 header was retyped or deleted
                deleted.append((name, RESULT))
            continue
        cols = _columns(grid[hr])
        kc = cols.get((KEY, 1))
        rc, nc = cols.get((RESULT, 1)), cols.get((NOTE, 1))
        sheet_no = by_title.get(name)
        for r in range(hr + 1, len(grid)):
            raw = grid[r]
            if all(is_blank(v) for v in raw):
                continue
            key = cell_text(raw[kc]) if kc is not None and kc < len(raw) else ""
            if key and key in owners:
                sheet_no = sheet_no or int(key.split("-")[0])
                answers.append(_answer(key, path, sent, name, r + 1, raw, cols, rc, nc))
                matched.add(key)
            else:
                unkeyed.append((name, r + 1, raw, cols, sheet_no or 0))
    # rows whose key is gone (the column deleted or cleared): by the ID number
    for name, row, raw, cols, no in unkeyed:
        key = _by_id(sent, no, raw, cols, matched)
        if key:
            matched.add(key)
            answers.append(_answer(key, path, sent, name, row, raw, cols, cols.get((RESULT, 1)), cols.get((NOTE, 1))))
            continue
        texts = [cell_text(v) for v in raw if not is_blank(v)]
        headers = sent.sheets.get(no, ("", "", (), []))[3]
        name_col = next((cols.get(h) for h in _keyed(headers) if field_of(h[0]) == "name"), None)
        who = cell_text(raw[name_col]) if name_col is not None and name_col < len(raw) else ""
        added.append((name, row, who, "、".join(texts)))
    for no, (sname, title, _r, headers) in sent.sheets.items():
        if not any(v[0] == no for v in sent.rows.values()) or title not in grids:
            continue
        hr = _header_row(grids[title])
        if hr is None:                  # said above: its 核实结果 column is gone
            continue
        cols = _columns(grids[title][hr])
        for h in _keyed(headers):
            if h[0] and h not in cols:
                deleted.append((title, h[0]))
    return Returned(path, sent, answers, added, deleted)


def _by_id(sent: Sent, no: int, raw: list, cols: dict, matched: set[str]) -> str:
    if not no or no not in sent.sheets:
        return ""
    headers = sent.sheets[no][3]
    for j, h in enumerate(_keyed(headers)):
        if field_of(h[0]) == "id_no" and h in cols and cols[h] < len(raw):
            text = cell_text(raw[cols[h]])
            if not text:
                return ""
            for key, (n, _r, values) in sent.rows.items():
                if n == no and key not in matched and cell_text(values[j]) == text:
                    return key
    return ""


def _answer(key, path, sent, name, row, raw, cols, rc, nc) -> Answer:
    def at(c):
        return cell_text(raw[c]) if c is not None and c < len(raw) else ""
    changed = []
    if key in sent.rows:
        no, _src, values = sent.rows[key]
        for j, h in enumerate(_keyed(sent.sheets[no][3])):
            if h[0] and h in cols:
                was, now = cell_text(values[j]), at(cols[h])
                if was != now:
                    changed.append((h[0], was, now))
    return Answer(key, path.name, sent.village, name, row, at(rc), at(nc), changed)


def _default_output(first: Path, list_name: str) -> Path:
    folder = first.resolve().parent
    if folder.name.endswith("-分村"):
        folder = folder.parent
    return folder / f"{Path(list_name).stem or '名单'}-核实汇总.xlsx"


def gather(paths: list[Path], output: Path | None = None) -> str:
    """Merge the returned workbooks ``paths`` (only read) into ``output``;
    returns the Chinese result line. BookError: not a split file, files of
    two different splits, corrupt files, the output is one of the inputs."""
    if not paths:
        raise books.BookError("请列出各村交回的核实表")
    owners: dict[str, str] = {}
    read = []
    for p in paths:
        grids = books.read_grid_any(Path(p))
        sent = read_sent(Path(p), grids)
        for key in sent.rows:
            owners.setdefault(key, sent.village)
        read.append((Path(p), grids, sent))
    returns = [read_returned(p, grids, sent, owners) for p, grids, sent in read]
    first = returns[0].sent
    for ret in returns[1:]:
        if ret.sent.sid != first.sid:
            raise books.BookError(f"“{ret.path.name}”与“{returns[0].path.name}”不是同一次拆分的核实表"
                                  f"（分别拆自“{ret.sent.list_name}”和“{first.list_name}”），请分开合并")
    output = Path(output) if output else _default_output(returns[0].path, first.list_name)
    if any(output.resolve() == Path(p).resolve() for p in paths):
        raise books.BookError(f"结果文件不能是交回的文件本身：{output.name}")
    sheets: dict[int, tuple[str, str, tuple[str, ...], list[str]]] = {}
    expected: dict[str, tuple[int, int, list[Any]]] = {}
    for ret in returns:
        sheets.update(ret.sent.sheets)
        expected.update(ret.sent.rows)
    counts = first.counts
    conflicts: list[list] = []
    chosen: dict[str, Answer] = {}
    seen_files: dict[str, list[Answer]] = {}
    for ret in returns:
        for a in ret.answers:
            seen_files.setdefault(a.key, []).append(a)
    names = {key: _name_of(sheets, no, values) for key, (no, _r, values) in expected.items()}
    for key, answers in seen_files.items():
        own = [a for a in answers if a.village == owners.get(key)]
        pick = (own or answers)[0]
        chosen[key] = pick
        others = [a for a in answers if (a.result, a.note) != (pick.result, pick.note)]
        if others:
            for a in [pick] + others:
                conflicts.append(["两份回传答复不同", owners.get(key, a.village), a.file, a.sheet, a.row, names.get(key, ""),
                                  RESULT, "", f"{a.result}" + (f"（{a.note}）" if a.note else "")])
    returned_villages = {ret.sent.village for ret in returns}
    status: dict[str, str] = {}
    for key, (no, _r, _v) in expected.items():
        a = chosen.get(key)
        reasons = sheets[no][2]
        if a is None:
            status[key] = MISSING
            conflicts.append([MISSING, owners[key], _file_of(returns, owners[key]), sheets[no][1], None,
                              names[key], "", "", "交回的文件中没有这一行（可能被删除）"])
        elif not a.result:
            status[key] = UNFILLED
        elif a.result not in reasons:
            status[key] = INVALID
            conflicts.append(["核实结果不在下拉列表中", owners[key], a.file, a.sheet, a.row, names[key], RESULT,
                              "、".join(reasons), a.result])
        else:
            status[key] = a.result
        if a is not None:
            for col, was, now in a.changed:
                conflicts.append(["系统列被改动", owners[key], a.file, a.sheet, a.row, names[key], col, was, now])
    for ret in returns:
        for sheet, row, who, texts in ret.added:
            conflicts.append(["村里新增的行", ret.sent.village, ret.path.name, sheet, row, who, "", "", texts])
        for sheet, col in ret.deleted_columns:
            conflicts.append(["系统列被删除", ret.sent.village, ret.path.name, sheet, None, "", col, "", "整列不在交回的文件中"])
    first_file: dict[str, Path] = {}
    for ret in returns:             # one village's file twice (often renamed for a village that sent nothing)
        seen = first_file.setdefault(ret.sent.village, ret.path)
        if seen != ret.path:
            renamed = f"，文件名却是“{ret.path.stem}”" if ret.path.stem != ret.sent.village else ""
            conflicts.append(["同一村交回多份", ret.sent.village, ret.path.name, "", None, "", "", "",
                              f"与“{seen.name}”都是{ret.sent.village}的核实表{renamed}"])
    missing_villages = [v for v in counts if v not in returned_villages]
    for v in missing_villages:
        conflicts.append([NOT_BACK, v, "", "", None, "", "", "", f"拆分时{counts[v]}行"])

    # 汇总: village × 核实结果
    order: list[str] = []
    for no in sorted(sheets):
        for r in sheets[no][2]:
            if r not in order:
                order.append(r)
    table: dict[str, dict[str, int]] = {v: {} for v in counts}
    for key, st in status.items():
        cell = table.setdefault(owners[key], {})
        cell[st] = cell.get(st, 0) + 1
    for v in missing_villages:
        table[v][NOT_BACK] = counts[v]
    used = [r for r in order if any(r in t for t in table.values())]
    extra = [s for s in (UNFILLED, INVALID, MISSING, NOT_BACK) if any(s in t for t in table.values())]
    columns = used + extra
    heading = f"“{first.list_name}”各村核实汇总"
    rows: list[list] = [[heading], ["村（社区）", *columns, "合计", "拆分时行数", "是否相符"]]
    total = 0
    for v in counts:
        n = sum(table[v].values())
        total += n
        rows.append([v, *(table[v].get(c, 0) for c in columns), n, counts[v], "相符" if n == counts[v] else "不符"])
    rows.append(["合计", *(sum(t.get(c, 0) for t in table.values()) for c in columns), total, first.total,
                 "相符" if total == first.total else "不符"])
    changed = sum(c[0] == "系统列被改动" for c in conflicts)
    added = sum(len(r.added) for r in returns)
    tie = (f"账平：拆分时{first.total}行，每行各归一类（已核实、{UNFILLED}、{INVALID}、{MISSING}、{NOT_BACK}），合计{total}行"
           if total == first.total and all(sum(table[v].values()) == counts[v] for v in counts)
           else f"账不平：拆分时{first.total}行，这里合计{total}行，请报告此问题")
    notes = [tie, f"村里新增{added}行、改动系统列{changed}处，见“冲突”工作表；新增的行不计入上表",
             "本工作簿含完整身份证号，供乡镇内部核对，请勿张贴或外传"]
    last = column_name(len(rows[1]))
    summary = books.OutSheet("汇总", rows + [[n] for n in notes], title_rows=1, footer_rows=len(notes),
                             widths={1: 12, **{c: min(8, len(h) * 2) + 1.5 for c, h in enumerate(rows[1][1:], 2)}},
                             merges=[f"A1:{last}1"])
    c_header = ["类型", "村（社区）", "交回文件", "工作表", "行", "姓名", "列", "系统值", "村里填的值"]
    conflict_sheet = books.OutSheet("冲突", [[f"{heading}：冲突（{len(conflicts)}处）"], c_header] + conflicts,
                                    title_rows=1, widths={1: 14, 2: 10, 3: 12, 4: 12, 5: 5, 6: 8, 7: 10, 8: 19, 9: 20},
                                    merges=[f"A1:{column_name(len(c_header))}1"])
    out = [summary, conflict_sheet]
    for no in sorted(sheets):
        sname, _title, _reasons, headers = sheets[no]
        keys = sorted((k for k, v in expected.items() if v[0] == no), key=lambda k: expected[k][1])
        body = []
        has_village = any(field_of(h) == "village" for h in headers)
        for k in keys:
            a = chosen.get(k)
            st = status[k]
            situation = "" if st not in (UNFILLED, INVALID, MISSING) else st
            if a is not None and a.changed:
                situation = "；".join(s for s in (situation, "系统列被改动，见冲突表") if s)
            body.append([*[_plain(v) for v in expected[k][2]], a.result if a else None, a.note if a else None,
                         *([] if has_village else [owners[k]]), situation or None])
        header = headers + [RESULT, NOTE, *([] if has_village else ["核实村"]), "情况"]
        extra = [10.0, 10.0, *([] if has_village else [8.0]), 9.0]
        widths = _fit_widths(headers, [r[:len(headers)] for r in body], PAGE_UNITS - sum(extra), 6.0)
        widths.update({len(headers) + i: w for i, w in enumerate(extra, 1)})
        out.append(books.OutSheet(sname, [[f"{sname}（{len(body)}行）"], header] + body, title_rows=1, widths=widths,
                                  merges=[f"A1:{column_name(len(header))}1"]))
    books.write_new_workbook(output, out)
    filled = sum(1 for s in status.values() if s not in (UNFILLED, INVALID, MISSING))
    line = (f"已合并交回的{len(returns)}个核实表：已核实{filled}行"
            + "".join(f"，{s}{n}行" for s, n in ((UNFILLED, sum(s == UNFILLED for s in status.values())),
                                                (INVALID, sum(s == INVALID for s in status.values())),
                                                (MISSING, sum(s == MISSING for s in status.values()))) if n))
    if missing_villages:
        line += f"；{'、'.join(missing_villages)}未交回（{sum(counts[v] for v in missing_villages)}行）"
    line += f"；合计{total}行，" + ("与拆分时相符" if total == first.total else f"与拆分时{first.total}行不符，请报告此问题")
    if conflicts:
        line += f"；冲突{len(conflicts)}处（改动系统列{changed}处、新增{added}行等），见“冲突”工作表"
    return line + f"；结果已写入 {output.name}"


def _file_of(returns: list[Returned], village: str) -> str:
    return next((r.path.name for r in returns if r.sent.village == village), "")


def _name_of(sheets, no, values) -> str:
    for j, h in enumerate(sheets[no][3]):
        if field_of(h) == "name":
            return cell_text(values[j])
    return ""


def run(paths, output=None) -> str:
    from yibao.atomic import without_backups
    import sys
    kept = without_backups([str(p) for p in paths], lambda text: print(text, file=sys.stderr))
    for p in kept:
        if not Path(p).exists():
            raise books.BookError(f"找不到文件“{Path(p).name}”")
    return gather([Path(p) for p in kept], output)


def ribbon(live, workbook, pick_files) -> str:
    """The ribbon button: ask for the returned files, merge them; "" when
    none was picked."""
    files = pick_files("选择各村交回的核实表（可多选）") if pick_files else None
    if not files:
        return ""
    return run(files)


def cmd_gather(args) -> int:
    print(run(args.returned, args.output))
    return 0


def add_parser(sub):
    p = sub.add_parser(
        "gather", help="合并各村交回的核实表 / merge the villages' returned workbooks",
        description="读入 yibao split 拆出、各村填好交回的核实表，合并成一个新工作簿：每行的系统数据和村里填的核实结果、"
                    "核实说明并列；“冲突”表列出村里改动的系统数据、新增的行、缺失的行、两份回传答复不同、不在下拉列表中的核实结果"
                    "和未交回的村；“汇总”表按村、按核实结果计数，与拆分时的行数核对。交回的文件不改动。"
                    " Merges the returned village workbooks into a new workbook; the returned files are only read.")
    p.add_argument("returned", nargs="+", help="各村交回的核实表（只读） / returned workbooks (read only)")
    p.add_argument("-o", "--output", help="结果文件（默认拆分文件夹旁的“名单名-核实汇总.xlsx”） / output .xlsx")
    p.set_defaults(func=cmd_gather)
