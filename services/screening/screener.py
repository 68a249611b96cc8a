"""Screening parties against the active list snapshot, with the index kept in memory."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from schemas.orders import Party, ScreeningHit, ScreeningResult
from services.db.engine import SessionFactory
from services.screening import store
from workflows.rules.matching import ScreeningIndex


class DbScreener:
    """Builds the index once per snapshot and rebuilds it when a new snapshot is imported."""

    def __init__(self, read_session: SessionFactory, *, threshold: float) -> None:
        self._session = read_session
        self._threshold = threshold
        self._lock = threading.Lock()
        self._snapshot_id: int | None = None
        self._index: ScreeningIndex | None = None

    def _current(self) -> tuple[int | None, ScreeningIndex | None]:
        with self._session() as session:
            active = store.active_snapshot(session)
        active_id = active.id if active else None
        with self._lock:
            if active_id != self._snapshot_id or (active_id and self._index is None):
                with self._session() as session:
                    info, parties = store.load_active_parties(session)
                self._snapshot_id = info.id if info else None
                self._index = ScreeningIndex(parties) if info else None
            return self._snapshot_id, self._index

    def screen_parties(self, parties: dict[str, Party]) -> ScreeningResult:
        """Every party against every listed name and alias of the active snapshot."""
        snapshot_id, index = self._current()
        hits: list[ScreeningHit] = []
        if index is not None:
            for role, party in parties.items():
                hits += index.screen(party.name, party.country, self._threshold, party_role=role)
        return ScreeningResult(
            status="potential_match" if hits else "clear",
            snapshot_id=snapshot_id,
            screened_at=datetime.now(UTC),
            hits=hits,
        )
