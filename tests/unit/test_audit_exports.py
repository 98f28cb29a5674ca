"""Signed audit exports, checked offline: a good package verifies; each kind of tampering is
named at its first bad record (file, line, why); `medoffice audit verify`'s exit codes."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from typer.testing import CliRunner

from services.cli import cli
from services.compliance.application.signing import SigningKeyUnusable, signing_key_for
from services.compliance.domain.exports import (
    BLOCKS,
    EVENTS,
    MANIFEST,
    SIGNATURE,
    Finding,
    build_package,
    decode_public_key,
    pack,
    public_key_bytes,
    signing_key,
    unpack,
    verify_package,
)
from services.compliance.domain.ledger import (
    Head,
    LedgerEntry,
    block_hash,
    canonical,
    digest_of,
    seal_blocks,
)
from shared.settings import Settings

LEDGER_KEY = bytes(range(32))
SIGNER = signing_key(bytes(range(100, 132)))
PUBLIC = public_key_bytes(SIGNER)
T0 = datetime(2026, 11, 1, tzinfo=UTC)
START, END = T0 + timedelta(hours=2), T0 + timedelta(hours=10)
PER_BLOCK = 3
Files = dict[str, bytes]


def event(n: int) -> dict[str, Any]:
    """An audit-log entry, as the audit log holds it, of the n-th event (one an hour)."""
    data = {"appointment_id": f"apt-{n}", "reason": "follow-up"}
    return {
        "tenant": "acme",
        "event_id": f"evt-{n:03d}",
        "type": "medoffice.scheduling.AppointmentBooked.v1",
        "context": "scheduling",
        "stream": f"appointment:apt-{n}",
        "stream_version": 1,
        "actor": "front-desk-1",
        "time": (T0 + timedelta(hours=n)).isoformat(),
        "data_sha256": digest_of(data),
        "data": data,
    }


def chain(count: int = 12) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Blocks as stored (PER_BLOCK events each) and the audit-log entries of the events."""
    events = [event(n) for n in range(count)]
    head, stored = Head(), []
    for start in range(0, count, PER_BLOCK):
        entries = [
            LedgerEntry(**{k: e[k] for k in LedgerEntry.model_fields})
            for e in events[start : start + PER_BLOCK]
        ]
        [block] = seal_blocks("acme", head, entries, LEDGER_KEY)
        stored.append(
            {
                "stream_version": block.sequence,
                "sealed_at": T0.isoformat(),
                **block.model_dump(mode="json"),
            }
        )
        head = Head(block.sequence, block.hash)
    return stored, events


def package(key: Ed25519PrivateKey = SIGNER) -> Files:
    """The period [2h, 10h): events 2..9, in blocks 1 (events 0-2) to 4 (events 9-11)."""
    blocks, events = chain()
    wanted = [e for e in events if START <= datetime.fromisoformat(e["time"]) < END]
    return unpack(build_package("acme", START, END, T0, blocks, wanted, key))


def lines(files: Files, name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in files[name].splitlines()]


def put(files: Files, name: str, records: list[dict[str, Any]]) -> Files:
    return {**files, name: b"".join(canonical(r) + b"\n" for r in records)}


def bad(found: Finding) -> tuple[str | None, str | None, str]:
    assert not found.ok, found
    return found.file, found.record, found.reason


def test_a_good_package_verifies_with_the_published_key_and_without_one() -> None:
    files = package()
    found = verify_package(files, PUBLIC)
    assert found.ok, found.line()
    assert "8 events, blocks 1 to 4" in found.line()
    assert verify_package(files).ok
    assert [e["event_id"] for e in lines(files, EVENTS)] == [f"evt-{n:03d}" for n in range(2, 10)]
    assert set(files) == {EVENTS, BLOCKS, MANIFEST, SIGNATURE}
    # Packing is deterministic: the same package twice is the same bytes.
    assert pack(files) == pack(dict(files))


def test_an_empty_period_verifies() -> None:
    empty = build_package("acme", START, END, T0, [], [], SIGNER)
    assert verify_package(unpack(empty), PUBLIC).ok


def _edit_block_entry(files: Files) -> Files:
    blocks = lines(files, BLOCKS)
    blocks[1]["entries"][0]["actor"] = "someone-else"
    return put(files, BLOCKS, blocks)


def _delete_block(files: Files) -> Files:
    blocks = lines(files, BLOCKS)
    del blocks[1]
    return put(files, BLOCKS, blocks)


def _delete_last_block(files: Files) -> Files:
    return put(files, BLOCKS, lines(files, BLOCKS)[:-1])


def _insert_block(files: Files) -> Files:
    blocks = lines(files, BLOCKS)
    forged = copy.deepcopy(blocks[1])
    forged["entries"] = forged["entries"][:1]
    return put(files, BLOCKS, [*blocks[:1], forged, *blocks[1:]])


def _insert_copy(files: Files) -> Files:
    blocks = lines(files, BLOCKS)
    return put(files, BLOCKS, [*blocks[:2], blocks[0], *blocks[2:]])


def _reorder_blocks(files: Files) -> Files:
    blocks = lines(files, BLOCKS)
    blocks[1], blocks[2] = blocks[2], blocks[1]
    return put(files, BLOCKS, blocks)


def _rehash(blocks: list[dict[str, Any]], start: int) -> None:
    """Hash blocks from `start` (an index) again as someone without the ledger key can."""
    prev = blocks[start - 1]["hash"] if start else blocks[0]["prev_hash"]
    for block in blocks[start:]:
        block["prev_hash"] = prev
        block["hash"] = block_hash("acme", block["sequence"], prev, block["entries"])
        prev = block["hash"]


def _recompute_chain(files: Files) -> Files:
    blocks = lines(files, BLOCKS)
    blocks[1]["entries"][0]["actor"] = "someone-else"
    _rehash(blocks, 1)
    return put(files, BLOCKS, blocks)


def _recompute_chain_and_manifest(files: Files) -> Files:
    """The chain hashed again and the manifest rewritten to match: the signature breaks."""
    changed = _recompute_chain(files)
    manifest = json.loads(files[MANIFEST])
    blocks = changed[BLOCKS].splitlines()
    manifest["chain"]["blocks"] = [
        [b["sequence"], b["hash"], hashlib.sha256(line).hexdigest()]
        for b, line in zip(lines(changed, BLOCKS), blocks, strict=True)
    ]
    manifest["chain"]["head"] = lines(changed, BLOCKS)[-1]["hash"]
    manifest["files"][BLOCKS]["sha256"] = hashlib.sha256(changed[BLOCKS]).hexdigest()
    return {**changed, MANIFEST: json.dumps(manifest, indent=1).encode() + b"\n"}


def _edit_event(files: Files) -> Files:
    events = lines(files, EVENTS)
    events[3]["data"]["reason"] = "something else"
    return put(files, EVENTS, events)


def _edit_event_and_digest(files: Files) -> Files:
    events = lines(files, EVENTS)
    events[3]["data"]["reason"] = "something else"
    events[3]["data_sha256"] = digest_of(events[3]["data"])
    return put(files, EVENTS, events)


def _delete_event(files: Files) -> Files:
    events = lines(files, EVENTS)
    del events[3]
    return put(files, EVENTS, events)


def _insert_event(files: Files) -> Files:
    events = lines(files, EVENTS)
    return put(files, EVENTS, [*events[:3], event(40), *events[3:]])


def _reorder_events(files: Files) -> Files:
    events = lines(files, EVENTS)
    events[3], events[4] = events[4], events[3]
    return put(files, EVENTS, events)


def _swap_events_file(files: Files) -> Files:
    """events.jsonl of another period's package."""
    blocks, events = chain()
    other = unpack(build_package("acme", T0, START, T0, blocks[:1], events[:2], SIGNER))
    return {**files, EVENTS: other[EVENTS]}


def _respace_file(files: Files) -> Files:
    """The same records, spelled otherwise: only the file's digest tells."""
    events = lines(files, EVENTS)
    return {**files, EVENTS: b"".join(json.dumps(e).encode() + b"\n" for e in events)}


def _change_signature(files: Files) -> Files:
    signature = bytearray(base64.b64decode(files[SIGNATURE]))
    signature[0] ^= 1
    return {**files, SIGNATURE: base64.b64encode(bytes(signature))}


def _extra_file(files: Files) -> Files:
    return {**files, "notes.txt": b"nothing to see"}


def _missing_file(files: Files) -> Files:
    return {k: v for k, v in files.items() if k != EVENTS}


TAMPERING: dict[str, tuple[Callable[[Files], Files], str, str | None, str]] = {
    "entry changed": (_edit_block_entry, BLOCKS, "line 2 (block 2)", "block 2 was changed"),
    "block deleted": (_delete_block, BLOCKS, "line 2 (block 2)", "block 2 was removed"),
    "last block deleted": (_delete_last_block, BLOCKS, "line 4 (block 4)", "block 4 was removed"),
    "block inserted": (
        _insert_block,
        BLOCKS,
        "line 2 (block 2)",
        "a block was inserted where block 2 belongs",
    ),
    "copy inserted": (
        _insert_copy,
        BLOCKS,
        "line 3 (block 3)",
        "a copy of block 1 was inserted where block 3 belongs",
    ),
    "blocks reordered": (
        _reorder_blocks,
        BLOCKS,
        "line 2 (block 2)",
        "blocks were reordered: block 3 is where block 2 belongs, and block 2 at line 3",
    ),
    "chain recomputed": (
        _recompute_chain,
        BLOCKS,
        "line 2 (block 2)",
        "block 2's hash is not the one sealed",
    ),
    "chain and manifest recomputed": (
        _recompute_chain_and_manifest,
        SIGNATURE,
        None,
        "the signature does not verify",
    ),
    "event data changed": (
        _edit_event,
        EVENTS,
        "line 4 (event evt-005)",
        "its data is not the data chained in block 2",
    ),
    "event data and digest changed": (
        _edit_event_and_digest,
        EVENTS,
        "line 4 (event evt-005)",
        "its data_sha256 is not the one chained in block 2",
    ),
    "event deleted": (
        _delete_event,
        EVENTS,
        "line 4 (event evt-006)",
        "event evt-005 (chained in block 2) was removed",
    ),
    "event inserted": (
        _insert_event,
        EVENTS,
        "line 4 (event evt-040)",
        "an event not chained in the period was inserted where event evt-005",
    ),
    "events reordered": (
        _reorder_events,
        EVENTS,
        "line 4 (event evt-006)",
        "events were reordered: event evt-006 is where event evt-005 belongs",
    ),
    "file swapped": (
        _swap_events_file,
        EVENTS,
        "line 1 (event evt-000)",
        "an event not chained in the period was inserted where event evt-002",
    ),
    "file respelt": (_respace_file, EVENTS, None, "its SHA-256 is not the one signed"),
    "signature changed": (_change_signature, SIGNATURE, None, "the signature does not verify"),
    "file added": (_extra_file, "notes.txt", None, "not listed in the manifest"),
    "file removed": (_missing_file, EVENTS, None, "listed in the manifest but missing"),
}


@pytest.mark.parametrize("kind", TAMPERING)
def test_each_kind_of_tampering_is_named_at_the_first_bad_record(kind: str) -> None:
    tamper, file, record, why = TAMPERING[kind]
    found_file, found_record, reason = bad(verify_package(tamper(package()), PUBLIC))
    assert (found_file, found_record) == (file, record), reason
    assert why in reason


def test_a_package_signed_again_by_another_key_is_refused_with_the_published_key() -> None:
    """Rewriting everything and signing it with a key of one's own passes only a check that
    trusts the key the package names: with the published key it is named."""
    forged = package(signing_key(bytes(32)))
    assert verify_package(forged).ok  # self-consistent, but signed by another key
    file, record, reason = bad(verify_package(forged, PUBLIC))
    assert (file, record) == (MANIFEST, None)
    assert "not by the key given" in reason


runner = CliRunner()


def _write(path: Path, files: Files) -> Path:
    path.write_bytes(pack(files))
    return path


def test_the_cli_prints_ok_and_exits_0_for_a_good_package(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.zip", package())
    key = base64.b64encode(PUBLIC).decode()
    result = runner.invoke(cli, ["audit", "verify", str(good), "--public-key", key])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: tenant acme")

    key_file = tmp_path / "key.txt"
    key_file.write_text(key + "\n")
    from_file = runner.invoke(cli, ["audit", "verify", str(good), "--public-key", str(key_file)])
    assert from_file.exit_code == 0, from_file.output

    unkeyed = runner.invoke(cli, ["audit", "verify", str(good)])
    assert unkeyed.exit_code == 0, unkeyed.output
    assert "no --public-key given" in unkeyed.stderr


def test_the_cli_names_the_first_bad_record_and_exits_1(tmp_path: Path) -> None:
    tampered = _write(tmp_path / "bad.zip", _reorder_blocks(package()))
    key = base64.b64encode(PUBLIC).decode()
    result = runner.invoke(cli, ["audit", "verify", str(tampered), "--public-key", key])
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("BAD: blocks.jsonl line 2 (block 2): blocks were reordered")


def test_the_cli_refuses_what_it_cannot_read_with_exit_2(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.zip", package())
    not_zip = tmp_path / "not.zip"
    not_zip.write_text("hello")
    cases = [
        [str(not_zip)],
        [str(tmp_path / "absent.zip")],
        [str(good), "--public-key", "not-a-key!"],
        [str(good), "--public-key", base64.b64encode(b"short").decode()],
    ]
    for args in cases:
        result = runner.invoke(cli, ["audit", "verify", *args])
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output


def test_the_default_signing_key_is_made_once_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = public_key_bytes(signing_key_for(settings))
    made = tmp_path / "compliance" / "audit-signing.pem"
    assert made.stat().st_mode & 0o777 == 0o600
    assert public_key_bytes(signing_key_for(settings)) == first  # kept, not made again
    assert sorted(p.name for p in made.parent.iterdir()) == ["audit-signing.pem"]
    # In memory (service-layer tests): a key of the process, nothing written.
    elsewhere = Settings(data_dir=tmp_path / "nothing")
    assert public_key_bytes(signing_key_for(elsewhere, in_memory=True)) != first
    assert not (tmp_path / "nothing").exists()

    printed = runner.invoke(cli, ["audit", "public-key"], env={"MEDOFFICE_DATA_DIR": str(tmp_path)})
    assert printed.exit_code == 0, printed.output
    assert decode_public_key(printed.stdout) == first


def test_a_configured_signing_key_file_is_never_made(tmp_path: Path) -> None:
    missing = Settings(data_dir=tmp_path, audit_signing_key_file=tmp_path / "absent.pem")
    with pytest.raises(SigningKeyUnusable, match="absent.pem"):
        signing_key_for(missing)
    wrong = tmp_path / "wrong.pem"
    wrong.write_text("not a key")
    with pytest.raises(SigningKeyUnusable, match="wrong.pem"):
        signing_key_for(Settings(audit_signing_key_file=wrong))
    env = {"MEDOFFICE_AUDIT_SIGNING_KEY_FILE": str(wrong)}
    refused = runner.invoke(cli, ["audit", "public-key"], env=env)
    assert refused.exit_code == 2
    assert "wrong.pem" in refused.stderr

    given = tmp_path / "given.pem"
    given.write_bytes(SIGNER.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    key = signing_key_for(Settings(audit_signing_key_file=given))
    assert public_key_bytes(key) == PUBLIC


def test_a_signing_key_given_in_the_environment_wins_and_writes_nothing(tmp_path: Path) -> None:
    """A container with a read-only filesystem takes the key as it takes its other keys."""
    seed = SIGNER.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    encoded = base64.b64encode(seed).decode()
    settings = Settings(data_dir=tmp_path / "read-only", audit_signing_key=encoded)
    assert public_key_bytes(signing_key_for(settings)) == PUBLIC
    assert public_key_bytes(signing_key_for(settings, in_memory=True)) == PUBLIC
    assert not (tmp_path / "read-only").exists()
    env = {"MEDOFFICE_AUDIT_SIGNING_KEY": encoded, "MEDOFFICE_DATA_DIR": str(tmp_path / "ro")}
    printed = runner.invoke(cli, ["audit", "public-key"], env=env)
    assert printed.exit_code == 0, printed.output
    assert decode_public_key(printed.stdout) == PUBLIC
    with pytest.raises(ValueError, match="audit_signing_key"):
        Settings(audit_signing_key="c2hvcnQ=")  # 5 bytes
