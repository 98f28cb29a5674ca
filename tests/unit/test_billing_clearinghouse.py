"""The clearinghouse: which adapter billing is given (settings), the names files go out and
come back under, and the rejected-files list."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.billing.app import clearinghouse_drop
from services.billing.domain.clearinghouse import (
    NamedAfter,
    RejectFile,
    Unreadable,
    claim_reasons,
    file_code,
    file_errors,
    file_name,
    inbox,
    named_after,
    read_acknowledgement,
)
from services.billing.domain.events import ClearinghouseFileRejected
from services.billing.domain.x12.acks import (
    ClaimAcknowledgement,
    ClaimAcknowledgements,
    ElementError,
    FileAcknowledgement,
    SegmentError,
    TransactionAcknowledgement,
    acknowledgement_of,
    reason,
    reply_envelope,
    write_277ca,
    write_999,
)
from services.billing.domain.x12.model import ClaimFile
from services.billing.domain.x12.writer837 import write_837
from shared.filedrop.folder import FolderDrop
from shared.filedrop.port import is_complete
from shared.filedrop.sftp import SftpDrop, SftpTarget
from shared.settings import Settings
from tests import x12_samples as samples


def test_the_embedded_run_drops_files_in_a_folder_under_its_data(tmp_path: Path) -> None:
    drop = clearinghouse_drop(Settings(data_dir=tmp_path))

    assert isinstance(drop, FolderDrop)
    assert drop.root == tmp_path / "clearinghouse"
    assert not drop.root.exists()  # made on the first file, not when billing starts


def test_a_drop_folder_may_be_named(tmp_path: Path) -> None:
    drop = clearinghouse_drop(Settings(data_dir=tmp_path, clearinghouse_folder=tmp_path / "ch"))

    assert isinstance(drop, FolderDrop)
    assert drop.root == tmp_path / "ch"


def test_sftp_is_reached_with_a_key_and_the_pinned_host_key(tmp_path: Path) -> None:
    drop = clearinghouse_drop(
        Settings(
            clearinghouse_adapter="sftp",
            clearinghouse_sftp_host="sftp.clearinghouse.example",
            clearinghouse_sftp_port=2222,
            clearinghouse_sftp_user="group-42",
            clearinghouse_sftp_key=tmp_path / "id_ed25519",
            clearinghouse_sftp_known_hosts=tmp_path / "known_hosts",
            clearinghouse_sftp_outbound="to-payers",
            clearinghouse_sftp_inbound="from-payers",
            clearinghouse_sftp_done="from-payers/read",
            clearinghouse_timeout_seconds=12,
        )
    )

    assert isinstance(drop, SftpDrop)
    assert drop.target == SftpTarget(
        host="sftp.clearinghouse.example",
        port=2222,
        username="group-42",
        client_key=tmp_path / "id_ed25519",
        known_hosts=tmp_path / "known_hosts",
        outbound="to-payers",
        inbound="from-payers",
        done="from-payers/read",
        timeout=12,
    )


def test_sftp_without_a_key_or_pinned_host_key_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SFTP_KEY and MEDOFFICE_CLEARINGHOUSE_SFTP_KNOWN_HOSTS"):
        clearinghouse_drop(Settings(clearinghouse_adapter="sftp"))
    with pytest.raises(ValueError, match="needs MEDOFFICE_CLEARINGHOUSE_SFTP_KNOWN_HOSTS$"):
        clearinghouse_drop(
            Settings(clearinghouse_adapter="sftp", clearinghouse_sftp_key=tmp_path / "k")
        )


def test_the_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDOFFICE_CLEARINGHOUSE_ADAPTER", "sftp")
    monkeypatch.setenv("MEDOFFICE_CLEARINGHOUSE_SFTP_KNOWN_HOSTS", "/etc/medoffice/known_hosts")

    settings = Settings()

    assert settings.clearinghouse_adapter == "sftp"
    assert settings.clearinghouse_sftp_known_hosts == Path("/etc/medoffice/known_hosts")


# ------------------------------------------------------------------------- names and inbox

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def test_a_claim_file_is_sent_under_its_tenant_and_interchange_number() -> None:
    assert file_name("acme", 42) == "medoffice-acme-000000042.837"
    assert is_complete(file_name("north-clinics", 999_999_999))


@pytest.mark.parametrize(
    ("name", "after"),
    [
        ("medoffice-acme-000000042.999", NamedAfter("acme", 42)),
        ("medoffice-north-clinics-000000007.277", NamedAfter("north-clinics", 7)),
        ("medoffice-acme-000000042.837.999", NamedAfter("acme", 42)),
        ("medoffice-acme-42.999", None),
        ("ACK_20261126.999", None),
        ("medoffice--000000042.999", None),
    ],
)
def test_an_acknowledgement_may_be_named_after_the_file_it_answers(
    name: str, after: NamedAfter | None
) -> None:
    assert named_after(name) == after


def _reject(name: str, digest: str, reason: str = "not a 999 or 277CA") -> RejectFile:
    return RejectFile(file_name=name, digest=digest, reason=reason, rejected_at=T0)


def test_a_file_billing_cannot_take_is_listed_once() -> None:
    given = inbox.fold([])
    events = inbox.decide(given, _reject("a.999", "d1"))

    assert events == [
        ClearinghouseFileRejected(
            file_name="a.999", digest="d1", reason="not a 999 or 277CA", rejected_at=T0
        )
    ]
    again = inbox.fold(events)
    assert inbox.decide(again, _reject("a.999", "d1", "read twice")) == []
    assert len(inbox.decide(again, _reject("a.999", "d2"))) == 1  # other bytes: another file


# ------------------------------------------------------------------------ incoming files

ENVELOPE = reply_envelope(
    samples.claim_file(samples.claim("C0001"), samples.claim("C0002")),
    interchange_control_number=501,
    group_control_number=501,
    created_at=T0,
)


def _837() -> tuple[ClaimFile, str]:
    file = samples.claim_file(samples.claim("C0001"), samples.claim("C0002"))
    return file, write_837(file)


def test_a_999_is_read_as_the_acknowledgement_of_its_claim_file() -> None:
    file, text = _837()
    data = write_999(acknowledgement_of(text, "A"), ENVELOPE).encode("ascii")

    ack = read_acknowledgement(data)

    assert isinstance(ack, FileAcknowledgement)
    assert ack.group_control_number == file.group_control_number
    assert file_code(ack) == "A"
    assert file_errors(ack) == ()


def test_a_999s_errors_are_told_by_position_never_by_the_bad_value() -> None:
    ack = FileAcknowledgement(
        group_control_number=7,
        code="R",
        transactions=(
            TransactionAcknowledgement(
                set_control_number="0001",
                code="R",
                errors=(
                    SegmentError(
                        "NM1",
                        12,
                        "2010",
                        "8",
                        (ElementError("3", "1035", "7", bad_value="DOE JANE"),),
                    ),
                ),
                set_errors=("5",),
            ),
        ),
        errors=("4",),
    )

    assert file_errors(ack) == (
        "group error 4",
        "set 0001: error 5",
        "set 0001: NM1 at 12 in loop 2010: error 8",
        "set 0001: NM1 at 12, element 3: error 7",
    )
    assert not any("DOE" in e for e in file_errors(ack))


def test_a_277ca_is_read_claim_by_claim_with_reasons_in_words() -> None:
    file, _ = _837()
    rejected = ClaimAcknowledgement(
        claim_id="C0002", accepted=False, reasons=(reason("A7", "562", "85"),)
    )
    accepted = ClaimAcknowledgement(
        claim_id="C0001", accepted=True, payer_claim_control_number="PCN1"
    )
    data = write_277ca(file, [accepted, rejected], ENVELOPE, received_on=T0.date())

    ack = read_acknowledgement(data.encode("ascii"))

    assert isinstance(ack, ClaimAcknowledgements)
    assert ack.batch_id == file.batch_id
    by_id = {c.claim_id: c for c in ack.claims}
    assert by_id["C0001"].accepted
    assert not by_id["C0002"].accepted
    assert claim_reasons(by_id["C0002"]) == (
        "A7:562:85 Entity's National Provider Identifier (NPI)",
    )


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\xff\xfeI\x00S\x00A\x00", "not X12 text"),
        (b"hello, clearinghouse", "not a 999 or 277CA"),
        (b"", "not a 999 or 277CA"),
        (b"ISA*00*x~ST*835*0001~SE*2*0001~", "not a 999 or 277CA"),
        (b"ISA*00*x~ST*999*0001~AK1*HC*abc~", "not a 999 or 277CA billing reads"),
    ],
)
def test_what_billing_cannot_read_is_said_in_a_reason(data: bytes, why: str) -> None:
    with pytest.raises(Unreadable, match=why):
        read_acknowledgement(data)
