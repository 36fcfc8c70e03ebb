"""Build ``yibao.xlam`` from the text sources in ``addin/``, without Excel.

What goes in:

* ``customUI.xml``: the ribbon (tab 医保征缴), as ``customUI/customUI.xml``;
* ``yibao_ribbon.bas``, ``yibao_udfs.bas`` and ``ThisWorkbook.cls``: our VBA;
* xlwings' VBA for custom add-ins (``xlwings_custom_addin.bas``) and its
  ``Dictionary.cls`` (needed on macOS), read from the installed xlwings at
  build time, with the one edit xlwings asks of a custom add-in:
  ``PROJECT_NAME`` set to ``yibao``, so its settings come from the sheet
  ``yibao.conf`` of the add-in and from ``~/.yibao/yibao.conf``;
* ``yibao.conf``: that sheet's key/value rows (``UDF Modules``).

The zip entries have fixed times, order and attributes, and the VBA project
is written by :mod:`yibao.addin.ovba` and :mod:`yibao.addin.cfb`, so the
same sources and the same xlwings give the same bytes.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from . import cfb, ovba

HERE = Path(__file__).resolve().parent
PROJECT_NAME = "yibao"
#: Fixed, so the build is reproducible (EPPlus uses a constant ID as well).
PROJECT_ID = "{6A3C8E52-1B7D-4F0A-9C2E-59B1D0A4E713}"
CONF_SHEET = "yibao.conf"
ADDIN_NAME = "yibao.xlam"
OUR_MODULES = ("yibao_udfs.bas", "yibao_ribbon.bas")
RIBBON_XML = "customUI.xml"


class BuildError(Exception):
    """The add-in cannot be built; the message is for the user (Chinese)."""


def source(name: str) -> str:
    """An ``addin/`` source file as text with LF line ends."""
    return (HERE / name).read_text(encoding="utf-8").replace("\r\n", "\n")


def xlwings_dir() -> Path:
    try:
        import xlwings
    except ImportError as exc:  # pragma: no cover - xlwings is a dependency
        raise BuildError(f"找不到 xlwings（{exc}）；请先运行 pip install xlwings") from None
    return Path(xlwings.__file__).resolve().parent


def xlwings_version() -> str:
    import xlwings
    return xlwings.__version__


#: The oldest xlwings whose VBA has what our wrappers call: ``XLPy`` (before
#: 0.30.11 the function was ``Py``; xlwings commit 95dfbbca "Renamed Py() to
#: XLPy()", first tagged 0.30.11). pyproject.toml requires the same.
MIN_XLWINGS = (0, 30, 11)


def version_tuple(version: str) -> tuple[int, ...]:
    """``"0.30.11"`` → ``(0, 30, 11)``; a suffix such as ``rc1`` or ``+dev`` is ignored."""
    import re
    return tuple(int(n) for n in re.findall(r"\d+", version.split("+")[0])[:3])


def check_xlwings_version(version: str | None = None) -> str:
    version = version or xlwings_version()
    if version_tuple(version) < MIN_XLWINGS:
        need = ".".join(map(str, MIN_XLWINGS))
        raise BuildError(f"已安装的 xlwings {version} 太旧，加载项需要 xlwings {need} 或更新；"
                         "请运行 pip install -U xlwings")
    return version


#: How the add-in records the xlwings it was built for (docProps/core.xml,
#: dc:description), read back by ``yibao addin status``.
BUILT_FOR = "按 xlwings {version} 生成"


def built_for(xlam: bytes) -> str | None:
    """The xlwings version an add-in file was built for, or None (not ours,
    or built by a yibao that did not record it)."""
    import re
    import zipfile
    try:
        with zipfile.ZipFile(io.BytesIO(xlam)) as z:
            core = z.read("docProps/core.xml").decode("utf-8")
    except (zipfile.BadZipFile, KeyError):
        return None
    found = re.search(r"<dc:description>[^<]*按 xlwings (\S+) 生成", core)
    return found.group(1) if found else None


def xlwings_module_source() -> str:
    """xlwings' VBA module for custom add-ins, PROJECT_NAME set to ours."""
    check_xlwings_version()
    path = xlwings_dir() / "xlwings_custom_addin.bas"
    if not path.exists():
        raise BuildError(f"已安装的 xlwings 中没有 {path.name}；请升级 xlwings（pip install -U xlwings）")
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    old = 'Public Const PROJECT_NAME As String = "myaddin"'
    if old not in text:
        raise BuildError(f"{path} 的内容与预期不同（找不到 PROJECT_NAME），无法生成加载项")
    return text.replace(old, f'Public Const PROJECT_NAME As String = "{PROJECT_NAME}"', 1)


def dictionary_class_source() -> str:
    path = xlwings_dir() / "addin" / "Dictionary.cls"
    if not path.exists():
        raise BuildError(f"已安装的 xlwings 中没有 {path}；请升级 xlwings")
    return ovba.class_source(path.read_text(encoding="utf-8"))


def conf_rows() -> list[tuple[str, str]]:
    """The rows of the add-in's ``yibao.conf`` sheet (xlwings' conf format)."""
    rows = []
    for row in csv.reader(io.StringIO(source("yibao.conf"))):
        if row:
            key, value = row
            rows.append((key, value))
    return rows


def modules() -> list[ovba.Module]:
    """Every VBA module of the add-in, in project order."""
    this_workbook = source("ThisWorkbook.cls")
    return [
        ovba.Module("ThisWorkbook", "document",
                    ovba.document_source("ThisWorkbook", ovba.DOCUMENT_WORKBOOK, this_workbook)),
        ovba.Module("Sheet1", "document",
                    ovba.document_source("Sheet1", ovba.DOCUMENT_WORKSHEET)),
        ovba.Module("xlwings", "module", xlwings_module_source()),
        *(ovba.Module(Path(f).stem, "module", source(f)) for f in OUR_MODULES),
        ovba.Module("Dictionary", "class", dictionary_class_source()),
    ]


def vba_project_bin() -> bytes:
    return cfb.write(ovba.vba_storage(PROJECT_NAME, PROJECT_ID, modules()))


# ---------------------------------------------------------------- package parts

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _content_types() -> str:
    over = [
        ("/xl/workbook.xml", "application/vnd.ms-excel.addin.macroEnabled.main+xml"),
        ("/xl/worksheets/sheet1.xml",
         "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"),
        ("/xl/styles.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"),
        ("/xl/vbaProject.bin", "application/vnd.ms-office.vbaProject"),
        ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
    ]
    return (_HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in over)
            + "</Types>")


def _root_rels() -> str:
    return (_HEAD + f'<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
            'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.microsoft.com/office/2006/'
            'relationships/ui/extensibility" Target="customUI/customUI.xml"/>'
            "</Relationships>")


def _core() -> str:
    return (_HEAD + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
            'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            "<dc:title>医保征缴</dc:title><dc:creator>yibao</dc:creator>"
            f"<dc:description>医保征缴加载项，{BUILT_FOR.format(version=xlwings_version())}</dc:description>"
            "</cp:coreProperties>")


def _workbook() -> str:
    return (_HEAD + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
            '<workbookPr codeName="ThisWorkbook"/>'
            '<bookViews><workbookView/></bookViews>'
            f'<sheets><sheet name="{CONF_SHEET}" sheetId="1" r:id="rId1"/></sheets>'
            "</workbook>")


def _workbook_rels() -> str:
    return (_HEAD + f'<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.microsoft.com/office/2006/'
            'relationships/vbaProject" Target="vbaProject.bin"/>'
            "</Relationships>")


def _sheet() -> str:
    rows = []
    for r, (key, value) in enumerate(conf_rows(), 1):
        cells = "".join(
            f'<c r="{col}{r}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'
            for col, text in (("A", key), ("B", value)))
        rows.append(f'<row r="{r}">{cells}</row>')
    return (_HEAD + f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
            '<sheetPr codeName="Sheet1"/>'
            f'<sheetData>{"".join(rows)}</sheetData>'
            "</worksheet>")


def _styles() -> str:
    return (_HEAD + f'<styleSheet xmlns="{_MAIN}">'
            '<fonts count="1"><font><sz val="11"/><name val="等线"/><family val="2"/>'
            '<charset val="134"/><scheme val="minor"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>")


def parts() -> list[tuple[str, bytes]]:
    """The package parts in the order they are written."""
    ribbon = source(RIBBON_XML)
    return [
        ("[Content_Types].xml", _content_types().encode()),
        ("_rels/.rels", _root_rels().encode()),
        ("docProps/core.xml", _core().encode()),
        ("customUI/customUI.xml", ribbon.encode("utf-8")),
        ("xl/workbook.xml", _workbook().encode()),
        ("xl/_rels/workbook.xml.rels", _workbook_rels().encode()),
        ("xl/worksheets/sheet1.xml", _sheet().encode()),
        ("xl/styles.xml", _styles().encode()),
        ("xl/vbaProject.bin", vba_project_bin()),
    ]


def build_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in parts():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            z.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def build(output: str | os.PathLike) -> Path:
    """Write the add-in to ``output`` atomically; return its path."""
    from yibao.atomic import write_atomic
    output = Path(output)
    write_atomic(output, build_bytes())
    return output
