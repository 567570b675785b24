"""Accounts of the web workplace: users and roles, sign-in sessions, personal API tokens and
the audit ledger — all persisted in the store.

Passwords are hashed with argon2 (pwdlib) and never stored or logged in clear; session and
API tokens are random (``secrets``) and stored only as SHA-256 digests, so a copy of the store
does not let anyone sign in. The state tables (``users``, ``web_sessions``, ``api_tokens``)
are small and rewritten whole by this module; ``audit`` is a ledger (appended, never changed).

One :class:`Accounts` object owns them for a process (the web app); it keeps them in memory
and writes each change through to the store under a lock, so a request never waits on the
store to find its user.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import threading
from dataclasses import dataclass

import pandas as pd

from .errors import CxValueError
from .store import append_ledger, declare, has_table, write_state

ROLES = ("viewer", "analyst", "case_owner", "manager", "admin")

#: what each role may do; the web app checks one of these on every route
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"dashboards"}),
    "analyst": frozenset({"dashboards", "personal_data", "customers", "export", "initiatives"}),
    "case_owner": frozenset({"dashboards", "personal_data", "customers", "cases"}),
    "manager": frozenset({"dashboards", "personal_data", "customers", "export", "cases", "assign", "initiatives"}),
    "admin": frozenset({"dashboards", "personal_data", "customers", "export", "cases", "assign", "initiatives",
                        "jobs", "users"}),
}
MIN_PASSWORD = 10

declare("users", kind="state", key=("username",),
        columns=("role", "password_hash", "lang", "active", "created_at", "updated_at", "email"),
        doc="Web workplace accounts: role, argon2 password hash, language, active flag, e-mail address (for "
            "notifications of the cases assigned to or escalated to the user).")
declare("web_sessions", kind="state", key=("session_hash",),
        columns=("username", "csrf_token", "created_at", "expires_at", "ip"),
        doc="Open sign-in sessions (SHA-256 of the cookie token), with their CSRF token and expiry.")
declare("api_tokens", kind="state", key=("token_id",),
        columns=("token_hash", "username", "label", "created_at", "revoked_at", "revoked_by"),
        doc="Personal API tokens (SHA-256 of the token); a revoked token keeps its row.")
declare("audit", kind="ledger", key=("at", "username", "action"),
        columns=("target", "detail", "ip"),
        doc="Who did what and when in the workplace: sign-ins (also failed), exports, account and "
            "token changes, jobs.")

_S, _T, _B = "string", "timestamp", "bool"
_TYPES = {
    "users": {"username": _S, "role": _S, "password_hash": _S, "lang": _S, "active": _B, "created_at": _T,
              "updated_at": _T, "email": _S},
    "web_sessions": {"session_hash": _S, "username": _S, "csrf_token": _S, "created_at": _T, "expires_at": _T,
                     "ip": _S},
    "api_tokens": {"token_id": _S, "token_hash": _S, "username": _S, "label": _S, "created_at": _T,
                   "revoked_at": _T, "revoked_by": _S},
}
_COLUMNS = {name: tuple(types) for name, types in _TYPES.items()}


class AccountError(CxValueError):
    """An account operation was refused (unknown user, weak password, bad role...)."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    lang: str = "en"
    active: bool = True
    email: str | None = None

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _append(df: pd.DataFrame, row: dict) -> pd.DataFrame:
    return pd.DataFrame([*df.to_dict("records"), row], columns=list(df.columns))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


_HASHER = None


def _hasher():
    global _HASHER
    if _HASHER is None:
        from pwdlib import PasswordHash
        _HASHER = PasswordHash.recommended()
    return _HASHER


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, hashed: str) -> bool:
    try:
        return _hasher().verify(password, hashed)
    except Exception:  # a malformed hash never signs anyone in
        return False


def check_username(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 64 or any(c.isspace() or c in "<>\"'&/\\" for c in name):
        raise AccountError(f"user name {name!r} is not valid: expected 1-64 characters without spaces, "
                           "quotes, slashes or < > &")
    return name


def check_password(password: str, username: str = "") -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"the password is too short: expected at least {MIN_PASSWORD} characters, "
                           f"got {len(password or '')}")
    if username and password.lower() == username.lower():
        raise AccountError("the password must not be the user name")


_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+$")


def check_email(email: str | None) -> str | None:
    """A plausible e-mail address (name@domain.tld), None for none; a clear error otherwise."""
    if email is None or not str(email).strip():
        return None
    email = str(email).strip()
    if not _EMAIL.match(email):
        raise AccountError(f"e-mail address {email!r} is not valid: expected name@domain.tld")
    return email


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"role {role!r} is not valid: expected one of {', '.join(ROLES)}")
    return role


class Accounts:
    """Users, sessions and tokens of one store, cached in memory and written through."""

    def __init__(self, con, *, session_hours: int = 12):
        self.con = con
        self.session_hours = session_hours
        self._lock = threading.RLock()
        self._frames: dict[str, pd.DataFrame] = {}
        self._dummy = None

    # ------------------------------------------------------------------ storage
    def _frame(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            if has_table(self.con, name):
                df = self.con.table(name).to_pandas()
                for c in _COLUMNS[name]:          # a store made before a column existed (users.email)
                    if c not in df.columns:
                        df[c] = None
            else:
                df = pd.DataFrame({c: pd.Series(dtype="object") for c in _COLUMNS[name]})
            self._frames[name] = df
        return self._frames[name]

    def _save(self, name: str, df: pd.DataFrame) -> None:
        import ibis
        df = df.reset_index(drop=True)
        for c, kind in _TYPES[name].items():
            if kind == _T:
                df[c] = pd.to_datetime(df[c])
            elif kind == _B:
                df[c] = df[c].astype(bool)
            else:
                df[c] = df[c].astype(object).where(df[c].notna(), None)
        write_state(self.con, name, ibis.memtable(df, schema=ibis.schema(_TYPES[name])))
        self._frames[name] = df

    def reload(self) -> None:
        """Forget the cached tables (another process changed them)."""
        with self._lock:
            self._frames.clear()

    # ------------------------------------------------------------------ users
    def users(self) -> list[User]:
        with self._lock:
            return [self._user(r) for r in self._frame("users").to_dict("records")]

    @staticmethod
    def _user(r: dict) -> User:
        email = r.get("email")
        return User(r["username"], r["role"], r.get("lang") or "en", bool(r["active"]),
                    email if isinstance(email, str) and email else None)

    def user(self, username: str) -> User | None:
        with self._lock:
            df = self._frame("users")
            hit = df[df["username"] == username]
            return None if hit.empty else self._user(hit.iloc[0].to_dict())

    def has_admin(self) -> bool:
        return any(u.role == "admin" and u.active for u in self.users())

    def emails(self) -> dict[str, str]:
        """{username: e-mail address} of the active users that have one."""
        return {u.username: u.email for u in self.users() if u.email and u.active}

    def add_user(self, username: str, role: str, password: str, *, lang: str = "en", by: str = "cli",
                 email: str | None = None) -> User:
        username = check_username(username)
        email = check_email(email)
        check_role(role)
        check_password(password, username)
        if lang not in ("en", "zh"):
            raise AccountError(f"language {lang!r} is not valid: expected en or zh")
        with self._lock:
            if self.user(username) is not None:
                raise AccountError(f"user {username!r} exists already")
            now = _now()
            row = {"username": username, "role": role, "password_hash": hash_password(password), "lang": lang,
                   "active": True, "created_at": now, "updated_at": now, "email": email}
            self._save("users", _append(self._frame("users"), row))
            self.audit(by, "user_add", username, f"role={role}")
            return self.user(username)

    def update_user(self, username: str, *, by: str, role: str | None = None, password: str | None = None,
                    lang: str | None = None, active: bool | None = None, email: str | None = None) -> User:
        """Change a user's role, password, language, active flag or e-mail address ("" removes it;
        recorded in the audit)."""
        with self._lock:
            df = self._frame("users").copy()
            idx = df.index[df["username"] == username]
            if len(idx) == 0:
                raise AccountError(f"user {username!r} does not exist")
            i = idx[0]
            changes = []
            if role is not None:
                df.at[i, "role"] = check_role(role)
                changes.append(f"role={role}")
            if password is not None:
                check_password(password, username)
                df.at[i, "password_hash"] = hash_password(password)
                changes.append("password")
            if lang is not None:
                if lang not in ("en", "zh"):
                    raise AccountError(f"language {lang!r} is not valid: expected en or zh")
                df.at[i, "lang"] = lang
                changes.append(f"lang={lang}")
            if active is not None:
                df.at[i, "active"] = bool(active)
                changes.append(f"active={bool(active)}")
            if email is not None:
                df.at[i, "email"] = check_email(email)
                changes.append(f"email={check_email(email) or '(none)'}")
            after = df.loc[df["active"].astype(bool)]
            if not (after["role"] == "admin").any() and self.has_admin():
                raise AccountError("this change would leave no active admin: make another user admin first")
            df.at[i, "updated_at"] = _now()
            self._save("users", df)
            if password is not None or active is False:
                self._end_sessions_of(username)
            if changes != [f"lang={lang}"]:
                self.audit(by, "user_update", username, ", ".join(changes))
            return self.user(username)

    def authenticate(self, username: str, password: str) -> User | None:
        """The active user with this name and password, else None (the same work either way)."""
        with self._lock:
            df = self._frame("users")
            hit = df[df["username"] == username]
        if hit.empty:
            if self._dummy is None:
                self._dummy = hash_password(secrets.token_urlsafe(16))
            verify_password(password, self._dummy)  # equal time for unknown names
            return None
        r = hit.iloc[0].to_dict()
        if not verify_password(password, r["password_hash"]) or not bool(r["active"]):
            return None
        return self._user(r)

    # ------------------------------------------------------------------ sessions
    def open_session(self, user: User, *, ip: str = "") -> tuple[str, str]:
        """A new sign-in session: (cookie token, CSRF token). Expired sessions are purged."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = _now()
        row = {"session_hash": digest(token), "username": user.username, "csrf_token": csrf, "created_at": now,
               "expires_at": now + dt.timedelta(hours=self.session_hours), "ip": ip}
        with self._lock:
            df = self._frame("web_sessions")
            df = df[pd.to_datetime(df["expires_at"]) > now] if len(df) else df
            self._save("web_sessions", _append(df, row))
        return token, csrf

    def session(self, token: str | None) -> tuple[User, str] | None:
        """(user, CSRF token) of a valid session cookie, else None."""
        if not token:
            return None
        h = digest(token)
        with self._lock:
            df = self._frame("web_sessions")
            hit = df[df["session_hash"] == h]
            if hit.empty:
                return None
            r = hit.iloc[0]
            if pd.Timestamp(r["expires_at"]) <= pd.Timestamp(_now()):
                return None
            user = self.user(r["username"])
        if user is None or not user.active:
            return None
        return user, str(r["csrf_token"])

    def close_session(self, token: str | None) -> None:
        if not token:
            return
        h = digest(token)
        with self._lock:
            df = self._frame("web_sessions")
            if (df["session_hash"] == h).any():
                self._save("web_sessions", df[df["session_hash"] != h])

    def _end_sessions_of(self, username: str) -> None:
        df = self._frame("web_sessions")
        if (df["username"] == username).any():
            self._save("web_sessions", df[df["username"] != username])

    # ------------------------------------------------------------------ API tokens
    def create_token(self, user: User, label: str) -> str:
        """A new personal API token for ``user`` (shown once; only its digest is stored)."""
        label = (label or "").strip()[:80] or "token"
        token = "cxv_" + secrets.token_urlsafe(32)
        row = {"token_id": secrets.token_hex(6), "token_hash": digest(token), "username": user.username,
               "label": label, "created_at": _now(), "revoked_at": None, "revoked_by": None}
        with self._lock:
            self._save("api_tokens", _append(self._frame("api_tokens"), row))
            self.audit(user.username, "token_create", row["token_id"], label)
        return token

    def tokens(self, username: str | None = None) -> list[dict]:
        with self._lock:
            df = self._frame("api_tokens")
            if username is not None:
                df = df[df["username"] == username]
            return [{k: v for k, v in r.items() if k != "token_hash"} for r in df.to_dict("records")]

    def token_user(self, token: str | None) -> User | None:
        if not token:
            return None
        h = digest(token)
        with self._lock:
            df = self._frame("api_tokens")
            hit = df[(df["token_hash"] == h) & df["revoked_at"].isna()]
            if hit.empty:
                return None
            user = self.user(hit.iloc[0]["username"])
        return user if user is not None and user.active else None

    def revoke_token(self, token_id: str, *, by: User) -> None:
        """Revoke a token: its owner or an admin may."""
        with self._lock:
            df = self._frame("api_tokens").copy()
            idx = df.index[(df["token_id"] == token_id) & df["revoked_at"].isna()]
            if len(idx) == 0:
                raise AccountError(f"token {token_id!r} does not exist or is already revoked")
            if df.at[idx[0], "username"] != by.username and not by.can("users"):
                raise AccountError("only the token's owner or an admin may revoke it")
            df.at[idx[0], "revoked_at"] = _now()
            df.at[idx[0], "revoked_by"] = by.username
            self._save("api_tokens", df)
            self.audit(by.username, "token_revoke", token_id, str(df.at[idx[0], "username"]))

    # ------------------------------------------------------------------ audit
    def audit(self, username: str, action: str, target: str = "", detail: str = "", ip: str = "") -> None:
        row = {"at": dt.datetime.now(dt.UTC).replace(tzinfo=None), "username": username or "", "action": action,
               "target": str(target or ""), "detail": str(detail or ""), "ip": ip or ""}
        with self._lock:
            append_ledger(self.con, "audit", pd.DataFrame([row]))

    def audit_log(self, limit: int = 200) -> pd.DataFrame:
        import ibis
        if not has_table(self.con, "audit"):
            return pd.DataFrame(columns=["at", "username", "action", "target", "detail", "ip"])
        t = self.con.table("audit")
        return t.order_by(ibis.desc("at")).limit(limit).to_pandas()
