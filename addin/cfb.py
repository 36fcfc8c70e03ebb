"""A small writer of MS-CFB compound files (version 3, 512-byte sectors).

Why our own: ``vbaProject.bin`` is a compound file, and the Python packages
that handle the format either only read it (``olefile``, ``compoundfiles``,
``cfb``), rewrite streams of the same size only (``olefile``), are early
pre-releases with extra dependencies (``ms-cfb`` 0.0.x), or carry a licence we
cannot ship under MIT (``cfbwrite``, AGPL). A writer for a handful of small
streams is about 200 lines, and owning it lets us lay the file out the way a
writer whose files are known to load in Excel does (EPPlus'
``CompoundDocumentFile``); ``olefile`` reads the result back in the tests.

Layout (see ``addin/README.md`` for which choice comes from where):

* header, then the FAT sectors, the directory sectors, the MiniFAT sectors,
  the mini stream and finally each large stream in directory order;
* streams shorter than the 4096-byte cutoff live in the mini stream;
* every directory entry is black; the siblings of a storage form a balanced
  binary tree over the names sorted as MS-CFB 2.6.4 orders them (length
  first, then upper-cased code points), with the middle name at the root;
* all times and CLSIDs are zero, so the same input gives the same bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF

_STORAGE, _STREAM, _ROOT = 1, 2, 5


@dataclass
class _Entry:
    name: str
    kind: int
    data: bytes = b""
    children: list["_Entry"] = field(default_factory=list)
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    start: int = ENDOFCHAIN
    size: int = 0


def _sort_key(name: str):
    # MS-CFB 2.6.4: shorter names first; equal lengths compare upper-cased.
    return (len(name), name.upper())


def _build(name: str, node) -> _Entry:
    if isinstance(node, (bytes, bytearray)):
        return _Entry(name, _STREAM, bytes(node))
    if not isinstance(node, dict):
        raise TypeError(f"{name}: a stream is bytes, a storage is a dict")
    entry = _Entry(name, _STORAGE)
    for child_name, child in node.items():
        if not 0 < len(child_name) <= 31 or any(c in child_name for c in "/\\:!"):
            raise ValueError(f"bad compound file entry name {child_name!r}")
        entry.children.append(_build(child_name, child))
    keys = [_sort_key(c.name) for c in entry.children]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate names (case-insensitive) in storage {name!r}")
    entry.children.sort(key=lambda c: _sort_key(c.name))
    return entry


def _flatten(root: _Entry) -> list[_Entry]:
    """Directory order: the root, then each storage's sibling tree in
    pre-order, then the contents of each child storage (as EPPlus does)."""
    order = [root]

    def place(entry: _Entry):
        kids = entry.children
        if not kids:
            return

        def tree(lo: int, hi: int) -> int:
            if lo >= hi:
                return NOSTREAM
            mid = (lo + hi) // 2
            node = kids[mid]
            index = len(order)
            order.append(node)
            node.left = tree(lo, mid)
            node.right = tree(mid + 1, hi)
            return index

        entry.child = tree(0, len(kids))
        for kid in kids:
            place(kid)

    place(root)
    return order


def _chain(first: int, count: int) -> list[int]:
    return [first + i + 1 if i + 1 < count else ENDOFCHAIN for i in range(count)]


def _sectors(size: int, unit: int) -> int:
    return (size + unit - 1) // unit


def write(tree: dict) -> bytes:
    """Serialize ``tree`` (``{name: bytes | dict}``; dicts are storages) as a
    compound file and return its bytes."""
    root = _build("Root Entry", tree)
    root.kind = _ROOT
    entries = _flatten(root)
    streams = [e for e in entries if e.kind == _STREAM]

    # Mini stream: every stream below the cutoff, each padded to 64 bytes.
    mini = bytearray()
    minifat: list[int] = []
    for e in streams:
        e.size = len(e.data)
        if 0 < e.size < MINI_CUTOFF:
            count = _sectors(e.size, MINI_SECTOR)
            e.start = len(minifat)
            minifat += _chain(len(minifat), count)
            mini += e.data + bytes(count * MINI_SECTOR - e.size)
        elif e.size == 0:
            e.start = ENDOFCHAIN
    large = [e for e in streams if e.size >= MINI_CUTOFF]

    n_dir = _sectors(len(entries) * 128, SECTOR)
    n_minifat = _sectors(len(minifat) * 4, SECTOR)
    n_mini = _sectors(len(mini), SECTOR)
    n_large = sum(_sectors(e.size, SECTOR) for e in large)
    payload = n_dir + n_minifat + n_mini + n_large
    n_fat = 1
    while n_fat * (SECTOR // 4) < n_fat + payload:
        n_fat += 1
    if n_fat > 109:
        raise ValueError("compound file too large for a header-only DIFAT")

    fat: list[int] = [FATSECT] * n_fat
    dir_start = len(fat)
    fat += _chain(dir_start, n_dir)
    minifat_start = len(fat) if n_minifat else ENDOFCHAIN
    fat += _chain(len(fat), n_minifat)
    if n_mini:
        root.start = len(fat)
        root.size = len(mini)
        fat += _chain(len(fat), n_mini)
    else:
        root.start, root.size = ENDOFCHAIN, 0
    for e in large:
        count = _sectors(e.size, SECTOR)
        e.start = len(fat)
        fat += _chain(len(fat), count)
    assert len(fat) == n_fat + payload
    fat += [FREESECT] * (n_fat * (SECTOR // 4) - len(fat))

    header = bytearray(SECTOR)
    struct.pack_into(
        "<8s16sHHHHH6sIIIIIIIII", header, 0,
        bytes.fromhex("D0CF11E0A1B11AE1"), bytes(16),
        0x003E, 0x0003, 0xFFFE, 9, 6, bytes(6),
        0,            # number of directory sectors: MUST be 0 in version 3
        n_fat, dir_start, 0, MINI_CUTOFF,
        minifat_start, n_minifat, ENDOFCHAIN, 0,
    )
    difat = list(range(n_fat)) + [FREESECT] * (109 - n_fat)
    struct.pack_into("<109I", header, 76, *difat)

    out = bytearray(header)
    out += struct.pack(f"<{len(fat)}I", *fat)

    directory = bytearray()
    for e in entries:
        directory += _dir_entry(e)
    while len(directory) % SECTOR:
        directory += _unused_entry()
    out += directory

    table = struct.pack(f"<{len(minifat)}I", *minifat)
    out += table + struct.pack("<I", FREESECT) * ((n_minifat * SECTOR - len(table)) // 4)
    out += mini + bytes(n_mini * SECTOR - len(mini))
    for e in large:
        out += e.data + bytes(_sectors(e.size, SECTOR) * SECTOR - e.size)
    return bytes(out)


def _dir_entry(e: _Entry) -> bytes:
    name = e.name.encode("utf-16-le")
    start = e.start if e.kind != _STORAGE else 0
    size = e.size if e.kind != _STORAGE else 0
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        name, len(name) + 2, e.kind, 1,   # 1 = black
        e.left, e.right, e.child, bytes(16), 0, 0, 0, start, size,
    )


def _unused_entry() -> bytes:
    return struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0,
                       NOSTREAM, NOSTREAM, NOSTREAM, bytes(16), 0, 0, 0, 0, 0)
