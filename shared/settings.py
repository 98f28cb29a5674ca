"""Settings from the environment (prefix MEDOFFICE_). Nothing reads them at import time."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_JWT_SECRET = "development-only-jwt-secret-not-for-production"
# 32 bytes, base64: the key-encryption key that wraps patients' data keys in development.
DEVELOPMENT_PHI_KEK = "ZGV2ZWxvcG1lbnQtb25seS1waGkta2V5LTMyYnl0ZXM="
# 32 bytes, base64: the key the audit ledger's blocks are sealed (HMAC-SHA256) with in development.
DEVELOPMENT_LEDGER_KEY = "ZGV2ZWxvcG1lbnQtb25seS1sZWRnZXIta2V5LTMyYnk="
# The outbox relay's linger by backend: in process a batch costs a consumer little; on Kafka
# and MongoDB each costs every consumer a fetch and reads and writes to the database.
EMBEDDED_LINGER = 0.05
SCALE_OUT_LINGER = 0.25


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEDOFFICE_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("./var")
    # Scale-out backends: when both are set the suite runs on Kafka and MongoDB.
    kafka_bootstrap: str | None = None
    mongo_url: str | None = None
    mongo_database: str = "medoffice"
    # Prefixed to every topic name; tests use it to get topics of their own.
    topic_namespace: str = ""
    sqlite_durability: Literal["full", "normal"] = "full"
    jwt_secret: str = DEVELOPMENT_JWT_SECRET
    jwt_issuer: str = "medoffice"
    # A JWKS file path or URL: RS256 tokens are checked against its keys (required in production,
    # where HS256 tokens are refused).
    jwt_jwks: str | None = None
    # Base64 of 32 bytes: wraps every patient's data key (PHI is sealed under those).
    phi_kek: str = DEVELOPMENT_PHI_KEK
    seed_demo: bool = True
    # Off for a process that should only serve while another one relays the outbox.
    outbox_relay: bool = True
    # While commits keep coming, the outbox relay publishes at most once this often, so that
    # every consumer takes them in one batch (shared/outbox.py); a commit after a quiet spell
    # goes out at once. Unset: 0.05 s embedded, 0.25 s on Kafka and MongoDB, where each batch
    # costs every consumer round trips (docs/benchmarks.md).
    relay_linger_seconds: float | None = Field(default=None, ge=0, le=5)
    read_your_writes_timeout: float = 5.0
    no_show_timer_seconds: float = 30.0  # how often overdue appointments are looked for
    waitlist_offer_minutes: int = Field(default=120, gt=0)  # how long an offer of a slot stays open
    offer_expiry_timer_seconds: float = 30.0  # how often overdue offers are looked for
    # How often sites are looked at for their daily third-next-available measure, and the
    # visit type it is measured with (docs/kpis.md, kpi-third-next-available).
    third_next_available_timer_seconds: float = Field(default=300.0, gt=0)
    third_next_available_visit_type: str = "follow-up"
    log_level: str = "info"
    # JSON lines, or the readable console rendering; unset: JSON unless stderr is a terminal.
    log_json: bool | None = None
    # The live tail (GET /ops/events/tail): a comment this often keeps proxies from closing an
    # idle stream; a watcher with this many events waiting (too slow to keep up) is dropped.
    tail_heartbeat_seconds: float = Field(default=15.0, gt=0)
    tail_buffer: int = Field(default=1000, ge=1)
    ledger_key: str = DEVELOPMENT_LEDGER_KEY  # base64 of 32 bytes: seals the audit ledger's blocks
    # Base64 of 32 bytes: each tenant's secret for the signed links in patients' messages is
    # derived from it (services/engagement/application/links.py); unset, from `phi_kek` under a
    # label of its own (so production needs no other secret). Links go to this address (in
    # production an https one, which patients reach: the ingress's).
    link_key: str | None = None
    engagement_link_base_url: str = "http://127.0.0.1:8000"
    # A retry finding its Idempotency-Key claimed longer ago than this runs again (a crash).
    idempotency_lease_seconds: float = Field(default=30.0, gt=0)
    # `medoffice serve <service>...`: each named service's port; unset, MEDOFFICE_PORT (which
    # only one service of a process can have). Billing and staffing: for when they exist.
    scheduling_port: int | None = Field(default=None, ge=1, le=65535)
    compliance_port: int | None = Field(default=None, ge=1, le=65535)
    billing_port: int | None = Field(default=None, ge=1, le=65535)
    staffing_port: int | None = Field(default=None, ge=1, le=65535)
    finance_port: int | None = Field(default=None, ge=1, le=65535)
    engagement_port: int | None = Field(default=None, ge=1, le=65535)
    # Engagement's channels (services/engagement/application/senders.py): e-mail through this
    # SMTP server, texts through this HTTP gateway; a channel with none goes to the outbox, which
    # records each message (GET /engagement/outbox) and sends nothing.
    engagement_smtp_host: str | None = None
    engagement_smtp_port: int = Field(default=25, ge=1, le=65535)
    engagement_smtp_sender: str = "reminders@medoffice.invalid"
    # STARTTLS before sending: patients' addresses and visit times cross the network to the
    # relay; production refuses an SMTP relay without it.
    engagement_smtp_starttls: bool = False
    engagement_sms_gateway_url: str | None = None
    engagement_send_timeout: float = Field(default=10.0, gt=0)  # seconds per attempt
    engagement_delivery_seconds: float = Field(default=30.0, gt=0)  # due messages sent this often
    # Requests per minute one address may make to engagement's public routes (signed links).
    engagement_public_requests_per_minute: int = Field(default=60, ge=1)
    # A released message with no answer recorded this long after (its sender died) goes again.
    engagement_lease_seconds: float = Field(default=600.0, gt=0)
    credential_sweep_seconds: float = Field(default=3600.0, gt=0)  # credential sweep's period
    pto_accrual_timer_seconds: float = 300.0  # how often staffing looks for PTO periods to credit
    # Compliance's monitors (services/compliance/application/monitors.py).
    monitor_timer_seconds: float = Field(default=3600.0, gt=0)  # credentials, training
    ledger_monitor_seconds: float = Field(default=3600.0, gt=0)  # the ledger verified
    credential_warning_days: int = Field(default=30, ge=0)  # "expiring" this close to the end
    incident_warning_days: int = Field(default=14, ge=0)  # an incident's step "near" its due date
    phi_reads_per_hour_threshold: int = Field(default=50, ge=1)  # distinct patients, one reader
    claims_submitter_id: str = "MEDOFFICE"  # ISA06/GS02, 1000A NM109: the group's id at it
    claims_submitter_name: str = "MEDOFFICE GROUP"  # 1000A NM103: the submitter's name
    claims_submitter_contact_name: str = "BILLING OFFICE"  # 1000A PER02: whom the payer calls
    claims_submitter_contact_phone: str = "5555550100"  # 1000A PER04: ten digits
    claims_receiver_id: str = "CLEARINGHOUSE"  # ISA08/GS03, 1000B NM109: the clearinghouse
    claims_receiver_name: str = "CLEARINGHOUSE"  # 1000B NM103: the receiver's name
    claims_usage: Literal["T", "P"] = "T"  # ISA15 of claim files: T test, P production
    clearinghouse_adapter: Literal["folder", "sftp"] = "folder"  # how claim files leave billing
    clearinghouse_folder: Path | None = None  # the drop folder; unset: <data_dir>/clearinghouse
    clearinghouse_sftp_host: str = "127.0.0.1"  # the clearinghouse's SFTP server
    clearinghouse_sftp_port: int = Field(default=22, ge=1, le=65535)  # its port
    clearinghouse_sftp_user: str = "medoffice"  # the account billing logs in as
    clearinghouse_sftp_key: Path | None = None  # billing's private key (key auth only): for sftp
    clearinghouse_sftp_known_hosts: Path | None = None  # the server's pinned host key: for sftp
    clearinghouse_sftp_outbound: str = "outbound"  # remote folder 837 files are put in
    clearinghouse_sftp_inbound: str = "inbound"  # remote folder 999 and 277CA files come back in
    clearinghouse_sftp_done: str = "done"  # remote folder handled acknowledgements move to
    clearinghouse_timeout_seconds: float = Field(default=30.0, gt=0)  # per clearinghouse call
    clearinghouse_poll_seconds: float = Field(default=60.0, gt=0)  # send / take-back period
    claims_recheck_seconds: float = Field(default=60.0, gt=0)  # draft claims checked again
    patient_small_balance_cents: int = Field(default=1000, ge=0)  # small-balance write-off limit
    statement_run_seconds: float = Field(default=3600.0, gt=0)  # the monthly statement timer
    remittance_resume_seconds: float = Field(default=60.0, gt=0)  # postings cut short, resumed
    payment_plan_overdue_days: int = Field(default=30, ge=0)  # installment this late: defaulted
    receivables_snapshot_seconds: float = Field(default=3600.0, gt=0)  # AR monthly snapshots
    # Ed25519 private key (PEM, PKCS#8) that signs audit exports and anchored ledger heads;
    # unset: <data_dir>/compliance/audit-signing.pem, made on first start if absent.
    audit_signing_key_file: Path | None = None
    # Or the key itself, base64 of its 32-byte Ed25519 seed (as the other keys: a container's
    # secret env, where no file may be written); it wins over the file.
    audit_signing_key: str | None = None
    # How often each tenant's ledger head, if it moved, is signed and published outside the
    # databases: to this file (embedded; unset: <data_dir>/ledger-heads.jsonl), or to the
    # Kafka topic medoffice.compliance.ledger-heads (scale-out).
    ledger_head_publish_seconds: float = Field(default=60.0, gt=0)
    ledger_heads_file: Path | None = None

    @field_validator("phi_kek", "ledger_key", "audit_signing_key", "link_key")
    @classmethod
    def _a_32_byte_key(cls, value: str | None) -> str | None:
        """Refused at start, with the setting's name, rather than when a service first uses it."""
        if value is not None:
            key_bytes(value)
        return value

    @model_validator(mode="after")
    def _no_development_secrets_in_production(self) -> Settings:
        if self.env == "production" and self.jwt_secret == DEVELOPMENT_JWT_SECRET:
            raise ValueError("MEDOFFICE_JWT_SECRET must be set in production")
        if self.env == "production" and self.phi_kek == DEVELOPMENT_PHI_KEK:
            raise ValueError("MEDOFFICE_PHI_KEK must be set in production")
        if self.env == "production" and not self.jwt_jwks:
            raise ValueError("MEDOFFICE_JWT_JWKS must name the JWKS of the token issuer")
        if self.env == "production" and self.ledger_key == DEVELOPMENT_LEDGER_KEY:
            raise ValueError("MEDOFFICE_LEDGER_KEY must be set in production")
        if (
            self.env == "production"
            and self.engagement_smtp_host
            and not self.engagement_smtp_starttls
        ):
            raise ValueError("MEDOFFICE_ENGAGEMENT_SMTP_STARTTLS must be on in production")
        if self.env == "production" and not self.engagement_link_base_url.startswith("https://"):
            raise ValueError(
                "MEDOFFICE_ENGAGEMENT_LINK_BASE_URL must be the https address patients' links "
                "go to in production"
            )
        return self

    @property
    def scale_out(self) -> bool:
        return bool(self.kafka_bootstrap and self.mongo_url)

    @property
    def relay_linger(self) -> float:
        """Seconds between the relay's publishes while commits keep coming."""
        if self.relay_linger_seconds is not None:
            return self.relay_linger_seconds
        return SCALE_OUT_LINGER if self.scale_out else EMBEDDED_LINGER

    def ledger_heads_topic(self) -> str:
        return f"{self.topic_namespace}medoffice.compliance.ledger-heads"

    def topic(self, context: str) -> str:
        return f"{self.topic_namespace}medoffice.{context}.events"


def key_bytes(encoded: str) -> bytes:
    """The 32 bytes a key setting (`phi_kek`, `ledger_key`) holds as base64; ValueError else."""
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise ValueError("must be base64") from exc
    if len(key) != 32:
        raise ValueError("must be 32 bytes, base64")
    return key
