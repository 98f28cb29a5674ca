"""A small hand-written PDF 1.4 writer: lines of text in Courier, US letter, nothing else.

Deterministic: the same lines give the same bytes (no timestamps, no ids of its own), so a
document written again from the events it was made of can be checked against a digest recorded
when it was first issued (patient statements do). Pure: no I/O. Text outside Latin-1 is written
as "?"; a manager's report and a patient's statement need nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence

LINES_PER_PAGE = 48


def _escape(text: str) -> str:
    plain = text.encode("latin-1", "replace").decode("latin-1")
    return plain.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(lines: Sequence[str]) -> bytes:
    """A text-only PDF of `lines`, `LINES_PER_PAGE` a page (US letter)."""
    pages = [list(lines[i : i + LINES_PER_PAGE]) for i in range(0, len(lines), LINES_PER_PAGE)]
    pages = pages or [[]]
    objects: list[bytes] = []  # object n is objects[n - 1]
    font = 3
    first_page = 4
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>"
    )
    for i, page in enumerate(pages):
        content_ref = first_page + 2 * i + 1
        objects.append(
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {content_ref} 0 R >>"
            ).encode()
        )
        text = ["BT", "/F1 10 Tf", "12 TL", "50 750 Td"]
        text += [f"({_escape(line)}) Tj T*" for line in page]
        text.append("ET")
        stream = "\n".join(text).encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
