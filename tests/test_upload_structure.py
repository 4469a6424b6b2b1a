"""Evidence is typed by its structure, not by its first bytes alone (`storage.sniff`): an HTML page
behind a `%PDF-` header is not a PDF, and an Office file that inflates to gigabytes (a zip bomb) or names
a main part it does not hold is not an Office file. Refused uploads answer in the user's language."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from tests.test_questionnaire import DOCX, english, ooxml, start, upload
from webapp.commands.demo.assessments import pdf_bytes, png_bytes
from webapp.questionnaire import storage

HTML = b"<!doctype html><html><body><script>fetch('/api/v1/firms').then(r=>r.text()).then(alert)</script>"
CONTENT_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    f'<Override PartName="/word/document.xml" ContentType="{DOCX}"/></Types>'
).encode()


def _raw_zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip written by hand from already deflated members: (name, deflated, crc32, inflated size)."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, deflated, crc, size in members:
        offset, n = out.tell(), name.encode()
        out.write(
            struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(deflated), size, len(n), 0)
        )
        out.write(n + deflated)
        central.write(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(deflated),
                size,
                len(n),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + n
        )
    cd = central.getvalue()
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(cd), out.tell(), 0)
    return out.getvalue() + cd + end


def _deflated(data: bytes) -> tuple[bytes, int, int]:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(), zlib.crc32(data), len(data)


def _zeros_2gib() -> tuple[bytes, int, int]:
    """2 GiB of zeros, deflated (about 2 MB): 128 identical blocks of 16 MiB, each ended by a full
    flush (which resets the compressor, so each block compresses to the same bytes)."""
    chunk = bytes(16 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(128):
        crc = zlib.crc32(chunk, crc)
    return block * 128 + c.flush(), crc, 128 * len(chunk)


@pytest.fixture(scope="module")
def docx_bomb() -> bytes:
    return _raw_zip(
        [
            ("[Content_Types].xml", *_deflated(CONTENT_TYPES)),
            ("word/document.xml", *_deflated(b"<w:document/>")),
            ("word/media/image1.png", *_zeros_2gib()),
        ]
    )


def test_the_hand_made_zips_are_real_zips(docx_bomb):
    small = _raw_zip(
        [
            ("[Content_Types].xml", *_deflated(CONTENT_TYPES)),
            ("word/document.xml", *_deflated(b"<w:document/>")),
        ]
    )
    assert storage.sniff(small, "a.docx") is storage.KINDS["docx"]
    with zipfile.ZipFile(io.BytesIO(docx_bomb)) as z:
        big = z.getinfo("word/media/image1.png")
        assert big.file_size == 2 * 1024**3 and big.compress_size < 3 * 1024**2
        with z.open(big) as f:
            assert f.read(1 << 20) == bytes(1 << 20)  # it really inflates to zeros


def test_a_docx_that_inflates_to_2_gib_is_refused(docx_bomb):
    assert len(docx_bomb) < 20 * 1024 * 1024  # under the upload limit
    assert storage.sniff(docx_bomb, "bomb.docx") is None


def test_an_office_zip_with_too_many_members_or_without_its_main_part_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("word/document.xml", "<w:document/>")
        for i in range(storage.OOXML_MAX_MEMBERS):
            z.writestr(f"customXml/item{i}.xml", "")
    assert storage.sniff(buf.getvalue(), "many.docx") is None

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)  # names word/document.xml, which is missing
        z.writestr("payload.html", HTML)
    assert storage.sniff(buf.getvalue(), "hollow.docx") is None
    assert storage.sniff(ooxml(DOCX), "real.docx") is storage.KINDS["docx"]


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n" + HTML,
        b"%PDF-1.4\n" + HTML + b"\n1 0 obj\n<<>>\nendobj\nstartxref\n0\n%%EOF\n",  # a trailer glued on
        b"%PDF-" + b"\0" * 8000,  # a header and nothing else
        b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\n",  # no trailer: cut off or not a PDF
        pdf_bytes("x")[:9] + HTML + pdf_bytes("x")[9:],  # a real PDF with a page in its first kilobyte
        png_bytes()[:16] + b"<html><script>alert(1)</script>" + png_bytes()[16:],
    ],
    ids=[
        "html-as-pdf",
        "html-with-a-trailer",
        "header-only",
        "no-trailer",
        "pdf-with-html-start",
        "png-html",
    ],
)
def test_html_behind_a_pdf_or_png_header_is_refused(data):
    assert storage.sniff(data, "evidence.pdf") is None


def test_real_files_are_still_accepted():
    assert storage.sniff(pdf_bytes("品字标 证书"), "a.pdf") is storage.KINDS["pdf"]
    assert storage.sniff(pdf_bytes("x") + b"\0" * 2000, "a.pdf") is storage.KINDS["pdf"]  # padded
    assert storage.sniff(png_bytes(), "a.png") is storage.KINDS["png"]


def test_the_refusal_says_so_in_the_users_language_and_stores_nothing(app, owner_client):
    from tests.test_questionnaire import rows
    from webapp.models import Evidence

    client, firm, owner = owner_client
    aid = start(client, firm.id)
    r = upload(client, firm.id, aid, "pzb-certified", "证书.pdf", b"%PDF-1.7\n" + HTML)
    assert r.status_code == 303
    assert "不接受此类文件" in client.get(r.headers["Location"]).get_data(as_text=True)
    english(app, owner)
    hollow = io.BytesIO()
    with zipfile.ZipFile(hollow, "w") as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("payload.html", HTML)
    r = upload(client, firm.id, aid, "pzb-certified", "report.docx", hollow.getvalue())
    assert "This file type is not accepted" in client.get(r.headers["Location"]).get_data(as_text=True)
    assert rows(app, Evidence, assessment_id=aid) == []
