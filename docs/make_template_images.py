"""Render the pictures in docs/templates.md from the real template files:
LibreOffice (headless) prints each committed .xlsx to PDF, pdftoppm turns
page 1 into a PNG. One more picture shows a filled ledger on screen (all
columns, live highlights), as LibreOffice shows it without the add-in.

    python docs/make_template_images.py        # needs soffice and pdftoppm
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl

from yibao.templates import builder

HERE = Path(__file__).resolve().parent
IMAGES = HERE / "images"
# each form pictured for the plan whose seed text it comes from
PICTURES = [
    ("xinqiao-2021", "ledger"), ("xinqiao-2021", "new-enrollee"), ("xinqiao-2021", "elsewhere"),
    ("xxzhen-2020", "register"), ("xxzhen-2020", "tasks"), ("zaozhuang-2022", "tasks"),
    ("xinqiao-2021", "subsidy-list"), ("xinqiao-2021", "schedule"),
]
RECALC = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def _make_id(body17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body17 + "10X98765432"[sum(int(d) * w for d, w in zip(body17, weights)) % 11]


def filled_ledger(path: Path):
    """A few rows typed into the xinqiao ledger: a right ID, a wrong one, a
    duplicate, a missing 户主关系; printed with our columns too."""
    wb = openpyxl.load_workbook(builder.built_path("xinqiao-2021", "ledger"))
    ws = wb.worksheets[0]
    a, b, c = _make_id("43042319800101001"), _make_id("43042319821111002"), _make_id("43042320100315003")
    rows = [
        ("H001", "王建国", "户主", "男", a, "上门告知", 280, None, "低保对象"),
        ("H001", "李秀英", "配偶", "女", b[:-1] + ("1" if b[-1] != "1" else "2"), "上门告知", None, "不愿参保", None),
        ("H001", "王小明", "子", "男", c, "电话告知", 280, None, None),
        ("H002", "赵桂兰", None, "女", c, "电话告知", 280, None, "边缘人口"),
    ]
    for i, (fam, name, rel, sex, idn, how, paid, why, ident) in enumerate(rows):
        r = 4 + i
        for col, v in zip("BCDEFGHIK", (fam, name, rel, sex, idn, how, paid, why, ident)):
            ws[f"{col}{r}"] = v
    ws.print_area = "A1:T14"
    wb.save(path)


def main() -> int:
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if not soffice or not pdftoppm:
        print("需要 soffice（LibreOffice）和 pdftoppm（poppler-utils）", file=sys.stderr)
        return 2
    IMAGES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "profile/user").mkdir(parents=True)
        (tmp / "profile/user/registrymodifications.xcu").write_text(RECALC, encoding="utf-8")
        files = []
        for pid, fid in PICTURES:
            dst = tmp / f"template-{pid}-{fid}.xlsx"
            shutil.copy(builder.built_path(pid, fid), dst)
            files.append(dst)
        filled = tmp / "template-xinqiao-2021-ledger-filled.xlsx"
        filled_ledger(filled)
        files.append(filled)
        subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation={(tmp / 'profile').as_uri()}",
                        "--convert-to", "pdf", "--outdir", str(tmp), *map(str, files)],
                       check=True, capture_output=True)
        for f in files:
            pdf = f.with_suffix(".pdf")
            subprocess.run([pdftoppm, "-png", "-r", "72", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                            str(IMAGES / f.stem)], check=True)
            print(IMAGES / (f.stem + ".png"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
