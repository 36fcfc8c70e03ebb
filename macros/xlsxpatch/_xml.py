"""Small XML helpers every part uses: cell references, attributes, text escapes, one cell's XML."""

from __future__ import annotations

import datetime
import functools
import re
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from yibao.functions.person import CellError

from .constants import _EPOCH, MAIN_NS


@functools.lru_cache(maxsize=None)
def column_letter(col: int) -> str:
    """1 → 'A', 28 → 'AB' (as openpyxl's get_column_letter, without
    importing openpyxl, which costs a third of a second)."""
    if not 1 <= col <= 18278:
        raise ValueError(f"column {col} out of range")
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@functools.lru_cache(maxsize=None)
def column_index(letters: str) -> int:
    """'A' → 1, 'AB' → 28."""
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index


get_column_letter = column_letter
column_index_from_string = column_index


class Unsupported(Exception):
    """This file needs the general (openpyxl) path."""


_ROW = re.compile(r'<row\b[^>]*?(?:/>|>.*?</row>)', re.S)
_ROW_NUM = re.compile(r'\br="(\d+)"')
_CELL = re.compile(r'<c\b[^>]*?(?:/>|>.*?</c>)', re.S)
_CELL_REF = re.compile(r'\br="([A-Z]+)(\d+)"')
_STYLE_ATTR = re.compile(r'\bs="(\d+)"')
_STYLE_ATTR_B = re.compile(rb'\bs="(\d+)"')
_ROW_B = re.compile(rb'<row\b[^>]*?(?:/>|>.*?</row>)', re.S)
_ROW_NUM_B = re.compile(rb'\br="(\d+)"')
_CELL_REF_B = re.compile(rb'\br="([A-Z]+)(\d+)"')
_SPANS = re.compile(r'\sspans="[^"]*"')
_SPANS_B = re.compile(rb'\sspans="[^"]*"')


def _attr(tag: str, name: str) -> str | None:
    m = re.search(r'\b' + name + r'="([^"]*)"', tag)
    return m.group(1) if m else None


_ROOT = re.compile(rb"<(?![?!])([^\s>/]+)([^>]*)>")


def _normalise(data: bytes) -> bytes:
    """A SpreadsheetML part written with a prefix for the main namespace
    (``<x:worksheet xmlns:x="…main">``, as ClosedXML and the Open XML SDK
    write), rewritten with that namespace as the default, so every search
    for ``<row``, ``<c``, ``<sheets>`` finds what it means: the same
    document to any XML reader. Other parts are returned as they are."""
    m = _ROOT.search(data, 0, 4096)
    if m is None or b":" not in m.group(1):
        return data
    prefix = m.group(1).split(b":", 1)[0]
    attrs = m.group(2)
    declared = b'xmlns:%s="%s"' % (prefix, MAIN_NS.encode())
    if declared not in attrs or b'xmlns="' in attrs:
        return data
    data = data.replace(b"<%s:" % prefix, b"<").replace(b"</%s:" % prefix, b"</")
    at = data.find(declared)
    return data[:at] + b'xmlns="%s" ' % MAIN_NS.encode() + data[at:]


#: characters XML 1.0 cannot carry (C0 controls but tab and line breaks,
#: U+FFFE/U+FFFF, lone surrogates), and an underscore that would start
#: Excel's own escape (``_x000B_``) and so be read as one
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]|_(?=x[0-9A-Fa-f]{4}_)")
#: Excel's limit on a cell's text
MAX_CELL_CHARS = 32767
TRUNCATED = "…（内容过长，已截断）"


def _escape_char(m: re.Match) -> str:
    return "_x%04X_" % ord(m.group())


def writable_text(value: str) -> str:
    """Text as a cell or note can hold it: control characters copied from
    web systems written as Excel's ``_x000B_`` escapes (Excel, WPS and
    LibreOffice show them as the character; a raw one makes the file
    unreadable), and text over 32,767 characters cut with a visible
    marker. Issue 16 item 10."""
    if _UNWRITABLE.search(value) is not None:
        value = _UNWRITABLE.sub(_escape_char, value)
    if len(value) > MAX_CELL_CHARS:
        value = value[:MAX_CELL_CHARS - len(TRUNCATED)] + TRUNCATED
    return value


def writable_attr(value: str) -> str:
    """Text for an attribute (a link's display text): characters XML
    cannot carry dropped."""
    return _UNWRITABLE.sub(lambda m: m.group() if m.group() == "_" else "", value)


def _text(value: str) -> str:
    value = writable_text(value)
    if "&" in value or "<" in value or ">" in value:
        value = escape(value)
    if value[:1].isspace() or value[-1:].isspace() or "\n" in value:
        return f'<t xml:space="preserve">{value}</t>'
    return f"<t>{value}</t>"


_EPOCH_1904 = datetime.date(1904, 1, 1)


def in_1904(value):
    """A date as its serial number in the 1904 date system (days since
    1904-01-01, as old Mac Excel counts); anything else as it is. For a
    workbook whose ``workbookPr`` says ``date1904="1"``: :func:`cell_xml`
    counts from 1899-12-30."""
    if isinstance(value, datetime.date):
        if isinstance(value, datetime.datetime):
            value = value.date()
        return (value - _EPOCH_1904).days
    return value


def cell_xml(ref: str, value: Any, style: int | None) -> str:
    s = f' s="{style}"' if style else ""
    kind = type(value)
    if kind is str:
        if not value:
            return f'<c r="{ref}"{s}/>'
        # any text, including text starting with = + - @, is an inline string
        return f'<c r="{ref}"{s} t="inlineStr"><is>{_text(value)}</is></c>'
    if kind is int or kind is float:
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    if value is None:
        return f'<c r="{ref}"{s}/>'
    if kind is CellError:              # #VALUE! for a row the functions cannot compute
        return f'<c r="{ref}"{s} t="e"><v>{value}</v></c>'
    if kind is bool:
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return f'<c r="{ref}"{s}><v>{(value - _EPOCH).days}</v></c>'
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    return f'<c r="{ref}"{s} t="inlineStr"><is>{_text(str(value))}</is></c>'



def _unescape(text: str | None) -> str:
    """XML text or attribute value to plain text: the five named entities
    and numeric character references (``&#21488;``, ``&#x53F0;``, as
    openpyxl's lxml writer and others write non-ASCII text)."""
    if text is None:
        return ""
    if "&#" in text:
        text = _CHAR_REF.sub(lambda m: chr(int(m.group(1)[1:], 16) if m.group(1)[0] in "xX" else int(m.group(1))),
                             text)
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


_CHAR_REF = re.compile(r"&#([0-9]+|[xX][0-9A-Fa-f]+);")


def _insert_before(xml: str, element: str, followers: tuple[str, ...], end: str = "</worksheet>") -> str:
    """Insert ``element`` before the first of ``followers`` (schema order)."""
    for tag in followers:
        m = re.search(rf"<{tag}\b", xml)
        if m:
            return xml[:m.start()] + element + xml[m.start():]
    return xml.replace(end, element + end)


_NEEDS_QUOTING = re.compile(r'[&<>"\n\r\t]')


def _quote(value: str) -> str:
    """``quoteattr`` for the common case in one search (a link per report row)."""
    value = writable_attr(value)
    return quoteattr(value) if _NEEDS_QUOTING.search(value) else f'"{value}"'
