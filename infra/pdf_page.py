"""A PDF (1.4) of A4 pages written directly: catalog, page tree, the pages with three fonts,
their content streams (Flate-compressed) and the document information. For documents made by the
hundred thousand (the statements' yearly mailing): reportlab spends about as long assembling a
document (formatting the same font dictionaries every time) as drawing its page.

The font dictionaries are reportlab's own, for the fonts reportlab measures the text with:
formatted once per process from a document reportlab writes, then copied into every file. The
Chinese font is the CID font STSong-Light (Adobe-GB1, encoding UniGB-UCS2-H), not embedded: PDF
readers supply it (Adobe's Asian font packs, or a substitute)."""

from __future__ import annotations

import hashlib
import io
import re
import zlib
from collections.abc import Mapping, Sequence
from functools import lru_cache

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

CJK_FONT = "STSong-Light"
NUMBER_FONT = "Helvetica"
MONO_FONT = "Courier"
# The resource names the content stream uses for them.
FONT_RESOURCES = {CJK_FONT: "/F1", NUMBER_FONT: "/F2", MONO_FONT: "/F3"}
PAGE_WIDTH, PAGE_HEIGHT = A4
PRODUCER = "shebao-ledger"
COMPRESSION_LEVEL = 3  # 3.5 against 3.6 KB at level 6, in half the time
_OBJECT = re.compile(rb"\d+ 0 obj\n(.*?)\nendobj", re.S)
PAGES_MAX = 8  # a statement needs one, rarely two


@lru_cache(maxsize=1)
def register_fonts() -> UnicodeCIDFont:
    """Once per process: the CID font's metrics (for widths and the text's encoding)."""
    font = UnicodeCIDFont(CJK_FONT)
    pdfmetrics.registerFont(font)
    return font


@lru_cache(maxsize=1)
def _font_dictionaries() -> dict[str, bytes]:
    """Each font's dictionary as reportlab writes it (self-contained: no indirect objects)."""
    register_fonts()
    buffer = io.BytesIO()
    c = Canvas(buffer, pageCompression=0, invariant=1)
    for name in FONT_RESOURCES:
        c.setFont(name, 10)
        c.drawString(0, 0, "0")
    c.showPage()
    c.save()
    found: dict[str, bytes] = {}
    for body in _OBJECT.findall(buffer.getvalue()):
        for name in FONT_RESOURCES:
            if b"/Type /Font" in body and body.startswith(b"<<") and (
                    b"/BaseFont /" + name.encode() + b" ") in body and name not in found:
                # reportlab names the resource in the dictionary: use ours.
                found[name] = re.sub(rb"/Name /F\d+", b"/Name " + FONT_RESOURCES[name].encode(),
                                     body)
    assert set(found) == set(FONT_RESOURCES), found.keys()
    return found


@lru_cache(maxsize=PAGES_MAX)
def _fixed_objects(pages: int) -> tuple[bytes, list[int]]:
    """The file up to the content streams: header, catalog, page tree, the pages, fonts; and
    the offsets of these objects. Numbered 1 catalog, 2 page tree, 3… the pages, then the three
    fonts, then the pages' content streams in page order, and last the information."""
    fonts = _font_dictionaries()
    first_font = 3 + pages
    first_content = first_font + len(FONT_RESOURCES)
    resources = " ".join(f"{ref} {i} 0 R"
                         for i, ref in enumerate(FONT_RESOURCES.values(), first_font))
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [ {kids} ] /Count {pages} >>".encode(),
        *((f"<< /Type /Page /Parent 2 0 R /MediaBox [ 0 0 {PAGE_WIDTH:.4f} {PAGE_HEIGHT:.4f} ]"
           f" /Resources << /Font << {resources} >> /ProcSet [ /PDF /Text ] >>"
           f" /Contents {first_content + i} 0 R >>").encode() for i in range(pages)),
        *(fonts[name] for name in FONT_RESOURCES),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    return bytes(out), offsets


def text_string(text: str) -> str:
    """A text string of the document information: UTF-16BE with its byte order mark."""
    return "<feff" + text.encode("utf-16-be").hex() + ">"


def write_pages(contents: Sequence[str], info: Mapping[str, str]) -> bytes:
    """The whole file: the fixed objects, each page's content stream (in page order) and the
    information dictionary (Title, Author, Subject, … as text)."""
    assert 1 <= len(contents) <= PAGES_MAX, len(contents)
    prefix, offsets = _fixed_objects(len(contents))
    out = bytearray(prefix)
    offsets = list(offsets)
    number = len(offsets) + 1
    digest = hashlib.md5(usedforsecurity=False)
    for content in contents:
        stream = zlib.compress(content.encode("latin-1"), COMPRESSION_LEVEL)
        digest.update(stream)
        offsets.append(len(out))
        out += b"%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % (number,
                                                                                len(stream))
        out += stream + b"\nendstream\nendobj\n"
        number += 1
    offsets.append(len(out))
    entries = " ".join(f"/{key} {text_string(value)}" for key, value in
                       {**info, "Producer": PRODUCER}.items())
    out += b"%d 0 obj\n<< " % number + entries.encode("ascii") + b" >>\nendobj\n"
    xref = len(out)
    size = number + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    document_id = digest.hexdigest().encode()
    out += (b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R /ID [ <" % (size, number)
            + document_id + b"> <" + document_id + b"> ] >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return bytes(out)
