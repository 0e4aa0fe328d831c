"""Tables of policy review: the policy register, versions, assessments and their answers."""

from __future__ import annotations

from tipaudit.storage.models import Base

__all__ = ["Base"]
