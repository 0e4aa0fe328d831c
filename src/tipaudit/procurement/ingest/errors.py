"""Errors of the OCDS ingest: all are :class:`tipaudit.errors.ValidationError` (HTTP 422)."""

from __future__ import annotations

from tipaudit.errors import ValidationError

__all__ = ["InputNotFoundError", "OCDSInputError", "UnreadableInputError"]


class OCDSInputError(ValidationError):
    """Base of the errors about OCDS input files."""

    code = "ocds_input_error"


class InputNotFoundError(OCDSInputError):
    """A path given to the ingest does not exist or is neither a file nor a folder."""

    code = "ocds_input_not_found"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class UnreadableInputError(OCDSInputError):
    """Input that cannot be read as OCDS: broken JSON, bad bytes, no ``ocid``, an empty file.

    ``file`` is the path as given, ``index`` says which value (e.g. ``document 3`` or
    ``document 1, releases[17]``) and ``position`` where in the file (line and byte offset of
    the decompressed stream, when known).
    """

    code = "unreadable_ocds_input"

    def __init__(self, file: str, index: str, position: str, reason: str) -> None:
        where = f"{index}, {position}" if position else index
        super().__init__(
            f"{file}: {where}: {reason}",
            hint='Fix or remove the input, or ingest with on_error="skip" to skip and list it.',
        )
        self.file = file
        self.index = index
        self.position = position
        self.reason = reason
