"""Settings from the environment (prefix EXPORTFLOW_), read once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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
    db_pool_size: int = Field(default=10, ge=1)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
