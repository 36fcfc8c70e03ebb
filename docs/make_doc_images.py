"""Render the pictures in README.md and docs/guide/ from the real files.

    python docs/make_doc_images.py          # needs Pillow, soffice and pdftoppm

- ``ribbon.png``: the 医保征缴 tab drawn from ``addin/customUI.xml`` (tab, groups,
  buttons and their labels as the XML has them). There is no Excel here, so the
  picture is drawn with Pillow; the icons are simple stand-ins for the Office
  ``imageMso`` icons the real tab shows.
- ``summary.png``: page 1 of ``汇总上报.pdf`` written by ``yibao demo``
  (LibreOffice prints it, pdftoppm renders it). Every picture of a file is a whole printed
  A4 page as the file's own page setup prints it, never a crop: what staff see on paper.
- ``progress.png``: the 进度通报 sheet of the demo's ``任务分配表.xlsx`` with its
  bar chart, printed by LibreOffice.
- ``validated-ledger.png``: the top of a demo ledger after 刷新 and 校验 (marked
  cells), and ``validation-report.png``: its 校验报告 sheet.
- ``reconcile.png``: the 比对汇总 sheet of the demo's ``缴费比对结果.xlsx`` (the
  ledgers against the tax export), printed by LibreOffice.
- ``template-shili-2026-ledger.png``: the ledger template of the fictional plan
  (``yibao template new ledger --policy shili-2026``), printed like the pictures of
  ``docs/make_template_images.py``.

Pillow is only needed here (``pip install pillow``); it is not a dependency of yibao.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
IMAGES = HERE / "images"
CUSTOM_UI = ROOT / "addin" / "customUI.xml"
NS = {"c": "http://schemas.microsoft.com/office/2006/01/customui"}
FONT_DIRS = [Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/truetype/noto")]
RECALC = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


# ---------------------------------------------------------------- the ribbon

def ribbon_spec(path: Path = CUSTOM_UI) -> tuple[str, list[tuple[str, list[tuple[str, str]]]]]:
    """(tab label, [(group label, [(button label, imageMso)])]) from the ribbon XML."""
    root = ET.parse(path).getroot()
    tab = root.find(".//c:tab", NS)
    groups = []
    for g in tab.findall("c:group", NS):
        groups.append((g.get("label"), [(b.get("label"), b.get("imageMso", "")) for b in g.findall("c:button", NS)]))
    return tab.get("label"), groups


def _font(size: int, bold: bool = False):
    from PIL import ImageFont
    name = "NotoSansCJK-Bold.ttc" if bold else "NotoSansCJK-Regular.ttc"
    for d in FONT_DIRS:
        if (d / name).exists():
            return ImageFont.truetype(str(d / name), size, index=2)  # index 2: Simplified Chinese
    found = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True).stdout.split()
    if not found:
        raise SystemExit("找不到中文字体（fc-list :lang=zh）")
    return ImageFont.truetype(found[0].rstrip(":"), size)


def _icon(d, kind: str, x: int, y: int, s: int, colour) -> None:
    """A simple stand-in for an imageMso icon in an s×s box at (x, y)."""
    w = max(2, s // 16)
    ink, paper = colour, (255, 255, 255)
    if kind in ("FileNew", "FileSave", "RemoveDuplicates", "DataValidation"):
        if kind == "RemoveDuplicates":
            d.rectangle([x + s * .30, y + s * .05, x + s * .90, y + s * .75], outline=ink, width=w, fill=paper)
        d.polygon([(x + s * .15, y + s * .2), (x + s * .55, y + s * .2), (x + s * .75, y + s * .4),
                   (x + s * .75, y + s * .95), (x + s * .15, y + s * .95)], outline=ink, fill=paper, width=w)
        for k in range(3):
            yy = y + s * (.5 + .13 * k)
            d.line([x + s * .25, yy, x + s * .65, yy], fill=ink, width=w)
        if kind == "FileNew":
            d.ellipse([x + s * .6, y, x + s * .95, y + s * .35], fill=(240, 180, 40))
        if kind == "FileSave":
            d.rectangle([x + s * .5, y + s * .6, x + s * .95, y + s * .95], fill=ink)
            d.polygon([(x + s * .58, y + s * .6), (x + s * .87, y + s * .6), (x + s * .725, y + s * .45)], fill=ink)
        if kind == "DataValidation":
            d.line([(x + s * .45, y + s * .7), (x + s * .6, y + s * .85), (x + s * .95, y + s * .45)],
                   fill=(30, 150, 60), width=w * 2)
    elif kind == "Refresh":
        d.arc([x + s * .12, y + s * .12, x + s * .88, y + s * .88], 200, 520, fill=ink, width=w * 2)
        d.polygon([(x + s * .62, y + s * .02), (x + s * .9, y + s * .2), (x + s * .6, y + s * .32)], fill=ink)
    elif kind == "FilePrint":
        d.rectangle([x + s * .28, y + s * .08, x + s * .72, y + s * .4], outline=ink, width=w, fill=paper)
        d.rectangle([x + s * .1, y + s * .38, x + s * .9, y + s * .75], fill=ink)
        d.rectangle([x + s * .28, y + s * .62, x + s * .72, y + s * .95], outline=ink, width=w, fill=paper)
    elif kind == "TableInsertExcel":
        d.rectangle([x + s * .1, y + s * .15, x + s * .9, y + s * .85], outline=ink, width=w, fill=paper)
        d.rectangle([x + s * .1, y + s * .15, x + s * .9, y + s * .33], fill=ink)
        for k in (1, 2):
            d.line([x + s * (.1 + .8 * k / 3), y + s * .15, x + s * (.1 + .8 * k / 3), y + s * .85], fill=ink, width=w)
        for k in (1, 2):
            d.line([x + s * .1, y + s * (.33 + .52 * k / 3), x + s * .9, y + s * (.33 + .52 * k / 3)], fill=ink, width=w)
    elif kind == "Calculator":
        d.rounded_rectangle([x + s * .2, y + s * .05, x + s * .8, y + s * .95], radius=s // 10, outline=ink,
                            width=w, fill=paper)
        d.rectangle([x + s * .3, y + s * .15, x + s * .7, y + s * .33], fill=ink)
        for r in range(3):
            for c in range(3):
                cx, cy = x + s * (.33 + .17 * c), y + s * (.45 + .16 * r)
                d.rectangle([cx, cy, cx + s * .1, cy + s * .09], fill=ink)
    elif kind == "ChartInsert":
        d.line([x + s * .1, y + s * .9, x + s * .92, y + s * .9], fill=ink, width=w)
        for k, h in enumerate((.45, .7, .3, .55)):
            d.rectangle([x + s * (.16 + .19 * k), y + s * (.88 - h), x + s * (.29 + .19 * k), y + s * .88],
                        fill=[(68, 114, 196), (237, 125, 49), (165, 165, 165), (255, 192, 0)][k])
    elif kind == "CompareAndMergeWorkbooks":       # two sheets side by side
        for k, dx in enumerate((.08, .42)):
            d.rectangle([x + s * dx, y + s * (.1 + .15 * k), x + s * (dx + .48), y + s * (.8 + .15 * k)],
                        outline=ink, width=w, fill=paper)
            for j in range(3):
                yy = y + s * (.3 + .15 * k + .15 * j)
                d.line([x + s * (dx + .1), yy, x + s * (dx + .38), yy], fill=ink, width=w)
    elif kind == "FindDialogExcel":                 # a magnifier
        d.ellipse([x + s * .12, y + s * .08, x + s * .62, y + s * .58], outline=ink, width=w * 2, fill=paper)
        d.line([x + s * .55, y + s * .52, x + s * .9, y + s * .9], fill=ink, width=w * 3)
    elif kind == "ReviewHighlightChanges":          # a list with one line marked
        d.rectangle([x + s * .15, y + s * .08, x + s * .85, y + s * .92], outline=ink, width=w, fill=paper)
        d.rectangle([x + s * .22, y + s * .42, x + s * .78, y + s * .56], fill=(255, 199, 206))
        for j in range(5):
            yy = y + s * (.2 + .15 * j)
            d.line([x + s * .25, yy, x + s * .75, yy], fill=ink, width=w)
    elif kind in ("SplitCells", "Consolidate"):     # one sheet ↔ several
        big = [x + s * .05, y + s * .25, x + s * .45, y + s * .75]
        d.rectangle(big, outline=ink, width=w, fill=paper)
        for j in range(3):
            d.rectangle([x + s * .65, y + s * (.05 + .32 * j), x + s * .95, y + s * (.3 + .32 * j)],
                        outline=ink, width=w, fill=paper)
        a, b = (x + s * .48, x + s * .62) if kind == "SplitCells" else (x + s * .62, x + s * .48)
        d.line([a, y + s * .5, b, y + s * .5], fill=ink, width=w * 2)
        tip = -1 if kind == "Consolidate" else 1
        d.polygon([(b, y + s * .5), (b - tip * s * .07, y + s * .43), (b - tip * s * .07, y + s * .57)], fill=ink)
    else:
        d.rectangle([x + s * .15, y + s * .15, x + s * .85, y + s * .85], outline=ink, width=w)


def draw_ribbon(out: Path, scale: int = 2) -> Path:
    from PIL import Image, ImageDraw
    tab_label, groups = ribbon_spec()
    S = scale
    f_tab, f_btn, f_grp = _font(13 * S), _font(12 * S), _font(11 * S)
    btn_w, icon, gap = 64 * S, 32 * S, 4 * S
    group_widths = [max(len(buttons) * btn_w + 2 * gap, 80 * S) for _, buttons in groups]
    width = sum(group_widths) + (len(groups) + 1) * 2 * S + 24 * S
    tabs_h, body_h = 30 * S, 104 * S
    img = Image.new("RGB", (width, tabs_h + body_h + 8 * S), (243, 243, 243))
    d = ImageDraw.Draw(img)
    green, grey, text = (33, 115, 70), (200, 200, 200), (38, 38, 38)
    # the tab strip: Excel's own tabs are only hinted at by "…"; ours is selected
    d.rectangle([0, 0, width, tabs_h], fill=green)
    d.text((12 * S, tabs_h // 2), "文件    开始    插入    …", font=f_tab, fill=(255, 255, 255), anchor="lm")
    x0 = 12 * S + int(d.textlength("文件    开始    插入    …", font=f_tab)) + 24 * S
    tw = int(d.textlength(tab_label, font=f_tab)) + 24 * S
    d.rectangle([x0, 4 * S, x0 + tw, tabs_h], fill=(243, 243, 243))
    d.text((x0 + tw // 2, tabs_h // 2 + 2 * S), tab_label, font=_font(13 * S, bold=True), fill=green, anchor="mm")
    # the groups and their large buttons
    x = 12 * S
    top = tabs_h + 6 * S
    for (glabel, buttons), gw in zip(groups, group_widths):
        bx = x + (gw - len(buttons) * btn_w) // 2
        for label, kind in buttons:
            _icon(d, kind, bx + (btn_w - icon) // 2, top + 6 * S, icon, (60, 60, 60))
            d.text((bx + btn_w // 2, top + icon + 22 * S), label, font=f_btn, fill=text, anchor="mm")
            bx += btn_w
        d.text((x + gw // 2, tabs_h + body_h - 6 * S), glabel, font=f_grp, fill=(96, 96, 96), anchor="mm")
        x += gw
        d.line([x + S, top, x + S, tabs_h + body_h - 2 * S], fill=grey, width=S)
        x += 2 * S
    d.line([0, tabs_h + body_h + 2 * S, width, tabs_h + body_h + 2 * S], fill=grey, width=S)
    img = img.crop((0, 0, x + 10 * S, img.height))
    img.save(out, optimize=True)
    return out


# ------------------------------------------------- pictures of the real files

def _pdf_page(pdf: Path, page: int, out: Path, dpi: int = 80) -> Path:
    stem = out.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
                    str(pdf), str(stem)], check=True)
    return out


def _pages_text(pdf: Path) -> list[str]:
    """The text of each page (pdftotext), to find the page of a sheet."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


def _to_pdf(xlsx: Path, tmp: Path) -> Path:
    profile = tmp / "profile"
    if not profile.exists():
        (profile / "user").mkdir(parents=True)
        (profile / "user/registrymodifications.xcu").write_text(RECALC, encoding="utf-8")
    subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
                    "--convert-to", "pdf", "--outdir", str(tmp), str(xlsx)], check=True, capture_output=True)
    return tmp / (xlsx.stem + ".pdf")


def _only_sheets(src: Path, dst: Path, keep: list[str], print_area: dict[str, str] | None = None) -> Path:
    """A copy of ``src`` holding only the sheets ``keep`` (so LibreOffice prints just those)."""
    import openpyxl
    wb = openpyxl.load_workbook(src)
    for ws in list(wb.worksheets):
        if ws.title not in keep:
            wb.remove(ws)
    for name, area in (print_area or {}).items():
        wb[name].print_area = area
        wb[name].page_setup.orientation = "landscape"
        wb[name].page_setup.fitToWidth = 1
        wb[name].page_setup.fitToHeight = 0
        wb[name].sheet_properties.pageSetUpPr.fitToPage = True
    wb.save(dst)
    return dst


def compare_pictures(folder: Path, tmp: Path) -> list[Path]:
    """The 比对 group's results in a demo folder: ``renewal.png`` (one village's
    催缴 sheet), ``uninsured.png`` (the 未参保原因汇总), ``split.png`` (a village's
    核实表 made by ``yibao split`` from the 缴费比对结果)."""
    import openpyxl
    out = []
    chase = folder / "续保催缴名单.xlsx"
    first = next(n for n in openpyxl.load_workbook(chase, read_only=True).sheetnames if n.startswith("催缴-"))
    out.append(_pdf_page(_to_pdf(_only_sheets(chase, tmp / "催缴.xlsx", [first]), tmp), 1,
                         IMAGES / "renewal.png", dpi=110))
    unins = next(folder.glob("未参保*.xlsx"))
    out.append(_pdf_page(_to_pdf(_only_sheets(unins, tmp / "未参保原因汇总.xlsx", ["未参保原因汇总"]), tmp), 1,
                         IMAGES / "uninsured.png", dpi=110))
    shutil.copyfile(folder / "缴费比对结果.xlsx", tmp / "缴费比对结果.xlsx")
    subprocess.run([sys.executable, "-m", "yibao", "split", str(tmp / "缴费比对结果.xlsx"), "--by", "村"],
                   check=True, capture_output=True)
    village = tmp / "缴费比对结果-分村" / "东山村.xlsx"
    out.append(_pdf_page(_to_pdf(village, tmp), 1, IMAGES / "split.png", dpi=110))
    return out


def reconcile_picture(folder: Path, tmp: Path) -> Path:
    """``reconcile.png``: the 比对汇总 page of a demo's 缴费比对结果.xlsx."""
    summary = _only_sheets(folder / "缴费比对结果.xlsx", tmp / "缴费比对汇总.xlsx", ["比对汇总"])
    return _pdf_page(_to_pdf(summary, tmp), 1, IMAGES / "reconcile.png", dpi=110)


def main() -> int:
    try:
        import PIL  # noqa: F401
    except ImportError:
        print("需要 Pillow：pip install pillow", file=sys.stderr)
        return 2
    for tool in ("soffice", "pdftoppm", "pdftotext"):
        if not shutil.which(tool):
            print(f"需要 {tool}（LibreOffice / poppler-utils）", file=sys.stderr)
            return 2
    IMAGES.mkdir(exist_ok=True)
    print(draw_ribbon(IMAGES / "ribbon.png"))

    from yibao import demo
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = tmp / "示例镇-演示"
        demo.run(folder)
        print(_pdf_page(folder / "汇总上报.pdf", 1, IMAGES / "summary.png", dpi=180))

        tasks = _only_sheets(folder / "任务分配表.xlsx", tmp / "进度通报.xlsx", ["进度通报"])
        print(_pdf_page(_to_pdf(tasks, tmp), 1, IMAGES / "progress.png", dpi=150))

        ledger = _only_sheets(folder / "台账" / "东山村.xlsx", tmp / "东山村台账.xlsx", ["参保缴费台账"])
        print(_pdf_page(_to_pdf(ledger, tmp), 1, IMAGES / "validated-ledger.png", dpi=130))
        report = _only_sheets(folder / "台账" / "东山村.xlsx", tmp / "东山村校验报告.xlsx", ["校验报告"])
        print(_pdf_page(_to_pdf(report, tmp), 1, IMAGES / "validation-report.png", dpi=80))

        print(reconcile_picture(folder, tmp))
        for picture in compare_pictures(folder, tmp):
            print(picture)

        template = tmp / "template-shili-2026-ledger.xlsx"
        subprocess.run([sys.executable, "-m", "yibao", "template", "new", "ledger", "--policy", "shili-2026",
                        "--town", "示例镇", "--village", "东山村", "-o", str(template)], check=True,
                       capture_output=True)
        print(_pdf_page(_to_pdf(template, tmp), 1, IMAGES / "template-shili-2026-ledger.png", dpi=72))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
