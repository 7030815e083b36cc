"""The catalog's tables (SQLAlchemy Core). Changes here need an Alembic migration too."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("columns", JSON, nullable=False),
    Column("num_rows", BigInteger, nullable=False),
    Column("num_bytes", BigInteger, nullable=False),
    Column("source", Text, nullable=False),
    Column("location", Text, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("name", "version", name="uq_dataset_versions_name_version"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("experiment", String(128), nullable=False, index=True),
    Column("name", String(256), nullable=False),
    Column("status", String(16), nullable=False),
    Column("params", JSON, nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("inputs", JSON, nullable=False),
    Column("outputs", JSON, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("error", Text),
    Column("host", String(255)),
    Column("pid", Integer),
    Column("heartbeat_at", DateTime(timezone=True)),
    Index("ix_runs_status", "status"),
    # listing runs a page at a time, newest first (migration 0011)
    Index("ix_runs_started_at_id", "started_at", "id"),
    Index("ix_runs_experiment_started_at_id", "experiment", "started_at", "id"),
)

run_metrics = Table(
    "run_metrics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(32), nullable=False),
    Column("key", String(128), nullable=False),
    Column("step", Integer, nullable=False),
    Column("value", Float, nullable=False),
    Index("ix_run_metrics_run_key_step", "run_id", "key", "step"),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("run_id", String(32)),
    Column("bundle_uri", Text, nullable=False),
    Column("problem_type", String(16), nullable=False),
    Column("signature", JSON, nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("lineage", JSON, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # "pending" while its job writes the report, "ready" once published; see migration 0003
    Column("status", String(16), nullable=False, server_default="ready"),
    # PendingManualApproval, Approved or Rejected; its history is model_approvals (0007)
    Column("approval", String(32), nullable=False, server_default="PendingManualApproval"),
    UniqueConstraint("name", "version", name="uq_model_versions_name_version"),
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("alias", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_by", String(128), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

reports = Table(
    "reports",
    metadata,
    Column("subject", String(256), primary_key=True),
    Column("kind", String(64), primary_key=True),
    Column("payload", JSON, nullable=False),
    Column("html_uri", Text),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(256), nullable=False),
    Column("face", String(16), nullable=False),
    Column("details", JSON, nullable=False),
    # the client's address (HTTP faces) and the hash chain; see catalog/_chain.py, migration 0006
    Column("address", String(64)),
    Column("prev_hash", String(64)),
    Column("hash", String(64)),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
    Column("last_id", Integer, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("env", String(32)),
    Column("secret_hash", String(64), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)

pii_tags = Table(
    "pii_tags",
    metadata,
    Column("dataset", String(128), primary_key=True),
    # 0 holds a user's decision, which applies to every version of the dataset
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("column", String(256), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("tagged", Boolean, nullable=False),
    Column("source", String(16), nullable=False),
    Column("updated_by", String(128), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


def _feature_table(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("name", String(128), nullable=False),
        Column("version", Integer, nullable=False),
        Column("definition", JSON, nullable=False),
        Column("fingerprint", String(64), nullable=False),
        Column("created_by", String(128), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        UniqueConstraint("name", "version", name=f"uq_{name}_name_version"),
    )


# Feature-store definitions (migration 0004_feature_store): a new version per changed definition
feature_entities = _feature_table("feature_entities")
feature_groups = _feature_table("feature_groups")
# --- monitors (migration 0005) ------------------------------------------------------------
monitors = Table(
    "monitors",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("model", String(200), nullable=False),
    Column("kinds", JSON, nullable=False),
    Column("schedule", String(128)),
    Column("window_seconds", Integer, nullable=False),
    Column("labels", JSON, nullable=False),
    Column("action", Text),
    Column("webhook", JSON, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

monitor_runs = Table(
    "monitor_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor", String(128), nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False),
    Column("window_end", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("report", JSON, nullable=False),
    Column("html_uri", Text),
    Column("violations", Integer, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("monitor", "window_start", "window_end", name="uq_monitor_runs_window"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("monitor", String(128), nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False),
    Column("window_end", DateTime(timezone=True), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("violation", String(64), nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("notified", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("acked_by", String(128)),
    Column("acked_at", DateTime(timezone=True)),
    Column("comment", Text),
    Index("ix_alerts_monitor_status", "monitor", "status"),
)

# --- approval and promotion gates (migration 0007) ----------------------------------------
model_approvals = Table(
    "model_approvals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("previous", String(32), nullable=False),
    Column("comment", Text, nullable=False),
    Column("changed_by", String(128), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Index("ix_model_approvals_name_version", "name", "version"),
)

model_promotions = Table(
    "model_promotions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("environment", String(16), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("gates", JSON, nullable=False),
    Column("reason", Text),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_model_promotions_name_version", "name", "version"),
)

# --- endpoints (migration 0008) -----------------------------------------------------------
endpoints = Table(
    "endpoints",
    metadata,
    Column("env", String(16), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("revision", Integer, nullable=False),  # the current one
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

endpoint_revisions = Table(
    "endpoint_revisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("env", String(16), nullable=False),
    Column("name", String(128), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("config", JSON, nullable=False),
    Column("state", JSON, nullable=False),
    Column("action", String(32), nullable=False),
    Column("restores", Integer),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("env", "name", "revision", name="uq_endpoint_revisions_revision"),
)

# --- pipelines (migration 0009) -----------------------------------------------------------
pipelines = Table(
    "pipelines",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("definition", JSON, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("source", Text),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("name", "version", name="uq_pipelines_name_version"),
)

pipeline_runs = Table(
    "pipeline_runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("pipeline", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("params", JSON, nullable=False),
    Column("trigger", String(200), nullable=False),
    Column("resumed_from", String(32)),
    Column("created_by", String(128), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("error", Text),
    Column("host", String(255)),
    Column("pid", Integer),
    Column("heartbeat_at", DateTime(timezone=True)),
    Index("ix_pipeline_runs_pipeline_started", "pipeline", "started_at"),
    Index("ix_pipeline_runs_status", "status"),
)

pipeline_steps = Table(
    "pipeline_steps",
    metadata,
    Column("run_id", String(32), primary_key=True),
    Column("step", String(128), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("cache_key", String(64)),
    Column("inputs", JSON, nullable=False),
    Column("outputs", JSON, nullable=False),
    Column("logs", Text, nullable=False),
    Column("error", Text),
    Column("cached_from", String(32)),
    Column("started_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
    Index("ix_pipeline_steps_cache_key", "cache_key", "status"),
)

# What a pipeline step made (a dataset or model version): its lineage to the run
pipeline_outputs = Table(
    "pipeline_outputs",
    metadata,
    Column("ref", String(200), primary_key=True),
    Column("run_id", String(32), primary_key=True),
    Column("step", String(128), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

schedules = Table(
    "schedules",
    metadata,
    Column("pipeline", String(128), primary_key=True),
    Column("cron", String(128), nullable=False),
    Column("params", JSON, nullable=False),
    Column("missed", String(16), nullable=False),
    Column("next_run_at", DateTime(timezone=True), nullable=False),
    Column("last_run_at", DateTime(timezone=True)),
    Column("last_run_id", String(32)),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
