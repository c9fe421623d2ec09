r"""The pendulum scene of CausalVAE (Yang et al. 2021, Sec. 5.1), generated
procedurally with NumPy.

Scene (in scene units, following the geometry of the CausalVAE repository's
``causal_data/pendulum.py``): the viewport is :math:`x \in [0, 20]`,
:math:`y \in [-1, 21]`; a rod hangs from the pivot :math:`P = (10, 10.5)` at
angle :math:`\theta` from the vertical, carrying a ball of radius 1.5 centred
8 from the pivot; a light of radius 3 sits at height 20.5 on the line of
angle :math:`\phi` through the pivot; parallel rays of angle :math:`\phi`
project the pivot and the ball's far end (9.5 from the pivot) onto the ground
:math:`y = -0.5`, and the shadow is the segment between the projections,
drawn at least 3 long. With :math:`\pi(x, y) = x + (-0.5 - y) / \tan\phi`:

.. math::

    \text{shadow length} = \max\Big(3,\; 9.5\,\frac{|\cos(\theta - \phi)|}{\sin\phi}\Big),
    \qquad
    \text{shadow position} = \tfrac12\big[\pi(P) + \pi(P + 9.5(\sin\theta, -\cos\theta))\big].

Concepts (``factor_names``, in this order):

* ``pendulum_angle`` :math:`\theta = i\pi/200`, ``i`` in ``-40..43`` (84 values) -- **free**;
* ``light_angle`` :math:`\phi = j\pi/200`, ``j`` in ``60..147`` except 100
  (:math:`\tan\phi` is infinite there; 87 values) -- **free**;
* ``shadow_length`` -- **caused** by both angles;
* ``shadow_position`` -- **caused** by both angles.

The true graph (:attr:`Pendulum.causal_graph`, ``G[j, i] = 1`` for ``j -> i``):
pendulum angle -> shadow length, pendulum angle -> shadow position, light
angle -> shadow length, light angle -> shadow position.

The dataset is the grid of the two free factors (7308 scenes, like the
original); every fifth scene in grid order (``i``-major) is in the test
split, as in the original generator. Factor classes: the grid indices of the
free factors; for a caused factor the rank of its value among the distinct
values over the grid (so ``factor_sizes`` counts those values).
``observations_from_factors`` renders from the free factors and refuses
caused classes that do not match them (a caused factor cannot be set on its
own: samplers that fix one factor and redraw the others do not apply).

Rendering: RGB on white, the rod and shadow black, the ball firebrick, the
light orange, anti-aliased from signed distances; the viewport fills the
image (the original leaves matplotlib's margins). Items are
``(x, factors, u)``: the image ``(3, S, S)`` in [0, 1], the ``(4,)`` int64
factor classes, and the ``(4,)`` float32 concept labels normalized to
[0, 1] by the range of each concept over the grid (raw values in radians and
scene units: :meth:`Pendulum.raw_concepts`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from pyro_vae.data.base import GroundTruthDataset
from pyro_vae.data.registry import register_dataset

#: the original generator's angle grids (units of pi / 200)
THETA_STEPS = np.arange(-40, 44)
PHI_STEPS = np.array([j for j in range(60, 148) if j != 100])

PIVOT = (10.0, 10.5)
ROD_LENGTH = 8.0
BALL_RADIUS = 1.5
SHADOW_REACH = 9.5  # pivot to the ball's far end
LIGHT_HEIGHT = 20.5
LIGHT_RADIUS = 3.0
GROUND = -0.5
MIN_SHADOW = 3.0
VIEW_X = (0.0, 20.0)
VIEW_Y = (-1.0, 21.0)
#: line width of the rod and the shadow, in horizontal scene units
LINE_WIDTH = 0.9

COLORS = {
    "rod": (0.0, 0.0, 0.0),
    "ball": (178 / 255, 34 / 255, 34 / 255),  # firebrick
    "light": (1.0, 165 / 255, 0.0),  # orange
    "shadow": (0.0, 0.0, 0.0),
}


def _project(x: np.ndarray, y: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Where the ray of angle ``phi`` through ``(x, y)`` meets the ground."""
    return x + (GROUND - y) / np.tan(phi)


def scene_geometry(theta: np.ndarray, phi: np.ndarray) -> dict[str, np.ndarray]:
    """Positions of every object for angles ``theta``, ``phi`` (radians).

    :returns: ``ball_x``, ``ball_y`` (ball centre), ``light_x`` (light centre,
        at height 20.5), ``shadow_length``, ``shadow_position`` (centre of the
        shadow segment), arrays shaped like the broadcast angles.
    """
    theta, phi = np.broadcast_arrays(np.asarray(theta, float), np.asarray(phi, float))
    px, py = PIVOT
    tip_x = px + SHADOW_REACH * np.sin(theta)
    tip_y = py - SHADOW_REACH * np.cos(theta)
    start, end = _project(px, py, phi), _project(tip_x, tip_y, phi)
    return {
        "ball_x": px + ROD_LENGTH * np.sin(theta),
        "ball_y": py - ROD_LENGTH * np.cos(theta),
        "light_x": px + (LIGHT_HEIGHT - py) / np.tan(phi),
        "shadow_length": np.maximum(MIN_SHADOW, np.abs(end - start)),
        "shadow_position": 0.5 * (start + end),
    }


def _coverage(distance: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage of a pixel from its signed distance (pixels) to an edge."""
    return np.clip(0.5 - distance, 0.0, 1.0, out=distance)


class _Canvas:
    """Pixel geometry of the viewport: pixel centres in scene units, per row band."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.sx = size / (VIEW_X[1] - VIEW_X[0])  # pixels per scene unit
        self.sy = size / (VIEW_Y[1] - VIEW_Y[0])
        self.centers = np.arange(size, dtype=np.float32) + 0.5

    def px(self, x) -> np.ndarray:
        """Scene x -> pixel column coordinate, ``(n, 1, 1)``."""
        return ((np.asarray(x, np.float32) - VIEW_X[0]) * self.sx).reshape(-1, 1, 1)

    def py(self, y) -> np.ndarray:
        """Scene y -> pixel row coordinate (row 0 at the top), ``(n, 1, 1)``."""
        return ((VIEW_Y[1] - np.asarray(y, np.float32)) * self.sy).reshape(-1, 1, 1)

    def rows(self, y_high: float, y_low: float) -> slice:
        """The rows that can hold anything between scene heights ``y_low..y_high``."""
        top = int(np.floor((VIEW_Y[1] - y_high) * self.sy)) - 2
        bottom = int(np.ceil((VIEW_Y[1] - y_low) * self.sy)) + 2
        return slice(max(top, 0), min(bottom, self.size))


def _ellipse(canvas: _Canvas, band: slice, cx, cy, rx: float, ry: float) -> np.ndarray:
    """Coverage ``(n, rows, W)`` of ellipses centred ``(cx, cy)`` (pixels), radii in pixels
    (the signed distance is approximated by the scaled radial distance)."""
    dx2 = ((canvas.centers[None, None, :] - cx) / rx) ** 2
    dy2 = ((canvas.centers[band][None, :, None] - cy) / ry) ** 2
    r = np.sqrt(dx2 + dy2)
    return _coverage((r - 1.0) * min(rx, ry))


def _segment(canvas: _Canvas, band: slice, ax, ay, bx, by, half_width: float) -> np.ndarray:
    """Coverage ``(n, rows, W)`` of thick segments ``a-b`` (pixel coordinates, ``(n, 1, 1)``)."""
    cols = canvas.centers[None, None, :]
    rows = canvas.centers[band][None, :, None]
    dx, dy = bx - ax, by - ay
    length2 = np.maximum(dx * dx + dy * dy, 1e-12)
    t = (cols - ax) * (dx / length2) + (rows - ay) * (dy / length2)
    np.clip(t, 0.0, 1.0, out=t)
    ex = (cols - ax) - t * dx
    ey = (rows - ay) - t * dy
    return _coverage(np.sqrt(ex * ex + ey * ey) - half_width)


def render(theta: np.ndarray, phi: np.ndarray, image_size: int = 96) -> np.ndarray:
    """Render pendulum scenes.

    :param theta: ``(n,)`` pendulum angles (radians).
    :param phi: ``(n,)`` light angles (radians, not pi/2).
    :param int image_size: height = width in pixels.
    :returns: ``(n, 3, image_size, image_size)`` float32 in [0, 1].
    """
    theta = np.atleast_1d(np.asarray(theta, np.float64))
    phi = np.atleast_1d(np.asarray(phi, np.float64))
    g = scene_geometry(theta, phi)
    canvas = _Canvas(int(image_size))
    half_width = 0.5 * LINE_WIDTH * canvas.sx
    pivot_x, pivot_y = canvas.px(PIVOT[0]), canvas.py(PIVOT[1])
    ball_x, ball_y = canvas.px(g["ball_x"]), canvas.py(g["ball_y"])
    low = g["shadow_position"] - 0.5 * g["shadow_length"]
    high = g["shadow_position"] + 0.5 * g["shadow_length"]
    ground = canvas.py(np.full(len(theta), GROUND))
    # each object only on the rows it can reach, in the original's drawing order
    pendulum_rows = canvas.rows(PIVOT[1] + LINE_WIDTH, PIVOT[1] - SHADOW_REACH)
    light_rows = canvas.rows(LIGHT_HEIGHT + LIGHT_RADIUS, LIGHT_HEIGHT - LIGHT_RADIUS)
    shadow_rows = canvas.rows(GROUND + LINE_WIDTH, GROUND - LINE_WIDTH)
    layers = [
        (
            "rod",
            pendulum_rows,
            _segment(canvas, pendulum_rows, pivot_x, pivot_y, ball_x, ball_y, half_width),
        ),
        (
            "ball",
            pendulum_rows,
            _ellipse(
                canvas,
                pendulum_rows,
                ball_x,
                ball_y,
                BALL_RADIUS * canvas.sx,
                BALL_RADIUS * canvas.sy,
            ),
        ),
        (
            "light",
            light_rows,
            _ellipse(
                canvas,
                light_rows,
                canvas.px(g["light_x"]),
                canvas.py(np.full(len(theta), LIGHT_HEIGHT)),
                LIGHT_RADIUS * canvas.sx,
                LIGHT_RADIUS * canvas.sy,
            ),
        ),
        (
            "shadow",
            shadow_rows,
            _segment(
                canvas, shadow_rows, canvas.px(low), ground, canvas.px(high), ground, half_width
            ),
        ),
    ]
    size = canvas.size
    image = np.ones((len(theta), 3, size, size), dtype=np.float32)
    for name, band, cover in layers:
        cover = cover[:, None]
        color = np.asarray(COLORS[name], np.float32).reshape(1, 3, 1, 1)
        region = image[:, :, band]
        region -= cover * (region - color)
    return image


class Pendulum(GroundTruthDataset):
    """The CausalVAE pendulum dataset (see the module docs).

    :param str split: ``"train"`` (4/5 of the grid), ``"test"`` or ``"all"``.
    :param int image_size: height = width of the images (default 96, as the paper).
    """

    factor_names = ("pendulum_angle", "light_angle", "shadow_length", "shadow_position")
    free_factors = ("pendulum_angle", "light_angle")
    caused_factors = ("shadow_length", "shadow_position")
    #: ``causal_graph[j, i] = 1`` for an edge ``j -> i`` between the concepts
    causal_graph = np.array(
        [[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0]], dtype=np.int64
    )
    default_likelihood = "bernoulli"
    SPLITS = ("train", "test", "all")

    def __init__(self, split: str = "train", image_size: int = 96) -> None:
        if split not in self.SPLITS:
            raise ValueError(f"split must be one of {self.SPLITS}, got {split!r}")
        if int(image_size) < 8:
            raise ValueError(f"image_size must be at least 8 pixels, got {image_size}")
        self.split = split
        self.image_size = int(image_size)
        self.observation_shape = (3, self.image_size, self.image_size)
        grid_i, grid_j = np.meshgrid(
            np.arange(len(THETA_STEPS)), np.arange(len(PHI_STEPS)), indexing="ij"
        )
        free = np.stack([grid_i.ravel(), grid_j.ravel()], axis=1)
        raw = self._raw_from_free(free)
        # classes of the caused factors: ranks among their distinct values on the grid
        self._caused_values = [np.unique(np.round(raw[:, k], 9)) for k in (2, 3)]
        self.factor_sizes = (
            len(THETA_STEPS),
            len(PHI_STEPS),
            *(len(v) for v in self._caused_values),
        )
        self._low = raw.min(axis=0)
        self._span = raw.max(axis=0) - self._low
        position = np.arange(len(free))
        keep = {
            "train": position % 5 != 4,
            "test": position % 5 == 4,
            "all": np.ones(len(free), bool),
        }[split]
        self._free = free[keep]
        self._factors = self._complete(self._free, raw[keep])
        self._raw = raw[keep]

    # ----------------------------------------------------------- concepts
    @staticmethod
    def angles(free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(theta, phi)`` in radians for free-factor classes ``(n, 2)``."""
        free = np.asarray(free, dtype=np.int64)
        return THETA_STEPS[free[:, 0]] * math.pi / 200, PHI_STEPS[free[:, 1]] * math.pi / 200

    def _raw_from_free(self, free: np.ndarray) -> np.ndarray:
        theta, phi = self.angles(free)
        g = scene_geometry(theta, phi)
        return np.stack([theta, phi, g["shadow_length"], g["shadow_position"]], axis=1)

    def _complete(self, free: np.ndarray, raw: np.ndarray) -> np.ndarray:
        caused = [
            np.searchsorted(values, np.round(raw[:, k], 9))
            for values, k in zip(self._caused_values, (2, 3), strict=True)
        ]
        return np.stack([free[:, 0], free[:, 1], *caused], axis=1).astype(np.int64)

    def raw_concepts(self, factors: np.ndarray) -> np.ndarray:
        """Raw concept values ``(n, 4)`` float64 of factor classes: the two angles
        in radians, the shadow's length and centre in scene units."""
        factors = self._check_factors(factors)
        return self._raw_from_free(factors[:, :2])

    def normalize(self, raw: np.ndarray) -> np.ndarray:
        """Raw concept values -> [0, 1] by each concept's range over the grid."""
        return ((np.asarray(raw) - self._low) / self._span).astype(np.float32)

    def concepts(self, factors: np.ndarray) -> np.ndarray:
        """Normalized concept labels ``u`` ``(n, 4)`` float32 of factor classes."""
        return self.normalize(self.raw_concepts(factors))

    @property
    def labels(self) -> np.ndarray:
        """Normalized labels of every item of the split, ``(len, 4)`` float32."""
        return self.normalize(self._raw)

    @property
    def raw_labels(self) -> np.ndarray:
        """Raw labels of every item of the split, ``(len, 4)`` float64."""
        return self._raw.copy()

    # ----------------------------------------------------------- protocol
    def __len__(self) -> int:
        return len(self._factors)

    def _check_factors(self, factors: np.ndarray) -> np.ndarray:
        factors = super()._check_factors(factors)  # shape and class ranges
        expected = self._complete(factors[:, :2], self._raw_from_free(factors[:, :2]))
        wrong = expected[:, 2:] != factors[:, 2:]
        if wrong.any():
            row, k = np.argwhere(wrong)[0]
            name = self.caused_factors[k]
            raise ValueError(
                f"{name} is caused by the pendulum and light angles: for those angles its "
                f"class is {expected[row, 2 + k]}, not {factors[row, 2 + k]}; a caused "
                "factor cannot be set on its own (draw factors with sample_factors)"
            )
        return factors

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` scenes of the split drawn uniformly with replacement, ``(n, 4)``."""
        return self._factors[rng.integers(0, len(self), size=n)].copy()

    def observations_from_factors(self, factors: np.ndarray) -> torch.Tensor:
        factors = self._check_factors(factors)
        theta, phi = self.angles(factors[:, :2])
        return torch.from_numpy(render(theta, phi, self.image_size))

    def _items(self, indices: np.ndarray):
        indices = np.asarray(indices, dtype=np.int64)
        if indices.size and ((indices < -len(self)) | (indices >= len(self))).any():
            raise IndexError(f"index out of range for a dataset of {len(self)} items")
        factors = self._factors[indices]
        theta, phi = self.angles(factors[:, :2])
        x = torch.from_numpy(render(theta, phi, self.image_size))
        u = torch.from_numpy(self.normalize(self._raw[indices]))
        return x, torch.from_numpy(factors), u

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x, factors, u = self._items(np.array([index]))
        return x[0], factors[0], u[0]

    def get_batch(
        self, indices: Sequence[int] | np.ndarray
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(x, factors, u)`` for many items at once."""
        return self._items(np.asarray(indices))


@register_dataset(
    "pendulum",
    "CausalVAE's pendulum scene: angle and light cause shadow length/position, 96x96 RGB",
)
def _pendulum(root=None, **options):
    return Pendulum(**options)
