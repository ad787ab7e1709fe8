"""Typed settings (L0). Every setting has a default and a description; read from URBANDATA_* variables.

Settings are read when `Settings()` is constructed (by the CLI or `create_app`), never at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Platform settings. `URBANDATA_<NAME>` environment variables override the defaults."""

    model_config = SettingsConfigDict(env_prefix="URBANDATA_", extra="ignore", frozen=True)

    data_dir: Path = Field(
        default=Path("./data"),
        description="Directory for the embedded metadata DB, the DuckDB datastore and the original files.",
    )
    metadata_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the metadata database. Default: a SQLite file in the data dir. "
        "Production: postgresql+psycopg://user@host/db",
    )
    datastore_url: str | None = Field(
        default=None,
        description="Datastore URL: duckdb:///path (default: duckdb in the data dir) or postgresql://user@host/db.",
    )
    datastore_schema: str = Field(
        default="urbandata_data",
        description="PostgreSQL schema that holds the datastore tables (PostgreSQL backend only).",
    )
    max_upload_bytes: int = Field(
        default=2 * 1024**3,
        description="Largest file accepted for ingestion, in bytes.",
    )
    max_uncompressed_bytes: int = Field(
        default=512 * 1024**2,
        description="Largest uncompressed size of an xlsx file's parts (zip-bomb guard), in bytes.",
    )
    ingest_memory_limit: str = Field(
        default="640MB",
        description="Memory limit of the DuckDB engine while loading a file (spills to disk beyond it).",
    )
    ingest_threads: int = Field(default=0, description="Threads for loading a file; 0 means all cores.")
    max_rejected_rows_reported: int = Field(
        default=1000, description="How many rejected rows an ingest report lists individually."
    )
    api_max_limit: int = Field(default=10000, description="Largest `limit` the rows API accepts.")
    api_default_limit: int = Field(default=100, description="Rows per page when `limit` is not given.")
    sql_max_rows: int = Field(
        default=10000, description="Most rows a SQL query returns (the rest is cut, `truncated`)."
    )
    sql_timeout_seconds: float = Field(default=10.0, description="A SQL query running longer is stopped.")
    audit_retention_days: int = Field(
        default=180, description="After this many days, who and the IP address are removed from audit entries (GDPR)."
    )
    anonymous_rate_limit: int = Field(
        default=600, description="Requests per minute an anonymous client (by IP address) may make; 0 = no limit."
    )
    login_max_failures: int = Field(default=5, description="Failed logins before an account is locked for a while.")
    login_lock_minutes: int = Field(default=15, description="How long an account stays locked after too many failures.")
    session_hours: int = Field(default=8, description="Lifetime of a portal session, in hours.")
    secure_cookies: bool = Field(
        default=True, description="Send session cookies only over HTTPS (set false for local http)."
    )
    oidc_issuer: str | None = Field(
        default=None, description="OpenID Connect issuer URL, e.g. a Keycloak realm; unset = sign-in with OIDC is off."
    )
    oidc_client_id: str | None = Field(default=None, description="OpenID Connect client id.")
    oidc_client_secret: str | None = Field(default=None, description="OpenID Connect client secret.")
    oidc_auto_create: bool = Field(
        default=True, description="Create a staff account on the first OIDC sign-in (no roles; admins add them)."
    )
    public_url: str | None = Field(
        default=None, description="Public base URL of the platform, used in links; default: from the request."
    )
    city_name: str = Field(default="Kaiserslautern", description="The city this install serves.")
    about_text: str = Field(
        default="", description="Markdown shown on the portal's About page above the generic text; empty: none."
    )
    imprint_text: str = Field(
        default="", description="Markdown of the imprint (Impressum, § 5 DDG); empty: a notice that it is missing."
    )
    privacy_text: str = Field(
        default="", description="Markdown of the privacy notice (Datenschutzerklärung); empty: the generic notice."
    )
    accessibility_contact: str = Field(
        default="", description="E-mail address for accessibility feedback (Erklärung zur Barrierefreiheit)."
    )
    map_tile_url: str | None = Field(
        default=None,
        description="XYZ tile URL of the operator's base map for portal maps, e.g. https://tiles.example.org/"
        "{z}/{x}/{y}.png; unset = tile-free maps (the data on a plain background, no request elsewhere).",
    )
    map_wms_url: str | None = Field(
        default=None, description="WMS endpoint of the operator's base map (used when no tile URL is set)."
    )
    map_wms_layers: str = Field(default="", description="Comma-separated WMS layers of the base map.")
    map_attribution: str = Field(
        default="", description="Attribution text of the base map, shown on the map (e.g. its licence)."
    )
    log_level: str = Field(default="INFO", description="Log level (DEBUG, INFO, WARNING, ERROR).")
    # --- notifications (e-mail to stewards) ---
    smtp_host: str | None = Field(
        default=None, description="SMTP server for notification e-mails; unset = no e-mail (workspace only)."
    )
    smtp_port: int = Field(
        default=587, description="SMTP server port (587 submission, 25 relay; 465 means implicit TLS)."
    )
    smtp_user: str | None = Field(default=None, description="SMTP user name; unset = no login.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password (never printed).")
    smtp_from: str = Field(
        default="urbandata@localhost", description="Sender address of notification e-mails (From)."
    )
    smtp_starttls: bool = Field(default=True, description="Switch to TLS with STARTTLS before logging in and sending.")
    smtp_timeout_seconds: float = Field(default=10.0, description="Give up on an unresponsive SMTP server after this.")
    # --- scheduled imports ---
    scheduler: bool = Field(
        default=True, description="Run the import scheduler and periodic maintenance inside the platform process."
    )
    scheduler_tick_seconds: float = Field(default=30.0, description="How often the scheduler looks for due work.")
    schedule_timezone: str = Field(
        default="Europe/Berlin", description="Time zone in which the cron schedules of imports are read."
    )
    import_folder_root: Path | None = Field(
        default=None,
        description="Watched folders of folder imports must lie inside this directory; default: <data dir>/imports.",
    )
    import_alert_after: int = Field(
        default=3, description="Default number of consecutive failed runs of an import before its owners are alerted."
    )
    # --- SensorThings MQTT (external broker) ---
    mqtt_url: str | None = Field(
        default=None,
        description="MQTT broker for SensorThings create/receive, mqtt://host:1883 or mqtts://host:8883 (TLS); "
        "unset = no MQTT.",
    )
    mqtt_username: str | None = Field(default=None, description="User name at the MQTT broker; unset = anonymous.")
    mqtt_password: SecretStr | None = Field(default=None, description="Password at the MQTT broker (never printed).")
    mqtt_ca_file: Path | None = Field(
        default=None, description="CA certificate file for mqtts:// (default: the system's trusted CAs)."
    )
    mqtt_client_id: str | None = Field(
        default=None, description="MQTT client id of the platform (default: urbandata-<random>)."
    )
    mqtt_buffer: int = Field(
        default=10000,
        description="Most observations received over MQTT held in memory while the database is unavailable; "
        "beyond it they are dropped (metric urbandata_mqtt_dropped_total).",
    )
    mqtt_topic_prefix: str = Field(default="v1.1/", description="Prefix of the SensorThings MQTT topics.")
    mqtt_actor: str | None = Field(
        default=None,
        description="Account (user name) whose permissions apply to observations created over MQTT; "
        "unset = the local system actor. Broker ACLs decide who may publish.",
    )
    mqtt_shared_group: str | None = Field(
        default=None,
        description="With several platform processes: MQTT 5 shared-subscription group that spreads the create "
        "topics over them ($share/<group>/...); unset = this process receives every message.",
    )
    # --- sensor connectors ---
    parking_feed_url: str = Field(
        default="https://www.kaiserslautern.de/live_tools/pls/pls.xml",
        description="Kaiserslautern car park guidance feed (XML) polled by the parking connector.",
    )
    parking_poll_minutes: int = Field(
        default=0, ge=0, description="Poll the car park feed every N minutes inside the platform process; 0 = off."
    )
    parking_org: str = Field(
        default="mobilitaet",
        description="Organisation (slug) owning the car park occupancy dataset; created when missing.",
    )

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, v: Path) -> Path:
        return v.expanduser().resolve()

    @property
    def effective_metadata_url(self) -> str:
        return self.metadata_url or f"sqlite:///{self.data_dir / 'metadata.sqlite'}"

    @property
    def effective_datastore_url(self) -> str:
        return self.datastore_url or f"duckdb:///{self.data_dir / 'datastore'}"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"


def describe_settings() -> list[tuple[str, str, str]]:
    """(environment variable, default, description) for each setting, for docs and `config check`."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = field.default if field.default is not None else "(derived)"
        rows.append((f"URBANDATA_{name.upper()}", str(default), field.description or ""))
    return rows
