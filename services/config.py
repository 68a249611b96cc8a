"""Settings from the environment (prefix EXPORTFLOW_), read once."""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
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
    # Proxies whose X-Forwarded-Proto/-For the API believes (uvicorn's forwarded_allow_ips):
    # comma-separated addresses or networks, "*" for any. Behind a TLS proxy, list it here.
    forwarded_allow_ips: str = "127.0.0.1,::1"
    screening_threshold: float = Field(default=88.0, ge=50, le=100)
    worker_max_concurrent_activities: int = Field(default=50, ge=1)
    worker_max_concurrent_workflow_tasks: int = Field(default=50, ge=1)
    # Bounds the worker's memory (~100 KB per cached order); an evicted order replays its
    # (short) history on its next step: bench/RESULTS.md, "How cost grows with open orders".
    worker_max_cached_workflows: int = Field(default=1_000, ge=0)
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
    # License suspension/revocation fan-out: orders per batch (one activity), batches per run
    # of its workflow before it continues as new.
    license_action_batch_size: int = Field(default=100, ge=1, le=1000)
    license_action_batches_per_run: int = Field(default=20, ge=1, le=1000)
    # Lifetime of a new token unless `token create --expires-in` says otherwise.
    token_lifetime_days: float = Field(default=90, gt=0, le=3650)
    # Unset: JSON lines for `api` and `worker`, text for `dev`.
    log_format: Literal["json", "text"] | None = None
    log_level: str = Field(default="INFO", pattern=r"(?i)^(debug|info|warning|error|critical)$")
    # Temporal SDK metrics (and the worker's own) for Prometheus; port 0 turns them off.
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = Field(default=9464, ge=0, le=65535)
    # Webhooks: targets on loopback/private/link-local networks only when allowed (dev, tests).
    webhooks_allow_private: bool = False
    webhooks_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    # Retries after a timeout, 5xx or connection error: base * 2^n (with jitter), each wait at
    # most backoff_max, for retry_window after the first attempt; then the delivery has failed.
    webhooks_backoff_base_seconds: float = Field(default=5.0, gt=0)
    webhooks_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    webhooks_retry_window_seconds: float = Field(default=86_400.0, gt=0)
    # A worker dispatches a subscription while it holds its lease; a dead worker's lapses.
    webhooks_lease_seconds: float = Field(default=15.0, ge=1)
    webhooks_poll_seconds: float = Field(default=0.1, gt=0, le=10)
    webhooks_concurrency: int = Field(default=16, ge=1, le=256, description="per subscription")

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses(cls, value: str) -> str:
        # uvicorn would take a mistyped address for a literal name and trust nobody, silently.
        for item in (part.strip() for part in value.split(",")):
            if item and item != "*":
                try:
                    ipaddress.ip_network(item) if "/" in item else ipaddress.ip_address(item)
                except ValueError:
                    raise ValueError(f"'{item}' is not an IP address or network") from None
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
