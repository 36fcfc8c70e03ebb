"""Real-world-shaped ledger files for the corpus tests (issue 16, item 12).

Every file starts from the project's own ledger template
(``yibao template new ledger --policy shili-2026``), filled with four fictional
persons of household 01001 (region 430999, correct check digits), then is
reshaped by XML surgery on the zip package into the form a file takes after
it was last saved by another program. Nothing binary is committed: the files
are generated into a folder at test time.

Shapes (the source each one imitates is named in its builder):

* ``excel``      — saved by Excel 365 (:func:`excel_shape`): picture, chart,
  a user's legacy note, a threaded comment, defined names, validations,
  conditional formats, a table, hidden rows, autofilter, protection,
  header/footer, custom properties, calcChain, a shared formula, a 0, text
  with spaces, notes relationship ``../comments1.xml``.
* ``libreoffice`` — (a) converted by ``soffice --headless --convert-to xlsx``
  (:func:`libreoffice_shape`).
* ``wps``        — WPS Office in-cell picture: ``xl/cellimages.xml`` and a
  ``=DISPIMG("ID_…",1)`` cell (:func:`wps_shape`); ``wps_note`` the same with
  the village agent's own note on the cell validate flags.
* ``excel_everyday`` — (a) without the note, thread and shared formula: the
  ledger of the everyday path validate → save in Excel → validate.
* ``libreoffice_dim`` — ``libreoffice`` with LibreOffice's row-only
  ``<dimension ref="1:N"/>`` (:func:`libreoffice_dimension`).
* ``sdk``        — Open XML SDK / ClosedXML: every SpreadsheetML part written
  with the ``x:`` prefix (:func:`sdk_shape`).
* ``mac1904``    — the 1904 date system of old Mac Excel (:func:`mac1904_shape`).
* ``strict``     — Strict OOXML (purl.oclc.org namespaces, ``conformance="strict"``)
  as Excel's "Strict Open XML Spreadsheet" writes it (:func:`strict_shape`).

Plus :func:`excel_resave` (what Excel does to a package on save: relative part
names, ``xl/commentsN.xml`` with a ``../commentsN.xml`` target, its member
order) and :func:`libreoffice_dimension` (LibreOffice's ``<dimension ref="1:4"/>``,
a row-only range).

Run ``python tests/corpus/make_corpus.py OUT`` to write the files into OUT.
"""
from __future__ import annotations

import datetime
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath

from stdnum.cn.ric import calc_check_digit

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DRAW_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
THREADED_NS = "http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"
THREADED_TYPE = "http://schemas.microsoft.com/office/2017/10/relationships/threadedComment"
PERSON_TYPE = "http://schemas.microsoft.com/office/2017/10/relationships/person"
IMAGE_TYPE = REL_NS + "/image"
DRAWING_TYPE = REL_NS + "/drawing"
CALC_CHAIN_TYPE = REL_NS + "/calcChain"
WPS_CELLIMAGE_TYPE = "http://www.wps.cn/officeDocument/2020/cellImage"

LEDGER = "参保缴费台账"
NOTES_SHEET = "说明"
VILLAGE = "东山村"
TOWN = "示例镇"
POLICY = "shili-2026"
FIRST_ROW = 4  # the template's first person row


def make_id(birth: str, seq: int) -> str:
    """Fictional ID in region 430999 with a correct check digit."""
    body = f"430999{birth}{seq:03d}"
    return body + calc_check_digit(body + "0")


# the persons typed into every file: (column letter → value); all paid, so
# summary counts 4 enrolled persons and notice lists 4 names
PERSONS = [
    {"B": "01001", "C": "赵大山", "D": "户主", "E": "男", "F": make_id("19650312", 131),
     "G": " 电话告知 ", "H": 400, "J": "已签", "L": datetime.datetime(2025, 10, 15)},
    {"B": "01001", "C": "钱小梅", "D": "配偶", "E": "女", "F": make_id("19680720", 242),
     "G": "上门告知", "H": 400, "J": "已签", "L": datetime.datetime(2025, 10, 15)},
    {"B": "01001", "C": "赵明", "D": "子女", "E": "男", "F": make_id("19950101", 351),
     "G": "微信群通知", "H": 0, "J": "已签", "K": "特困人员", "L": datetime.datetime(2025, 10, 16)},
    # 个人缴费 300 where 400 is due: validate flags H7, the cell holding the user's own note
    {"B": "01001", "C": "孙桂兰", "D": "父母", "E": "女", "F": make_id("19400202", 462),
     "G": "上门告知", "H": 300, "J": "已签", "L": datetime.datetime(2025, 11, 1)},
]
#: cells of the persons' rows the user typed (ref → value), for the tests
TYPED = {f"{col}{FIRST_ROW + i}": v for i, p in enumerate(PERSONS) for col, v in p.items()}
USER_NOTE_CELL = "H7"
USER_NOTE = "村代办员：本人说已在银行代扣400元，待核实回单"
THREADED_CELL = "C5"
THREADED_TEXT = "户口已迁入本村，材料在村部"
HIDDEN_ROW = 9
SHARED_FORMULA_COL = "W"  # a user column "缴费核对" filled down as one shared formula


# ---------------------------------------------------------------- package helpers
def read_package(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def write_package(path, parts: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 20, 9, 30, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def _s(parts, name) -> str:
    return parts[name].decode("utf-8")


def _put(parts, name, text: str):
    parts[name] = text.encode("utf-8")


def _override(parts, part: str, content_type: str):
    ct = _s(parts, "[Content_Types].xml")
    if f'PartName="/{part}"' not in ct:
        ct = ct.replace("</Types>", f'<Override PartName="/{part}" ContentType="{content_type}"/></Types>')
    _put(parts, "[Content_Types].xml", ct)


def _default(parts, ext: str, content_type: str):
    ct = _s(parts, "[Content_Types].xml")
    if f'Extension="{ext}"' not in ct:
        ct = ct.replace("</Types>", f'<Default Extension="{ext}" ContentType="{content_type}"/></Types>')
    _put(parts, "[Content_Types].xml", ct)


def _rels_name(part: str) -> str:
    p = PurePosixPath(part)
    return str(p.parent / "_rels" / (p.name + ".rels"))


def _add_rel(parts, part: str, rtype: str, target: str) -> str:
    name = _rels_name(part)
    rels = _s(parts, name) if name in parts else f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG_REL_NS}"></Relationships>'
    used = [int(x) for x in re.findall(r'Id="rId(\d+)"', rels)]
    rid = f"rId{max(used, default=0) + 1}"
    rels = rels.replace("</Relationships>", f'<Relationship Id="{rid}" Type="{rtype}" Target="{target}"/></Relationships>')
    _put(parts, name, rels)
    return rid


def _insert_before(xml: str, element: str, followers: tuple[str, ...]) -> str:
    for tag in followers:
        m = re.search(rf"<(?:\w+:)?{tag}\b", xml)
        if m:
            return xml[:m.start()] + element + xml[m.start():]
    at = xml.rfind("</")
    return xml[:at] + element + xml[at:]


def rel_target(rels: str, rid: str) -> str:
    for tag in re.findall(r"<Relationship\b[^>]*>", rels):
        if re.search(r'\bId="([^"]*)"', tag).group(1) == rid:
            return re.search(r'\bTarget="([^"]*)"', tag).group(1)
    raise KeyError(rid)


def sheet_part(parts, name: str) -> str:
    """Worksheet part of a sheet name (any prefix, relative or absolute target)."""
    wb = _s(parts, "xl/workbook.xml")
    rels = _s(parts, "xl/_rels/workbook.xml.rels")
    for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", wb):
        if re.search(r'\bname="([^"]*)"', tag).group(1) == name:
            target = rel_target(rels, re.search(r'\br:id="([^"]*)"', tag).group(1))
            return target.lstrip("/") if target.startswith("/") else "xl/" + target
    raise KeyError(name)


def png(width: int = 8, height: int = 8, rgb=(200, 40, 40)) -> bytes:
    """A small solid PNG (no Pillow needed)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _pic_anchor(n: int, rid: str, col: int, row: int, name: str) -> str:
    return (f'<xdr:twoCellAnchor editAs="oneCell"><xdr:from><xdr:col>{col}</xdr:col><xdr:colOff>0</xdr:colOff>'
            f'<xdr:row>{row}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>{col + 2}</xdr:col>'
            f'<xdr:colOff>0</xdr:colOff><xdr:row>{row + 4}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>'
            f'<xdr:pic><xdr:nvPicPr><xdr:cNvPr id="{n}" name="{name}"/><xdr:cNvPicPr><a:picLocks noChangeAspect="1"/>'
            f'</xdr:cNvPicPr></xdr:nvPicPr><xdr:blipFill><a:blip xmlns:r="{REL_NS}" r:embed="{rid}"/>'
            f'<a:stretch><a:fillRect/></a:stretch></xdr:blipFill><xdr:spPr><a:xfrm><a:off x="0" y="0"/>'
            f'<a:ext cx="1219200" cy="762000"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr>'
            f'</xdr:pic><xdr:clientData/></xdr:twoCellAnchor>')


def add_picture(parts, sheet: str, image: bytes, col: int, row: int, name: str) -> str:
    """Put a picture on a sheet, in its drawing (made if missing); returns the media part."""
    part = sheet_part(parts, sheet)
    media_n = 1 + sum(1 for p in parts if p.startswith("xl/media/"))
    media = f"xl/media/image{media_n}.png"
    parts[media] = image
    _default(parts, "png", "image/png")
    xml = _s(parts, part)
    m = re.search(r'<drawing r:id="([^"]*)"', xml)
    if m:
        rels = _s(parts, _rels_name(part))
        target = rel_target(rels, m.group(1))
        drawing = target.lstrip("/") if target.startswith("/") else _norm(PurePosixPath(part).parent / target)
    else:
        n = 1 + sum(1 for p in parts if re.fullmatch(r"xl/drawings/drawing\d+\.xml", p))
        drawing = f"xl/drawings/drawing{n}.xml"
        _put(parts, drawing, f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             f'<xdr:wsDr xmlns:xdr="{DRAW_NS}" xmlns:a="{A_NS}"></xdr:wsDr>')
        _override(parts, drawing, "application/vnd.openxmlformats-officedocument.drawing+xml")
        rid = _add_rel(parts, part, DRAWING_TYPE, f"../drawings/drawing{n}.xml")
        if "xmlns:r=" not in xml[:xml.find(">", xml.find("<worksheet"))]:
            xml = xml.replace("<worksheet ", f'<worksheet xmlns:r="{REL_NS}" ', 1)
        xml = _insert_before(xml, f'<drawing r:id="{rid}"/>',
                             ("legacyDrawing", "legacyDrawingHF", "picture", "oleObjects", "controls",
                              "webPublishItems", "tableParts", "extLst"))
        _put(parts, part, xml)
    rid = _add_rel(parts, drawing, IMAGE_TYPE, f"../media/image{media_n}.png")
    dxml = _s(parts, drawing)
    dxml = dxml.replace("</xdr:wsDr>", _pic_anchor(100 + media_n, rid, col, row, name) + "</xdr:wsDr>")
    _put(parts, drawing, dxml)
    return media


def shared_strings(parts):
    """Move every inline string (openpyxl 3.1 writes ``t="inlineStr"``) into
    a shared-string table, as Excel, WPS, LibreOffice and the Open XML SDK
    store text."""
    table: dict[str, int] = {}
    inline = re.compile(r'(<c\b[^>]*?)\st="inlineStr"([^>]*)><is>(.*?)</is></c>', re.S)

    def share(m):
        si = m.group(3)
        index = table.setdefault(si, len(table))
        return f'{m.group(1)} t="s"{m.group(2)}><v>{index}</v></c>'
    for name in sorted(parts):
        if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name):
            _put(parts, name, inline.sub(share, _s(parts, name)))
    if not table or "xl/sharedStrings.xml" in parts:
        return
    items = "".join(f"<si>{si}</si>" for si in table)
    _put(parts, "xl/sharedStrings.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         f'<sst xmlns="{MAIN_NS}" count="{len(table)}" uniqueCount="{len(table)}">{items}</sst>')
    _override(parts, "xl/sharedStrings.xml",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml")
    _add_rel(parts, "xl/workbook.xml", REL_NS + "/sharedStrings", "sharedStrings.xml")


# ---------------------------------------------------------------- the base ledger
def template(folder: Path) -> Path:
    """The project's own ledger template, through the command line."""
    out = folder / "template.xlsx"
    if not out.exists():
        subprocess.run([sys.executable, "-m", "yibao", "template", "new", "ledger", "--policy", POLICY,
                        "--town", TOWN, "--village", VILLAGE, "-o", str(out)],
                       check=True, capture_output=True, cwd=folder)
    return out


def filled(folder: Path, name: str, persons=PERSONS, village: str = VILLAGE, extras=None,
           epoch1904: bool = False) -> Path:
    """The template with persons typed in, saved by openpyxl (our starting point,
    before each shape's surgery). ``extras(wb)`` adds what a shape needs."""
    from openpyxl import load_workbook
    from openpyxl.utils.datetime import CALENDAR_MAC_1904
    wb = load_workbook(template(folder))
    ws = wb[LEDGER]
    ws["A2"] = f"填报单位：{TOWN}\u3000\u3000{village}"
    for i, person in enumerate(persons):
        for col, value in person.items():
            ws[f"{col}{FIRST_ROW + i}"] = value
            if isinstance(value, datetime.datetime):
                ws[f"{col}{FIRST_ROW + i}"].number_format = "yyyy-mm-dd"
    if epoch1904:
        wb.epoch = CALENDAR_MAC_1904
    if extras:
        extras(wb)
    out = folder / name
    wb.save(out)
    return out


# ---------------------------------------------------------------- (a) Excel 365
def _excel_extras(wb, everyday: bool = False):
    """What openpyxl can write of an Excel user's ledger; the rest is surgery.
    ``everyday``: without the user's note, the threaded comment and the
    shared formula (a ledger the patcher handles today)."""
    from openpyxl.chart import BarChart, Reference
    from openpyxl.comments import Comment
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.packaging.custom import StringProperty
    from openpyxl.styles import PatternFill
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.table import Table, TableStyleInfo
    ws = wb[LEDGER]
    ws.row_dimensions[HIDDEN_ROW].hidden = True
    ws.auto_filter.ref = "A3:V303"
    ws.conditional_formatting.add("H4:H303", CellIsRule(operator="lessThan", formula=["0"],
                                                        fill=PatternFill("solid", fgColor="FFFFC7CE")))
    ws.protection.sheet = True
    ws.protection.autoFilter = False
    ws.oddHeader.center.text = "&\"宋体\"东山村参保缴费台账"
    ws.oddFooter.right.text = "第&P页，共&N页"
    wb.defined_names["村民名单"] = DefinedName("村民名单", attr_text=f"'{LEDGER}'!$C$4:$C$7")
    wb.custom_doc_props.append(StringProperty(name="填报单位", value=f"{TOWN}{VILLAGE}"))
    # a second sheet of the user's: a table (ListObject) and a chart of it
    notes = wb.create_sheet(NOTES_SHEET)
    notes.append(["月份", "缴费人数"])
    for month, n in (("9月", 1), ("10月", 2), ("11月", 1)):
        notes.append([month, n])
    table = Table(displayName="缴费进度", ref="A1:B4")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    notes.add_table(table)
    chart = BarChart()
    chart.title = "各月缴费人数"
    chart.add_data(Reference(notes, min_col=2, min_row=1, max_row=4), titles_from_data=True)
    chart.set_categories(Reference(notes, min_col=1, min_row=2, max_row=4))
    ws.add_chart(chart, "Y4")
    if everyday:
        return
    # the user's own note on the cell validate will flag, and Excel's legacy
    # placeholder of a threaded comment (author tc={id}); surgery adds the thread
    ws[USER_NOTE_CELL].comment = Comment(USER_NOTE, "村代办员")
    ws[THREADED_CELL].comment = Comment(
        "[Threaded comment]\n\nYour version of Excel allows you to read this threaded comment; however, any "
        "edits to it will get removed if the file is opened in a newer version of Excel. Learn more: "
        "https://go.microsoft.com/fwlink/?linkid=870924\n\nComment:\n    " + THREADED_TEXT,
        "tc={5D9C3E11-7A42-4C2B-9E55-0A1B2C3D4E5F}")
    ws[f"{SHARED_FORMULA_COL}3"] = "缴费核对"
    for r in range(FIRST_ROW, FIRST_ROW + len(PERSONS)):
        ws[f"{SHARED_FORMULA_COL}{r}"] = f'=IF(H{r}="","",H{r}*1)'


EXCEL_ORDER = ("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
               "xl/worksheets/", "xl/theme/", "xl/styles.xml", "xl/sharedStrings.xml", "xl/drawings/",
               "xl/charts/", "xl/media/", "xl/tables/", "xl/comments", "xl/threadedComments/",
               "xl/persons/", "xl/calcChain.xml", "docProps/")


def _excel_order(parts: dict[str, bytes]) -> dict[str, bytes]:
    def key(name):
        for i, prefix in enumerate(EXCEL_ORDER):
            if name.startswith(prefix):
                return (i, name)
        return (len(EXCEL_ORDER), name)
    return {n: parts[n] for n in sorted(parts, key=key)}


def excel_resave(src, dst):
    """What Excel does to a package when the user saves it (the "save in
    Excel" step of issue 16, item 12 (a)): every relationship target
    relative, notes parts renamed ``xl/commentsN.xml`` with the target
    ``../commentsN.xml`` and their VML ``xl/drawings/vmlDrawingN.vml``, members
    in Excel's order. Contents are otherwise left as they are."""
    parts = read_package(src)
    renames: dict[str, str] = {}
    n_comments = n_vml = 0
    for name in sorted(parts):
        if re.search(r"(^|/)comments?[^/]*\.xml$", name) and re.search(rb"<(\w+:)?comments\b", parts[name][:400]):
            n_comments += 1
            renames[name] = f"xl/comments{n_comments}.xml"
        elif name.endswith(".vml"):
            n_vml += 1
            renames[name] = f"xl/drawings/vmlDrawing{n_vml}.vml"
    out: dict[str, bytes] = {}
    for name, data in parts.items():
        out[renames.get(name, name)] = data
    for name in list(out):
        if not name.endswith(".rels"):
            continue
        owner = str(PurePosixPath(name).parent.parent / PurePosixPath(name).name[:-5])
        base = PurePosixPath(owner).parent

        def fix(m):
            target = m.group(2)
            if "TargetMode=\"External\"" in m.group(0):
                return m.group(0)
            full = target.lstrip("/") if target.startswith("/") else _norm(base / target)
            full = renames.get(full, full)
            rel = _relative(full, str(base))
            return m.group(1) + rel + m.group(3)
        out[name] = re.sub(r'(Target=")([^"]*)(")', fix, _s(out, name)).encode("utf-8")
    ct = _s(out, "[Content_Types].xml")
    for old, new in renames.items():
        ct = ct.replace(f'PartName="/{old}"', f'PartName="/{new}"')
    _put(out, "[Content_Types].xml", ct)
    write_package(dst, _excel_order(out))
    return Path(dst)


def _norm(p: PurePosixPath) -> str:
    items: list[str] = []
    for piece in p.parts:
        if piece == "..":
            items.pop()
        elif piece not in (".", ""):
            items.append(piece)
    return "/".join(items)


def _relative(full: str, base: str) -> str:
    if base in ("", "."):
        return full
    f, b = full.split("/"), base.split("/")
    i = 0
    while i < min(len(f), len(b)) and f[i] == b[i]:
        i += 1
    return "/".join([".."] * (len(b) - i) + f[i:])


def _excel_ids(parts):
    """Excel declares ``xmlns:r`` once on the root and numbers relationships
    rId1, rId2, …; openpyxl declares it on each element and uses ids such as
    ``comments`` and ``anysvml``."""
    for name in list(parts):
        if not re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name):
            continue
        xml = _s(parts, name)
        rels_name = _rels_name(name)
        if rels_name in parts:
            rels = _s(parts, rels_name)
            ids = re.findall(r'Id="([^"]*)"', rels)
            mapping = {old: f"rId{i + 1}" for i, old in enumerate(ids)}
            rels = re.sub(r'Id="([^"]*)"', lambda m: f'Id="{mapping[m.group(1)]}"', rels)
            xml = re.sub(r'r:id="([^"]*)"', lambda m: f'r:id="{mapping.get(m.group(1), m.group(1))}"', xml)
            _put(parts, rels_name, rels)
        xml = re.sub(r'(<(?!worksheet)\w+) xmlns:r="[^"]*"', r"\1", xml)
        if "r:id=" in xml and "xmlns:r=" not in xml[:xml.find(">", xml.find("<worksheet"))]:
            xml = xml.replace("<worksheet ", f'<worksheet xmlns:r="{REL_NS}" ', 1)
        _put(parts, name, xml)


def excel_shape(folder: Path, name: str = "excel.xlsx", everyday: bool = False) -> Path:
    """(a) A ledger as saved by Excel 365 on Windows. Openpyxl writes the
    parts it models; surgery then adds, as Excel writes them: the threaded
    comment (xl/threadedComments/threadedComment1.xml, xl/persons/person.xml,
    the legacy placeholder note kept beside it), two pictures (one on the
    ledger beside the chart, one on 说明), the calculation chain, column W
    filled down as one shared formula, the notes as ``xl/comments1.xml`` at
    ``../comments1.xml``, and Excel's member order. ``everyday``: the
    pictures, chart, table, calcChain and custom properties only (no note,
    thread or shared formula)."""
    base = filled(folder, f"_{name}", extras=lambda wb: _excel_extras(wb, everyday))
    parts = read_package(base)
    _excel_ids(parts)
    shared_strings(parts)
    ledger = sheet_part(parts, LEDGER)
    # pictures: a photo of the signed form beside the chart, a stamp on 说明
    add_picture(parts, LEDGER, png(rgb=(30, 90, 200)), 24, 20, "图片 1")
    add_picture(parts, NOTES_SHEET, png(rgb=(200, 40, 40)), 3, 1, "图片 2")
    if not everyday:
        _shared_formula_and_thread(parts, ledger)
    _calc_chain(parts, ledger)
    return _finish_excel(parts, folder, name)


def _shared_formula_and_thread(parts, ledger):
    """Column W filled down as one shared formula; the threaded comment
    on C5 with its person list (the legacy placeholder note is already there)."""
    xml = _s(parts, ledger)
    # shared formula: W4 holds the master, W5:W7 point at it (Excel's fill-down)
    last = FIRST_ROW + len(PERSONS) - 1
    col = SHARED_FORMULA_COL

    def shared(m):
        r = int(m.group(1))
        if r == FIRST_ROW:
            return f'<c r="{col}{r}"{m.group(2)}><f t="shared" ref="{col}{FIRST_ROW}:{col}{last}" si="0">IF(H{r}="","",H{r}*1)</f><v>{PERSONS[0]["H"]}</v></c>'
        return f'<c r="{col}{r}"{m.group(2)}><f t="shared" si="0"/><v>{PERSONS[r - FIRST_ROW]["H"]}</v></c>'
    xml, n = re.subn(rf'<c r="{col}(\d+)"([^>]*)><f>[^<]*</f><v\s*/?>(?:</v>)?</c>', shared, xml)
    assert n == len(PERSONS), n
    _put(parts, ledger, xml)
    # threaded comment + persons
    rid = re.search(r'<legacyDrawing r:id="([^"]*)"', _s(parts, ledger))
    assert rid
    thread = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<ThreadedComments xmlns="{THREADED_NS}" '
              f'xmlns:x="{MAIN_NS}"><threadedComment ref="{THREADED_CELL}" dT="2026-11-18T08:15:30.12" '
              f'personId="{{7E0F1A22-3B4C-4D5E-8F90-1A2B3C4D5E6F}}" id="{{5D9C3E11-7A42-4C2B-9E55-0A1B2C3D4E5F}}">'
              f"<text>{THREADED_TEXT}</text></threadedComment></ThreadedComments>")
    _put(parts, "xl/threadedComments/threadedComment1.xml", thread)
    _override(parts, "xl/threadedComments/threadedComment1.xml", "application/vnd.ms-excel.threadedcomments+xml")
    _add_rel(parts, ledger, THREADED_TYPE, "../threadedComments/threadedComment1.xml")
    person = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<personList xmlns="{THREADED_NS}" '
              f'xmlns:x="{MAIN_NS}"><person displayName="李镇专干" id="{{7E0F1A22-3B4C-4D5E-8F90-1A2B3C4D5E6F}}" '
              f'userId="李镇专干" providerId="None"/></personList>')
    _put(parts, "xl/persons/person.xml", person)
    _override(parts, "xl/persons/person.xml", "application/vnd.ms-excel.person+xml")
    _add_rel(parts, "xl/workbook.xml", PERSON_TYPE, "persons/person.xml")


def _calc_chain(parts, ledger):
    """Excel's calculation chain over the ledger's formula cells."""
    sheet_id = 1 + [m for m in re.findall(r'<sheet\b[^>]*name="([^"]*)"', _s(parts, "xl/workbook.xml"))].index(LEDGER)
    cells = re.findall(r'<c r="([A-Z]+\d+)"[^>]*><f', _s(parts, ledger))
    chain = "".join(f'<c r="{ref}" i="{sheet_id}"/>' if k == 0 else f'<c r="{ref}"/>' for k, ref in enumerate(cells))
    _put(parts, "xl/calcChain.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         f'<calcChain xmlns="{MAIN_NS}">{chain}</calcChain>')
    _override(parts, "xl/calcChain.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml")
    _add_rel(parts, "xl/workbook.xml", CALC_CHAIN_TYPE, "calcChain.xml")


def _finish_excel(parts, folder, name):
    tmp = folder / f"_surgery_{name}"
    write_package(tmp, parts)
    return excel_resave(tmp, folder / name)


# ---------------------------------------------------------------- (b) LibreOffice
def libreoffice_convert(sources: list[Path], outdir: Path) -> list[Path]:
    """``soffice --headless --convert-to xlsx`` of several files in one call."""
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                        "--convert-to", "xlsx", "--outdir", str(outdir), *map(str, sources)],
                       check=True, capture_output=True, timeout=180)
    return [outdir / (s.stem + ".xlsx") for s in sources]


def libreoffice_dimension(path: Path, sheet: str = LEDGER, rows: int | None = None):
    """LibreOffice's row-only dimension (``<dimension ref="1:4"/>``, reported
    in issue 16 item 12 (b) from files saved by LibreOffice), written by hand:
    the soffice installed here (LibreOffice 7.4) writes a cell range
    (``A1:W310``) for our ledgers."""
    parts = read_package(path)
    part = sheet_part(parts, sheet)
    xml = _s(parts, part)
    last = rows or max(int(r) for r in re.findall(r'<row r="(\d+)"', xml))
    xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="1:{last}"/>', xml, count=1)
    _put(parts, part, xml)
    write_package(path, parts)


# ---------------------------------------------------------------- (c) WPS
def wps_shape(folder: Path, name: str = "wps.xlsx", note: bool = False) -> Path:
    """(c) WPS Office's in-cell picture: the picture lives in
    ``xl/cellimages.xml`` (namespace http://www.wps.cn/officeDocument/2017/etCustomData,
    relationship type …/2020/cellImage from the workbook), and the cell holds
    ``=DISPIMG("ID_…",1)`` with the formula text as its cached value, as WPS
    writes it for "嵌入单元格的图片". ``note``: and the village agent's own
    note on H7 (the cell validate flags)."""
    def extras(wb):
        from openpyxl.comments import Comment
        ws = wb[LEDGER]
        ws[f"{SHARED_FORMULA_COL}3"] = "户口本照片"
        ws[f"{SHARED_FORMULA_COL}{FIRST_ROW}"] = "x"
        if note:
            ws[USER_NOTE_CELL].comment = Comment(USER_NOTE, "村代办员")
    parts = read_package(filled(folder, f"_{name}", extras=extras))
    shared_strings(parts)
    ledger = sheet_part(parts, LEDGER)
    image_id = "ID_3F2A9B7C5D1E4F60A8B9C0D1E2F3A4B5"
    xml = _s(parts, ledger)
    cell = f'{SHARED_FORMULA_COL}{FIRST_ROW}'
    xml, n = re.subn(rf'<c r="{cell}"([^>]*?)t="s"([^>]*)><v>\d+</v></c>',
                     rf'<c r="{cell}"\1t="str"\2><f>_xlfn.DISPIMG("{image_id}",1)</f><v>=DISPIMG("{image_id}",1)</v></c>', xml)
    assert n == 1
    _put(parts, ledger, xml)
    parts["xl/media/image1.png"] = png(rgb=(20, 160, 60))
    _default(parts, "png", "image/png")
    _put(parts, "xl/cellimages.xml",
         f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<etc:cellImages '
         f'xmlns:xdr="{DRAW_NS}" xmlns:r="{REL_NS}" xmlns:a="{A_NS}" '
         f'xmlns:etc="http://www.wps.cn/officeDocument/2017/etCustomData"><etc:cellImage><xdr:pic><xdr:nvPicPr>'
         f'<xdr:cNvPr id="2" name="{image_id}" descr="户口本"/><xdr:cNvPicPr><a:picLocks noChangeAspect="1"/>'
         f'</xdr:cNvPicPr></xdr:nvPicPr><xdr:blipFill><a:blip r:embed="rId1"/><a:stretch><a:fillRect/></a:stretch>'
         f'</xdr:blipFill><xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="762000" cy="762000"/></a:xfrm>'
         f'<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic></etc:cellImage></etc:cellImages>')
    _put(parts, "xl/_rels/cellimages.xml.rels",
         f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG_REL_NS}">'
         f'<Relationship Id="rId1" Type="{IMAGE_TYPE}" Target="media/image1.png"/></Relationships>')
    _override(parts, "xl/cellimages.xml", "application/vnd.wps-officedocument.cellimage+xml")
    _add_rel(parts, "xl/workbook.xml", WPS_CELLIMAGE_TYPE, "cellimages.xml")
    out = folder / name
    write_package(out, parts)
    return out


# ---------------------------------------------------------------- (d) Open XML SDK
def _prefixed(xml: str) -> str:
    """Rewrite a SpreadsheetML part so every main-namespace element carries
    the ``x:`` prefix, as the Open XML SDK (and ClosedXML) write them:
    ``<x:worksheet xmlns:x="…/main">``. (Text surgery, not ElementTree's
    ``register_namespace``, which would change how every later test in the
    process serializes that namespace.)"""
    assert f'xmlns="{MAIN_NS}"' in xml
    xml = xml.replace(f'xmlns="{MAIN_NS}"', f'xmlns:x="{MAIN_NS}"', 1)
    return re.sub(r"<(/?)(?![?!])(?![\w.-]+:)([A-Za-z_][\w.-]*)", r"<\1x:\2", xml)


def sdk_shape(folder: Path, name: str = "sdk.xlsx") -> Path:
    """(d) Open XML SDK / ClosedXML output: workbook, worksheets, styles and
    shared strings written with the ``x:`` prefix (``<x:worksheet
    xmlns:x=…>``), relationships and content types without one."""
    parts = read_package(filled(folder, "_sdk_base.xlsx"))
    shared_strings(parts)
    for part in list(parts):
        if part in ("xl/workbook.xml", "xl/styles.xml", "xl/sharedStrings.xml") or \
                re.fullmatch(r"xl/worksheets/sheet\d+\.xml", part):
            _put(parts, part, _prefixed(_s(parts, part)))
    out = folder / name
    write_package(out, parts)
    return out


# ---------------------------------------------------------------- (e) 1904
def mac1904_shape(folder: Path, name: str = "mac1904.xlsx") -> Path:
    """(e) A workbook in the 1904 date system (old Mac Excel,
    ``<workbookPr date1904="1"/>``): date serials are 1462 smaller than in
    the 1900 system for the same day (openpyxl converts them on save)."""
    parts = read_package(filled(folder, "_1904_base.xlsx", epoch1904=True))
    assert b'date1904="1"' in parts["xl/workbook.xml"]
    shared_strings(parts)
    out = folder / name
    write_package(out, parts)
    return out


# ---------------------------------------------------------------- (f) Strict
STRICT = {
    MAIN_NS: "http://purl.oclc.org/ooxml/spreadsheetml/main",
    REL_NS: "http://purl.oclc.org/ooxml/officeDocument/relationships",
    A_NS: "http://purl.oclc.org/ooxml/drawingml/main",
    DRAW_NS: "http://purl.oclc.org/ooxml/drawingml/spreadsheetDrawing",
    "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties":
        "http://purl.oclc.org/ooxml/officeDocument/extendedProperties",
    "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes":
        "http://purl.oclc.org/ooxml/officeDocument/docPropsVTypes",
}


def strict_shape(folder: Path, name: str = "strict.xlsx") -> Path:
    """(f) Strict Open XML (Excel's "Strict Open XML 电子表格"): the
    purl.oclc.org namespaces in every part and relationship type, and
    ``conformance="strict"`` on the workbook."""
    parts = read_package(filled(folder, "_strict_base.xlsx"))
    for part, data in parts.items():
        if part.endswith((".xml", ".rels")):
            text = data.decode("utf-8")
            for old, new in STRICT.items():
                text = text.replace(old, new)
            if part == "xl/workbook.xml":
                text = re.sub(r"<workbook ", '<workbook conformance="strict" ', text, count=1)
            parts[part] = text.encode("utf-8")
    out = folder / name
    write_package(out, parts)
    return out


# ---------------------------------------------------------------- all of them
SHAPES = ("excel", "excel_everyday", "libreoffice", "libreoffice_dim", "wps", "wps_note", "sdk", "mac1904", "strict")


def build(folder) -> dict[str, Path]:
    """Write every shape into ``folder``; returns shape → path. Also
    ``plain`` (the openpyxl-saved ledger, the reference the 1904 file is
    compared with) and ``town`` (the example town's task table)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "plain": filled(folder, "plain.xlsx"),
        "excel": excel_shape(folder),
        "excel_everyday": excel_shape(folder, "excel_everyday.xlsx", everyday=True),
        "wps": wps_shape(folder),
        "wps_note": wps_shape(folder, "wps_note.xlsx", note=True),
        "sdk": sdk_shape(folder),
        "mac1904": mac1904_shape(folder),
        "strict": strict_shape(folder),
    }
    # path (b) of item 12: a town of two 2-person ledgers, one last saved by LibreOffice
    files["two_east"] = filled(folder, "two_东山村.xlsx", persons=PERSONS[:2])
    west = [dict(p, C=p["C"] + "西", F=make_id(p["F"][6:14], int(p["F"][14:17]) + 200)) for p in PERSONS[:2]]
    two_west = filled(folder, "_two_west.xlsx", persons=west, village="西河村")
    lo_in = folder / "_lo_in"
    lo_in.mkdir(exist_ok=True)
    sources = [Path(shutil.copy(files["excel"], lo_in / "libreoffice.xlsx")),
               Path(shutil.copy(two_west, lo_in / "two_西河村.xlsx"))]
    converted = libreoffice_convert(sources, folder / "_lo_out")
    files["libreoffice"] = Path(shutil.move(converted[0], folder / "libreoffice.xlsx"))
    files["two_west"] = Path(shutil.move(converted[1], folder / "two_西河村.xlsx"))
    libreoffice_dimension(files["two_west"])
    files["libreoffice_dim"] = Path(shutil.copy(files["libreoffice"], folder / "libreoffice_dim.xlsx"))
    libreoffice_dimension(files["libreoffice_dim"])
    town = Path(__file__).resolve().parents[2] / "examples" / TOWN / "任务分配表.xlsx"
    files["town"] = Path(shutil.copy(town, folder / "任务分配表.xlsx"))
    return files




def refused_cleanly(proc, before: Path, after: Path) -> list[str]:
    """What is wrong with a refusal (shared by the tests): a traceback, no
    Chinese message, or a file that changed although the action refused."""
    problems = []
    text = proc.stdout + proc.stderr
    if "Traceback" in text:
        problems.append("Python traceback: " + text[-300:])
    if not re.search(r"[\u4e00-\u9fff]", text):
        problems.append(f"no Chinese message: {text[-200:]!r}")
    if after.read_bytes() != before.read_bytes():
        problems.append("refused, but the file changed")
    return problems

# ---------------------------------------------------------------- reading a package (shared by the tests)

def local(tag: str) -> str:
    """An element or attribute name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def workbook_part(parts: dict[str, bytes]) -> str:
    """The workbook's member name, from the package relationships."""
    for rel in ET.fromstring(parts["_rels/.rels"]):
        if rel.get("Type", "").endswith("/officeDocument"):
            return rel.get("Target").lstrip("/")
    raise KeyError("workbook")


def rels(parts: dict[str, bytes], part: str) -> dict[str, tuple[str, str]]:
    """Relationship id → (type, resolved member name) of a part."""
    name = _rels_name(part)
    if name not in parts:
        return {}
    out = {}
    for rel in ET.fromstring(parts[name]):
        target = rel.get("Target")
        if rel.get("TargetMode") == "External":
            full = target
        elif target.startswith("/"):
            full = target.lstrip("/")
        else:
            full = _norm(PurePosixPath(part).parent / target)
        out[rel.get("Id")] = (rel.get("Type"), full)
    return out


def sheets(parts: dict[str, bytes]) -> dict[str, str]:
    """Sheet name → worksheet member, by namespace (any prefix, Strict too)."""
    wb_part = workbook_part(parts)
    by_id = rels(parts, wb_part)
    out = {}
    for el in ET.fromstring(parts[wb_part]).iter():
        if local(el.tag) == "sheet":
            rid = next(v for k, v in el.attrib.items() if local(k) == "id")
            out[el.get("name")] = by_id[rid][1]
    return out


if __name__ == "__main__":
    for shape, path in build(Path(sys.argv[1] if len(sys.argv) > 1 else "corpus")).items():
        print(shape, path)
