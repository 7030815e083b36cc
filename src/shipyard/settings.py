"""Every ``SHIPYARD_*`` setting, typed and documented, in one place.

Precedence: an explicit argument > the environment > the project file
(``.shipyard/config.toml``) > the default below.
"""

from __future__ import annotations

import getpass
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from shipyard.errors import InvalidInput

__all__ = ["PROJECT_DIR", "Settings", "load_settings"]

PROJECT_DIR = ".shipyard"
"""The folder that marks a project; commands look for it from the current directory upward."""


class Settings(BaseSettings):
    """Shipyard's configuration. Each field is read from ``SHIPYARD_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SHIPYARD_", extra="forbid", frozen=True)

    home: Path | None = Field(
        None, description="Project folder to use instead of searching upward from the cwd."
    )
    catalog_url: str | None = Field(
        None,
        description="Metadata catalog URL: sqlite:///path.db (default: the project's "
        "catalog.db) or postgresql://user@host/db.",
    )
    artifacts_url: str | None = Field(
        None, description="Artifact store URL: a local folder (default) or s3://bucket/prefix."
    )
    online_url: str | None = Field(
        None, description="Online feature store URL: sqlite:///path.db (default) or redis://."
    )
    ray_address: str | None = Field(None, description="Ray cluster address for --backend ray.")
    user: str = Field(
        default_factory=lambda: os.environ.get("USER") or _login_name(),
        description="Who the audit trail records as the actor of local commands.",
    )
    serve_max_body_bytes: int = Field(
        10 * 1024 * 1024, gt=0, description="Largest request body the inference server accepts."
    )
    serve_max_rows: int = Field(
        10_000, gt=0, description="Most rows one inference request may carry."
    )
    serve_max_explain_rows: int = Field(
        100, gt=0, description="Most rows one ?explain=true inference request may explain."
    )
    serve_header_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds a client has to send a request's headers before the inference "
        "server closes the connection.",
    )
    serve_body_timeout: float = Field(
        60.0,
        gt=0,
        description="Seconds a client has to send a request's body, once its headers are in, "
        "before the inference server closes the connection.",
    )
    env: str = Field(
        "dev",
        pattern=r"^(dev|staging|prod)$",
        description="The environment this process acts in (dev, staging, prod): tokens are "
        "checked against it. `shipyard serve NAME@ENV` acts in ENV when ENV is one of these.",
    )
    auth_max_failures: int = Field(
        10,
        gt=0,
        description="Failed token checks one client address may make per minute before the "
        "server answers 429.",
    )
    auth_cache_seconds: float = Field(
        10.0,
        ge=0,
        description="Seconds a server keeps a token's record before reading it again: a "
        "revoked token is refused at the latest this long after `shipyard tokens revoke`.",
    )
    server_url: str | None = Field(
        None,
        description="A `shipyard server` to act through (http://host:port): the CLI's read and "
        "governance commands then call its REST API instead of opening a project here.",
    )
    token: SecretStr | None = Field(
        None, description="The bearer token sent to SHIPYARD_SERVER_URL (`shipyard tokens create`)."
    )
    server_max_body_bytes: int = Field(
        1024 * 1024, gt=0, description="Largest request body the REST API server accepts."
    )
    server_max_sql_rows: int = Field(
        10_000, gt=0, description="Most rows one SQL query through the REST API returns."
    )
    batch_rows: int = Field(100_000, gt=0, description="Rows scored per batch by batch transform.")
    serve_capture: float = Field(
        0.0,
        ge=0,
        le=100,
        description="Percentage of inference requests captured to the artifact store (0: off).",
    )
    serve_metrics: bool = Field(
        True, description="Whether the inference server keeps Prometheus metrics at /metrics."
    )
    endpoint_poll_seconds: float = Field(
        1.0,
        gt=0,
        description="How often a server of an endpoint reads its revision and the aliases its "
        "variants follow, and moves a baking roll-out along.",
    )
    endpoint_shadow_queue: int = Field(
        10_000,
        gt=0,
        description="Most requests waiting for the shadow variant; past it copies are dropped "
        "(and counted), never waited for.",
    )
    capture_buffer_rows: int = Field(
        100_000,
        gt=0,
        description="Most captured rows held in memory; past it new ones are dropped and counted.",
    )
    capture_flush_rows: int = Field(
        10_000, gt=0, description="Captured rows that, once waiting, are written to a file."
    )
    capture_flush_seconds: float = Field(
        10.0, gt=0, description="Longest time a captured row waits in memory before it is written."
    )
    capture_pii: Literal["hash", "mask", "keep"] = Field(
        "hash",
        description="What captures keep of inputs tagged as personal data: a keyed hash (the "
        "project's PII key, as training's --hash-pii), nothing (mask), or the value (keep).",
    )
    encryption_key: SecretStr | None = Field(
        None,
        description="Encrypt bundles, captures and reports at rest (AES-256-GCM): base64 of "
        "32 random bytes. Several keys, comma-separated: the first encrypts, all decrypt "
        "(for a key rotation).",
    )
    encryption_key_file: Path | None = Field(
        None,
        description="A file holding the encryption key(s), one base64 key per line, instead "
        "of SHIPYARD_ENCRYPTION_KEY.",
    )
    signing_key: SecretStr | None = Field(
        None,
        description="Sign bundles with HMAC-SHA256 over their manifest (16 characters at "
        "least); a bundle without a valid signature is then refused before it is unpickled.",
    )
    signing_key_file: Path | None = Field(
        None, description="A file holding the signing key, instead of SHIPYARD_SIGNING_KEY."
    )


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def load_settings(project_dir: Path | None = None, **overrides: Any) -> Settings:
    """Settings from arguments, the environment and the project's ``config.toml``.

    Args:
        project_dir: A project's root folder; its ``.shipyard/config.toml`` is read if present.
        **overrides: Explicit values, which win over everything else.

    Raises:
        InvalidInput: A value has the wrong type, or the project file has an unknown key.
    """
    file_values: dict[str, Any] = {}
    if project_dir is not None:
        config = project_dir / PROJECT_DIR / "config.toml"
        if config.is_file():
            try:
                file_values = tomllib.loads(config.read_text())
            except tomllib.TOMLDecodeError as exc:
                raise InvalidInput(f"{config} is not valid TOML: {exc}. Fix or remove it.") from exc
    env_keys = {name for name in Settings.model_fields if f"SHIPYARD_{name.upper()}" in os.environ}
    # The environment beats the file: drop file values the environment sets.
    merged = {k: v for k, v in file_values.items() if k not in env_keys}
    merged.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**merged)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise InvalidInput(f"Invalid Shipyard settings: {problems}.") from exc
