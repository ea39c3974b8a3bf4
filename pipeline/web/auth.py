"""Accounts, logins and CSRF tokens of the web app (argon2 hashes, DB-backed sessions)."""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from speechledger.ledger.db import LedgerError
from speechledger.ledger.models import ROLES, LoginAttempt, User, WebSession

SESSION_HOURS = 12
LOCK_AFTER = 5            # failed logins of one name within LOCK_MINUTES lock that name
LOCK_IP_AFTER = 20        # ... and this many from one address lock the address
LOCK_MINUTES = 15
ROLE_LABELS = {"admin": "管理员", "supervisor": "督查室", "unit": "承办单位", "viewer": "只读"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _hasher():
    from argon2 import PasswordHasher
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(hashed: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError
    try:
        return _hasher().verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def add_user(session: Session, name: str, role: str, password: str, unit: str | None = None) -> User:
    name = name.strip()
    if not name:
        raise LedgerError("a user needs a name")
    if role not in ROLES:
        raise LedgerError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if role == "unit" and not (unit or "").strip():
        raise LedgerError("a user with role unit needs --unit (e.g. --unit 工信局)")
    if len(password) < 8:
        raise LedgerError("the password must have at least 8 characters")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise LedgerError(f"user {name!r} exists already")
    user = User(name=name, role=role, unit=(unit or "").strip() or None, password_hash=hash_password(password),
                active=True, created_at=_now())
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[dict[str, Any]]:
    return [{"name": u.name, "role": u.role, "unit": u.unit, "active": u.active,
             "created_at": u.created_at.isoformat(timespec="seconds")}
            for u in session.scalars(select(User).order_by(User.name))]


def disable_user(session: Session, name: str) -> None:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise LedgerError(f"no user {name!r} (see `speechledger users list`)")
    user.active = False
    for ws in session.scalars(select(WebSession).where(WebSession.user_id == user.id)):
        session.delete(ws)


def locked(session: Session, name: str, ip: str) -> bool:
    """Too many failed logins lately for this name (or from this address)."""
    since = _now() - dt.timedelta(minutes=LOCK_MINUTES)

    def failures(col, value) -> int:
        last_ok = select(func.max(LoginAttempt.at)).where(col == value, LoginAttempt.ok.is_(True))
        last = session.scalar(last_ok)
        start = max(since, last) if last else since
        return session.scalar(select(func.count(LoginAttempt.id)).where(
            col == value, LoginAttempt.ok.is_(False), LoginAttempt.at > start)) or 0

    return failures(LoginAttempt.name, name) >= LOCK_AFTER or failures(LoginAttempt.ip, ip) >= LOCK_IP_AFTER


def login(session: Session, name: str, password: str, ip: str) -> WebSession | None:
    """A new session for valid credentials, else None; every attempt is recorded."""
    user = session.scalar(select(User).where(User.name == name))
    ok = bool(user and user.active and verify_password(user.password_hash, password))
    if user is None:
        verify_password(_DUMMY_HASH(), password)   # same cost for unknown names
    session.add(LoginAttempt(name=name[:100], ip=ip[:64], ok=ok, at=_now()))
    if not ok:
        return None
    ws = WebSession(token=secrets.token_urlsafe(32), user_id=user.id, csrf=secrets.token_urlsafe(32),
                    created_at=_now(), expires_at=_now() + dt.timedelta(hours=SESSION_HOURS))
    session.add(ws)
    session.flush()
    return ws


def session_user(session: Session, token: str) -> tuple[User, WebSession] | None:
    row = session.execute(select(User, WebSession).join(WebSession, WebSession.user_id == User.id)
                          .where(WebSession.token == token)).first()
    if row is None:
        return None
    user, ws = row
    if not user.active or ws.expires_at < _now():
        return None
    return user, ws


def logout(session: Session, token: str) -> None:
    for ws in session.scalars(select(WebSession).where(WebSession.token == token)):
        session.delete(ws)


_dummy: list[str] = []


def _DUMMY_HASH() -> str:
    if not _dummy:
        _dummy.append(hash_password(secrets.token_hex(8)))
    return _dummy[0]
