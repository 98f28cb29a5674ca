"""Which clearinghouse adapter billing is given, from the settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.billing.app import clearinghouse_drop
from shared.filedrop.folder import FolderDrop
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
