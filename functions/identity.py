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
"""

from __future__ import annotations

import functools
import re
import unicodedata

__all__ = ["key", "split_names"]

_DROP = re.compile(r"[\s、,，。.．:：;；\"'“”‘’「」『』《》()（）\[\]【】·•\-—_/]")


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
