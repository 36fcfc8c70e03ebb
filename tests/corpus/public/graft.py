"""Add our ledger sheet to a spreadsheet file saved by another program.

The public files in this folder were saved by Excel, LibreOffice, Google
Sheets, WPS, gnumeric and others; none of them holds a ledger. To run our
actions on them, :func:`graft` writes the ledger sheet of
``tests/corpus/make_corpus.py`` (header rows 1–3 and the four fictional
persons, formulas in the computed columns) into the package as one more
sheet, by text surgery only, so every part of the original file stays as its
program wrote it except the few a user's "insert sheet" touches as well:

* a new worksheet part (``xl/worksheets/sheetN.xml``, strings inline, or
  appended to the shared-string table when the file has one);
* the workbook (one ``<sheet>``, the defined name ``方案编号`` the formulas
  use), its relationships and the content types;
* the styles the ledger's cells use, appended (fonts, fills, borders, number
  formats, cell formats; nothing existing renumbered);
* the calculation chain, when the file has one: the ledger's formula cells
  appended, as Excel records them.

Strict OOXML packages get the ledger in Strict namespaces. Files whose
workbook cannot be found or parsed are returned unchanged (the actions must
then refuse them).
"""
from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import make_corpus as mc  # noqa: E402

LAST_ROW = mc.FIRST_ROW + len(mc.PERSONS) - 1
WORKSHEET_TYPE = mc.REL_NS + "/worksheet"
WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
STRUCTURE = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs")


def _norm_member(name: str) -> str:
    return name.replace("\\", "/")


def _prefix_of(xml: str, namespace: str) -> str | None:
    """The prefix a part binds ``namespace`` to ('' for the default), or None."""
    root = re.search(r"<(?![?!])", xml)
    head = xml[root.start():xml.find(">", root.start()) + 1] if root else ""
    for m in re.finditer(r'xmlns(?::([\w.-]+))?="([^"]*)"', head):
        if m.group(2) == namespace:
            return m.group(1) or ""
    return None


def _q(prefix: str, tag: str) -> str:
    return f"{prefix}:{tag}" if prefix else tag


# ---------------------------------------------------------------- the ledger
def ledger_parts(plain: Path) -> tuple[str, str]:
    """(sheet XML, styles XML) of the ledger of ``make_corpus.filled``: rows
    1..LAST_ROW, column widths, merged title cells, margins; no protection,
    validations or conditional formats (they live in the template's own
    hidden sheet and styles)."""
    parts = mc.read_package(plain)
    sheet = mc._s(parts, mc.sheet_part(parts, mc.LEDGER))
    rows = re.findall(r"<row\b.*?</row>", sheet, re.S)
    keep = [r for r in rows if int(re.search(r'\br="(\d+)"', r).group(1)) <= LAST_ROW]
    cols = re.search(r"<cols>.*?</cols>", sheet, re.S).group(0)
    views = re.search(r"<sheetViews>.*?</sheetViews>", sheet, re.S).group(0)
    merges = [m for m in re.findall(r'<mergeCell ref="([^"]*)"', sheet)
              if int(re.search(r"(\d+)$", m).group(1)) <= 2]
    merge_xml = (f'<mergeCells count="{len(merges)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in merges)
                 + "</mergeCells>") if merges else ""
    xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{mc.MAIN_NS}" '
           f'xmlns:r="{mc.REL_NS}"><dimension ref="A1:T{LAST_ROW}"/>{views}<sheetFormatPr defaultRowHeight="15"/>'
           f'{cols}<sheetData>{"".join(keep)}</sheetData>{merge_xml}'
           f'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>')
    return xml, mc._s(parts, "xl/styles.xml")


def _collection(xml: str, name: str, prefix: str) -> list[str]:
    m = re.search(rf"<{_q(prefix, name)}\b[^>]*?(?:/>|>(.*?)</{_q(prefix, name)}>)", xml, re.S)
    if not m or not m.group(1):
        return []
    child = {"numFmts": "numFmt", "fonts": "font", "fills": "fill", "borders": "border",
             "cellStyleXfs": "xf", "cellXfs": "xf"}[name]
    tag = _q(prefix, child)
    return re.findall(rf"<{tag}\b[^>]*/>|<{tag}\b.*?</{tag}>", m.group(1), re.S)


def _strip_prefix(fragment: str, prefix: str) -> str:
    return re.sub(rf"<(/?){prefix}:", r"<\1", fragment) if prefix else fragment


def _add_prefix(fragment: str, prefix: str) -> str:
    return re.sub(r"<(/?)(?![?!])([A-Za-z_][\w.-]*)(?=[\s/>])", rf"<\1{prefix}:\2", fragment) if prefix else fragment


def _append(xml: str, name: str, prefix: str, items: list[str], before: tuple[str, ...]) -> str:
    """Append items to a styles collection (created if missing), fixing its count."""
    if not items:
        return xml
    tag = _q(prefix, name)
    m = re.search(rf"<{tag}\b([^>]*?)(/?)>", xml)
    if m is None:
        new = f'<{tag} count="{len(items)}">{"".join(items)}</{tag}>'
        for follower in before:
            f = re.search(rf"<{_q(prefix, follower)}\b", xml)
            if f:
                return xml[:f.start()] + new + xml[f.start():]
        at = xml.rfind("</")
        return xml[:at] + new + xml[at:]
    count = len(_collection(xml, name, prefix)) + len(items)
    attrs = re.sub(r'\s*\bcount="\d*"', "", m.group(1))
    opening = f'<{tag}{attrs} count="{count}">'
    if m.group(2):  # <fonts/>: empty collection
        return xml[:m.start()] + opening + "".join(items) + f"</{tag}>" + xml[m.end():]
    end = xml.index(f"</{tag}>", m.end())
    return xml[:m.start()] + opening + xml[m.end():end] + "".join(items) + xml[end:]


def merge_styles(target: str, source: str) -> tuple[str, dict[int, int]]:
    """Append the source's cell formats (with their fonts, fills, borders and
    number formats) to the target styles part; returns (new styles, source xf
    index → target xf index). Existing entries keep their numbers."""
    prefix = _prefix_of(target, mc.MAIN_NS) or ""
    src = {n: _collection(source, n, "") for n in STRUCTURE}
    dst = {n: _collection(target, n, prefix) for n in STRUCTURE}
    used_fmt = {int(x) for x in re.findall(r'numFmtId="(\d+)"', "".join(dst["numFmts"]))}
    fmt_map: dict[int, int] = {}
    new_fmts = []
    for f in src["numFmts"]:
        old = int(re.search(r'numFmtId="(\d+)"', f).group(1))
        new = max(used_fmt | {163}) + 1
        used_fmt.add(new)
        fmt_map[old] = new
        new_fmts.append(re.sub(r'numFmtId="\d+"', f'numFmtId="{new}"', f))
    offsets = {n: len(dst[n]) for n in ("fonts", "fills", "borders")}
    xf_map = {}
    new_xfs = []
    base = len(dst["cellXfs"])
    for i, xf in enumerate(src["cellXfs"]):
        def shift(m, key):
            return f'{m.group(1)}="{int(m.group(2)) + offsets[key]}"'
        xf = re.sub(r'(fontId)="(\d+)"', lambda m: shift(m, "fonts"), xf)
        xf = re.sub(r'(fillId)="(\d+)"', lambda m: shift(m, "fills"), xf)
        xf = re.sub(r'(borderId)="(\d+)"', lambda m: shift(m, "borders"), xf)
        xf = re.sub(r'numFmtId="(\d+)"', lambda m: f'numFmtId="{fmt_map.get(int(m.group(1)), int(m.group(1)))}"', xf)
        xf = re.sub(r'\s(?:pivotButton|quotePrefix)="0"', "", xf)
        xf = re.sub(r'xfId="\d+"', 'xfId="0"', xf)
        xf_map[i] = base + i
        new_xfs.append(xf)
    out = target
    order = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
             "tableStyles", "colors", "extLst")
    add = {"numFmts": new_fmts, "fonts": src["fonts"], "fills": src["fills"], "borders": src["borders"],
           "cellXfs": new_xfs}
    for name, items in add.items():
        items = [_add_prefix(_strip_prefix(i, ""), prefix) for i in items]
        out = _append(out, name, prefix, items, order[order.index(name) + 1:])
    return out, xf_map


# ---------------------------------------------------------------- the package
def _rels(parts, owner: str) -> tuple[str, str]:
    name = mc._rels_name(owner)
    return name, mc._s(parts, name)


def _workbook_part(parts) -> str | None:
    rels = parts.get("_rels/.rels")
    if rels is None:
        return None
    for tag in re.findall(rb"<Relationship\b[^>]*>", rels):
        if re.search(rb'Type="[^"]*/officeDocument"', tag):
            return re.search(rb'Target="([^"]*)"', tag).group(1).decode().lstrip("/")
    return None


def graft(src: Path, dst: Path, plain: Path) -> bool:
    """Write ``src`` with our ledger sheet added to ``dst``; False (and a
    plain copy) when the package has no workbook this surgery can find."""
    parts = mc.read_package(src)
    # some Windows tools name the members with backslashes (xl\workbook.xml):
    # the surgery works on the names with slashes, and writes them back as found
    backslashes = any("\\" in n for n in parts)
    if backslashes:
        parts = {_norm_member(n): d for n, d in parts.items()}
    wb_part = _workbook_part(parts)
    if wb_part is None or wb_part not in parts:
        dst.write_bytes(src.read_bytes())
        return False
    strict = b'conformance="strict"' in parts[wb_part] or mc.STRICT[mc.MAIN_NS].encode() in parts[wb_part]
    main_ns = mc.STRICT[mc.MAIN_NS] if strict else mc.MAIN_NS
    rel_ns = mc.STRICT[mc.REL_NS] if strict else mc.REL_NS
    sheet_xml, plain_styles = ledger_parts(plain)

    wb = mc._s(parts, wb_part)
    wb_dir = PurePosixPath(wb_part).parent
    wb_rels_name, wb_rels = _rels(parts, wb_part)

    def target_of(kind: str) -> str | None:
        for tag in re.findall(r"<Relationship\b[^>]*>", wb_rels):
            if re.search(rf'Type="[^"]*/{kind}"', tag):
                t = re.search(r'Target="([^"]*)"', tag).group(1)
                return t.lstrip("/") if t.startswith("/") else mc._norm(wb_dir / t)
        return None

    # styles
    styles_part = target_of("styles")
    if styles_part and styles_part in parts:
        styles_xml = mc._s(parts, styles_part)
        if strict:
            styles_xml = styles_xml.replace(mc.STRICT[mc.MAIN_NS], mc.MAIN_NS)
        merged, xf_map = merge_styles(styles_xml, plain_styles)
        if strict:
            merged = merged.replace(mc.MAIN_NS, mc.STRICT[mc.MAIN_NS])
        mc._put(parts, styles_part, merged)
        sheet_xml = re.sub(r'(<c\b[^>]*\ss=")(\d+)"', lambda m: f'{m.group(1)}{xf_map[int(m.group(2))]}"', sheet_xml)
    else:
        sheet_xml = re.sub(r'(<c\b[^>]*)\ss="\d+"', r"\1", sheet_xml)

    # strings: into the shared-string table when the file has one
    sst_part = target_of("sharedStrings")
    if sst_part and sst_part in parts:
        sst = mc._s(parts, sst_part)
        prefix = _prefix_of(sst, main_ns) or ""
        si_tag = _q(prefix, "si")
        count = len(re.findall(rf"<{si_tag}\b[^>]*?(?:/>|>)", sst))
        new: list[str] = []

        def share(m):
            new.append(m.group(3))
            return f'{m.group(1)} t="s"{m.group(2)}><v>{count + len(new) - 1}</v></c>'
        sheet_xml = re.sub(r'(<c\b[^>]*?)\st="inlineStr"([^>]*)><is>(.*?)</is></c>', share, sheet_xml, flags=re.S)
        items = "".join(f"<{si_tag}>{_add_prefix(si, prefix)}</{si_tag}>" for si in new)
        sst_tag = _q(prefix, "sst")
        if re.search(rf"<{sst_tag}\b[^>]*/>", sst):
            sst = re.sub(rf"<{sst_tag}\b([^>]*)/>", lambda m: f"<{sst_tag}{m.group(1)}>{items}</{sst_tag}>", sst, 1)
        else:
            sst = sst.replace(f"</{sst_tag}>", items + f"</{sst_tag}>")
        m = re.search(rf'<{sst_tag}\b[^>]*\buniqueCount="(\d+)"', sst)
        if m:
            sst = sst[:m.start(1)] + str(int(m.group(1)) + len(new)) + sst[m.end(1):]
        m = re.search(rf'<{sst_tag}\b[^>]*\scount="(\d+)"', sst)
        if m:
            sst = sst[:m.start(1)] + str(int(m.group(1)) + len(new)) + sst[m.end(1):]
        mc._put(parts, sst_part, sst)
    if re.search(r'<(?:\w+:)?workbookPr\b[^>]*\bdate1904="(?:1|true)"', wb):
        # the same days in the workbook's own date system (serials 1462 smaller)
        sheet_xml = re.sub(rf'(<c r="L(?:{"|".join(str(r) for r in range(mc.FIRST_ROW, LAST_ROW + 1))})"[^>]*><v>)(\d+)(</v>)',
                           lambda m: f"{m.group(1)}{int(m.group(2)) - 1462}{m.group(3)}", sheet_xml)
    if strict:
        sheet_xml = sheet_xml.replace(mc.MAIN_NS, main_ns).replace(mc.REL_NS, rel_ns)

    # the worksheet part, beside the others
    existing = [mc._norm(wb_dir / t) if not t.startswith("/") else t.lstrip("/")
                for t in re.findall(r'Target="([^"]*)"', wb_rels)]
    folder = next((str(PurePosixPath(p).parent) for p in existing if "worksheets/" in p), str(wb_dir / "worksheets"))
    n = 1
    while f"{folder}/sheet{n}.xml" in parts or f"{folder}/sheet{n}.xml".lower() in {p.lower() for p in parts}:
        n += 1
    sheet_part = f"{folder}/sheet{n}.xml"
    mc._put(parts, sheet_part, sheet_xml)
    absolute = bool(re.search(r'Target="/', wb_rels))
    target = "/" + sheet_part if absolute else mc._relative(sheet_part, str(wb_dir))
    ids = {int(x) for x in re.findall(r'Id="rId(\d+)"', wb_rels)}
    rid = f"rId{max(ids | {0}) + 1}"
    while f'Id="{rid}"' in wb_rels:
        rid += "x"
    rel_type = (mc.STRICT[mc.REL_NS] if strict else mc.REL_NS) + "/worksheet"
    wb_rels = re.sub(r"(</(?:\w+:)?Relationships>)",
                     f'<Relationship Id="{rid}" Type="{rel_type}" Target="{target}"/>' + r"\1", wb_rels, 1)
    mc._put(parts, wb_rels_name, wb_rels)
    ct = mc._s(parts, "[Content_Types].xml")
    ct = ct.replace("</Types>", f'<Override PartName="/{sheet_part}" ContentType="{WORKSHEET_CT}"/></Types>')
    mc._put(parts, "[Content_Types].xml", ct)

    # the workbook: one more sheet, and the name the formulas use
    p = _prefix_of(wb, main_ns) or ""
    r = _prefix_of(wb, rel_ns)
    if r is None:
        r = "yr"
        wb = re.sub(rf"<{_q(p, 'workbook')}\b", lambda m: m.group(0) + f' xmlns:yr="{rel_ns}"', wb, 1)
    sheet_ids = [int(x) for x in re.findall(rf'<{_q(p, "sheet")}\b[^>]*\bsheetId="(\d+)"', wb)]
    sheet_id = max(sheet_ids, default=0) + 1
    sheet_tag = f'<{_q(p, "sheet")} name="{mc.LEDGER}" sheetId="{sheet_id}" {r}:id="{rid}"/>'
    wb = re.sub(rf"</{_q(p, 'sheets')}>", lambda m: sheet_tag + m.group(0), wb, 1)
    name = f"<{_q(p, 'definedName')} name=\"方案编号\">'{mc.LEDGER}'!$L$2</{_q(p, 'definedName')}>"
    if re.search(rf"</{_q(p, 'definedNames')}>", wb):
        wb = re.sub(rf"</{_q(p, 'definedNames')}>", lambda m: name + m.group(0), wb, 1)
    elif re.search(rf"<{_q(p, 'definedNames')}\s*/>", wb):
        wb = re.sub(rf"<{_q(p, 'definedNames')}\s*/>", lambda m: f"<{_q(p, 'definedNames')}>{name}</{_q(p, 'definedNames')}>", wb, 1)
    else:
        block = f"<{_q(p, 'definedNames')}>{name}</{_q(p, 'definedNames')}>"
        end = re.search(rf"</{_q(p, 'sheets')}>", wb).end()
        follow = re.search(rf"<{_q(p, '(?:functionGroups|externalReferences)')}\b.*?</{_q(p, '(?:functionGroups|externalReferences)')}>", wb[end:], re.S)
        at = end + follow.end() if follow else end
        wb = wb[:at] + block + wb[at:]
    mc._put(parts, wb_part, wb)

    # the calculation chain, when there is one
    chain_part = target_of("calcChain")
    if chain_part and chain_part in parts:
        chain = mc._s(parts, chain_part)
        cp = _prefix_of(chain, main_ns) or ""
        cells = re.findall(r'<c r="([A-Z]+\d+)"[^>]*><f', sheet_xml)
        entries = "".join(f'<{_q(cp, "c")} r="{ref}" i="{sheet_id}"/>' if k == 0 else f'<{_q(cp, "c")} r="{ref}"/>'
                          for k, ref in enumerate(cells))
        chain = chain.replace(f"</{_q(cp, 'calcChain')}>", entries + f"</{_q(cp, 'calcChain')}>")
        mc._put(parts, chain_part, chain)
    ET.fromstring(parts[wb_part])  # well-formed, or the surgery is wrong
    if backslashes:
        parts = {n.replace("/", "\\"): d for n, d in parts.items()}
    mc.write_package(dst, parts)
    return True
