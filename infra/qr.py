"""QR symbols (ISO/IEC 18004) for printed statements: reportlab's encoder places the modules;
the codewords — the text in byte mode, padding and the Reed-Solomon error correction of each
block — are computed here with table lookups in GF(256), about ten times faster than
reportlab's polynomial objects, which rebuild the generator polynomial for every block (the
yearly mailing makes 300,000 symbols). A test checks that the codewords are reportlab's.

The mask pattern is fixed: any of the eight decodes (the symbol's format bits name it), and
choosing the "best" costs eight placements. Placing the data bits is reportlab's walk too, done
once per version and kept as a list of module positions with their mask bits."""

from __future__ import annotations

import itertools
from functools import lru_cache

from reportlab.graphics.barcode.qrencoder import (
    QR8bitByte,
    QRCode,
    QRErrorCorrectLevel,
    QRRSBlock,
    QRUtil,
)

MASK_PATTERN = 2
ERROR_CORRECTION = QRErrorCorrectLevel.M
PAD_BYTES = (0xEC, 0x11)
BYTE_MODE = 0b0100
GF_PRIMITIVE = 0x11D  # x^8 + x^4 + x^3 + x^2 + 1

_EXP = [0] * 512
_LOG = [0] * 256
_value = 1
for _i in range(255):
    _EXP[_i] = _value
    _LOG[_value] = _i
    _value <<= 1
    if _value & 0x100:
        _value ^= GF_PRIMITIVE
for _i in range(255, 512):
    _EXP[_i] = _EXP[_i - 255]


@lru_cache(maxsize=64)
def _generator(degree: int) -> tuple[int, ...]:
    """Coefficients of Π (x − α^i), i < degree, highest power first (leading 1 left out)."""
    poly = [1]
    for i in range(degree):
        factor = _EXP[i]
        poly = [a ^ (_EXP[_LOG[b] + _LOG[factor]] if b else 0)
                for a, b in zip([*poly, 0], [0, *poly], strict=True)]
    return tuple(poly[1:])


def _error_correction(data: list[int], degree: int) -> list[int]:
    generator = [_LOG[g] for g in _generator(degree)]
    remainder = [0] * degree
    for byte in data:
        factor = byte ^ remainder[0]
        remainder = [*remainder[1:], 0]
        if factor:
            log_factor = _LOG[factor]
            remainder = [r ^ _EXP[g + log_factor] for r, g in zip(remainder, generator,
                                                                   strict=True)]
    return remainder


def codewords(text: str, version: int) -> list[int]:
    """The interleaved data and error-correction codewords of `text` in byte mode."""
    payload = text.encode("utf-8")
    blocks = QRRSBlock.getRSBlocks(version, ERROR_CORRECTION)
    capacity = sum(block.dataCount for block in blocks)
    count_bits = 8 if version < 10 else 16
    bits = f"{BYTE_MODE:04b}{len(payload):0{count_bits}b}" + "".join(
        f"{byte:08b}" for byte in payload)
    if len(bits) > capacity * 8:
        raise ValueError(f"{len(payload)} bytes do not fit QR version {version}")
    bits += "0" * min(4, capacity * 8 - len(bits))
    bits += "0" * (-len(bits) % 8)
    data = [int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)]
    data += [PAD_BYTES[i % 2] for i in range(capacity - len(data))]
    data_blocks, ecc_blocks = [], []
    offset = 0
    for block in blocks:
        part = data[offset:offset + block.dataCount]
        offset += block.dataCount
        data_blocks.append(part)
        ecc_blocks.append(_error_correction(part, block.totalCount - block.dataCount))
    interleaved = []
    for group in (data_blocks, ecc_blocks):
        for i in range(max(len(b) for b in group)):
            interleaved.extend(b[i] for b in group if i < len(b))
    return interleaved


_BYTE_BITS = [tuple(bool(byte >> shift & 1) for shift in range(7, -1, -1)) for byte in range(256)]
# (version, mask pattern) → the data modules in placement order: (row, column, mask bit)
_LAYOUTS: dict[tuple[int, int], list[tuple[int, int, bool]]] = {}


class _QRCode(QRCode):  # type: ignore[misc]
    def mapData(self, data: list[int], maskPattern: int) -> None:
        """reportlab's placement, with the walk over the modules and the mask computed once
        per version (reportlab walks a generator and calls the mask per module, each time)."""
        key = (self.version, maskPattern)
        layout = _LAYOUTS.get(key)
        if layout is None:
            mask = QRUtil.getMask(maskPattern)
            layout = _LAYOUTS[key] = [(row, col, bool(mask(row, col)))
                                      for col, row in self._dataPosIterator()]
        bits = list(itertools.chain.from_iterable(_BYTE_BITS[byte] for byte in data))
        bits += [False] * (len(layout) - len(bits))  # remainder bits
        modules = self.modules
        for (row, col, flip), dark in zip(layout, bits, strict=False):
            modules[row][col] = dark != flip


def qr_modules(text: str) -> list[list[bool]]:
    """The symbol of `text` as rows of dark (True) and light modules, quiet zone not included."""
    qr = _QRCode(None, ERROR_CORRECTION)
    qr.addData(QR8bitByte(text))
    qr.version = qr.calculate_version()
    qr.dataCache = codewords(text, qr.version)
    qr.makeImpl(False, MASK_PATTERN)
    modules: list[list[bool]] = qr.modules
    return modules
