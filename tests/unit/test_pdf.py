"""The text-only PDF writer that statements and finance reports share."""

from __future__ import annotations

import hashlib
import io

from pypdf import PdfReader

from shared.pdf import LINES_PER_PAGE, write_pdf

LINES = ["Statement (1)", "a\\b", "Zoë Ünal – 東京"]


def text_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_the_bytes_never_change_for_the_same_lines() -> None:
    # Issued statements are checked against the digest recorded when they were first written:
    # a change to the writer's bytes would make every one of them read as altered.
    digest = hashlib.sha256(write_pdf(LINES)).hexdigest()
    assert digest == "8080580fbbe12b5790500cb0918583104b13ea139109fbbc8b9d6423db544f3a"


def test_parentheses_and_backslashes_are_text_and_what_latin1_lacks_is_a_question_mark() -> None:
    (page,) = text_of(write_pdf(LINES))
    assert "Statement (1)" in page
    assert "a\\b" in page
    assert "Zoë Ünal ? ??" in page


def test_no_lines_is_one_empty_page_and_a_full_page_starts_the_next() -> None:
    assert len(text_of(write_pdf([]))) == 1
    pages = text_of(write_pdf([f"line {n}" for n in range(LINES_PER_PAGE + 1)]))
    assert len(pages) == 2
    assert f"line {LINES_PER_PAGE}" in pages[1]
