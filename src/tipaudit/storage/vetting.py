"""Tables of entity vetting: match decisions, allegations, the support register, vetting cases."""

from __future__ import annotations

from tipaudit.storage.models import Base

__all__ = ["Base"]
