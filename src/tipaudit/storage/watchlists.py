"""Tables of the watchlists: lists, their imported versions, and their entries with history.

An entry is never deleted: when a new version of a list no longer has it, the entry is marked
``removed_in_version_id``; when it comes back, the mark is cleared. ``content_hash`` is a
SHA-256 of the entry's matching content, so a re-import can tell changed entries apart.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tipaudit.storage.models import Base


class Watchlist(Base):
    """A list screened against: a sanctions or debarment list, an allegations register, a sample."""

    __tablename__ = "watchlists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(Text, default="")
    licence: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[str] = mapped_column(String(20))  # watchlist | allegations | sample
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WatchlistVersion(Base):
    """One import of a list file, with what it changed against the version before."""

    __tablename__ = "watchlist_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    watchlist_id: Mapped[int] = mapped_column(ForeignKey("watchlists.id"), index=True)
    version_date: Mapped[date] = mapped_column(Date)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    imported_by: Mapped[str] = mapped_column(String(120))
    file_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(Integer)
    added: Mapped[int] = mapped_column(Integer)
    changed: Mapped[int] = mapped_column(Integer)
    removed: Mapped[int] = mapped_column(Integer)


class WatchlistEntry(Base):
    """A person or body on a list, as of the newest version that had it."""

    __tablename__ = "watchlist_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    watchlist_id: Mapped[int] = mapped_column(ForeignKey("watchlists.id"))
    entity_id: Mapped[str] = mapped_column(String(200))
    schema: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(Text)
    aliases: Mapped[list[Any]] = mapped_column(JSON)
    countries: Mapped[list[Any]] = mapped_column(JSON)
    identifiers: Mapped[list[Any]] = mapped_column(JSON)
    birth_dates: Mapped[list[Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")
    source_url: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    first_version_id: Mapped[int] = mapped_column(ForeignKey("watchlist_versions.id"))
    last_version_id: Mapped[int] = mapped_column(ForeignKey("watchlist_versions.id"))
    removed_in_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("watchlist_versions.id"), nullable=True
    )

    __table_args__ = (UniqueConstraint("watchlist_id", "entity_id"),)
