"""Shared code of the Prakerja platform: domain rules, services and adapters.

Nothing in this package knows about Lambda events; handlers in ``functions/`` translate.
It ships to Lambda as the ``shared`` layer.
"""

__version__ = "0.1.0"
