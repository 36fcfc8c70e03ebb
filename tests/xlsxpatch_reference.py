"""Helpers of the per-part tests of ``yibao.macros.xlsxpatch`` (tests/xlsxpatch/).

The way XlsxWriter tests its parts: a real part as a program wrote it (from
the public files of ``tests/corpus/public``, saved by Excel, LibreOffice,
gnumeric, Google Sheets, WPS), one operation of the patcher, and the part
it writes compared with an expected part checked in under
``tests/xlsxpatch/reference/`` (each one read and checked by hand when it was
made: set ``YIBAO_WRITE_REFERENCE=1`` to write a missing one, then review it).
Every zip member the operation had no need to change must come out byte for
byte the same.
"""
from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

from yibao.macros.xlsxpatch import XlsxPatch

TESTS = Path(__file__).parent
PUBLIC = TESTS / "corpus" / "public"
REFERENCE = TESTS / "xlsxpatch" / "reference"


def members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def order(path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return z.namelist()


def public(tmp_path: Path, name: str, edit=None) -> Path:
    """A copy of a public file; ``edit(parts)`` may change members first
    (the zip is then rewritten in the same member order)."""
    target = tmp_path / name
    shutil.copy(PUBLIC / name, target)
    if edit is not None:
        parts = members(target)
        edit(parts)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
            for n, data in parts.items():
                z.writestr(n, data)
    return target


def opened(tmp_path: Path, name: str, edit=None) -> XlsxPatch:
    return XlsxPatch(public(tmp_path, name, edit))


def saved(patch: XlsxPatch) -> dict[str, bytes]:
    patch.save(backup=False)
    return members(patch.path)


def expect(actual: str | bytes, reference: str):
    """``actual`` equals the checked-in reference part ``reference``."""
    data = actual.encode("utf-8") if isinstance(actual, str) else actual
    path = REFERENCE / reference
    if not path.exists() and os.environ.get("YIBAO_WRITE_REFERENCE"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"no reference {reference}"
    want = path.read_bytes()
    assert data == want, f"{reference} differs:\n--- want\n{want.decode()[:1500]}\n--- got\n{data.decode()[:1500]}"


def untouched(before: dict[str, bytes], after: dict[str, bytes], changed: set[str]) -> list[str]:
    """Members other than ``changed`` that were dropped or rewritten."""
    out = []
    for name, data in before.items():
        if name in changed:
            continue
        if name not in after:
            out.append(f"{name} dropped")
        elif after[name] != data:
            out.append(f"{name} rewritten")
    return out
