"""`assert_valid_837(text)`: an 837P passes pyx12's `x12valid` and the checks pyx12 does not
make. Any test that produces an 837P (x12, claims, clearinghouse) calls it.

pyx12 exits 1 even when a file is valid, so its verdict line (`FILE: OK`) is what counts; it
writes FILE.997 beside its input, so it runs in a temporary directory of its own.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from services.billing.domain.codes import is_diagnosis_shape
from services.billing.domain.x12.segments import Segment, cents_of, element, tokenise

X12VALID = Path(sys.executable).parent / "x12valid"


def pyx12_verdict(text: str) -> tuple[bool, str]:
    """(whether pyx12 says OK, everything it printed)."""
    with tempfile.TemporaryDirectory(prefix="x12valid-") as folder:
        path = Path(folder) / "claims.837"
        path.write_text(text, encoding="ascii")
        run = subprocess.run(
            [str(X12VALID), path.name],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    output = run.stdout + run.stderr
    verdicts = [
        line.strip() for line in output.splitlines() if line.strip().startswith(f"{path.name}: ")
    ]
    return bool(verdicts) and verdicts[-1] == f"{path.name}: OK", output


def assert_valid_837(text: str) -> None:
    """pyx12 says OK, and the envelope, the money, the diagnoses and the line ids hold."""
    problems = check_837(text)
    ok, output = pyx12_verdict(text)
    if not ok:
        problems.insert(0, f"pyx12 x12valid did not say OK:\n{output}")
    assert not problems, "\n".join(problems)


def assert_valid_x12(text: str) -> None:
    """Any X12 file pyx12 has a map for (999, 277CA...): its verdict, and the envelope counts."""
    problems = _envelope(tokenise(text)[1])
    ok, output = pyx12_verdict(text)
    if not ok:
        problems.insert(0, f"pyx12 x12valid did not say OK:\n{output}")
    assert not problems, "\n".join(problems)


def check_837(text: str) -> list[str]:
    """The checks pyx12 does not make; the problems found (empty when none)."""
    seps, segments = tokenise(text)
    problems: list[str] = []
    problems += _envelope(segments)
    problems += _claims(segments, seps.component)
    problems += _hierarchy(segments)
    return problems


PARENT_LEVEL = {"20": "", "22": "20", "23": "22"}


def _hierarchy(segments: list[Segment]) -> list[str]:
    """HL01 counts from 1; each level hangs under the level above it; HL04 says whether a
    level has children, truly."""
    problems: list[str] = []
    levels: dict[str, str] = {}
    has_children: dict[str, str] = {}
    parents: set[str] = set()
    for seg in segments:
        if seg[0] != "HL":
            continue
        number, parent, level = element(seg, 1), element(seg, 2), element(seg, 3)
        if number != str(len(levels) + 1):
            problems.append(f"HL01 {number} out of sequence")
        if level not in PARENT_LEVEL:
            problems.append(f"HL {number}: level {level} is not 20, 22 or 23")
        elif levels.get(parent, "") != PARENT_LEVEL[level] or (parent and parent not in levels):
            problems.append(f"HL {number} (level {level}) hangs under {parent or 'nothing'}")
        levels[number] = level
        has_children[number] = element(seg, 4)
        parents.add(parent)
    for number, flag in has_children.items():
        if flag != ("1" if number in parents else "0"):
            problems.append(f"HL {number}: HL04 is {flag}")
    return problems


def _envelope(segments: list[Segment]) -> list[str]:
    problems: list[str] = []
    isa13 = ""
    groups: list[str] = []
    sets_in_group: list[str] = []
    set_start = -1
    st02 = ""
    for n, seg in enumerate(segments):
        tag = seg[0]
        if tag == "ISA":
            isa13 = element(seg, 13)
            groups = []
        elif tag == "GS":
            groups.append(element(seg, 6))
            sets_in_group = []
        elif tag == "ST":
            set_start, st02 = n, element(seg, 2)
            sets_in_group.append(st02)
        elif tag == "SE":
            count = n - set_start + 1
            if element(seg, 1) != str(count):
                problems.append(f"SE01 is {element(seg, 1)}, the set has {count} segments")
            if element(seg, 2) != st02:
                problems.append(f"SE02 {element(seg, 2)} is not ST02 {st02}")
        elif tag == "GE":
            if element(seg, 1) != str(len(sets_in_group)):
                problems.append(f"GE01 is {element(seg, 1)}, the group has {len(sets_in_group)}")
            if groups and element(seg, 2) != groups[-1]:
                problems.append(f"GE02 {element(seg, 2)} is not GS06 {groups[-1]}")
            for number, times in Counter(sets_in_group).items():
                if times > 1:
                    problems.append(f"ST02 {number} is used {times} times in one group")
        elif tag == "IEA":
            if element(seg, 1) != str(len(groups)):
                problems.append(f"IEA01 is {element(seg, 1)}, the interchange has {len(groups)}")
            if element(seg, 2) != isa13:
                problems.append(f"IEA02 {element(seg, 2)} is not ISA13 {isa13}")
            for number, times in Counter(groups).items():
                if times > 1:
                    problems.append(f"GS06 {number} is used {times} times in one interchange")
    if not isa13 or segments[-1][0] != "IEA":
        problems.append("the file is not one whole interchange (ISA to IEA)")
    return problems


def _claims(segments: list[Segment], component: str) -> list[str]:
    problems: list[str] = []
    claims: list[tuple[str, int, int]] = []  # CLM01, CLM02 in cents, sum of SV102
    line_ids: Counter[str] = Counter()
    in_line = False
    line_has_id = True
    for seg in segments:
        tag = seg[0]
        if tag in ("CLM", "LX", "SE") and in_line and not line_has_id:
            problems.append(f"a line of claim {claims[-1][0]} has no REF*6R")
        if tag == "CLM":
            claims.append((element(seg, 1), cents_of(element(seg, 2)), 0))
            in_line = False
        elif tag == "LX":
            in_line, line_has_id = True, False
        elif tag == "SV1" and claims:
            cid, total, lines = claims[-1]
            claims[-1] = (cid, total, lines + cents_of(element(seg, 2)))
        elif tag == "REF" and in_line and element(seg, 1) == "6R":
            line_has_id = True
            line_ids[element(seg, 2)] += 1
        elif tag == "HI":
            for value in seg[1:]:
                parts = value.split(component)
                if parts[0] in ("ABK", "ABF"):
                    code = parts[1] if len(parts) > 1 else ""
                    if "." in code or not is_diagnosis_shape(code):
                        problems.append(f"{parts[0]} {code!r} is not an ICD-10-CM code shape")
                elif parts[0] in ("BK", "BF"):
                    problems.append(f"{parts[0]} is an ICD-9 qualifier")
    for cid, total, lines in claims:
        if total != lines:
            problems.append(f"claim {cid}: CLM02 is {total} cents, its lines sum to {lines}")
    for cid, times in Counter(c[0] for c in claims).items():
        if times > 1:
            problems.append(f"CLM01 {cid} is used {times} times in the file")
    for line_id, times in line_ids.items():
        if times > 1:
            problems.append(f"REF*6R {line_id} is used {times} times in the file")
    return problems
