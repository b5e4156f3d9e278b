"""Who is calling: the principal every service function receives, and what each role may do.

Roles are ordered: viewer reads, member also writes project data, admin also manages the project's keys.
An instance admin (the bootstrap key) may act in every project.
"""

from dataclasses import dataclass
from enum import StrEnum

from keel.core.errors import Forbidden, NotFound


class Role(StrEnum):
    viewer = "viewer"
    member = "member"
    admin = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


@dataclass(frozen=True)
class Principal:
    key_id: str
    project_id: str
    role: Role
    instance_admin: bool = False

    def require(self, role: Role) -> None:
        if not self.instance_admin and self.role.rank < role.rank:
            raise Forbidden(f"this needs the {role.value} role; the key has {self.role.value}")

    def can_see(self, project_id: str) -> bool:
        return self.instance_admin or project_id == self.project_id

    def scope(self, project_id: str, what: str, ident: str) -> None:
        """Raise 404, not 403, for another project's object so ids cannot be probed."""
        if not self.can_see(project_id):
            raise NotFound(f"{what} {ident!r} not found")

    def require_instance_admin(self, action: str) -> None:
        if not self.instance_admin:
            raise Forbidden(f"only an instance admin key can {action}")
