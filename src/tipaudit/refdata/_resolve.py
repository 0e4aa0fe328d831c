"""Country names as published → ISO 3166-1 alpha-3, all at once, never guessing."""

from __future__ import annotations

from collections.abc import Iterable

from tipaudit.core.countries import get_country, resolve_country
from tipaudit.errors import NotFoundError, ValidationError
from tipaudit.refdata._io import join_limited


def resolve_names(names: Iterable[str], *, origin: str) -> dict[str, str]:
    """Map every distinct published name to its alpha-3 code.

    Raises one :class:`ValidationError` listing every name that does not resolve, so a publisher
    file is fixed (or the country table extended) in one pass.
    """
    resolved: dict[str, str] = {}
    unresolved: dict[str, str] = {}
    for name in sorted(set(names)):
        result = resolve_country(name)
        if result.ok and result.country is not None:
            resolved[name] = result.country.alpha3
        else:
            unresolved[name] = result.reason or "unknown"
    if unresolved:
        listed = join_limited(f"{name!r} ({reason})" for name, reason in unresolved.items())
        raise ValidationError(
            f"{origin}: {len(unresolved)} country name(s) could not be resolved to an ISO 3166 "
            f"code: {listed}"
        )
    return resolved


def alpha3_of(code: str) -> str | None:
    """The alpha-3 code for an ISO code (alpha-2, alpha-3 or numeric), or ``None``."""
    try:
        return get_country(code).alpha3
    except NotFoundError:
        return None
