"""Application services: use cases built on storage and the domain packages.

Services are constructed from :class:`tipaudit.settings.Settings` and a
:class:`tipaudit.storage.db.Database`; the CLI and the web layer call them, never storage
directly.
"""
