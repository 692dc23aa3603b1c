"""Patterns over uncertainty names (``not_sampled``, ``sample_together``, ablations)."""

from __future__ import annotations

import re


def name_pattern(pattern: str) -> re.Pattern[str]:
    """An uncertainty-name pattern: ``*`` matches any run of characters, all else is literal."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))
