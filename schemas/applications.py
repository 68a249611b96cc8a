"""BIS license applications (SNAP-R): the record an order awaiting a license carries."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

from schemas.common import Strict

ACN_PATTERN = r"^[A-Z]\d{6}$"


class ApplicationStatus(StrEnum):
    """Where BIS has the application."""

    SUBMITTED = "submitted"
    REGISTERED = "registered"
    HOLD_WITHOUT_ACTION = "hold_without_action"
    REFERRED = "referred"
    RETURNED_WITHOUT_ACTION = "returned_without_action"


class SubmitApplicationBody(Strict):
    """Body of `submit-application`: the SNAP-R application control number and its date."""

    application_control_number: str = Field(
        pattern=ACN_PATTERN, description="SNAP-R application control number, e.g. Z123456"
    )
    submitted_on: date


class ApplicationStatusBody(Strict):
    """Body of `application-status`: what BIS did with the application, and when."""

    status: ApplicationStatus = Field(
        description="registered, hold_without_action, referred or returned_without_action"
    )
    on: date
    note: str | None = Field(default=None, max_length=2000)
    successor_application_control_number: str | None = Field(
        default=None,
        pattern=ACN_PATTERN,
        description="with returned_without_action: the new application filed in its place",
    )

    @model_validator(mode="after")
    def _status_is_an_answer(self) -> ApplicationStatusBody:
        if self.status is ApplicationStatus.SUBMITTED:
            raise ValueError("status: 'submitted' is set by submit-application")
        if (
            self.successor_application_control_number
            and self.status is not ApplicationStatus.RETURNED_WITHOUT_ACTION
        ):
            raise ValueError(
                "successor_application_control_number: only with returned_without_action"
            )
        return self


class ApplicationEvent(BaseModel):
    """One step of an application's history."""

    application_control_number: str
    status: ApplicationStatus
    on: date
    by: str
    at: datetime
    note: str | None = None


class Application(BaseModel):
    """The order's current application, its clock and the history of every application."""

    application_control_number: str
    submitted_on: date
    status: ApplicationStatus
    registered_on: date | None = None
    held_since: date | None = Field(default=None, description="hold without action since")
    paused_days: int = Field(default=0, description="days the clock stood still (HWA)")
    decision_due_on: date | None = Field(
        default=None, description="registration + 90 days + days on hold; None while not running"
    )
    clock_running: bool = False
    predecessors: list[str] = Field(default=[], description="control numbers returned (RWA)")
    history: list[ApplicationEvent] = []
