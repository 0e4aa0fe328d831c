"""Screening people and organisations against watchlists, with every match explained.

The matching core: :mod:`.names` normalises names in any script, :mod:`.model` holds list
entities and queries, :mod:`.index` retrieves candidates without scanning the list,
:mod:`.scoring` scores them feature by feature and :mod:`.evaluate` measures the result.
See ``docs/entity-matching.md``.
"""

from tipaudit.screening.index import Candidate, MatchIndex
from tipaudit.screening.model import ListEntity, Query, normalise_date, normalise_identifier
from tipaudit.screening.names import NormalisedName, normalise_name
from tipaudit.screening.scoring import (
    DEFAULT_THRESHOLD,
    FEATURES,
    FeatureResult,
    Match,
    Scorer,
    score_candidates,
    screen,
    screen_many,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "FEATURES",
    "Candidate",
    "FeatureResult",
    "ListEntity",
    "Match",
    "MatchIndex",
    "NormalisedName",
    "Query",
    "Scorer",
    "normalise_date",
    "normalise_identifier",
    "normalise_name",
    "score_candidates",
    "screen",
    "screen_many",
]
