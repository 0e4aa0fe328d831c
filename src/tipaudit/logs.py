"""Logging set-up for the server and the CLI.

tipaudit never logs identifying request data: the web layer logs the route template, status
and duration only (no client address, user agent, query string or body), and the uvicorn
access log is off. Configure once, at an entry point.
"""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str = "INFO") -> None:
    """Send tipaudit's log records to stderr at ``level`` (idempotent)."""
    logger = logging.getLogger("tipaudit")
    logger.setLevel(level.upper())
    if not any(getattr(h, "_tipaudit", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._tipaudit = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.propagate = False
