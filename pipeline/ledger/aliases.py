"""Unit canonicalisation: surface forms -> one canonical unit, through the `unit_aliases` table.

The seed list is `aliases.tsv` next to this module; users add their own
(`add_alias`, `load_alias_file`). Adding an alias for a unit the ledger already
holds under another name merges the two units.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from speechledger.ledger.models import TaskUnit, Unit, UnitAlias

SEED_FILE = Path(__file__).resolve().parent / "aliases.tsv"
MATCH_FILE = Path(__file__).resolve().parent.parent / "data" / "unit_match.yaml"


def read_alias_file(path: str | Path) -> list[tuple[str, str]]:
    """(alias, canonical) pairs of a two-column TSV; '#' starts a comment."""
    pairs = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        cols = [c.strip() for c in line.split("\t")]
        if len(cols) != 2 or not all(cols):
            raise ValueError(f"{path}:{n}: expected 'alias<TAB>canonical', got {line!r}")
        pairs.append((cols[0], cols[1]))
    return pairs


def seed_aliases(session: Session) -> None:
    """Insert the bundled seed aliases that are not in the ledger yet (cheap when all are)."""
    pairs = read_alias_file(SEED_FILE)
    known = set(session.scalars(select(UnitAlias.alias)))
    for alias, canonical in pairs:
        if alias not in known:
            add_alias(session, alias, canonical, origin="seed")
            known.add(alias)


def _unit_named(session: Session, name: str) -> Unit:
    """The unit `name` stands for: via an alias, by canonical name, or a new unit."""
    uid = session.scalar(select(UnitAlias.unit_id).where(UnitAlias.alias == name))
    if uid is not None:
        return session.get(Unit, uid)
    unit = session.scalar(select(Unit).where(Unit.name == name))
    if unit is None:
        unit = Unit(name=name)
        session.add(unit)
        session.flush()
    return unit


def add_alias(session: Session, alias: str, canonical: str, origin: str = "user") -> Unit:
    """Make `alias` name the unit `canonical`, merging a unit already known under `alias`."""
    alias, canonical = alias.strip(), canonical.strip()
    if not alias or not canonical:
        raise ValueError("alias and canonical name must not be empty")
    for name in (alias, canonical):
        if len(name) > 200 or "\x00" in name:
            raise ValueError(f"unit names are at most 200 characters, without NUL: {name[:40]!r}")
    from speechledger.ledger.db import write_lock
    write_lock(session, "unit_aliases")
    target = _unit_named(session, canonical)
    if target.name == canonical and session.scalar(
            select(UnitAlias.id).where(UnitAlias.alias == canonical)) is None:
        session.add(UnitAlias(alias=canonical, unit_id=target.id, origin=origin))
    row = session.scalar(select(UnitAlias).where(UnitAlias.alias == alias))
    if row is not None and row.unit_id == target.id:
        return target
    old = session.scalar(select(Unit).where(Unit.name == alias))
    if row is None:
        session.add(UnitAlias(alias=alias, unit_id=target.id, origin=origin))
    else:
        old_id = row.unit_id
        row.unit_id, row.origin = target.id, origin
        session.execute(update(TaskUnit).where(TaskUnit.unit_id == old_id, TaskUnit.text == alias)
                        .values(unit_id=target.id))
    if old is not None and old.id != target.id:
        # the alias was a unit of its own: merge it (links and its other aliases) into the target
        session.execute(update(TaskUnit).where(TaskUnit.unit_id == old.id).values(unit_id=target.id))
        session.execute(update(UnitAlias).where(UnitAlias.unit_id == old.id).values(unit_id=target.id))
        session.flush()
        session.delete(old)
    session.flush()
    return target


def _insert_ignoring_duplicates(session: Session, model, rows: list[dict]) -> None:
    """INSERT … ON CONFLICT DO NOTHING: a unit another writer added meanwhile is not an error."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.connection().execute(insert(model.__table__).on_conflict_do_nothing(), rows)


class UnitResolver:
    """Surface form -> unit id within one ingest, with a cache of committed lookups."""

    def __init__(self) -> None:
        self._cache: dict[str, int] = {}
        self._pending: dict[str, int] = {}

    def unit_id(self, session: Session, surface: str) -> int:
        return self.unit_ids(session, [surface])[surface.strip()]

    def unit_ids(self, session: Session, surfaces: list[str]) -> dict[str, int]:
        """Unit ids of many surface forms (stripped) with three statements at most for the new ones."""
        out: dict[str, int] = {}
        todo = set()
        for s in surfaces:
            s = s.strip()
            uid = self._cache.get(s) or self._pending.get(s)
            if uid is None:
                todo.add(s)
            else:
                out[s] = uid
        if todo:
            conn = session.connection()     # Core: no ORM bookkeeping on the ingest's hot path
            todo_list = sorted(todo)
            found = dict(conn.execute(select(UnitAlias.alias, UnitAlias.unit_id)
                                         .where(UnitAlias.alias.in_(todo_list))).all())
            new = [s for s in todo_list if s not in found]
            if new:
                _insert_ignoring_duplicates(session, Unit, [{"name": s} for s in new])
                ids = dict(conn.execute(select(Unit.name, Unit.id).where(Unit.name.in_(new))).all())
                _insert_ignoring_duplicates(session, UnitAlias, [
                    {"alias": s, "unit_id": ids[s], "origin": "seen"} for s in new])
                # another writer may have given the alias to another unit meanwhile: the table decides
                found.update(conn.execute(select(UnitAlias.alias, UnitAlias.unit_id)
                                             .where(UnitAlias.alias.in_(new))).all())
            self._pending.update(found)
            out.update(found)
        return out

    def commit(self) -> None:
        self._cache.update(self._pending)
        self._pending.clear()

    def rollback(self) -> None:
        self._pending.clear()


@lru_cache(maxsize=1)
def _match_rules() -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    import yaml
    data = yaml.safe_load(MATCH_FILE.read_text(encoding="utf-8"))
    prefixes = tuple(sorted(data["prefixes"], key=len, reverse=True))
    return prefixes, tuple((k, v) for k, v in data["abbreviations"].items())


def unit_core(name: str) -> str:
    """A unit name reduced for matching: simplified script, long forms shortened, level prefix dropped.

    区工业和信息化局, 县工信局 and 市工業和信息化局 all reduce to 工信局.
    """
    from speechledger.normalize import norm_text
    prefixes, abbreviations = _match_rules()
    s = norm_text(name.strip()).lower()
    for long, short in abbreviations:
        s = s.replace(long, short)
    for p in prefixes:
        # 市场监管局 is not 市 + 场监管局
        if s.startswith(p) and len(s) > len(p) and not s[len(p):].startswith("场"):
            s = s[len(p):]
            break
    return s


def unit_term_matches(term: str, name: str) -> bool:
    """Whether a --unit term matches a unit name or alias (substring, across script/prefix/abbreviation)."""
    t = term.strip().lower()
    if not t:
        return False
    return t in name.lower() or unit_core(term) in unit_core(name)


def matching_unit_ids(session: Session, term: str) -> list[int]:
    """Ids of the units whose canonical name or any alias matches `term` (see `unit_term_matches`).

    Matched in Python over the (small) unit and alias tables, so `%` and `_` are plain characters.
    """
    names = list(session.execute(select(UnitAlias.unit_id, UnitAlias.alias)))
    names += list(session.execute(select(Unit.id, Unit.name)))
    return sorted({uid for uid, name in names if unit_term_matches(term, name)})
