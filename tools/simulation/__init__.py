"""A whole program cycle through the real API and workflows (`make demo`): see __main__.py."""

import sys
from pathlib import Path

# The report names provinces as the shared layer does (the layer is not an installed package).
_SHARED_LAYER = str(Path(__file__).resolve().parents[2] / "layers" / "shared")
if _SHARED_LAYER not in sys.path:
    sys.path.insert(0, _SHARED_LAYER)
