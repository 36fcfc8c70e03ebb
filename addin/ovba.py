"""MS-OVBA: the VBA project inside an Office file, written from module text.

Two parts:

* :func:`compress`: the MS-OVBA 2.4.1 compression (a CompressedContainer of
  4096-byte chunks, flag bytes and literal/copy tokens) with real matches:
  at each position the longest earlier match within the chunk (nearest first
  among equals), as 2.4.1.3.19.4 asks, found through a hash of the next three
  bytes instead of a scan of every earlier position. There is no MS-OVBA
  compressor on PyPI (oletools only decompresses), so it lives here; the
  tests round-trip it through oletools' decompressor.
* :func:`vba_storage`: the streams of a VBA project (``PROJECT``,
  ``PROJECTwm``, ``VBA/dir``, ``VBA/_VBA_PROJECT`` and one stream per module)
  as a tree for :func:`yibao.addin.cfb.write`. ``_VBA_PROJECT`` carries the
  version 0xFFFF and no performance cache, and each module stream has no
  cache either (MODULEOFFSET 0): Office then compiles the project from the
  source on first load, which is what MS-OVBA 2.3.4.1 asks writers to do.

Which field values come from the specification, which from EPPlus'
``ExcelVbaProject`` and which from the xlwings add-in is in
``addin/README.md``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

CHUNK = 4096


# ---------------------------------------------------------------- compression

def _copy_token_layout(offset_from_chunk_start: int) -> tuple[int, int]:
    """(bit count for the offset, maximum length) at this position (2.4.1.3.19.1)."""
    bits = max((offset_from_chunk_start - 1).bit_length(), 4)
    return bits, (0xFFFF >> bits) + 3


def _compress_chunk(data: bytes, start: int, end: int) -> bytes:
    """Token sequences of one chunk (``data[start:end]``), flag bytes included."""
    out = bytearray()
    heads: dict[bytes, list[int]] = {}
    pos = start
    while pos < end:
        flag_at = len(out)
        out.append(0)
        flags = 0
        for bit in range(8):
            if pos >= end:
                break
            best_len, best_pos = 0, 0
            if pos + 3 <= end:
                key = data[pos:pos + 3]
                candidates = heads.get(key)
                if candidates:
                    bits, max_len = _copy_token_layout(pos - start)
                    limit = min(end - pos, max_len)
                    for cand in reversed(candidates):  # nearest first
                        if best_len and data[cand + best_len] != data[pos + best_len]:
                            continue  # cannot beat the best so far
                        length = 3
                        while length < limit and data[cand + length] == data[pos + length]:
                            length += 1
                        if length > best_len:
                            best_len, best_pos = length, cand
                            if length == limit:
                                break
            if best_len >= 3:
                bits, _ = _copy_token_layout(pos - start)
                token = ((pos - best_pos - 1) << (16 - bits)) | (best_len - 3)
                out += struct.pack("<H", token)
                flags |= 1 << bit
                step = best_len
            else:
                out.append(data[pos])
                step = 1
            for p in range(pos, pos + step):
                if p + 3 <= end:
                    heads.setdefault(data[p:p + 3], []).append(p)
            pos += step
        out[flag_at] = flags
    return bytes(out)


def compress(data: bytes) -> bytes:
    """MS-OVBA 2.4.1 CompressedContainer of ``data``."""
    data = bytes(data)
    out = bytearray(b"\x01")
    for start in range(0, len(data), CHUNK):
        end = min(start + CHUNK, len(data))
        body = _compress_chunk(data, start, end)
        if len(body) <= 4096:
            out += struct.pack("<H", 0xB000 | (len(body) + 2 - 3)) + body
        else:
            # 2.4.1.3.10: a raw chunk holds exactly 4096 bytes (padded).
            raw = data[start:end] + bytes(CHUNK - (end - start))
            out += struct.pack("<H", 0x3000 | 0x0FFF) + raw
    return bytes(out)


def decompress(container: bytes) -> bytes:
    """MS-OVBA 2.4.1.3.1, for our own checks (oletools is the reference)."""
    if not container or container[0] != 1:
        raise ValueError("not a CompressedContainer")
    out = bytearray()
    pos = 1
    while pos < len(container):
        header, = struct.unpack_from("<H", container, pos)
        size = (header & 0x0FFF) + 3
        chunk_end = min(pos + size, len(container))
        pos += 2
        chunk_start = len(out)
        if not header & 0x8000:
            out += container[pos:pos + CHUNK]
            pos += CHUNK
            continue
        while pos < chunk_end:
            flags = container[pos]
            pos += 1
            for bit in range(8):
                if pos >= chunk_end:
                    break
                if flags >> bit & 1:
                    token, = struct.unpack_from("<H", container, pos)
                    pos += 2
                    bits, _ = _copy_token_layout(len(out) - chunk_start)
                    offset = (token >> (16 - bits)) + 1
                    length = (token & (0xFFFF >> bits)) + 3
                    for _ in range(length):
                        out.append(out[-offset])
                else:
                    out.append(container[pos])
                    pos += 1
    return bytes(out)


# ---------------------------------------------------------------- project

#: OLE Automation and the Office object library (for IRibbonControl), byte for
#: byte as Excel wrote them in the xlwings add-in.
REFERENCES = (
    ("stdole", "*\\G{00020430-0000-0000-C000-000000000046}#2.0#0#"
               "C:\\Windows\\System32\\stdole2.tlb#OLE Automation"),
    ("Office", "*\\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#"
               "C:\\Program Files\\Common Files\\Microsoft Shared\\OFFICE16\\MSO.DLL"
               "#Microsoft Office 16.0 Object Library"),
)

DOCUMENT_WORKBOOK = "0{00020819-0000-0000-C000-000000000046}"
DOCUMENT_WORKSHEET = "0{00020820-0000-0000-C000-000000000046}"
CLASS_BASE = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"


@dataclass(frozen=True)
class Module:
    """One VBA module: ``kind`` is "module", "class" or "document"; ``source``
    is the text stored in its stream, ``Attribute`` lines included."""
    name: str
    kind: str
    source: str


def document_source(name: str, base: str, code: str = "") -> str:
    """A document module's stream text: the attribute block Excel writes."""
    head = [
        f'Attribute VB_Name = "{name}"',
        f'Attribute VB_Base = "{base}"',
        "Attribute VB_GlobalNameSpace = False",
        "Attribute VB_Creatable = False",
        "Attribute VB_PredeclaredId = True",
        "Attribute VB_Exposed = True",
        "Attribute VB_TemplateDerived = False",
        "Attribute VB_Customizable = True",
    ]
    return "\r\n".join(head) + "\r\n" + code


def class_source(cls_text: str) -> str:
    """A class module's stream text from an exported ``.cls`` file: the
    ``VERSION``/``BEGIN``..``END`` header dropped (VBE writes it only on
    export) and VB_Base, VB_TemplateDerived and VB_Customizable added where
    Excel stores them."""
    lines = cls_text.replace("\r\n", "\n").split("\n")
    if lines and lines[0].startswith("VERSION "):
        end = lines.index("END")
        lines = lines[end + 1:]
    out = []
    for line in lines:
        out.append(line)
        if line.startswith("Attribute VB_Name ="):
            out.append(f'Attribute VB_Base = "{CLASS_BASE}"')
        elif line.startswith("Attribute VB_Exposed ="):
            out += ["Attribute VB_TemplateDerived = False", "Attribute VB_Customizable = False"]
    return "\r\n".join(out)


def _encrypt(project_id: str, data: bytes, seed: int) -> str:
    """MS-OVBA 2.4.3.2 data encryption, as hex for CMG/DPB/GC."""
    proj_key = sum(project_id.encode("ascii")) & 0xFF
    version = 2
    enc = [seed, version ^ seed, proj_key ^ seed]
    unenc1, enc1, enc2 = proj_key, enc[2], enc[1]
    ignored = (seed & 6) // 2
    plain = bytes([0] * ignored) + struct.pack("<I", len(data)) + data
    for byte in plain:
        b = byte ^ ((enc2 + unenc1) & 0xFF)
        enc.append(b)
        enc2, enc1, unenc1 = enc1, b, byte
    return bytes(enc).hex().upper()


def _rec(rid: int, payload: bytes = b"") -> bytes:
    return struct.pack("<HI", rid, len(payload)) + payload


def _dir_stream(name: str, modules: list[Module], codepage: str, codepage_id: int) -> bytes:
    mb = lambda s: s.encode(codepage)  # noqa: E731
    u16 = lambda s: s.encode("utf-16-le")  # noqa: E731
    d = bytearray()
    d += _rec(0x0001, struct.pack("<I", 1))              # SYSKIND: 32-bit Windows (EPPlus)
    d += _rec(0x0002, struct.pack("<I", 0x409))          # LCID: MUST be 0x409
    d += _rec(0x0014, struct.pack("<I", 0x409))          # LCIDINVOKE: MUST be 0x409
    d += _rec(0x0003, struct.pack("<H", codepage_id))    # CODEPAGE
    d += _rec(0x0004, mb(name))                          # NAME
    d += _rec(0x0005) + _rec(0x0040)                     # DOCSTRING, unicode
    d += _rec(0x0006) + _rec(0x003D)                     # HELPFILEPATH 1 and 2
    d += _rec(0x0007, struct.pack("<I", 0))              # HELPCONTEXT
    d += _rec(0x0008, struct.pack("<I", 0))              # LIBFLAGS
    # PROJECTVERSION: Reserved is 4 although 6 bytes follow (2.3.4.2.1.11);
    # major/minor are EPPlus' values for a new project.
    d += struct.pack("<HIIH", 0x0009, 4, 1361024421, 6)
    d += _rec(0x000C) + _rec(0x003C)                     # CONSTANTS, unicode
    for ref_name, libid in REFERENCES:
        d += _rec(0x0016, mb(ref_name)) + _rec(0x003E, u16(ref_name))
        lib = mb(libid)
        d += _rec(0x000D, struct.pack("<I", len(lib)) + lib + struct.pack("<IH", 0, 0))
    d += _rec(0x000F, struct.pack("<H", len(modules)))   # PROJECTMODULES count
    d += _rec(0x0013, struct.pack("<H", 0xFFFF))         # PROJECTCOOKIE
    for m in modules:
        d += _rec(0x0019, mb(m.name)) + _rec(0x0047, u16(m.name))   # MODULENAME(+unicode)
        d += _rec(0x001A, mb(m.name)) + _rec(0x0032, u16(m.name))   # MODULESTREAMNAME
        d += _rec(0x001C) + _rec(0x0048)                            # MODULEDOCSTRING
        d += _rec(0x0031, struct.pack("<I", 0))                     # MODULEOFFSET: no cache
        d += _rec(0x001E, struct.pack("<I", 0))                     # MODULEHELPCONTEXT
        d += _rec(0x002C, struct.pack("<H", 0xFFFF))                # MODULECOOKIE
        d += _rec(0x0021 if m.kind == "module" else 0x0022)         # MODULETYPE
        d += _rec(0x002B)                                           # terminator
    d += _rec(0x0010)                                    # dir terminator
    return bytes(d)


def _project_stream(name: str, project_id: str, modules: list[Module], codepage: str) -> bytes:
    lines = [f'ID="{project_id}"']
    for m in modules:
        if m.kind == "document":
            lines.append(f"Document={m.name}/&H00000000")
        elif m.kind == "class":
            lines.append(f"Class={m.name}")
        else:
            lines.append(f"Module={m.name}")
    lines += [
        f'Name="{name}"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        # Unprotected, no password, visible. Fixed seeds instead of random
        # ones keep the build reproducible; any seed decrypts the same.
        'CMG="%s"' % _encrypt(project_id, struct.pack("<I", 0), 0x41),
        'DPB="%s"' % _encrypt(project_id, b"\x00", 0x43),
        'GC="%s"' % _encrypt(project_id, b"\xff", 0x45),
        "",
        "[Host Extender Info]",
        "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000",
        "",
        "[Workspace]",
    ]
    lines += [f"{m.name}=0, 0, 0, 0, C" for m in modules]
    return ("\r\n".join(lines) + "\r\n").encode(codepage)


def _projectwm_stream(modules: list[Module], codepage: str) -> bytes:
    out = bytearray()
    for m in modules:
        out += m.name.encode(codepage) + b"\x00" + m.name.encode("utf-16-le") + b"\x00\x00"
    return bytes(out + b"\x00\x00")


CODEPAGES = {936: "gbk", 1252: "cp1252"}


def vba_storage(name: str, project_id: str, modules: list[Module], codepage_id: int = 936) -> dict:
    """The VBA project as a compound-file tree for :func:`yibao.addin.cfb.write`."""
    codepage = CODEPAGES[codepage_id]
    names = [m.name.upper() for m in modules]
    if len(set(names)) != len(names):
        raise ValueError("module names must differ (case-insensitive)")
    vba = {
        "_VBA_PROJECT": struct.pack("<HHBH", 0x61CC, 0xFFFF, 0x00, 0x0000),
        "dir": compress(_dir_stream(name, modules, codepage, codepage_id)),
    }
    for m in modules:
        source = m.source.replace("\r\n", "\n").replace("\n", "\r\n")
        vba[m.name] = compress(source.encode(codepage))
    return {
        "VBA": vba,
        "PROJECT": _project_stream(name, project_id, modules, codepage),
        "PROJECTwm": _projectwm_stream(modules, codepage),
    }
