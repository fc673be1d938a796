"""The statement as documents: the PDF (infra/statement_pdf.py, infra/pdf_page.py) is one A4
page that a PDF reader opens, with the CID font STSong-Light and the Chinese headings and
figures in its text; its QR symbol is reportlab's, made faster (infra/qr.py); the HTML page
links every figure to its trace."""

from __future__ import annotations

import io
import re

import pypdf
import pytest
from reportlab.graphics.barcode.qrencoder import QR8bitByte, QRCode, QRErrorCorrectLevel

from api.statement_html import render_html
from domain.statement import build_statement, content_hash
from infra.qr import MASK_PATTERN, codewords, qr_modules
from infra.statement_pdf import render_pdf
from tests.unit.test_statement import POLICY, a_paid_year, inputs

URL = "https://shebao.example.cn/v1/statements/verify/BA00000-0X2ATE2-6A4WAYH"
TEXTS = ("a", URL, "x" * 150, "https://例子.cn/验证?code=1")


@pytest.mark.parametrize("text", TEXTS)
def test_qr_codewords_and_modules_are_reportlabs(text: str) -> None:
    reference = QRCode(None, QRErrorCorrectLevel.M)
    reference.addData(QR8bitByte(text))
    reference.version = reference.calculate_version()
    assert codewords(text, reference.version) == QRCode.createData(
        reference.version, QRErrorCorrectLevel.M, [QR8bitByte(text)])
    reference.makeImpl(False, MASK_PATTERN)
    assert qr_modules(text) == reference.modules


def statement_pdf() -> tuple[bytes, str]:
    statement = build_statement(inputs(*a_paid_year()), POLICY)
    digest = content_hash(statement)
    return render_pdf(statement, digest, "BA00000-0X2ATE2-6A4WAYH", URL), digest


def test_the_pdf_is_one_a4_page_in_the_cid_font_with_chinese_text() -> None:
    pdf, digest = statement_pdf()
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    assert b"/BaseFont /STSong-Light" in pdf and b"/Encoding /UniGB-UCS2-H" in pdf
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    (page,) = reader.pages
    assert [round(float(v)) for v in page.mediabox] == [0, 0, 595, 842]
    text = page.extract_text()
    for heading in ("社会保险个人权益记录单", "（2023年度）", "一、参保登记信息",
                    "二、本年度缴费情况", "三、逐月缴费明细", "企业职工基本养老保险个人账户",
                    "五、待遇领取情况", "校验码：BA00000-0X2ATE2-6A4WAYH", "姓名：测试一",
                    "本年记账利息（记账利率 3.97%）"):
        assert heading in text, heading
    # DOMAIN.md §3.3: opening 100,000.00, interest 4,176.44, closing 113,776.44
    for figure in ("100000.00", "4176.44", "113776.44", digest):
        assert figure in text, figure
    assert reader.metadata is not None
    assert reader.metadata.title == "社会保险个人权益记录单（2023年度）"
    assert digest in str(reader.metadata.subject)


def test_the_pdf_holds_the_qr_symbol_of_the_verification_url() -> None:
    pdf, _ = statement_pdf()
    content = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].get_contents()
    assert content is not None
    match = re.search(rb"BI /W (\d+) /H \d+ /BPC 1 /CS /G /D \[1 0\] /I false /F /AHx ID\n"
                      rb"([0-9a-f]+)>", content.get_data())
    assert match is not None
    size, pixels = int(match[1]), match[2].decode()
    row_chars = (size + 7) // 8 * 2
    rows = [bin(int(pixels[i:i + row_chars], 16))[2:].zfill(row_chars * 4)[:size]
            for i in range(0, len(pixels), row_chars)]
    assert rows == ["".join("1" if dark else "0" for dark in row) for row in qr_modules(URL)]


def test_the_same_statement_gives_the_same_pdf() -> None:
    assert statement_pdf()[0] == statement_pdf()[0]


def test_the_html_links_each_figure_to_its_trace() -> None:
    statement = build_statement(inputs(*a_paid_year()), POLICY)
    page = render_html(statement, content_hash(statement), "BA00000-0X2ATE2-6A4WAYH", URL)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in page
    person = statement.registration.person_id
    account_links = re.findall(r'href="(/v1/trace\?[^"]+)"', page)
    assert f"/v1/trace?account=personal%3A{person}%3A110&amp;from=2024-07-01&amp;to=2024-07-01" \
        in account_links
    assert "/v1/persons/440781199001010016/trace" in page
    assert "113776.44" in page and "记账利率 3.97%" in page
    assert "http" not in page.replace(URL, "")  # nothing loaded from elsewhere
    masked = render_html(statement, "0" * 64, "X", URL, masked=True)
    assert "/v1/persons/" not in masked
