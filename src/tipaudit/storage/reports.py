"""Tables of public abuse reports: encrypted reports, receipts, messages, attachments and review."""

from __future__ import annotations

from tipaudit.storage.models import Base

__all__ = ["Base"]
