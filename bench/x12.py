"""837P generation for a month of a 6-site group: ours against plain string joins.

The group: 6 sites (each its own billing provider), 10 rendering providers a site, 5 payers,
20,000 patients, 30,000 claims over 30 days (1,000 a day): 1 to 4 lines (a fifth with
modifiers), 1 to 6 diagnoses, a fifth of patients dependants (HL 23), 8% secondary claims with
the primary's adjudication (2320/2330 and 2430 on every line), 2% replacements (REF*F8), 10% at
a facility other than the billing address (2310C). Synthetic people, seeded, so every run is the
same month. Batched as the claims area does, per payer: one file per payer per day (150 files
of about 200 claims; the implementation guide advises at most 5,000 claims a transaction).

Measured in one run (no I/O: the text is made and dropped):
- ours: `write_837(ClaimFile)`: the model walked, every value made safe (free text folded to the
  X12 character set, identifiers checked), claims checked (lines sum, pointers), HL numbering;
- raw: the same segments by f-strings and `"*".join` from plain tuples and dicts holding the
  same values, with nothing checked or cleaned: the floor of writing these bytes in Python. The
  run asserts that both produce the same bytes, file for file;
- ours, read: `read_837` of the same files back into the model (for scale);
- pyx12: `x12valid` of a sample of the files, in its own process, reported apart (it is a test
  tool, not on the claims path).

Run alone: `python -m bench.x12 [claims] [pyx12-files]`.
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.report import Figure, comparisons, table
from services.billing.domain.events import Adjustment, PostalAddress
from services.billing.domain.x12.model import (
    BillingProvider,
    Claim,
    ClaimFile,
    LineAdjudication,
    OtherSubscriber,
    Patient,
    Person,
    PersonName,
    RenderingProvider,
    ServiceFacility,
    ServiceLine,
    Submitter,
    Subscriber,
)
from services.billing.domain.x12.reader837 import read_837
from services.billing.domain.x12.segments import amount
from services.billing.domain.x12.writer837 import write_837

SITES = 6
PROVIDERS_PER_SITE = 10
PATIENTS = 20_000
CLAIMS = 30_000
DAYS = 30
PYX12_FILES = 3
FIRST_DAY = date(2026, 10, 1)
LAST_NAMES = ("SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS")
FIRST_NAMES = ("JAMES", "MARY", "ROBERT", "PATRICIA", "JOHN", "JENNIFER", "MICHAEL", "LINDA")
CODES = (("99213", 12500), ("99214", 18500), ("36415", 1800), ("85025", 2400), ("93000", 5500))
MODIFIERS = (("25",), ("59",), ("RT", "59"), ("GT",))
DIAGNOSES = ("E119", "I10", "J069", "M545", "R51", "Z0000", "E785", "F419", "K219", "N390")
PAYERS = (
    ("ACME HEALTH PLAN", "60054", "CI"),
    ("BLUE RIVER", "00590", "BL"),
    ("MEDICARE PART B", "04412", "MB"),
    ("STATE MEDICAID", "77027", "MC"),
    ("UNITED WORKERS", "87726", "CI"),
)
SUBMITTER = Submitter(
    name="RIVERSIDE MEDICAL GROUP",
    id="RMG0001",
    contact_name="BILLING OFFICE",
    contact_phone="2125550100",
    receiver_name="LOOPBACK CLEARINGHOUSE",
    receiver_id="LOOPBACK01",
)


def progress(text: str) -> None:
    print(f"  [{text}]", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- the month


def _address(rng: random.Random, n: int) -> PostalAddress:
    return PostalAddress(
        line1=f"{rng.randint(1, 9999)} {rng.choice(('MAIN', 'ELM', 'OAK', 'LAKE'))} ST",
        line2="APT 4" if n % 5 == 0 else "",
        city="SPRINGFIELD",
        state="IL",
        postal_code=f"627{rng.randint(0, 99):02d}",
    )


def _person(rng: random.Random, n: int) -> Person:
    return Person(
        name=PersonName(last=rng.choice(LAST_NAMES), first=rng.choice(FIRST_NAMES)),
        address=_address(rng, n),
        birth_date=date(1940, 1, 1) + timedelta(days=rng.randint(0, 30_000)),
        sex=rng.choice("FM"),
    )


def month(claims: int = CLAIMS, seed: int = 12) -> list[ClaimFile]:
    """The month's claim files: one per payer per day."""
    rng = random.Random(seed)
    sites = [
        BillingProvider(
            name=f"RIVERSIDE MEDICAL GROUP SITE {s + 1}",
            npi=f"1{s:09d}",
            tin="123456789",
            taxonomy_code="207Q00000X",
            address=_address(rng, s + 1),
        )
        for s in range(SITES)
    ]
    renderings = [
        [
            RenderingProvider(
                name=PersonName(last=rng.choice(LAST_NAMES), first=rng.choice(FIRST_NAMES)),
                npi=f"2{s:02d}{p:07d}",
                taxonomy_code="207Q00000X",
            )
            for p in range(PROVIDERS_PER_SITE)
        ]
        for s in range(SITES)
    ]
    patients = [(_person(rng, n), rng.random() < 0.2) for n in range(PATIENTS)]
    by_file: dict[tuple[int, int], list[Claim]] = {}
    for n in range(claims):
        day_index = n * DAYS // claims
        day = FIRST_DAY + timedelta(days=day_index)
        site = rng.randrange(SITES)
        payer_index = rng.randrange(len(PAYERS))
        payer_name, payer_id, filing = PAYERS[payer_index]
        person, dependant = patients[rng.randrange(PATIENTS)]
        claim_id = f"C{n:08d}"
        diagnoses = tuple(rng.sample(DIAGNOSES, rng.randint(1, 6)))
        lines = []
        for k in range(rng.choice((1, 1, 2, 2, 3, 4))):
            code, fee = rng.choice(CODES)
            units = 1 if rng.random() < 0.9 else 2
            lines.append(
                ServiceLine(
                    control_number=f"{claim_id}-{k + 1}",
                    code=code,
                    modifiers=rng.choice(MODIFIERS) if rng.random() < 0.2 else (),
                    charge_cents=fee * units,
                    units=units,
                    diagnosis_pointers=tuple(range(1, min(len(diagnoses), 4) + 1)),
                    date_of_service=day,
                )
            )
        member_id = f"M{rng.randint(10**8, 10**9 - 1)}"
        subscriber_person = (
            Person(name=PersonName(last=person.name.last, first=rng.choice(FIRST_NAMES)))
            if dependant
            else person
        )
        kind = rng.random()
        others: tuple[OtherSubscriber, ...] = ()
        frequency, pccn = "1", None
        if kind < 0.08:  # secondary: the primary paid 70% of each line
            primary = PAYERS[(payer_index + 1) % len(PAYERS)]
            adjudicated = day + timedelta(days=14)
            lines = [
                ServiceLine(
                    control_number=x.control_number,
                    code=x.code,
                    modifiers=x.modifiers,
                    charge_cents=x.charge_cents,
                    units=x.units,
                    diagnosis_pointers=x.diagnosis_pointers,
                    date_of_service=x.date_of_service,
                    prior_adjudications=(
                        LineAdjudication(
                            payer_id=primary[1],
                            paid_cents=x.charge_cents * 7 // 10,
                            code=x.code,
                            modifiers=x.modifiers,
                            units=x.units,
                            adjustments=(
                                Adjustment(
                                    group="CO",
                                    reason="45",
                                    amount_cents=x.charge_cents - x.charge_cents * 7 // 10,
                                ),
                            ),
                            adjudicated_on=adjudicated,
                        ),
                    ),
                )
                for x in lines
            ]
            others = (
                OtherSubscriber(
                    payer_responsibility="P",
                    relationship="19" if dependant else "18",
                    group_number="GRP100",
                    claim_filing_indicator=primary[2],
                    member_id=f"P{member_id}",
                    name=subscriber_person.name,
                    payer_name=primary[0],
                    payer_id=primary[1],
                    paid_cents=sum(x.charge_cents * 7 // 10 for x in lines),
                    adjudicated_on=adjudicated,
                ),
            )
        elif kind < 0.10:
            frequency, pccn = "7", f"PCN{n:010d}"
        facility = None
        if rng.random() < 0.1:
            facility = ServiceFacility(
                name="RIVERSIDE SURGERY CENTER", address=_address(rng, 0), npi="1659337533"
            )
        claim = Claim(
            claim_id=claim_id,
            billing_provider=sites[site],
            total_cents=sum(x.charge_cents for x in lines),
            place_of_service="11",
            frequency=frequency,
            diagnoses=diagnoses,
            subscriber=Subscriber(
                payer_responsibility="S" if others else "P",
                relationship="" if dependant else "18",
                group_number="GRP100",
                claim_filing_indicator=filing,
                member_id=member_id,
                person=subscriber_person,
                payer_name=payer_name,
                payer_id=payer_id,
            ),
            patient=Patient(relationship="19", person=person) if dependant else None,
            rendering=rng.choice(renderings[site]),
            facility=facility,
            lines=tuple(lines),
            payer_claim_control_number=pccn,
            other_subscribers=others,
        )
        by_file.setdefault((day_index, payer_index), []).append(claim)
    files = []
    for number, ((day_index, _), batch) in enumerate(sorted(by_file.items()), start=1):
        files.append(
            ClaimFile(
                interchange_control_number=number,
                group_control_number=number,
                created_at=datetime.combine(
                    FIRST_DAY + timedelta(days=day_index), datetime.min.time()
                ).replace(hour=18),
                usage="P",
                submitter=SUBMITTER,
                claims=tuple(batch),
                batch_id=f"B{number:08d}",
            )
        )
    return files


# ------------------------------------------------------------------ the raw path: no model

Plain = dict[str, Any]


def plain(file: ClaimFile) -> Plain:
    """The same values as plain dicts and tuples (not timed): what a writer with no model
    would be handed."""

    def person(p: Person) -> Plain:
        a = p.address
        return {
            "last": p.name.last,
            "first": p.name.first,
            "middle": p.name.middle,
            "address": None if a is None else (a.line1, a.line2, a.city, a.state, a.postal_code),
            "dob": None if p.birth_date is None else p.birth_date.strftime("%Y%m%d"),
            "sex": p.sex,
        }

    def provider(b: BillingProvider) -> Plain:
        a = b.address
        return {
            "name": b.name,
            "npi": b.npi,
            "tin": b.tin,
            "taxonomy": b.taxonomy_code,
            "address": (a.line1, a.line2, a.city, a.state, a.postal_code),
        }

    claims = []
    for c in file.claims:
        s = c.subscriber
        f = c.facility
        claims.append(
            {
                "provider": provider(c.billing_provider),
                "id": c.claim_id,
                "total": c.total_cents,
                "pos": c.place_of_service,
                "frequency": c.frequency,
                "pccn": c.payer_claim_control_number,
                "diagnoses": c.diagnoses,
                "sbr": (s.payer_responsibility, s.relationship, s.group_number),
                "filing": s.claim_filing_indicator,
                "member": s.member_id,
                "subscriber": person(s.person),
                "payer": (s.payer_name, s.payer_id),
                "patient": None
                if c.patient is None
                else (c.patient.relationship, person(c.patient.person)),
                "rendering": None
                if c.rendering is None
                else (
                    c.rendering.name.last,
                    c.rendering.name.first,
                    c.rendering.name.middle,
                    c.rendering.npi,
                    c.rendering.taxonomy_code,
                ),
                "facility": None
                if f is None or f.address == c.billing_provider.address
                else (
                    f.name,
                    f.npi or "",
                    (
                        f.address.line1,
                        f.address.line2,
                        f.address.city,
                        f.address.state,
                        f.address.postal_code,
                    ),
                ),
                "others": [
                    {
                        "sbr": (o.payer_responsibility, o.relationship, o.group_number),
                        "filing": o.claim_filing_indicator,
                        "paid": o.paid_cents,
                        "adjustments": [
                            (a.group, a.reason, a.amount_cents, a.quantity) for a in o.adjustments
                        ],
                        "name": (o.name.last, o.name.first, o.name.middle),
                        "member": o.member_id,
                        "payer": (o.payer_name, o.payer_id),
                        "date": None
                        if o.adjudicated_on is None
                        else o.adjudicated_on.strftime("%Y%m%d"),
                    }
                    for o in c.other_subscribers
                ],
                "lines": [
                    {
                        "code": x.code,
                        "modifiers": x.modifiers,
                        "charge": x.charge_cents,
                        "units": x.units,
                        "pointers": x.diagnosis_pointers,
                        "date": x.date_of_service.strftime("%Y%m%d"),
                        "ref": x.control_number,
                        "adjudications": [
                            (
                                a.payer_id,
                                a.paid_cents,
                                a.code,
                                a.modifiers,
                                a.units,
                                [
                                    (j.group, j.reason, j.amount_cents, j.quantity)
                                    for j in a.adjustments
                                ],
                                a.adjudicated_on.strftime("%Y%m%d"),
                            )
                            for a in x.prior_adjudications
                        ],
                    }
                    for x in c.lines
                ],
            }
        )
    at = file.created_at
    return {
        "icn": file.interchange_control_number,
        "gcn": file.group_control_number,
        "date": at.strftime("%Y%m%d"),
        "hhmm": at.strftime("%H%M"),
        "hhmmss": at.strftime("%H%M%S"),
        "usage": file.usage,
        "batch": file.batch_id,
        "submitter": file.submitter,
        "claims": claims,
    }


def _seg(*elements: str) -> str:
    values = list(elements)
    while values and not values[-1]:
        values.pop()
    return "*".join(values) + "~\n"


def _cas(adjustments: list[tuple[str, str, int, int | None]]) -> list[str]:
    groups: dict[str, list[tuple[str, str, int, int | None]]] = {}
    for a in adjustments:
        groups.setdefault(a[0], []).append(a)
    out = []
    for group, items in groups.items():
        for start in range(0, len(items), 6):
            parts = [group]
            for _, reason, cents, quantity in items[start : start + 6]:
                parts += [reason, amount(cents), "" if quantity is None else str(quantity)]
            out.append(_seg("CAS", *parts))
    return out


def _addr(a: tuple[str, str, str, str, str]) -> list[str]:
    return [_seg("N3", a[0], a[1]), _seg("N4", a[2], a[3], a[4])]


def raw_837(f: Plain) -> str:
    """The same bytes as write_837, by string joins from plain values, nothing checked."""
    s = f["submitter"]
    body = [
        _seg("ST", "837", "0001", "005010X222A1"),
        _seg("BHT", "0019", "00", f["batch"], f["date"], f["hhmmss"], "CH"),
        _seg("NM1", "41", "2", s.name, "", "", "", "", "46", s.id),
        _seg("PER", "IC", s.contact_name, "TE", s.contact_phone),
        _seg("NM1", "40", "2", s.receiver_name, "", "", "", "", "46", s.receiver_id),
    ]
    groups: dict[tuple[Any, ...], list[Plain]] = {}
    for c in f["claims"]:
        p = c["provider"]
        key = (p["name"], p["npi"], p["tin"], p["taxonomy"], p["address"])
        groups.setdefault(key, []).append(c)
    hl = 0
    for claims in groups.values():
        hl += 1
        top = hl
        p = claims[0]["provider"]
        body.append(_seg("HL", str(top), "", "20", "1"))
        body.append(_seg("PRV", "BI", "PXC", p["taxonomy"]))
        body.append(_seg("NM1", "85", "2", p["name"], "", "", "", "", "XX", p["npi"]))
        body += _addr(p["address"])
        body.append(_seg("REF", "EI", p["tin"]))
        for c in claims:
            hl += 1
            sub_hl = hl
            patient = c["patient"]
            body.append(_seg("HL", str(sub_hl), str(top), "22", "0" if patient is None else "1"))
            r, rel, grp = c["sbr"]
            body.append(_seg("SBR", r, rel, grp, "", "", "", "", "", c["filing"]))
            who = c["subscriber"]
            body.append(
                _seg(
                    "NM1",
                    "IL",
                    "1",
                    who["last"],
                    who["first"],
                    who["middle"],
                    "",
                    "",
                    "MI",
                    c["member"],
                )
            )
            if who["address"]:
                body += _addr(who["address"])
            if who["dob"]:
                body.append(_seg("DMG", "D8", who["dob"], who["sex"]))
            body.append(_seg("NM1", "PR", "2", c["payer"][0], "", "", "", "", "PI", c["payer"][1]))
            if patient is not None:
                hl += 1
                pat = patient[1]
                body.append(_seg("HL", str(hl), str(sub_hl), "23", "0"))
                body.append(_seg("PAT", patient[0]))
                body.append(_seg("NM1", "QC", "1", pat["last"], pat["first"], pat["middle"]))
                if pat["address"]:
                    body += _addr(pat["address"])
                if pat["dob"]:
                    body.append(_seg("DMG", "D8", pat["dob"], pat["sex"]))
            body.append(
                _seg(
                    "CLM",
                    c["id"],
                    amount(c["total"]),
                    "",
                    "",
                    f"{c['pos']}:B:{c['frequency']}",
                    "Y",
                    "A",
                    "Y",
                    "Y",
                )
            )
            if c["frequency"] in ("7", "8"):
                body.append(_seg("REF", "F8", c["pccn"]))
            body.append(
                _seg(
                    "HI",
                    *(("ABK:" if n == 0 else "ABF:") + d for n, d in enumerate(c["diagnoses"])),
                )
            )
            if c["rendering"]:
                last, first, middle, npi, taxonomy = c["rendering"]
                body.append(_seg("NM1", "82", "1", last, first, middle, "", "", "XX", npi))
                body.append(_seg("PRV", "PE", "PXC", taxonomy))
            if c["facility"]:
                name, npi, address = c["facility"]
                body.append(_seg("NM1", "77", "2", name, "", "", "", "", "XX" if npi else "", npi))
                body += _addr(address)
            for o in c["others"]:
                r, rel, grp = o["sbr"]
                body.append(_seg("SBR", r, rel, grp, "", "", "", "", "", o["filing"]))
                body += _cas(o["adjustments"])
                if o["paid"] is not None:
                    body.append(_seg("AMT", "D", amount(o["paid"])))
                body.append(_seg("OI", "", "", "Y", "P", "", "Y"))
                last, first, middle = o["name"]
                body.append(_seg("NM1", "IL", "1", last, first, middle, "", "", "MI", o["member"]))
                body.append(
                    _seg("NM1", "PR", "2", o["payer"][0], "", "", "", "", "PI", o["payer"][1])
                )
                if o["date"]:
                    body.append(_seg("DTP", "573", "D8", o["date"]))
            for n, x in enumerate(c["lines"], start=1):
                body.append(_seg("LX", str(n)))
                procedure = ":".join(("HC", x["code"], *x["modifiers"]))
                pointers = ":".join(str(p) for p in x["pointers"])
                body.append(
                    _seg(
                        "SV1",
                        procedure,
                        amount(x["charge"]),
                        "UN",
                        str(x["units"]),
                        "",
                        "",
                        pointers,
                    )
                )
                body.append(_seg("DTP", "472", "D8", x["date"]))
                body.append(_seg("REF", "6R", x["ref"]))
                for payer, paid, code, modifiers, units, adjustments, day in x["adjudications"]:
                    body.append(
                        _seg(
                            "SVD",
                            payer,
                            amount(paid),
                            ":".join(("HC", code, *modifiers)),
                            "",
                            str(units),
                        )
                    )
                    body += _cas(adjustments)
                    body.append(_seg("DTP", "573", "D8", day))
    body.append(_seg("SE", str(len(body) + 1), "0001"))
    icn = f"{f['icn']:09d}"
    head = (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{s.id:<15}*ZZ*{s.receiver_id:<15}*{f['date'][2:]}*"
        f"{f['hhmm']}*^*00501*{icn}*0*{f['usage']}*:~\n"
        + _seg(
            "GS",
            "HC",
            s.id,
            s.receiver_id,
            f["date"],
            f["hhmm"],
            str(f["gcn"]),
            "X",
            "005010X222A1",
        )
    )
    return head + "".join(body) + _seg("GE", "1", str(f["gcn"])) + _seg("IEA", "1", icn)


# -------------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Results:
    files: int
    claims: int
    bytes: int
    largest: int
    ours: Figure
    raw: Figure
    read: Figure
    pyx12: Figure


def _best(rounds: int, work: Any) -> float:
    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - began)
    return best


def run(claims: int = CLAIMS, pyx12_files: int = PYX12_FILES, rounds: int = 3) -> Results:
    progress(f"generating {claims:,} claims")
    files = month(claims)
    plains = [plain(f) for f in files]
    texts = [write_837(f) for f in files]
    mismatched = [
        f.batch_id for f, p, t in zip(files, plains, texts, strict=True) if raw_837(p) != t
    ]
    if mismatched:
        raise SystemExit(f"the raw path does not write the same bytes: {mismatched[:3]}")
    count = sum(len(f.claims) for f in files)
    progress(f"{len(files)} files, same bytes both ways; timing ({rounds} rounds, best kept)")
    ours = _best(rounds, lambda: [write_837(f) for f in files])
    raw = _best(rounds, lambda: [raw_837(p) for p in plains])
    read = _best(1, lambda: [read_837(t) for t in texts])
    sample = sorted(range(len(files)), key=lambda i: len(texts[i]))[-pyx12_files:]
    progress(f"pyx12 x12valid on {len(sample)} files")
    validated = 0
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="medoffice-bench-x12-") as tmp:
        for i in sample:
            path = Path(tmp) / f"{files[i].batch_id}.837"
            path.write_text(texts[i], encoding="ascii")
            out = subprocess.run(
                [str(Path(sys.executable).parent / "x12valid"), path.name],
                cwd=tmp,
                capture_output=True,
                text=True,
                check=False,
            )
            if not (out.stdout + out.stderr).strip().endswith(f"{path.name}: OK"):
                raise SystemExit(f"pyx12 did not accept {path.name}:\n{out.stdout}{out.stderr}")
            validated += len(files[i].claims)
    pyx12 = time.perf_counter() - began
    size = sum(len(t) for t in texts)
    return Results(
        files=len(files),
        claims=count,
        bytes=size,
        largest=max(len(t) for t in texts),
        ours=Figure("write_837 (model, checked, made safe)", "in-process", count, ours),
        raw=Figure("string joins from plain values", "in-process", count, raw),
        read=Figure("read_837 back into the model", "in-process", count, read),
        pyx12=Figure(
            f"pyx12 x12valid, {len(sample)} largest files", "subprocess", validated, pyx12
        ),
    )


def report_results(r: Results) -> None:
    print(
        f"{r.claims:,} claims in {r.files} files (per payer per day): {r.bytes / 1e6:,.1f} MB in "
        f"all, {r.bytes / r.claims:,.0f} B a claim, largest file {r.largest / 1e3:,.0f} kB. "
        "Rates in claims per second; both writers give the same bytes, file for file."
    )
    table([r.ours, r.raw, r.read, r.pyx12])
    print()
    comparisons([("837P generation, ours vs raw joins", r.ours, r.raw)])


def main(argv: list[str]) -> int:
    claims = int(argv[0]) if argv else CLAIMS
    pyx12_files = int(argv[1]) if len(argv) > 1 else PYX12_FILES
    report_results(run(claims, pyx12_files))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
