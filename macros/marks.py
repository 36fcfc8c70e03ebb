"""The one marker that says "this note / this fill is ours".

Every backend (the in-place patcher, live Excel) recognises and removes
its notes and fills through this module only. The marker must survive a
round trip through Excel, WPS and LibreOffice, which keep a note's text but
not always its author or our style numbers, so it is text inside the note:
our finding follows the line :data:`NOTE_MARK`, placed after whatever the
user wrote in the same note, never over it. Clearing removes from the
marker to the end and keeps the user's text (issue 16 item 4).

Older versions marked notes by author ``yibao`` or the prefix ``【yibao】``;
those are still recognised as ours.
"""

from __future__ import annotations

#: the first characters of our part of a note
NOTE_MARK = "【yibao校验】"
#: markers of earlier versions (author of the note; prefix of its text)
LEGACY_AUTHOR = "yibao"
LEGACY_PREFIX = "【yibao】"
#: the fills validation puts on a cell, by severity (ARGB)
SEVERITY_FILL = {"错误": "FFFFC7CE", "警告": "FFFFEB9C", "提示": "FFDDEBF7"}
OUR_FILLS = frozenset(SEVERITY_FILL.values())


def our_part(finding: str) -> str:
    """Our part of a note: the marker line, then the finding."""
    return NOTE_MARK + "\n" + finding


def with_ours(user_text: str | None, finding: str) -> str:
    """A note holding the user's text (kept whole, first) and our finding.

    >>> with_ours("已电话核实", "身份证号校验位不对")
    '已电话核实\\n【yibao校验】\\n身份证号校验位不对'
    >>> with_ours(None, "重复")
    '【yibao校验】\\n重复'
    """
    user = strip_ours(user_text or "")
    return (user + "\n" if user else "") + our_part(finding)


def strip_ours(text: str, author: str | None = None) -> str:
    """The user's part of a note ("" when it is all ours): the text before
    our marker, or nothing for a note of an earlier version of ours.

    >>> strip_ours("已电话核实\\n【yibao校验】\\n校验位不对")
    '已电话核实'
    >>> strip_ours("【yibao】重复")
    ''
    """
    at = text.find(NOTE_MARK)
    if at >= 0:
        return text[:at].rstrip("\n")
    if text.startswith(LEGACY_PREFIX) or (author == LEGACY_AUTHOR and NOTE_MARK not in text):
        return ""
    return text


def is_ours(text: str, author: str | None = None) -> bool:
    """True when the note holds a part of ours (the marker, or an earlier version's mark)."""
    return NOTE_MARK in text or text.startswith(LEGACY_PREFIX) or author == LEGACY_AUTHOR
