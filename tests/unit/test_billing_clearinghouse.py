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
    file_name,
    inbox,
    named_after,
)
from services.billing.domain.events import ClearinghouseFileRejected
from shared.filedrop.folder import FolderDrop
from shared.filedrop.port import is_complete
from shared.filedrop.sftp import SftpDrop, SftpTarget
from shared.settings import Settings


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
