"""Phone numbers as people type them into the API and the CLI: the workers' one reading of them
(admin commands read a typed number the same way when they apply)."""

from __future__ import annotations

from workers.domain.typed_phone import canonical_phone

__all__ = ["canonical_phone"]
