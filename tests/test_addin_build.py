"""The add-in build: MS-OVBA compression, the compound file, the VBA project
and the .xlam package, checked with oletools/olefile (independent readers)."""

from __future__ import annotations

import io
import random
import re
import struct
import zipfile
from pathlib import Path

import pytest

olefile = pytest.importorskip("olefile")
olevba = pytest.importorskip("oletools.olevba")

from yibao.addin import build, cfb, ovba, vbagen  # noqa: E402

ADDIN = Path(build.__file__).resolve().parent


@pytest.fixture(scope="module")
def xlam(tmp_path_factory):
    return build.build(tmp_path_factory.mktemp("addin") / "yibao.xlam")


@pytest.fixture(scope="module")
def vba_bin(xlam):
    return zipfile.ZipFile(xlam).read("xl/vbaProject.bin")


def _nl(text: str) -> str:
    return text.replace("\r\n", "\n").rstrip("\n")


# ---------------------------------------------------------------- compression

def _samples():
    rnd = random.Random(20250101)
    xlwings_bas = (build.xlwings_dir() / "xlwings.bas").read_bytes()
    yield "xlwings.bas", xlwings_bas
    yield "xlwings_custom_addin.bas", build.xlwings_module_source().encode()
    yield "empty", b""
    for n in (1, 2, 3, 4, 17, 255, 4095, 4096, 4097, 8191, 8192, 12289):
        yield f"zeros{n}", bytes(n)
        yield f"text{n}", (b"Attribute VB_Name = \"x\"\r\n    If a Then b\r\n" * 400)[:n]
        yield f"cycle{n}", bytes(i % 7 for i in range(n))
    for n in (10, 300, 5000, 9000):
        yield f"random{n}", bytes(rnd.getrandbits(8) for _ in range(n))
    yield "chinese", "医保征缴：个人应缴金额（元）\r\n".encode("gbk") * 300
    text = bytes(rnd.choice(b"ab ") for _ in range(20000))
    yield "small-alphabet", text


@pytest.mark.parametrize("name,data", list(_samples()), ids=lambda v: v if isinstance(v, str) else "")
def test_compression_round_trips_through_oletools(name, data):
    packed = ovba.compress(data)
    assert packed[0] == 1
    assert bytes(olevba.decompress_stream(bytearray(packed))) == data
    assert ovba.decompress(packed) == data


def test_compression_finds_matches():
    data = (build.xlwings_dir() / "xlwings.bas").read_bytes()
    packed = ovba.compress(data)
    assert len(packed) < len(data) * 0.6  # real copy tokens, not literals only
    # A run of one byte is a literal then copy tokens (overlapping matches).
    assert len(ovba.compress(b"a" * 4096)) < 40


def test_compression_chunk_headers():
    packed = ovba.compress(b"abc" * 3000)  # 9000 bytes: three chunks
    pos, chunks = 1, 0
    while pos < len(packed):
        header, = struct.unpack_from("<H", packed, pos)
        assert header & 0x7000 == 0x3000  # chunk signature 0b011
        pos += (header & 0x0FFF) + 3
        chunks += 1
    assert pos == len(packed) and chunks == 3


# ---------------------------------------------------------------- compound file

def test_compound_file_reads_back_with_olefile():
    rnd = random.Random(5)
    tree = {
        "VBA": {"dir": b"d" * 100, "Big": bytes(rnd.getrandbits(8) for _ in range(70000)),
                "Edge": b"e" * 4096, "Small": b"s" * 4095, "_VBA_PROJECT": b"1234567"},
        "PROJECT": b"p" * 10, "PROJECTwm": b"w" * 64,
    }
    data = cfb.write(tree)
    assert data[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    assert len(data) % 512 == 0
    ole = olefile.OleFileIO(io.BytesIO(data))
    for storage in ("VBA",):
        for name, content in tree[storage].items():
            assert ole.openstream(f"{storage}/{name}").read() == content
    assert ole.openstream("PROJECT").read() == tree["PROJECT"]
    assert ole.openstream("PROJECTwm").read() == tree["PROJECTwm"]
    assert cfb.write(tree) == data


def test_compound_file_tree_is_sorted_and_balanced():
    names = ["A", "bb", "C", "dd", "E", "Zz", "yyy", "X"]
    ole = olefile.OleFileIO(io.BytesIO(cfb.write({n: b"x" for n in names})))
    entries = ole.direntries

    def inorder(sid):
        if sid == cfb.NOSTREAM:
            return []
        e = entries[sid]
        return inorder(e.sid_left) + [e.name] + inorder(e.sid_right)

    def depth(sid):
        if sid == cfb.NOSTREAM:
            return 0
        e = entries[sid]
        return 1 + max(depth(e.sid_left), depth(e.sid_right))

    root = entries[0]
    assert inorder(root.sid_child) == sorted(names, key=lambda n: (len(n), n.upper()))
    assert depth(root.sid_child) == 4  # ceil(log2(8 + 1))
    assert all(e.color == 1 for e in entries if e is not None)  # all black


def test_compound_file_rejects_duplicates():
    with pytest.raises(ValueError):
        cfb.write({"dir": b"", "DIR": b""})


# ---------------------------------------------------------------- VBA project

def test_olevba_extracts_every_module_with_its_source(xlam):
    parser = olevba.VBA_Parser(str(xlam))
    got = {Path(stream).name: code for _, stream, _, code in parser.extract_macros()}
    expected = {m.name: m.source for m in build.modules()}
    assert set(got) == set(expected) == {
        "ThisWorkbook", "Sheet1", "xlwings", "yibao_udfs", "yibao_ribbon", "Dictionary"}
    for name, text in expected.items():
        assert _nl(got[name]) == _nl(text), name
    # Our own modules are exactly the committed .bas files.
    for bas in build.OUR_MODULES:
        assert _nl(got[Path(bas).stem]) == _nl((ADDIN / bas).read_text(encoding="utf-8"))
    assert _nl(got["ThisWorkbook"]).endswith(_nl(build.source("ThisWorkbook.cls")))
    # xlwings' module is taken from the installed package, PROJECT_NAME set.
    xlw = (build.xlwings_dir() / "xlwings_custom_addin.bas").read_text(encoding="utf-8")
    assert _nl(got["xlwings"]) == _nl(xlw.replace('"myaddin"', '"yibao"', 1))
    assert build.xlwings_version() in got["xlwings"]


def test_vba_project_streams_follow_the_spec(vba_bin):
    ole = olefile.OleFileIO(io.BytesIO(vba_bin))
    streams = {"/".join(p) for p in ole.listdir()}
    assert {"PROJECT", "PROJECTwm", "VBA/dir", "VBA/_VBA_PROJECT"} <= streams
    # 2.3.4.1: 0x61CC, version 0xFFFF, no performance cache.
    assert ole.openstream("VBA/_VBA_PROJECT").read() == bytes.fromhex("CC61FFFF000000")
    assert not any(s.startswith("VBA/__SRP_") for s in streams)
    project = ole.openstream("PROJECT").read().decode("gbk")
    assert project.startswith('ID="{') and "\r\n" in project
    assert "Module=yibao_udfs\r\n" in project and "Class=Dictionary\r\n" in project
    assert "Document=ThisWorkbook/&H00000000\r\n" in project
    records = _dir_records(ole)
    assert records[0] == (0x01, struct.pack("<I", 1))
    assert dict(records)[0x02] == struct.pack("<I", 0x409)
    assert dict(records)[0x03] == struct.pack("<H", 936)
    offsets = [body for rid, body in records if rid == 0x31]
    assert offsets and all(o == bytes(4) for o in offsets)  # no module cache
    assert records[-1] == (0x10, b"")


def _dir_records(ole):
    d = bytes(olevba.decompress_stream(bytearray(ole.openstream("VBA/dir").read())))
    pos, out = 0, []
    while pos < len(d):
        rid, size = struct.unpack_from("<HI", d, pos)
        pos += 6
        if rid == 0x09:
            size = 6
        out.append((rid, d[pos:pos + size]))
        pos += size
    return out


def test_references_are_byte_for_byte_those_excel_wrote_in_xlwings_addin(vba_bin):
    theirs_bin = zipfile.ZipFile(build.xlwings_dir() / "addin" / "xlwings.xlam").read(
        "xl/vbaProject.bin")
    ours = olefile.OleFileIO(io.BytesIO(vba_bin))
    theirs = olefile.OleFileIO(io.BytesIO(theirs_bin))

    def refs(ole):
        return [(rid, body) for rid, body in _dir_records(ole) if rid in (0x16, 0x3E, 0x0D)]
    assert refs(ours) == refs(theirs)


def _decrypt(hex_text: str) -> bytes:
    """MS-OVBA 2.4.3.3."""
    enc = bytes.fromhex(hex_text)
    seed, version_enc, proj_key_enc = enc[0], enc[1], enc[2]
    assert seed ^ version_enc == 2
    proj_key = seed ^ proj_key_enc
    unenc1, enc1, enc2 = proj_key, proj_key_enc, version_enc
    plain = []
    for b in enc[3:]:
        byte = b ^ ((enc2 + unenc1) & 0xFF)
        plain.append(byte)
        enc2, enc1, unenc1 = enc1, b, byte
    ignored = (seed & 6) // 2
    length, = struct.unpack_from("<I", bytes(plain), ignored)
    return bytes(plain[ignored + 4:ignored + 4 + length])


def test_protection_fields_decrypt_to_unprotected_and_visible(vba_bin):
    project = olefile.OleFileIO(io.BytesIO(vba_bin)).openstream("PROJECT").read().decode("gbk")
    fields = dict(re.findall(r'^(CMG|DPB|GC)="([0-9A-F]+)"\r$', project, re.M))
    assert _decrypt(fields["CMG"]) == bytes(4)
    assert _decrypt(fields["DPB"]) == b"\x00"
    assert _decrypt(fields["GC"]) == b"\xff"


def test_build_is_reproducible(xlam):
    assert build.build_bytes() == xlam.read_bytes()


def test_package_parts(xlam):
    z = zipfile.ZipFile(xlam)
    names = z.namelist()
    assert names[0] == "[Content_Types].xml"
    types = z.read("[Content_Types].xml").decode()
    assert "application/vnd.ms-excel.addin.macroEnabled.main+xml" in types
    assert "application/vnd.ms-office.vbaProject" in types
    rels = z.read("_rels/.rels").decode()
    assert 'Target="customUI/customUI.xml"' in rels
    assert "relationships/ui/extensibility" in rels
    assert z.read("customUI/customUI.xml") == (ADDIN / "customUI.xml").read_bytes().replace(b"\r\n", b"\n")
    sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "UDF Modules" in sheet and "yibao.addin.udfs" in sheet
    assert 'name="yibao.conf"' in z.read("xl/workbook.xml").decode()
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in z.infolist())


def test_generated_udf_module_is_up_to_date():
    committed = (ADDIN / "yibao_udfs.bas").read_text(encoding="utf-8")
    assert committed == vbagen.udf_module_text(), "run: python -m yibao.addin.vbagen"
