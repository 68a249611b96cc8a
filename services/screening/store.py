"""Screening-list snapshots in the database: import, activate, load."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from schemas.screening import ListedParty, SnapshotInfo
from services.db.models import ScreeningEntryRow, ScreeningSnapshotRow
from services.screening import ListFormatError
from services.screening.csl import parse_csl
from services.screening.sdn import FILE_NAMES, parse_sdn

# Multi-valued fields are stored one item per line: the parsers collapse whitespace inside an
# item, so a newline can never be part of one (a ";" can, in free-text OFAC aliases).
_ITEM_SEP = "\n"


def import_snapshot(
    session: Session,
    *,
    parties: Sequence[ListedParty],
    source_format: str,
    file_name: str,
    content_hash: str,
    imported_by: str,
) -> SnapshotInfo:
    """Store parties as a new snapshot and make it the only active one; commits.

    Content already imported (same hash) is not stored twice: that snapshot is made the
    active one again and returned, so re-importing an older list rolls back to it.
    """
    try:
        existing = session.exec(
            select(ScreeningSnapshotRow)
            .where(ScreeningSnapshotRow.content_hash == content_hash)
            .order_by(col(ScreeningSnapshotRow.id))
        ).first()
        row = existing or _new_snapshot(
            session, parties, source_format, file_name, content_hash, imported_by
        )
        assert row.id is not None  # flushed, so the database has given it an id
        _activate(session, row.id)
        info = _info(row, active=True)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return info


def _new_snapshot(
    session: Session,
    parties: Sequence[ListedParty],
    source_format: str,
    file_name: str,
    content_hash: str,
    imported_by: str,
) -> ScreeningSnapshotRow:
    row = ScreeningSnapshotRow(
        source_format=source_format,
        file_name=file_name,
        row_count=len(parties),
        content_hash=content_hash,
        imported_by=imported_by,
        imported_at=datetime.now(UTC),
        active=False,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    if parties:
        # One executemany instead of thousands of ORM objects: ~9k SDN rows in well under 1 s.
        session.execute(insert(ScreeningEntryRow), [_entry_values(row.id, p) for p in parties])
    return row


def _activate(session: Session, snapshot_id: int) -> None:
    session.execute(
        update(ScreeningSnapshotRow).values(active=col(ScreeningSnapshotRow.id) == snapshot_id)
    )


def _entry_values(snapshot_id: int, party: ListedParty) -> dict[str, Any]:
    return {
        "snapshot_id": snapshot_id,
        "entry_id": party.entry_id,
        "source": party.source,
        "entry_type": party.entry_type,
        "name": party.name,
        "alt_names": _ITEM_SEP.join(party.alt_names),
        "addresses": _ITEM_SEP.join(party.addresses),
        "countries": ",".join(party.countries),
        "programs": _ITEM_SEP.join(party.programs),
        "license_requirement": party.license_requirement,
        "license_policy": party.license_policy,
    }


def active_snapshot(session: Session) -> SnapshotInfo | None:
    """The snapshot screening uses now, or None before the first import."""
    row = session.exec(
        select(ScreeningSnapshotRow)
        .where(col(ScreeningSnapshotRow.active))
        .order_by(col(ScreeningSnapshotRow.id).desc())
    ).first()
    return None if row is None else _info(row)


def load_active_parties(session: Session) -> tuple[SnapshotInfo | None, list[ListedParty]]:
    """The active snapshot and its parties, in import order (for building a screening index)."""
    snapshot = active_snapshot(session)
    if snapshot is None:
        return None, []
    rows = session.exec(
        select(ScreeningEntryRow)
        .where(ScreeningEntryRow.snapshot_id == snapshot.id)
        .order_by(col(ScreeningEntryRow.id))
    ).all()
    return snapshot, [_party(row) for row in rows]


def list_snapshots(session: Session) -> list[SnapshotInfo]:
    """All imported snapshots, newest first."""
    rows = session.exec(
        select(ScreeningSnapshotRow).order_by(col(ScreeningSnapshotRow.id).desc())
    ).all()
    return [_info(row) for row in rows]


def import_list_file(session: Session, *, path: Path, imported_by: str) -> SnapshotInfo:
    """Detect the format (CSL .csv, or OFAC sdn.csv + alt.csv + add.csv), parse and store it."""
    path = path.resolve()
    folder = _sdn_folder(path)
    if folder is not None:
        contents = [_find(folder, name).read_bytes() for name in FILE_NAMES]
        parties = parse_sdn(*contents)
        digest = _hash(zip(FILE_NAMES, contents, strict=True))
        source_format, file_name = "sdn", folder.name
    elif path.is_file() and path.suffix.lower() == ".csv":
        content = path.read_bytes()
        parties = parse_csl(content)
        digest, source_format, file_name = hashlib.sha256(content).hexdigest(), "csl", path.name
    else:
        expected = "a CSL .csv file, or OFAC's sdn.csv with alt.csv and add.csv beside it"
        raise ListFormatError(1, f"cannot import {path.name!r}: expected {expected}")
    return import_snapshot(
        session,
        parties=parties,
        source_format=source_format,
        file_name=file_name,
        content_hash=digest,
        imported_by=imported_by,
    )


def _sdn_folder(path: Path) -> Path | None:
    if path.is_dir():
        folder = path
    elif path.name.lower() in FILE_NAMES:
        folder = path.parent
    else:
        return None
    missing = [name for name in FILE_NAMES if not _find(folder, name).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} has no {', '.join(missing)} (OFAC SDN needs all three)")
    return folder


def _find(folder: Path, name: str) -> Path:
    # OFAC has published the files as SDN.CSV as well as sdn.csv.
    for candidate in (name, name.upper()):
        if (folder / candidate).is_file():
            return folder / candidate
    return folder / name


def _hash(files: Iterable[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, content in files:
        # Length-prefixed, so moving bytes from one file to the next changes the hash.
        digest.update(f"{name}:{len(content)}:".encode())
        digest.update(content)
    return digest.hexdigest()


def _info(row: ScreeningSnapshotRow, *, active: bool | None = None) -> SnapshotInfo:
    imported_at = row.imported_at
    if imported_at.tzinfo is None:
        # SQLite hands back naive datetimes; they were written in UTC.
        imported_at = imported_at.replace(tzinfo=UTC)
    assert row.id is not None
    return SnapshotInfo(
        id=row.id,
        source_format=row.source_format,
        file_name=row.file_name,
        row_count=row.row_count,
        content_hash=row.content_hash,
        imported_by=row.imported_by,
        imported_at=imported_at,
        active=row.active if active is None else active,
    )


def _party(row: ScreeningEntryRow) -> ListedParty:
    return ListedParty(
        entry_id=row.entry_id,
        source=row.source,
        entry_type=row.entry_type,
        name=row.name,
        alt_names=_items(row.alt_names),
        addresses=_items(row.addresses),
        countries=[code for code in row.countries.split(",") if code],
        programs=_items(row.programs),
        license_requirement=row.license_requirement,
        license_policy=row.license_policy,
    )


def _items(value: str) -> list[str]:
    return value.split(_ITEM_SEP) if value else []
