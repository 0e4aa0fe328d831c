"""tipaudit: test a government's own procurement, partners and policies for trafficking risk.

The public Python API is re-exported here as it grows; everything else is internal.
"""

from tipaudit.errors import TipAuditError
from tipaudit.settings import Settings

__all__ = ["Settings", "TipAuditError", "__version__"]

__version__ = "0.1.0"
