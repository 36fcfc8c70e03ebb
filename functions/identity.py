"""Identity names (身份类别) as departments really write them.

The same identity arrives as 低保户, 城乡低保对象 or 低保对象; as 一、二级残疾人
or 一二级残疾人; with full-width or half-width brackets and quotes. Matching
goes through a *key*: NFKC (full-width → half-width), then whitespace and
punctuation dropped.

>>> key('一、二级残疾人') == key('一二级残疾人')
True
>>> key('农村计生“两户”及计生特殊家庭成员') == key('农村计生"两户"及计生特殊家庭成员')
True
>>> key('计生失独（伤残）人员') == key('计生失独(伤残)人员')
True
>>> split_names('低保对象；一二级残疾人, 特困人员')
('低保对象', '一二级残疾人', '特困人员')

Names listed with 、 are read by :func:`runs`, the longest known name first:

>>> known = {key(n): n for n in ('低保对象', '一、二级残疾人', '特困人员')}
>>> runs('低保对象、一、二级残疾人、特困人员', known)
['低保对象', '一、二级残疾人', '特困人员']
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Mapping, TypeVar

T = TypeVar("T")

from .text import DOTS, INVISIBLE

__all__ = ["key", "split_names", "runs"]

_DROP = re.compile(f"[\\s{INVISIBLE}{DOTS}、,，。:：;；\"'“”‘’「」『』《》()（）\\[\\]【】\\-—_/]")


@functools.lru_cache(maxsize=4096)
def key(name: str) -> str:
    """The matching key of an identity name."""
    return _DROP.sub("", unicodedata.normalize("NFKC", str(name)))


_SPLIT = re.compile(r"[;；,，/|\n]+")


def split_names(text) -> tuple[str, ...]:
    """Split a cell holding several identities (separated by ；，/ or newlines).

    A list or tuple is taken as already split. The 、 is *not* a separator: it
    sits inside names such as 一、二级残疾人.
    """
    if text is None:
        return ()
    if isinstance(text, (list, tuple)):
        parts = []
        for item in text:
            parts.extend(split_names(item))
        return tuple(parts)
    return _split_text(str(text))


@functools.lru_cache(maxsize=8192)
def _split_text(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in _SPLIT.split(text) if p.strip())


def runs(name: str, known: Mapping[str, T]) -> list[T] | None:
    """The values of ``known`` (keyed by :func:`key`) for a name listed with
    、 ("低保对象、脱贫人口"), or None when some part is no known name.

    The 、 also sits inside names (一、二级残疾人), so at each place the
    longest run of 、-separated parts that is a known name wins. Linear in
    the length of ``name``: a run is never longer than the longest known
    key, and each part's key is computed once (a cell with thousands of 、
    took cubic time when every run was joined and looked up).
    """
    keys = [k for k in map(key, name.split("、")) if k]   # a part that is only punctuation joins nothing
    if not keys:
        return None
    longest = max(map(len, known), default=0)
    out, i = [], 0
    while i < len(keys):
        # candidate runs from part i, as long as their key can still be known
        found, j, joined = None, i, ""
        while j < len(keys) and len(joined) + len(keys[j]) <= longest:
            joined += keys[j]
            j += 1
            if joined in known:
                found, end = known[joined], j
        if found is None:
            return None
        out.append(found)
        i = end
    return out
