"""Settings from the environment (prefix EXPORTFLOW_), read once."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """All tunables of exportflow; each can be set as EXPORTFLOW_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="EXPORTFLOW_", extra="ignore")

    data_dir: Path = Path(".exportflow")
    database_url: str = "sqlite:///./.exportflow/exportflow.db"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "exportflow-orders"
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    screening_threshold: float = Field(default=88.0, ge=50, le=100)
    worker_max_concurrent_activities: int = Field(default=50, ge=1)
    worker_max_concurrent_workflow_tasks: int = Field(default=50, ge=1)
    worker_max_cached_workflows: int = Field(default=10_000, ge=0)
    outbox_interval_seconds: float = Field(default=5.0, gt=0)
    recheck_interval_seconds: float = Field(default=30.0, gt=0)
    review_business_days: int = Field(default=2, ge=1, le=30)
    license_decision_days: int = Field(default=90, ge=1, le=730)
    four_eyes_threshold_usd: Decimal = Field(default=Decimal("10000000"), ge=0)
    db_pool_size: int = Field(default=10, ge=1)
    # Open orders per activity of a rule set's fan-out, and batches before continue-as-new.
    policy_fanout_batch_size: int = Field(default=200, ge=1, le=5000)
    policy_fanout_batches_per_run: int = Field(default=100, ge=1)
    documents_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # Unset: JSON lines for `api` and `worker`, text for `dev`.
    log_format: Literal["json", "text"] | None = None
    log_level: str = Field(default="INFO", pattern=r"(?i)^(debug|info|warning|error|critical)$")
    # Temporal SDK metrics (and the worker's own) for Prometheus; port 0 turns them off.
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = Field(default=9464, ge=0, le=65535)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
