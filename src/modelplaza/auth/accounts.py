"""Users, organisations, memberships and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from functools import cache

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelplaza.auth.passwords import hash_password, verify_password
from modelplaza.auth.principal import Authenticated, Scope
from modelplaza.db.models import Account, ApiToken, Membership, utcnow
from modelplaza.errors import AccountNotFound, AlreadyExists, BadRequest, InvalidCredentials, NotFound
from modelplaza.names import check_name

ROLES = ("read", "write", "admin")
TOKEN_PREFIX = "plz_"
_LOOKUP_LEN = 12
_TOKEN_NAME_MAX = 100
# Seconds between two records of a token's last use by one process: a use is a read, and
# writing on every API call would serialise them.
_USE_RECORD_INTERVAL = 300.0
_use_recorded: dict[str, float] = {}
# Account pages live at ``/{name}``: these names are the plaza's own pages and routes.
RESERVED_NAMES = frozenset(
    [
        "api",
        "cas",
        "static",
        "models",
        "datasets",
        "spaces",
        "login",
        "logout",
        "join",
        "new",
        "settings",
        "organizations",
        "search",
        "docs",
        "jobs",
        "admin",
        "help",
        "about",
    ]
)


def find_account(session: Session, name: str) -> Account | None:
    """The account of that name, whatever its case: ``Alice`` finds ``alice`` (the database
    holds one account per name regardless of case)."""
    return session.scalar(select(Account).where(func.lower(Account.name) == name.lower()))


def get_account(session: Session, name: str) -> Account:
    account = find_account(session, name)
    if account is None:
        raise AccountNotFound(f"No user or organisation named {name!r}")
    return account


def check_available(session: Session, name: str) -> None:
    """Raise unless ``name`` may be given to a new account: well formed, not reserved, free
    (whatever its case)."""
    check_name(name, "account name")
    if name.lower() in RESERVED_NAMES:
        raise BadRequest(f"The name {name!r} is reserved for the plaza's own pages")
    existing = find_account(session, name)
    if existing is not None:
        same = "" if existing.name == name else f" by {existing.name!r}: names differing only in case are one"
        raise AlreadyExists(f"The name {name!r} is already taken{same}")


def _new_account(session: Session, name: str, kind: str, **fields: object) -> Account:
    check_available(session, name)
    account = Account(name=name, kind=kind, **fields)
    session.add(account)
    try:
        session.flush()
    except IntegrityError:
        # Taken at the same moment by another transaction (the unique index on lower(name)).
        raise AlreadyExists(f"The name {name!r} is already taken") from None
    return account


def new_password(password: str) -> str:
    """The hash to keep for a new password; BadRequest for one too short. Argon2 is slow on
    purpose: hash before opening the write transaction that stores it."""
    if len(password) < 8:
        raise BadRequest("Passwords need at least 8 characters")
    return hash_password(password)


def create_user(
    session: Session,
    name: str,
    password_hash: str | None = None,
    *,
    is_admin: bool = False,
    email: str | None = None,
    fullname: str = "",
) -> Account:
    """A new user; ``password_hash`` comes from ``new_password`` (none: no web login)."""
    return _new_account(
        session,
        name,
        "user",
        is_admin=is_admin,
        email=email,
        fullname=fullname or name,
        password_hash=password_hash,
    )


@cache
def _unused_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def check_password(session: Session, name: str, password: str) -> Account | None:
    account = find_account(session, name)
    if account is None or account.kind != "user" or not account.password_hash:
        # Verify anyway, so that a failed login takes as long either way and its timing does
        # not tell which names exist.
        verify_password(_unused_hash(), password)
        return None
    return account if verify_password(account.password_hash, password) else None


def set_password(session: Session, name: str, password_hash: str) -> Account:
    """Give the user ``name`` a new password (its hash, from ``new_password``)."""
    user = get_user(session, name)
    user.password_hash = password_hash
    return user


def create_org(session: Session, name: str, owner: str) -> Account:
    owner_account = get_user(session, owner)
    org = _new_account(session, name, "org", fullname=name)
    session.add(Membership(org_id=org.id, user_id=owner_account.id, role="admin"))
    return org


def get_user(session: Session, name: str) -> Account:
    account = get_account(session, name)
    if account.kind != "user":
        raise AccountNotFound(f"{name!r} is an organisation, not a user")
    return account


def get_org(session: Session, name: str) -> Account:
    account = get_account(session, name)
    if not account.is_org:
        raise AccountNotFound(f"{name!r} is a user, not an organisation")
    return account


def set_member(session: Session, org_name: str, user_name: str, role: str) -> Membership:
    if role not in ROLES:
        raise BadRequest(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}")
    org = get_org(session, org_name)
    user = get_user(session, user_name)
    membership = session.get(Membership, (org.id, user.id))
    if membership is None:
        membership = Membership(org_id=org.id, user_id=user.id, role=role)
        session.add(membership)
    else:
        if role != "admin":
            _keep_an_admin(session, org, membership)
        membership.role = role
    return membership


def remove_member(session: Session, org_name: str, user_name: str) -> None:
    org = get_org(session, org_name)
    user = get_user(session, user_name)
    membership = session.get(Membership, (org.id, user.id))
    if membership is None:
        raise NotFound(f"{user_name!r} is not a member of {org_name!r}")
    _keep_an_admin(session, org, membership)
    session.delete(membership)


def _keep_an_admin(session: Session, org: Account, leaving: Membership) -> None:
    """Refuse to take away the org's last admin: nobody could manage it any more."""
    if leaving.role != "admin":
        return
    admins = session.execute(
        select(func.count()).where(Membership.org_id == org.id, Membership.role == "admin")
    ).scalar_one()
    if admins <= 1:
        raise BadRequest(f"{org.name!r} needs at least one admin: make someone else admin first")


def list_members(session: Session, org_name: str) -> list[tuple[Account, str]]:
    """An organisation's members and their roles, by name."""
    org = get_org(session, org_name)
    rows = session.execute(
        select(Account, Membership.role)
        .join(Membership, Membership.user_id == Account.id)
        .where(Membership.org_id == org.id)
        .order_by(Account.name)
    )
    return [(account, role) for account, role in rows]


def org_roles(session: Session, user_id: int) -> dict[str, str]:
    rows = session.execute(
        select(Account.name, Membership.role)
        .join(Membership, Membership.org_id == Account.id)
        .where(Membership.user_id == user_id)
    )
    return {name: role for name, role in rows}


def _secret_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user_name: str, token_name: str, *, write: bool) -> str:
    """Create an API token and return it; only its hash is kept, so it is shown once."""
    token_name = token_name.strip()
    if not token_name or len(token_name) > _TOKEN_NAME_MAX:
        raise BadRequest(f"Give the token a name of 1 to {_TOKEN_NAME_MAX} characters")
    user = get_user(session, user_name)
    lookup_id = secrets.token_hex(_LOOKUP_LEN // 2)
    token = f"{TOKEN_PREFIX}{lookup_id}{secrets.token_urlsafe(32)}"
    session.add(
        ApiToken(
            user_id=user.id,
            name=token_name,
            lookup_id=lookup_id,
            secret_hash=_secret_hash(token),
            scope="write" if write else "read",
        )
    )
    return token


def principal_for(
    session: Session, account: Account, *, write: bool, token_name: str | None = None
) -> Authenticated:
    return Authenticated(
        user_id=account.id,
        name=account.name,
        scope=Scope.WRITE if write else Scope.READ,
        is_admin=account.is_admin,
        token_name=token_name,
        org_roles=org_roles(session, account.id),
    )


def authenticate_token(session: Session, token: str) -> Authenticated:
    """The principal a bearer token stands for; InvalidCredentials for anything else."""
    if not token.startswith(TOKEN_PREFIX):
        raise InvalidCredentials()
    row = session.scalar(select(ApiToken).where(ApiToken.lookup_id == _lookup_id(token)))
    if row is None or row.revoked or not hmac.compare_digest(row.secret_hash, _secret_hash(token)):
        raise InvalidCredentials()
    account = session.get_one(Account, row.user_id)
    return principal_for(session, account, write=row.scope == Scope.WRITE.value, token_name=row.name)


def _lookup_id(token: str) -> str:
    return token[len(TOKEN_PREFIX) : len(TOKEN_PREFIX) + _LOOKUP_LEN]


def token_use_due(token: str) -> bool:
    """Whether this process should record a use of ``token`` (an authenticated one) now."""
    lookup_id, now = _lookup_id(token), time.monotonic()
    last = _use_recorded.get(lookup_id)
    if last is not None and now - last < _USE_RECORD_INTERVAL:
        return False
    _use_recorded[lookup_id] = now
    return True


def record_token_use(session: Session, token: str) -> None:
    session.execute(
        update(ApiToken).where(ApiToken.lookup_id == _lookup_id(token)).values(last_used_at=utcnow())
    )


def list_tokens(session: Session, user_id: int) -> list[ApiToken]:
    """A user's tokens that still work, newest first."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked.is_(False))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_token(session: Session, user_id: int, token_id: int) -> ApiToken:
    """Revoke one of the user's tokens for good; another user's token is "not found"."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user_id or row.revoked:
        raise NotFound("No such token: it may have been revoked already")
    row.revoked = True
    return row
