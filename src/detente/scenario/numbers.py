"""Numbers that may be uncertain, and where they come from.

A scenario number is either a plain float or an :class:`Uncertain` mapping such as
``{low: 40, mode: 55, high: 70, source: "BACKLASH: conservatives still dominate"}``. The
experiments sample every number that carries a range; the engines use its nominal value.
Provenance is either ``source`` (a section of the article plus a short phrase) or
``judgment`` (analyst judgment with a one-line reason).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, TypeAlias

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

Distribution = Literal["triangular", "uniform", "normal", "lognormal"]


class Strict(BaseModel):
    """Base model: unknown keys are errors, so a typo never passes silently.

    ``allow_inf_nan=False`` makes every float field refuse ``inf``/``nan`` however they are
    written (``.inf``, ``inf``, ``Infinity``, ``NaN``), so no non-finite number gets past
    validation into the engines or into JSON output.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )


class Provenance(Strict):
    """Where a judgmental element comes from (at most one of ``source``/``judgment``)."""

    source: str | None = Field(
        default=None, description="Article section heading and a short phrase locating the claim."
    )
    judgment: str | None = Field(
        default=None, description="Analyst judgment: a one-line reason for the choice."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Provenance:
        if self.source is not None and self.judgment is not None:
            raise ValueError("give either 'source' or 'judgment', not both")
        for name in ("source", "judgment"):
            text = getattr(self, name)
            if text is not None and not text.strip():
                raise ValueError(f"'{name}' must not be empty")
        return self

    @property
    def has_provenance(self) -> bool:
        """True when a source or a judgment is given."""
        return self.source is not None or self.judgment is not None

    @property
    def provenance_text(self) -> str:
        """A one-line description for reports."""
        if self.source is not None:
            return f"source: {self.source}"
        if self.judgment is not None:
            return f"analyst judgment: {self.judgment}"
        return "no provenance"


def _finite(value: float, name: str) -> None:
    if not math.isfinite(value):
        raise ValueError(f"'{name}' must be a finite number, got {value}")


class Uncertain(Provenance):
    """A number known only within a range.

    Give ``value`` alone for a point with provenance, ``low``/``high`` for a uniform range,
    ``low``/``mode``/``high`` for a triangular distribution, or ``mean``/``sd`` (with optional
    ``low``/``high`` truncation) for a normal one. The nominal value the engines use is the
    ``mode``, else ``value``, else ``mean``, else the midpoint of the range.
    """

    value: float | None = None
    low: float | None = None
    mode: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: float | None = None
    dist: Distribution | None = Field(default=None, description="Defaults from the keys given.")

    @model_validator(mode="after")
    def _check(self) -> Uncertain:
        for name in ("value", "low", "mode", "high", "mean", "sd"):
            v = getattr(self, name)
            if v is not None:
                _finite(v, name)
        if (self.low is None) != (self.high is None) and self.mean is None:
            raise ValueError("a range needs both 'low' and 'high'")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"'low' ({self.low}) must not exceed 'high' ({self.high})")
        if (
            self.mode is not None
            and self.low is not None
            and self.high is not None
            and not self.low <= self.mode <= self.high
        ):
            raise ValueError(
                f"'mode' ({self.mode}) must lie between low ({self.low}) and high ({self.high})"
            )
        if self.mode is not None and self.low is None:
            raise ValueError("'mode' needs 'low' and 'high'")
        if self.sd is not None and self.sd < 0:
            raise ValueError(f"'sd' must be >= 0, got {self.sd}")
        if (self.mean is None) != (self.sd is None):
            raise ValueError("a normal distribution needs both 'mean' and 'sd'")
        if self.value is None and self.low is None and self.mean is None:
            raise ValueError("give 'value', a range ('low'/'high'), or 'mean'/'sd'")
        if (
            self.value is not None
            and self.low is not None
            and self.high is not None
            and not self.low <= self.value <= self.high
        ):
            raise ValueError(
                f"'value' ({self.value}) must lie between low ({self.low}) and high ({self.high})"
            )
        return self

    @property
    def distribution(self) -> Distribution | None:
        """The sampling distribution, or ``None`` for a fixed point."""
        if self.dist is not None:
            return self.dist
        if self.mean is not None:
            return "normal"
        if self.mode is not None:
            return "triangular"
        if self.low is not None and self.high is not None and self.low < self.high:
            return "uniform"
        return None

    @property
    def nominal(self) -> float:
        """The value used when the number is not being sampled."""
        for v in (self.mode, self.value, self.mean):
            if v is not None:
                return v
        assert self.low is not None and self.high is not None
        return 0.5 * (self.low + self.high)

    @property
    def is_range(self) -> bool:
        """True when the number has a spread that experiments can sample."""
        return self.distribution is not None and (
            (self.low is not None and self.high is not None and self.low < self.high)
            or (self.sd is not None and self.sd > 0)
        )

    def bounds(self) -> tuple[float, float]:
        """The interval an experiment samples (normal: mean +/- 3 sd unless truncated)."""
        if self.low is not None and self.high is not None:
            return self.low, self.high
        if self.mean is not None and self.sd is not None:
            return self.mean - 3 * self.sd, self.mean + 3 * self.sd
        return self.nominal, self.nominal


def _reject_non_finite(value: object) -> object:
    """Refuse booleans and non-finite numbers, also when YAML left them as words (``inf``)."""
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    number = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value  # not a number at all: the union reports what was expected
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {value}")
    return value


Number: TypeAlias = Annotated[float | Uncertain, BeforeValidator(_reject_non_finite)]
"""A plain finite float or an :class:`Uncertain` mapping."""


def nominal(x: float | Uncertain) -> float:
    """The nominal value of a scenario number."""
    return x.nominal if isinstance(x, Uncertain) else float(x)


def span(x: float | Uncertain) -> tuple[float, float]:
    """The smallest and largest value a scenario number can take."""
    if isinstance(x, Uncertain):
        return x.bounds()
    return float(x), float(x)
