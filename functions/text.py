"""One reading of the text people paste into ledgers and lists.

Cells copied from web systems, PDFs and chat carry characters nobody sees:
bidirectional marks around an ID number (U+202D … U+202C), zero-width spaces
(U+200B), a byte-order mark (U+FEFF), no-break spaces. CSV exports wrap a
number as ``="430…"`` so that Excel keeps it as text. Two departments write
one name as 张　三 (ideographic space) and 张三, or a minority name with a
different middle dot (阿依古丽·买买提, 阿依古丽.买买提, 阿依古丽•买买提).

Every reader and every comparison goes through the two functions here:

- :func:`clean` for any text cell (names, villages, identities, flags): the
  invisible characters dropped, every kind of space made an ASCII space, a
  ``="…"`` wrapper taken off, the spaces between two Chinese characters
  dropped and a dot of any kind between two Chinese characters made the
  middle dot U+00B7 of GB 18030 (so a name is compared as one), ends stripped;
- :func:`compact_id` for ID numbers: the same, then NFKC (full-width digits
  and Ｘ), every space and separator dropped, a lowercase x raised.

Plain text takes a fast path: ``str.isascii`` and ``str.isprintable`` are
answered in C without looking at the characters one by one, and most cells
pass them.

>>> clean('\\u202d430999195001010213\\u202c')
'430999195001010213'
>>> clean('张\\u3000三'), clean(' 张 三 '), clean('="张三"')
('张三', '张三', '张三')
>>> clean('阿依古丽.买买提') == clean('阿依古丽 • 买买提') == clean('阿依古丽・买买提') == '阿依古丽·买买提'
True
>>> clean('Maria  Chen'), clean('2025.10.15')
('Maria  Chen', '2025.10.15')
>>> compact_id('="430999195001010213"'), compact_id("'43099919500101021x")
('430999195001010213', '43099919500101021X')
>>> compact_id('\\ufeff４３０９９９ １９５００１０１ ０２１３')
'430999195001010213'
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["INVISIBLE", "DOTS", "clean", "compact_id", "name_key", "unwrap"]

#: characters that take no room on screen: soft hyphen, Arabic letter mark,
#: Mongolian vowel separator, zero-width space/non-joiner/joiner, left-to-right
#: and right-to-left marks, the bidirectional embeddings and overrides
#: (U+202A-U+202E), word joiner and invisible operators, the isolates, the
#: byte-order mark, interlinear annotation marks
INVISIBLE = ("\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
             "\ufeff\ufff9-\ufffb")
_INVISIBLE = re.compile(f"[{INVISIBLE}]+")

#: the dots people put in the middle of a minority name (阿依古丽·买买提):
#: middle dot U+00B7, Greek ano teleia, bullet, hyphenation point, katakana
#: middle dot and its half-width form, full stop, full-width full stop,
#: bullet operator, dot operator, one-dot leader, Hangul araea
DOTS = "\u00b7\u0387\u2022\u2027\u30fb\uff65.\uff0e\u2219\u22c5\u2024\u318d"

# Chinese characters (CJK unified ideographs and their extensions,
# compatibility ideographs, 〇)
_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_DOT = re.compile(f"(?<=[{_HAN}]) *[{DOTS}] *(?=[{_HAN}])")
_HAN_SPACE = re.compile(f"(?<=[{_HAN}]) +(?=[{_HAN}])")
# any white space but the ASCII space and line breaks (no-break, ideographic,
# en/em spaces, tabs...), made an ASCII space before the steps above; line
# breaks stay, they separate the identities of one cell
_SPACES = re.compile(r"[^\S \r\n]")
_WRAPPED = re.compile(r'^=\s*"(.*)"$', re.DOTALL)
_DOT_OR_EQUALS = re.compile(f"[={DOTS}]")


def unwrap(text: str) -> str:
    """The text inside an Excel-CSV ``="…"`` wrapper, else the text as it is.

    >>> unwrap('="0012"'), unwrap('=A1')
    ('0012', '=A1')
    """
    found = _WRAPPED.match(text)
    return found.group(1).replace('""', '"') if found else text


def clean(text: str) -> str:
    """A text cell as it is read and compared (see the module docstring).

    Linear in the length of the text; plain text is returned stripped.
    """
    if text.isascii():
        if '="' in text:
            return unwrap(text.strip()).strip()
        return text.strip()
    if text.isprintable() and " " not in text and _DOT_OR_EQUALS.search(text) is None:
        return text          # most Chinese cells: nothing to do, nothing to strip
    return _clean_slow(text)


def _clean_slow(text: str) -> str:
    text = _INVISIBLE.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    if text.startswith("="):
        text = unwrap(text).strip()
    text = _HAN_DOT.sub("\u00b7", text)
    return _HAN_SPACE.sub("", text)


#: also the control characters a web page or a CSV export leaves in (backspace, ...)
_ID_JUNK = re.compile(f"[\\s\\x00-\\x1f\\x7f{INVISIBLE}\\-'‘’`]+")


def compact_id(text: str) -> str:
    """An ID number's text without wrapper, invisible characters, spaces and
    separators, full-width characters folded (NFKC), upper case. Whatever
    else is in it stays, for the caller to report.
    """
    if text.isascii():
        if '="' in text:
            text = unwrap(text.strip())
        return _ID_JUNK.sub("", text).upper()
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFKC", text).strip()
    if text.startswith("="):
        text = unwrap(text)
    return _ID_JUNK.sub("", text).upper()


_ANY_DOT = re.compile(f"[{DOTS}]")
_ANY_SPACE = re.compile(r"\s+")
# a note in brackets after a name, as death lists write it: 张三（已故）, 张三(殁), 张三【死亡】
# (NFKC has already made full-width round brackets ASCII); no legal name has brackets
_NOTE = re.compile(r"\s*(?:\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕)\s*$")


def name_key(text: str) -> str:
    """A person's name as two sources are compared: :func:`clean`, then
    full-width folded (NFKC), a note in brackets at the end dropped (a death
    list's 张三（已故）), every space dropped and every kind of dot made the
    middle dot. Two names are one person's when their keys are equal.

    >>> name_key(" 肖 桂娟 ") == name_key("肖桂娟"), name_key("阿依·木合") == name_key("阿依•木合")
    (True, True)
    >>> name_key("肖桂娟（已故）") == name_key("肖桂娟(殁)") == name_key("肖桂娟")
    True
    >>> name_key("王五") == name_key("肖桂娟")
    False
    """
    text = unicodedata.normalize("NFKC", clean(text))
    while True:
        bare = _NOTE.sub("", text)
        if bare == text or not bare:
            break
        text = bare
    return _ANY_DOT.sub("\u00b7", _ANY_SPACE.sub("", text))

