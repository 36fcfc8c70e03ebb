"""Print checks: render workbooks through LibreOffice and read the PDF.

``render(paths, outdir)`` converts many .xlsx files with one ``soffice`` run (a private
``-env:UserInstallation`` profile, so parallel test runs do not share LibreOffice's lock) and
returns ``{xlsx: pdf}``.  ``read(pdf)`` returns a ``Printout``: per page its size in points and
its words (text, font size in pt, box).  The checks a stamped page must pass are methods that
return a list of Chinese-free, developer-readable problems (empty when the page is fine), so a
failing test prints every problem at once:

- ``not_a4()``: a page that is not A4 (595 x 842 pt, either orientation, 2 pt tolerance);
- ``smallest_font()``: the smallest font size of any body word (pt);
- ``outside()``: words whose box is not inside the page (cut off or spilling over);
- ``blank_pages()``: pages with no text, or with only a footer/page number, at the end;
- ``missing_on_pages(text)``: pages on which a repeated header line is missing.

Font sizes come from pdfplumber's ``size`` (the glyph's em size after the text matrix, i.e. what
a ruler would measure on paper at 100 % print scale).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

A4 = (595.3, 841.9)
TOLERANCE = 2.0


def available() -> bool:
    return bool(shutil.which("soffice"))


def render(paths, outdir) -> dict[Path, Path]:
    """Convert every workbook in ``paths`` to PDF in ``outdir`` with one LibreOffice run.

    Raises ``RuntimeError`` when LibreOffice produced no PDF for one of them.
    """
    paths = [Path(p) for p in paths]
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    # Files with the same name (公示名单/东山村.xlsx, 台账/东山村.xlsx) would overwrite each other's
    # PDF: copy each under a unique name first.
    staged = []
    stage = Path(tempfile.mkdtemp(prefix="stage-", dir=outdir))
    for i, p in enumerate(paths):
        q = stage / f"{i:03d}-{p.stem}{p.suffix}"
        shutil.copyfile(p, q)
        staged.append(q)
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-", dir=outdir))
    env = dict(os.environ, HOME=str(profile))
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         "--convert-to", "pdf", "--outdir", str(outdir), *map(str, staged)],
        check=True, capture_output=True, timeout=600, env=env)
    out = {}
    for p, q in zip(paths, staged):
        pdf = outdir / (q.stem + ".pdf")
        if not pdf.exists():
            raise RuntimeError(f"LibreOffice made no PDF of {p}")
        out[p] = pdf
    return out


@dataclass
class Word:
    text: str
    size: float
    x0: float
    top: float
    x1: float
    bottom: float


@dataclass
class Page:
    number: int
    width: float
    height: float
    words: list[Word] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(w.text for w in self.words)


@dataclass
class Printout:
    path: Path
    pages: list[Page]

    @property
    def count(self) -> int:
        return len(self.pages)

    def not_a4(self) -> list[str]:
        bad = []
        for p in self.pages:
            size = sorted((p.width, p.height))
            if abs(size[0] - A4[0]) > TOLERANCE or abs(size[1] - A4[1]) > TOLERANCE:
                bad.append(f"page {p.number}: {p.width:.0f}x{p.height:.0f} pt, not A4")
        return bad

    def body_words(self, footer_band: float = 0.0):
        for p in self.pages:
            for w in p.words:
                if footer_band and w.top > p.height - footer_band:
                    continue
                yield p, w

    def smallest_font(self) -> float:
        sizes = [w.size for _, w in self.body_words()]
        return round(min(sizes), 1) if sizes else 0.0

    def small_words(self, limit: float) -> list[str]:
        return [f"page {p.number}: {w.text!r} at {w.size:.1f} pt"
                for p, w in self.body_words() if w.size < limit - 0.05]

    def outside(self) -> list[str]:
        bad = []
        for p in self.pages:
            for w in p.words:
                if w.x0 < -0.5 or w.top < -0.5 or w.x1 > p.width + 0.5 or w.bottom > p.height + 0.5:
                    bad.append(f"page {p.number}: {w.text!r} at ({w.x0:.0f},{w.top:.0f})-({w.x1:.0f},{w.bottom:.0f})")
        return bad

    def blank_pages(self) -> list[str]:
        """Trailing pages that carry nothing but a page number / footer line."""
        bad = []
        for p in reversed(self.pages):
            body = [w for w in p.words if not _is_footer(w, p)]
            if body:
                break
            bad.append(f"page {p.number}: blank" + (f" (only {p.text!r})" if p.words else ""))
        return bad

    def missing_on_pages(self, text: str) -> list[str]:
        want = re.sub(r"\s+", "", text)
        return [f"page {p.number}: no {text!r}" for p in self.pages
                if want not in re.sub(r"\s+", "", p.text)]

    def words_at(self, text: str) -> list[tuple[int, Word]]:
        return [(p.number, w) for p in self.pages for w in p.words if text in w.text]


_FOOTER = re.compile(r"^(第?\d+页?(／|/|，)?(共\d+页)?|Page\d+(of\d+)?|\d+/\d+)$")


def _is_footer(w: Word, p: Page) -> bool:
    return w.top > p.height * 0.85 and bool(_FOOTER.match(re.sub(r"\s+", "", w.text)))


def read(pdf) -> Printout:
    import pdfplumber

    pages = []
    with pdfplumber.open(str(pdf)) as doc:
        for i, pg in enumerate(doc.pages, 1):
            page = Page(i, float(pg.width), float(pg.height))
            words = pg.extract_words(extra_attrs=["size"], keep_blank_chars=False, use_text_flow=False)
            for w in words:
                if not w["text"].strip():
                    continue
                page.words.append(Word(w["text"], float(w["size"]), float(w["x0"]), float(w["top"]),
                                       float(w["x1"]), float(w["bottom"])))
            pages.append(page)
    return Printout(Path(pdf), pages)


def problems(doc: Printout, *, min_font: float = 9.0, headers=()) -> list[str]:
    """Every check at once; ``headers`` are texts that must be on every page."""
    out = doc.not_a4() + doc.small_words(min_font)[:5] + doc.outside()[:5] + doc.blank_pages()
    for h in headers:
        out += doc.missing_on_pages(h)
    return out


def png(pdf, outprefix, dpi: int = 60) -> list[Path]:
    """Render the PDF's pages to PNG files (for looking at, not for asserting)."""
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(outprefix)], check=True)
    return sorted(Path(outprefix).parent.glob(Path(outprefix).name + "*.png"))
