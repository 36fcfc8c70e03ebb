"""Helpers for the template tests: opening built templates, a structural
fingerprint (what "committed equals built" compares), filling rows, and
running LibreOffice headless with recalculation forced on load."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import column_index_from_string, get_column_letter

from yibao.templates import builder
from yibao.templates.spec import FORMS

PLAN_IDS = builder.PLAN_IDS
FORM_IDS = tuple(f.id for f in FORMS)
PAIRS = [(p, f) for p in PLAN_IDS for f in FORM_IDS]


def load_bytes(data: bytes, **kw):
    return openpyxl.load_workbook(io.BytesIO(data), **kw)


def main_sheet(wb):
    return wb.worksheets[0]


def header_map(ws, header_row: int) -> dict[str, int]:
    """header text → 1-based column, over one or two header rows."""
    out = {}
    for r in (header_row, header_row + 1):
        for cell in ws[r]:
            if isinstance(cell.value, str) and cell.value.strip():
                out.setdefault(cell.value, cell.column)
    return out


def _style(cell) -> tuple:
    f, b, a = cell.font, cell.border, cell.alignment
    return (
        cell.number_format, f.name, f.sz, f.b, f.i, f.color.rgb if f.color is not None else None,
        cell.fill.fill_type, cell.fill.fgColor.rgb if cell.fill.fill_type else None,
        tuple((s.style, s.color.rgb if s.color is not None else None) if s is not None else None
              for s in (b.left, b.right, b.top, b.bottom)),
        a.horizontal, a.vertical, a.wrap_text, a.shrink_to_fit, cell.protection.locked,
    )


def fingerprint(wb) -> dict:
    """Everything staff can see or that changes behaviour, as plain data."""
    out = {"names": sorted((n, d.attr_text) for n, d in wb.defined_names.items()),
           "props": (wb.properties.title, wb.properties.subject, wb.properties.keywords,
                     wb.properties.creator, str(wb.properties.created)),
           "sheets": []}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None or c.has_style:
                    cells[c.coordinate] = (c.value, _style(c))
        ps = ws.page_setup
        sheet = {
            "title": ws.title, "state": ws.sheet_state, "cells": cells,
            "merged": sorted(str(m) for m in ws.merged_cells.ranges),
            "dv": sorted((str(v.sqref), v.type, v.operator, v.formula1, v.formula2, v.errorStyle,
                          v.error, v.errorTitle, v.prompt, v.promptTitle, v.allow_blank,
                          v.showErrorMessage, v.showInputMessage) for v in ws.data_validations.dataValidation),
            "cf": sorted((str(rng.sqref), tuple((r.type, tuple(r.formula or ()), r.stopIfTrue,
                                                 r.dxf.fill.bgColor.rgb if r.dxf and r.dxf.fill else None)
                                                for r in rules))
                         for rng, rules in ws.conditional_formatting._cf_rules.items()),
            "widths": sorted((k, v.width) for k, v in ws.column_dimensions.items() if v.width),
            "heights": sorted((k, v.height) for k, v in ws.row_dimensions.items() if v.height),
            "print": (ps.orientation, ps.paperSize, ps.fitToWidth, ps.fitToHeight,
                      ws.sheet_properties.pageSetUpPr.fitToPage if ws.sheet_properties.pageSetUpPr else None,
                      ws.print_title_rows, ws.print_area, ws.oddFooter.left.text, ws.oddFooter.center.text,
                      ws.oddFooter.right.text, sorted(b.id for b in ws.row_breaks.brk),
                      ws.page_margins.left, ws.page_margins.top, ws.print_options.horizontalCentered),
            "protection": (ws.protection.sheet, ws.protection.password, ws.protection.formatColumns,
                           ws.protection.formatRows),
            "view": (ws.freeze_panes, ws.sheet_view.showGridLines),
        }
        out["sheets"].append(sheet)
    return out


def layout_of(plan_id: str, form_id: str) -> builder.Layout:
    from yibao.functions import plan as plans
    from yibao.templates import content
    from yibao.templates.spec import form
    plan = plans.load(plan_id)
    f = form(form_id)
    return builder.Layout(f, plan, content.context(plan))


def fill_row(ws, layout, row: int, values: dict):
    """Write values by column key into one data row."""
    for key, value in values.items():
        ws.cell(row, layout.col[key]).value = value


# ---------------------------------------------------------------- LibreOffice

def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def need_soffice():
    """Skip without LibreOffice, except in CI (CI=true), where it must be there."""
    exe = soffice()
    if exe is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but LibreOffice (soffice) is not installed; .ci/run installs libreoffice-calc-nogui")
        pytest.skip("LibreOffice (soffice) not installed")
    return exe


RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def make_profile(path: Path, recalc: bool = True) -> Path:
    """A private LibreOffice user profile; with ``recalc`` it recalculates
    every formula of an .xlsx on load ("Recalculation on file load: Always"),
    instead of trusting cached values, which is LibreOffice's default for
    files written by Excel."""
    user = path / "user"
    user.mkdir(parents=True, exist_ok=True)
    if recalc:
        (user / "registrymodifications.xcu").write_text(RECALC_PROFILE, encoding="utf-8")
    return path


def convert(exe: str, profile: Path, files: list[Path], outdir: Path, to: str = "xlsx") -> list[Path]:
    """soffice --headless --convert-to; one process for all files."""
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = [exe, "--headless", "--norestore", f"-env:UserInstallation={profile.resolve().as_uri()}",
           "--convert-to", to, "--outdir", str(outdir), *map(str, files)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    outs = [outdir / (Path(f).stem + "." + to.split(":")[0]) for f in files]
    missing = [o for o in outs if not o.exists()]
    assert not missing, (missing, proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    return outs


__all__ = ["PLAN_IDS", "FORM_IDS", "PAIRS", "load_bytes", "main_sheet", "header_map", "fingerprint",
           "layout_of", "fill_row", "soffice", "need_soffice", "make_profile", "convert",
           "column_index_from_string", "get_column_letter"]
