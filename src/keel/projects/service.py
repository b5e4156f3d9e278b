"""Projects and API keys: authentication, isolation and the bootstrap admin key.

Every read is scoped by the caller's principal: another project's object answers 404, exactly like one that
does not exist, so ids cannot be probed.
"""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.core.clock import as_utc, utcnow
from keel.core.errors import Conflict, InvalidInput, NotFound, Unauthorized
from keel.core.ids import new_id
from keel.core.pagination import Page, check_limit, decode_cursor, page_of
from keel.projects.auth_cache import PrincipalCache
from keel.projects.keys import KEY_SCHEME, generate_secret, hash_secret, prefix_of
from keel.projects.models import ApiKey, Project
from keel.projects.schemas import KeyCreate, ProjectCreate, ProjectUpdate

DEFAULT_PROJECT = "default"
BOOTSTRAP_KEY_NAME = "bootstrap"
_LAST_USED_RESOLUTION = timedelta(seconds=60)


def authenticate(session: Session, secret: str, cache: PrincipalCache | None = None) -> Principal:
    if not secret.startswith(KEY_SCHEME):
        raise Unauthorized("malformed API key: Keel keys start with 'keel_'")
    digest = hash_secret(secret)
    if cache is not None and (principal := cache.get(digest)) is not None:
        return principal
    key = session.scalar(select(ApiKey).where(ApiKey.secret_hash == digest))
    if key is None:
        raise Unauthorized("invalid API key")
    now = utcnow()
    if key.revoked_at is not None:
        raise Unauthorized(f"API key {key.prefix}… was revoked at {key.revoked_at.isoformat()}")
    if key.expires_at is not None and key.expires_at <= now:
        raise Unauthorized(f"API key {key.prefix}… expired at {key.expires_at.isoformat()}")
    if key.last_used_at is None or now - key.last_used_at > _LAST_USED_RESOLUTION:
        key.last_used_at = now
        session.commit()
    principal = Principal(key.id, key.project_id, Role(key.role), key.instance_admin)
    if cache is not None:
        cache.put(digest, principal, key.expires_at)
    return principal


def create_project(session: Session, principal: Principal, data: ProjectCreate) -> Project:
    principal.require_instance_admin("create projects")
    project = Project(id=new_id("prj"), name=data.name)
    session.add(project)
    _commit_unique(session, f"a project named {data.name!r} already exists")
    return project


def list_projects(session: Session, principal: Principal, cursor: str | None, limit: int) -> Page[Project]:
    query = select(Project).order_by(Project.id).limit(check_limit(limit) + 1)
    if after := decode_cursor(cursor):
        query = query.where(Project.id > after)
    if not principal.instance_admin:
        query = query.where(Project.id == principal.project_id)
    return page_of(list(session.scalars(query)), limit, lambda p: p.id)


def get_project(session: Session, principal: Principal, project_id: str) -> Project:
    principal.scope(project_id, "project", project_id)
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id!r} not found")
    return project


def rename_project(session: Session, principal: Principal, project_id: str, data: ProjectUpdate) -> Project:
    project = get_project(session, principal, project_id)
    principal.require(Role.admin)
    project.name = data.name
    _commit_unique(session, f"a project named {data.name!r} already exists")
    return project


def delete_project(session: Session, principal: Principal, project_id: str) -> None:
    project = get_project(session, principal, project_id)
    principal.require_instance_admin("delete projects")
    if project.id == principal.project_id:
        raise Conflict("a key cannot delete its own project; use a key from another project")
    session.delete(project)
    session.commit()


def create_key(session: Session, principal: Principal, data: KeyCreate) -> tuple[ApiKey, str]:
    project_id = data.project_id or principal.project_id
    get_project(session, principal, project_id)
    principal.require(Role.admin)
    expires_at = as_utc(data.expires_at) if data.expires_at else None
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput(f"expires_at {expires_at.isoformat()} is in the past")
    secret = generate_secret()
    key = ApiKey(
        id=new_id("key"),
        project_id=project_id,
        name=data.name,
        role=data.role.value,
        prefix=prefix_of(secret),
        secret_hash=hash_secret(secret),
        expires_at=expires_at,
    )
    session.add(key)
    session.commit()
    return key, secret


def list_keys(
    session: Session, principal: Principal, project_id: str | None, cursor: str | None, limit: int
) -> Page[ApiKey]:
    project_id = project_id or principal.project_id
    get_project(session, principal, project_id)
    query = select(ApiKey).where(ApiKey.project_id == project_id).order_by(ApiKey.id)
    if after := decode_cursor(cursor):
        query = query.where(ApiKey.id > after)
    return page_of(list(session.scalars(query.limit(check_limit(limit) + 1))), limit, lambda k: k.id)


def get_key(session: Session, principal: Principal, key_id: str) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None or not principal.can_see(key.project_id):
        raise NotFound(f"key {key_id!r} not found")
    return key


def revoke_key(session: Session, principal: Principal, key_id: str) -> ApiKey:
    key = get_key(session, principal, key_id)
    principal.require(Role.admin)
    if key.instance_admin and not principal.instance_admin:
        raise NotFound(f"key {key_id!r} not found")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.commit()
    return key


def ensure_bootstrap_key(session: Session, configured: str | None, on_disk: str | None) -> str | None:
    """Make sure an instance-admin key exists. Returns a newly generated secret, or None.

    A configured `KEEL_ADMIN_KEY` wins and retires any other bootstrap key; otherwise the key from
    `admin.key` is kept; otherwise, if the store has no live instance-admin key, a new one is generated.
    """
    project = session.scalar(select(Project).where(Project.name == DEFAULT_PROJECT))
    if project is None:
        project = Project(id=new_id("prj"), name=DEFAULT_PROJECT)
        session.add(project)
        session.flush()
    live = [
        key
        for key in session.scalars(select(ApiKey).where(ApiKey.instance_admin, ApiKey.revoked_at.is_(None)))
        if key.name == BOOTSTRAP_KEY_NAME
    ]
    wanted, generated = configured or on_disk, None
    if wanted is None:
        if live:
            session.commit()
            return None
        wanted = generated = generate_secret()
    if not wanted.startswith(KEY_SCHEME):
        raise InvalidInput("KEEL_ADMIN_KEY must start with 'keel_' (make one with `keel keys generate`)")
    digest = hash_secret(wanted)
    existing = session.scalar(select(ApiKey).where(ApiKey.secret_hash == digest))
    if existing is not None and (existing.revoked_at is not None or not existing.instance_admin):
        raise InvalidInput(
            "the configured admin key was revoked or is not an admin key; set a new KEEL_ADMIN_KEY"
        )
    for key in live:
        if key.secret_hash != digest:
            key.revoked_at = utcnow()
    if existing is None:
        session.add(
            ApiKey(
                id=new_id("key"),
                project_id=project.id,
                name=BOOTSTRAP_KEY_NAME,
                role=Role.admin.value,
                prefix=prefix_of(wanted),
                secret_hash=digest,
                instance_admin=True,
            )
        )
    session.commit()
    return generated


def _commit_unique(session: Session, message: str) -> None:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(message) from None
