"""The policy texts bundled with tipaudit (``policy/texts/``), with what each one is.

For the demo and the console: every real text is public domain (US Code), every other text is
clearly labelled fictional. See ``policy/texts/README.md`` for provenance and hashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = ["BUNDLED_TEXTS", "BundledText", "bundled_path"]


@dataclass(frozen=True, slots=True)
class BundledText:
    """One bundled text: file name, title, policy type to check it as, and its origin."""

    file: str
    title: str
    policy_type: str
    jurisdiction: str
    fictional: bool
    source: str
    version_of: str | None = None


_USC = (
    "US Code, Title 22 (public domain), via codexstanford/markdonw-chunck-of-the-usa-code@66d0b20"
)

BUNDLED_TEXTS: tuple[BundledText, ...] = (
    BundledText("us-22usc7104-7104a-prevention-contracts-compliance-plan.md",
                "22 U.S.C. 7104 and 7104a: prevention of trafficking; contract conditions; "
                "compliance plan",
                "procurement_framework", "US", False, _USC),
    BundledText("us-22usc7106-tvpa-minimum-standards.md",
                "22 U.S.C. 7106: TVPA minimum standards for the elimination of trafficking",
                "other", "US", False, _USC),
    BundledText("us-22usc7102-tvpa-definitions.md", "22 U.S.C. 7102: TVPA definitions",
                "other", "US", False, _USC),
    BundledText("us-22usc2378d-leahy-law-security-forces.md",
                "22 U.S.C. 2378d: limitation on assistance to security forces (Leahy law)",
                "security_cooperation", "US", False, _USC),
    BundledText("us-22usc2370c-child-soldiers-prevention-act.md",
                "22 U.S.C. 2370c to 2370c-2: Child Soldiers Prevention Act",
                "security_cooperation", "US", False, _USC),
    BundledText("fictional-ruritania-labour-migration-regulation-2026.md",
                "Ruritania Overseas Employment Regulation 2026 (fictional)",
                "labour_migration_rule", "Ruritania (fictional)", True, "written for tipaudit"),
    BundledText("fictional-model-procurement-clause-v1.md",
                "Model Contract Clause on Forced Labour, version 1 (fictional)",
                "procurement_framework", "Ruritania (fictional)", True, "written for tipaudit"),
    BundledText("fictional-model-procurement-clause-v2.md",
                "Model Contract Clause on Forced Labour, version 2 (fictional)",
                "procurement_framework", "Ruritania (fictional)", True, "written for tipaudit",
                version_of="fictional-model-procurement-clause-v1.md"),
    BundledText("ficticio-reglamento-visados-temporeros.md",
                "Reglamento de visados para trabajo agrícola de temporada (ficticio, español)",
                "visa_scheme", "Ruritania (fictional)", True, "written for tipaudit"),
)  # fmt: skip


def bundled_path(file: str) -> Path:
    """Filesystem path of a bundled text (the package is installed as files)."""
    return Path(str(resources.files("tipaudit.policy") / "texts" / file))
