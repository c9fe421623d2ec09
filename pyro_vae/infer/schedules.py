"""Small composable schedules: a schedule maps a training step to a float.

Objectives hold schedules for their weights (beta, capacity, warm-up) and
evaluate them at their own training-step counter, which only
:meth:`~pyro_vae.infer.base.PerExampleLoss.loss_and_grads` (what
``SVI.step`` calls) advances; evaluation never moves it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@runtime_checkable
class Schedule(Protocol):
    """Anything callable as ``schedule(step) -> float``."""

    def __call__(self, step: int) -> float: ...


@dataclass(frozen=True)
class Constant:
    """The same value at every step."""

    value: float

    def __call__(self, step: int) -> float:
        return self.value


@dataclass(frozen=True)
class Linear:
    """Linear ramp from ``start`` to ``end`` over ``steps`` steps after ``delay``.

    ``value(s) = start + (end - start) * clip((s - delay) / steps, 0, 1)``.
    This is the capacity schedule of Burgess et al. 2018 (C from 0 to C_max)
    and the KL warm-up of Sonderby et al. 2016 (beta from near 0 to 1).

    Example::

        >>> from pyro_vae.infer import Linear
        >>> capacity = Linear(0.0, 25.0, steps=100, delay=10)
        >>> [capacity(step) for step in (0, 10, 60, 110, 1000)]
        [0.0, 0.0, 12.5, 25.0, 25.0]
    """

    start: float
    end: float
    steps: int
    delay: int = 0

    def __post_init__(self) -> None:
        if self.steps <= 0:
            raise ValueError(f"a Linear schedule needs steps > 0, got {self.steps}")
        if self.delay < 0:
            raise ValueError(f"a Linear schedule needs delay >= 0, got {self.delay}")

    def __call__(self, step: int) -> float:
        frac = min(max((step - self.delay) / self.steps, 0.0), 1.0)
        return self.start + (self.end - self.start) * frac


@dataclass(frozen=True)
class Cyclical:
    """Cyclical annealing (Fu et al. 2019): within each cycle of ``period``
    steps, ramp linearly from ``start`` to ``end`` over the first ``ratio`` of
    the cycle, then hold ``end``.

    Example::

        >>> from pyro_vae.infer import Cyclical
        >>> beta = Cyclical(0.0, 1.0, period=10, ratio=0.5)
        >>> [beta(step) for step in (0, 2, 5, 9, 10, 12)]
        [0.0, 0.4, 1.0, 1.0, 0.0, 0.4]
    """

    start: float
    end: float
    period: int
    ratio: float = 0.5

    def __post_init__(self) -> None:
        if self.period <= 0 or not 0 < self.ratio <= 1:
            raise ValueError("Cyclical needs period > 0 and 0 < ratio <= 1")

    def __call__(self, step: int) -> float:
        phase = (step % self.period) / (self.period * self.ratio)
        return self.start + (self.end - self.start) * min(phase, 1.0)


def as_schedule(value: float | Schedule, name: str = "value", minimum: float | None = None):
    """Wrap a number as :class:`Constant`; check it against ``minimum``.

    :raises ValueError: a number below ``minimum`` or not finite.
    :raises TypeError: neither a number nor a callable.
    """
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value}")
        if minimum is not None and value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
        return Constant(float(value))
    if callable(value):
        return value
    raise TypeError(
        f"{name} must be a number or a schedule (callable step -> float), got {value!r}"
    )
