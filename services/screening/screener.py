"""Screening parties against the active list snapshot, with the index kept in memory."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime

from sqlmodel import col, select

from schemas.orders import Party, ScreeningHit, ScreeningResult, screening_status
from schemas.screening import ListedParty
from schemas.workflow_io import WhitelistRequest
from services.db.engine import SessionFactory
from services.db.models import WhitelistRow
from services.screening import store
from workflows.rules.matching import ScreeningIndex, normalize_name


def entry_hash(entry: ListedParty) -> str:
    """A fingerprint of a listed entry; a whitelist lapses when it changes."""
    return hashlib.sha256(entry.model_dump_json().encode()).hexdigest()


class DbScreener:
    """Builds the index once per snapshot and rebuilds it when a new snapshot is imported."""

    def __init__(
        self, read_session: SessionFactory, write_session: SessionFactory, *, threshold: float
    ) -> None:
        self._session = read_session
        self._write = write_session
        self._threshold = threshold
        self._lock = threading.Lock()
        self._snapshot_id: int | None = None
        self._index: ScreeningIndex | None = None
        self._entries: dict[str, ListedParty] = {}

    def _current(self) -> tuple[int | None, ScreeningIndex | None]:
        """The index of the active snapshot, rebuilt when another snapshot became active."""
        with self._session() as session:
            active = store.active_snapshot(session)
        active_id = active.id if active else None
        with self._lock:
            if active_id != self._snapshot_id or (active_id and self._index is None):
                with self._session() as session:
                    info, parties = store.load_active_parties(session)
                self._snapshot_id = info.id if info else None
                self._index = ScreeningIndex(parties) if info else None
                self._entries = {p.entry_id: p for p in parties}
            return self._snapshot_id, self._index

    def _whitelisted(self, party: Party, hits: list[ScreeningHit]) -> set[str]:
        """Entry ids this party is whitelisted against, still valid and unchanged."""
        if not hits:
            return set()
        today = datetime.now(UTC).date()
        with self._session() as session:
            rows = session.exec(
                select(WhitelistRow).where(
                    WhitelistRow.party_key == normalize_name(party.name),
                    col(WhitelistRow.entry_id).in_([h.entry_id for h in hits]),
                )
            ).all()
        valid = set()
        for row in rows:
            entry = self._entries.get(row.entry_id)
            fresh = row.expires_on is None or row.expires_on >= today
            if fresh and entry is not None and entry_hash(entry) == row.entry_hash:
                valid.add(row.entry_id)
        return valid

    def screen_parties(self, parties: dict[str, Party]) -> ScreeningResult:
        """Every party against every listed name and alias of the active snapshot."""
        snapshot_id, index = self._current()
        hits: list[ScreeningHit] = []
        skipped: list[str] = []
        if index is not None:
            for role, party in parties.items():
                found = index.screen(party.name, party.country, self._threshold, party_role=role)
                allowed = self._whitelisted(party, found)
                hits += [h for h in found if h.entry_id not in allowed]
                skipped += sorted(allowed)
        return ScreeningResult(
            status=screening_status(has_hits=bool(hits), open_hits=bool(hits)),
            snapshot_id=snapshot_id,
            screened_at=datetime.now(UTC),
            hits=hits,
            whitelisted=skipped,
        )

    def whitelist(self, req: WhitelistRequest) -> None:
        """Whitelist a party against one entry as that entry stands now (idempotent)."""
        self._current()
        entry = self._entries.get(req.entry_id)
        fingerprint = entry_hash(entry) if entry is not None else ""
        key = normalize_name(req.party_name)
        with self._write() as session:
            exists = session.exec(
                select(WhitelistRow).where(
                    WhitelistRow.party_key == key,
                    WhitelistRow.entry_id == req.entry_id,
                    WhitelistRow.order_id == req.order_id,
                )
            ).first()
            if exists is None:
                session.add(
                    WhitelistRow(
                        party_key=key,
                        entry_id=req.entry_id,
                        entry_hash=fingerprint,
                        order_id=req.order_id,
                        reason=req.reason,
                        created_by=req.actor,
                        created_at=datetime.now(UTC),
                        expires_on=req.until,
                    )
                )
                session.commit()
