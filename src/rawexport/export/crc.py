"""CRC-32 of two byte strings one after the other, from the CRC of each (zlib's crc32_combine).

A file deflated in parts, each in a thread of its own, has its CRC made of the parts' CRCs
without reading the data again. Neither `zlib` nor `isal` exposes the combination to Python.
"""

from __future__ import annotations

__all__ = ["crc32_combine"]

_POLYNOMIAL = 0xEDB88320  # CRC-32 (reflected), as zlib and ZIP use


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """The CRC-32 of A + B, where `crc1` is that of A, `crc2` that of B, `length2` B's size.

    Appending `length2` zero bytes to A is a linear map on its CRC: squaring the one-zero-bit
    operator gives the operators for 2, 4, 8... zero bits, applied per bit of `length2`.
    """
    if length2 <= 0:
        return crc1
    odd = [_POLYNOMIAL] + [1 << n for n in range(31)]  # one zero bit
    even = _square(odd)  # two zero bits
    odd = _square(even)  # four zero bits
    while True:
        even = _square(odd)  # the first pass: one zero byte
        if length2 & 1:
            crc1 = _times(even, crc1)
        length2 >>= 1
        if not length2:
            break
        odd = _square(even)
        if length2 & 1:
            crc1 = _times(odd, crc1)
        length2 >>= 1
        if not length2:
            break
    return crc1 ^ crc2


def _times(matrix: list[int], vector: int) -> int:
    total = 0
    row = 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _square(matrix: list[int]) -> list[int]:
    return [_times(matrix, matrix[n]) for n in range(32)]
