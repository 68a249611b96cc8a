"""Parsing the CSL and OFAC SDN files, refusing bad ones, and storing versioned snapshots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, SQLModel, create_engine, select

from services.db.models import ScreeningEntryRow
from services.screening import ListFormatError
from services.screening.csl import parse_csl
from services.screening.sdn import parse_sdn
from services.screening.store import (
    active_snapshot,
    import_list_file,
    import_snapshot,
    list_snapshots,
    load_active_parties,
)
from tests.data_files import SDN_EXCERPT, csl_sample, sdn_excerpt

DEMO_CSL = Path(__file__).resolve().parents[2] / "services" / "screening" / "data" / "demo-csl.csv"


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = create_engine(f"sqlite:///{tmp_path / 'screening.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as db:
        yield db
    engine.dispose()


# --- CSL ---------------------------------------------------------------------------------


def test_csl_sample_parses_all_rows_and_splits_aliases() -> None:
    parties = {party.name: party for party in parse_csl(csl_sample())}
    # 13 data rows; the last one has no line break after it.
    assert len(parties) == 13
    sme = parties["SME BANK"]
    assert len(sme.alt_names) == 5
    assert "JSC SME BANK" in sme.alt_names
    assert (sme.countries, sme.programs, sme.entry_type) == (["RU"], ["UKRAINE-EO13662"], "Entity")
    cetc = next(p for name, p in parties.items() if name.startswith("China Electronics"))
    # The Federal Register's "...; and CETC Research Institute 13" loses its "and".
    assert cetc.alt_names[-1] == "CETC Research Institute 13"
    assert cetc.license_policy.startswith("Policy of denial")
    assert cetc.entry_id.startswith("99ed1b052f")  # the CSL's own _id


def test_csl_countries_come_from_addresses_and_nationality() -> None:
    parties = {party.name: party for party in parse_csl(csl_sample())}
    assert parties["Academy of Aerospace Solid Propulsion Technology (AASPT)"].countries == ["CN"]
    assert parties["RIM, Ryong Nam"].countries == ["CN", "KP"]
    assert parties["I. ASH"].countries == ["US"]
    assert parties["Cesareo Estanislao Benitez"].countries == []
    two_programs = parties["TNK Trading International S.A."].programs
    assert two_programs == ["VENEZUELA-EO13850", "UKRAINE-EO13662"]


def test_demo_list_is_valid_csl_with_aliases() -> None:
    parties = parse_csl(DEMO_CSL.read_bytes())
    assert 6 <= len(parties) <= 10
    assert all(party.countries == ["CN"] for party in parties)
    assert any(party.alt_names for party in parties)


def _replace_line(data: bytes, number: int, new: bytes) -> bytes:
    lines = data.split(b"\n")
    lines[number - 1] = new
    return b"\n".join(lines)


def _with_empty_name(line: bytes) -> bytes:
    fields = line.split(b'","')
    fields[5] = b""  # name is the sixth column
    return b'","'.join(fields)


def test_csl_bad_files_are_refused_with_the_line() -> None:
    data = csl_sample()
    lines = data.split(b"\n")
    cases = [
        (data.replace(b",alt_names,", b",aliases,", 1), 1, "missing columns alt_names"),
        (_replace_line(data, 5, _with_empty_name(lines[4])), 5, "empty name"),
        (_replace_line(data, 3, lines[2] + b',"extra"'), 3, "expected 29 columns, found 30"),
        (_replace_line(data, 4, lines[3].replace(b"Academy", b"Acad\xe9my")), 4, "not UTF-8"),
        (b"", 1, "empty file"),
    ]
    for bad, line, reason in cases:
        with pytest.raises(ListFormatError) as refused:
            parse_csl(bad)
        assert (refused.value.line, reason in refused.value.reason) == (line, True), reason
        assert str(refused.value).startswith(f"line {line}: ")


def test_csl_line_numbers_count_multiline_fields() -> None:
    header, row = csl_sample().split(b"\n")[:2]
    two_lines = row.replace(b'"INKSNA"', b'"INKSNA\nsecond line"')
    bad = b"\n".join([header, two_lines, _with_empty_name(row)])
    with pytest.raises(ListFormatError, match=r"^line 4: empty name"):
        parse_csl(bad)


def test_csl_duplicate_ids_are_refused() -> None:
    header, row = csl_sample().split(b"\n")[:2]
    with pytest.raises(ListFormatError, match=r"^line 3: duplicate entry id"):
        parse_csl(b"\n".join([header, row, row]))


# --- OFAC SDN ----------------------------------------------------------------------------


def test_sdn_triple_joins_entries_aliases_and_addresses() -> None:
    parties = parse_sdn(*sdn_excerpt())
    assert len(parties) == 303
    assert sum(len(party.alt_names) for party in parties) == 362
    # add.csv has 541 rows; 79 of them are all "-0-" and give no address text.
    assert sum(len(party.addresses) for party in parties) == 462
    by_id = {party.entry_id: party for party in parties}
    cuba = by_id["306"]
    assert (cuba.name, cuba.alt_names, cuba.entry_type) == (
        "BANCO NACIONAL DE CUBA",
        ["NATIONAL BANK OF CUBA"],
        "Entity",
    )
    assert cuba.countries == ["CH", "ES", "JP", "PA"]  # Zurich, Madrid, Tokyo, Panama
    assert by_id["4632"].programs == ["IRAN", "SDGT", "IRGC", "IFSR"]
    assert by_id["2686"].entry_type == "Individual"


SDN_ROW = b'10,"TEST ENTITY",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
ALT_ROW = b'10,1,"aka","TEST ALIAS",-0- \r\n'
ADD_ROW = b'10,1,-0- ,"Havana","Cuba",-0- \r\n'


def test_sdn_small_files_parse_with_the_eof_mark() -> None:
    [party] = parse_sdn(SDN_ROW + b"\x1a", ALT_ROW + b"\x1a", ADD_ROW + b"\x1a")
    assert (party.name, party.alt_names, party.addresses, party.countries) == (
        "TEST ENTITY",
        ["TEST ALIAS"],
        ["Havana, Cuba"],
        ["CU"],
    )


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ((SDN_ROW + SDN_ROW.replace(b",-0- \r\n", b"\r\n"), ALT_ROW, ADD_ROW),
         r"^line 2: sdn.csv: expected 12 columns, found 11"),
        ((SDN_ROW.replace(b'"TEST ENTITY"', b"-0- "), ALT_ROW, ADD_ROW),
         r"^line 1: sdn.csv: empty name"),
        ((SDN_ROW, ALT_ROW + ALT_ROW.replace(b"10,", b"99,", 1), ADD_ROW),
         r"^line 2: alt.csv: ent_num 99 is not in sdn.csv"),
        ((SDN_ROW, ALT_ROW, ADD_ROW + ADD_ROW.replace(b"Havana", b"La Habana \xff")),
         r"^line 2: add.csv: not UTF-8"),
        ((SDN_ROW + SDN_ROW, ALT_ROW, ADD_ROW), r"^line 2: sdn.csv: duplicate ent_num 10"),
    ],
)  # fmt: skip
def test_sdn_bad_files_are_refused_with_file_and_line(
    files: tuple[bytes, bytes, bytes], message: str
) -> None:
    with pytest.raises(ListFormatError, match=message):
        parse_sdn(*files)


# --- Store -------------------------------------------------------------------------------


def _entry_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(ScreeningEntryRow)).one()


def test_import_round_trip_and_same_hash_is_not_duplicated(session: Session) -> None:
    parties = parse_csl(csl_sample())
    first = import_snapshot(
        session,
        parties=parties,
        source_format="csl",
        file_name="csl-sample.csv",
        content_hash="a" * 64,
        imported_by="alice",
    )
    assert (first.row_count, first.active, first.imported_by) == (13, True, "alice")
    assert first.imported_at.tzinfo is not None
    assert load_active_parties(session) == (first, parties)

    again = import_snapshot(
        session,
        parties=parties,
        source_format="csl",
        file_name="renamed.csv",
        content_hash="a" * 64,
        imported_by="bob",
    )
    assert again == first
    assert len(list_snapshots(session)) == 1
    assert _entry_count(session) == 13


def test_new_snapshot_becomes_the_only_active_one(session: Session, tmp_path: Path) -> None:
    sample = tmp_path / "csl-sample.csv"
    sample.write_bytes(csl_sample())
    old = import_list_file(session, path=sample, imported_by="alice")
    new = import_list_file(session, path=DEMO_CSL, imported_by="alice")
    assert new.id != old.id
    assert active_snapshot(session) == new
    assert [(s.id, s.active) for s in list_snapshots(session)] == [(new.id, True), (old.id, False)]
    snapshot, parties = load_active_parties(session)
    assert snapshot == new
    assert [p.name for p in parties] == [p.name for p in parse_csl(DEMO_CSL.read_bytes())]

    # Re-importing the older file brings that snapshot back instead of storing it again.
    back = import_list_file(session, path=sample, imported_by="bob")
    assert (back.id, back.active) == (old.id, True)
    assert [s.active for s in list_snapshots(session)] == [False, True]
    assert _entry_count(session) == 13 + new.row_count


def test_import_sdn_folder_or_sdn_csv(session: Session) -> None:
    folder = SDN_EXCERPT
    info = import_list_file(session, path=folder / "sdn.csv", imported_by="alice")
    assert (info.source_format, info.file_name, info.row_count) == ("sdn", folder.name, 303)
    assert import_list_file(session, path=folder, imported_by="bob").id == info.id
    _, parties = load_active_parties(session)
    assert sum(len(party.alt_names) for party in parties) == 362
    assert parties == parse_sdn(*sdn_excerpt())


def test_a_refused_file_stores_nothing(session: Session, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_replace_line(csl_sample(), 7, b'"too","few"'))
    with pytest.raises(ListFormatError, match=r"^line 7: expected 29 columns, found 2"):
        import_list_file(session, path=bad, imported_by="alice")
    other = tmp_path / "list.xlsx"
    other.write_bytes(b"PK\x03\x04")
    with pytest.raises(ListFormatError, match="cannot import 'list.xlsx'"):
        import_list_file(session, path=other, imported_by="alice")
    assert list_snapshots(session) == []
    assert active_snapshot(session) is None
    assert load_active_parties(session) == (None, [])
