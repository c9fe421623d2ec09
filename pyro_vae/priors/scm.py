r"""The structural-causal-model prior of CausalVAE (Yang et al. 2021, "CausalVAE:
Disentangled Representation Learning via Neural Structural Causal Models", CVPR).

``n`` concepts, each a block of ``d`` latent dimensions; latents are laid out
``(B, n, d)``. ``A`` (``n x n``, an ``nn.Parameter``) is the weighted adjacency
matrix: ``A[j, i]`` is the strength of the edge ``j -> i`` (column ``A_i`` holds
the parents of concept ``i``). Its diagonal is held at zero (no self-loops).

* **Causal layer** (paper Sec. 3.2, eq. 1): the linear SCM
  :math:`z = A^\top z + \epsilon`, i.e. :math:`z = (I - A^\top)^{-1}\epsilon`,
  applied to each of the ``d`` coordinates of the concept blocks.
* **Mask layer** (paper eq. 3): :math:`z_i = g_i(A_i \circ z) + \epsilon_i`, one
  small MLP :math:`g_i` per concept reading the concept blocks masked by the
  column :math:`A_i` (each parent block scaled by its edge weight, the others 0).
* **Priors** (paper Sec. 3.3): :math:`p(\epsilon) = N(0, I)` and the conditional
  prior :math:`p(z \mid u) = \prod_i N(z_i; \lambda (u_i - c), I)` for the
  concept labels ``u`` (the paper's :math:`\lambda_1(u) = u`,
  :math:`\lambda_2 \equiv 1`, on labels it leaves unspecified;
  ``label_scale`` :math:`\lambda` and ``label_shift`` :math:`c` are ours). The
  shift centres labels in [0, 1] (default ``c = 0.5``): the linear SCM has no
  intercept, so uncentred prior means would make ``A`` explain the concepts'
  means instead of their variation. The defaults ``c = 0.5``, ``lambda = 2``
  map labels in [0, 1] to prior means in [-1, 1], about the range of the
  official code's normalization ``(label - offset) / scale``.
* **Constraints and losses** (paper Sec. 3.4), added to the model as
  ``pyro.factor`` sites so that every objective sees them:

  - the acyclicity constraint (paper eq. 8, from NOTEARS / DAG-GNN)
    :math:`H(A) = \mathrm{tr}\,(I + A \circ A / n)^n - n`, zero iff ``A`` is a
    DAG, enforced with an augmented Lagrangian
    :math:`\alpha H(A) + \tfrac{c}{2} H(A)^2` (see :meth:`SCMPrior.update_lagrangian`);
  - the label loss :math:`l_u = \lVert u - \sigma(A^\top u) \rVert^2`;
  - the mask loss :math:`l_m = \sum_i \lVert z_i - g_i(A_i \circ z) \rVert^2`.

**Scaling of the penalties.** pyro_vae's losses are per example
(:mod:`pyro_vae.infer.terms`): a factor inside the data plate counts per
example; a global factor is divided by the data plate's full size ``N``. The
DAG penalty is a property of ``A`` alone, so it is a global factor of value
``-N * (alpha H + c/2 H^2)``: per example it is exactly the paper's
``alpha H + c/2 H^2`` (and Pyro's own ``Trace_ELBO``, which sums over the
``N`` examples, sees ``N`` times it, consistently with its data terms). The
label and mask losses are per-example factors ``-label_weight * l_u`` and
``-mask_weight * l_m`` inside the plate (paper: :math:`\beta l_u`,
:math:`\gamma l_m`).

**Two faces of one prior.** With labels (``ctx.u`` given: training and
label-conditional generation) the prior is the paper's
:math:`p(\epsilon)\,p(z \mid u)`: sites ``eps`` and ``z`` (``(B, n, d)``) and
the three penalty factors. Without labels (unconditional generation and
interventions; not a training objective, so no factors) it runs the SCM
itself: ``eps ~ N(0, I)``, ``z`` from the causal layer refined by the mask
layer, concept by concept in a topological order of the graph, each concept a
``pyro.deterministic`` site
``concept{i}`` -- the sites :func:`pyro.poutine.do` intervenes on (see
:mod:`pyro_vae.analysis.interventions`).

**Guide** (paper Sec. 3.4): :meth:`SCMPrior.posterior` samples
``eps ~ q(eps | x, u) = N(loc, scale^2)`` from the encoder (with its variance;
the official code replaces it by 1) and sets ``z = (I - A^T)^{-1} eps`` from
the same draw, as the paper does; the site ``z`` scores that value under its
marginal :class:`LinearSCMNormal` ``q(z | x, u)``. The per-example objective
is then the paper's ELBO
:math:`E_q \log p(x|z) - KL(q(\epsilon)\,\|\,p(\epsilon)) - KL(q(z)\,\|\,p(z|u))`,
both KLs analytic. (No term of the model involves ``eps`` and ``z`` jointly,
so this equals the ELBO of the mean-field guide ``q(eps) q(z)`` -- a valid
bound for the prior ``p(eps) p(z|u)`` -- whichever way ``z`` is coupled to ``eps``.)
"""

from __future__ import annotations

import math

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import TorchDistribution, constraints
from torch import nn
from torch.distributions import Independent, Normal, register_kl

from pyro_vae.priors.base import LatentContext

__all__ = [
    "SCMPrior",
    "LinearSCMNormal",
    "MaskLayer",
    "dag_constraint",
    "label_loss",
    "causal_layer",
    "concept_site",
]


def concept_site(i: int) -> str:
    """Name of the per-concept site of the SCM program (``"concept{i}"``)."""
    return f"concept{i}"


def dag_constraint(A: torch.Tensor) -> torch.Tensor:
    r"""The acyclicity function of DAG-GNN (Yu et al. 2019, eq. 13), used by
    CausalVAE (Yang et al. 2021, eq. 8):
    :math:`H(A) = \mathrm{tr}\,[(I + A \circ A / n)^n] - n`.

    ``H(A) >= 0``, with equality iff the graph of ``A`` has no directed cycle
    (self-loops included).

    :param A: ``(n, n)`` weighted adjacency matrix.
    :returns: a scalar tensor.
    """
    if A.dim() != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be a square matrix, got shape {tuple(A.shape)}")
    n = A.shape[0]
    eye = torch.eye(n, dtype=A.dtype, device=A.device)
    return torch.linalg.matrix_power(eye + A * A / n, n).diagonal().sum() - n


def label_loss(A: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    r"""CausalVAE's label loss (Yang et al. 2021, Sec. 3.4)
    :math:`\lVert u - \sigma(A^\top u) \rVert_2^2`, per example.

    :param A: ``(n, n)`` adjacency matrix.
    :param u: ``(B, n)`` concept labels.
    :returns: ``(B,)``.
    """
    return (u - torch.sigmoid(u @ A)).pow(2).sum(-1)


def causal_layer(A: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    r"""The linear SCM :math:`z = (I - A^\top)^{-1} \epsilon` (Yang et al. 2021,
    eq. 1) on the concept axis of ``eps`` ``(..., n, d)``."""
    n = A.shape[0]
    eye = torch.eye(n, dtype=A.dtype, device=A.device)
    return torch.linalg.solve(eye - A.T, eps)


class LinearSCMNormal(TorchDistribution):
    r"""The law of :math:`z = (I - A^\top)^{-1} \epsilon` for
    :math:`\epsilon \sim N(\text{loc}, \text{diag}(\text{scale}^2))`, on
    ``(..., n, d)`` (the causal layer applied to each of the ``d`` coordinates).

    It is Gaussian with mean :math:`C\,\text{loc}` and, for each coordinate
    ``k``, covariance :math:`C\,\text{diag}(\text{scale}_{:,k}^2)\,C^\top`,
    :math:`C = (I - A^\top)^{-1}`; its density is
    :math:`\log q(z) = \log N((I - A^\top) z; \text{loc}, \text{scale}^2)
    + d \log\lvert\det(I - A^\top)\rvert` (0 for a DAG).

    :param loc: ``(..., n, d)`` mean of ``eps``.
    :param scale: ``(..., n, d)`` standard deviation of ``eps``.
    :param A: ``(n, n)`` adjacency matrix.
    :param base_sample: an ``eps`` already drawn; then ``rsample()`` returns
        ``C @ base_sample`` (the deterministic map of the paper's guide).
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.independent(constraints.real, 2)
    has_rsample = True

    def __init__(
        self,
        loc: torch.Tensor,
        scale: torch.Tensor,
        A: torch.Tensor,
        base_sample: torch.Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        loc, scale = torch.broadcast_tensors(loc, scale)
        if loc.dim() < 2 or A.shape != (loc.shape[-2], loc.shape[-2]):
            raise ValueError(
                f"loc/scale must be (..., n, d) and A (n, n); got {tuple(loc.shape)} "
                f"and {tuple(A.shape)}"
            )
        self.loc, self.scale, self.A = loc, scale, A
        self.base_sample = base_sample
        super().__init__(loc.shape[:-2], loc.shape[-2:], validate_args=validate_args)

    # ------------------------------------------------------------- helpers
    def _inverse_mixing(self) -> torch.Tensor:
        n = self.A.shape[0]
        return torch.eye(n, dtype=self.A.dtype, device=self.A.device) - self.A.T

    def _log_abs_det(self) -> torch.Tensor:
        return torch.linalg.slogdet(self._inverse_mixing()).logabsdet

    @property
    def mean(self) -> torch.Tensor:
        return causal_layer(self.A, self.loc)

    @property
    def variance(self) -> torch.Tensor:
        """Marginal variance of each coordinate: ``sum_j C_ij^2 scale_jk^2``."""
        C = torch.linalg.inv(self._inverse_mixing())
        return (C * C) @ self.scale.pow(2)

    def expand(self, batch_shape, _instance=None) -> LinearSCMNormal:
        shape = torch.Size(batch_shape) + self.event_shape
        base = None if self.base_sample is None else self.base_sample.expand(shape)
        return LinearSCMNormal(
            self.loc.expand(shape), self.scale.expand(shape), self.A, base, validate_args=False
        )

    # -------------------------------------------------------- distribution
    def rsample(self, sample_shape=()) -> torch.Tensor:
        if self.base_sample is not None and tuple(sample_shape) == ():
            eps = self.base_sample
        else:
            shape = self._extended_shape(torch.Size(sample_shape))
            noise = torch.randn(shape, dtype=self.loc.dtype, device=self.loc.device)
            eps = self.loc + self.scale * noise
        return causal_layer(self.A, eps)

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        eps = self._inverse_mixing() @ value
        lp = Normal(self.loc, self.scale).log_prob(eps).sum((-1, -2))
        return lp + self.event_shape[1] * self._log_abs_det()

    def entropy(self) -> torch.Tensor:
        n, d = self.event_shape
        h = self.scale.log().sum((-1, -2)) + 0.5 * n * d * (1.0 + math.log(2 * math.pi))
        return h - d * self._log_abs_det()


@register_kl(LinearSCMNormal, Independent)
def _kl_linear_scm_normal(q: LinearSCMNormal, p: Independent) -> torch.Tensor:
    r"""KL(q || p) for a diagonal Gaussian ``p`` on ``(n, d)``, in closed form:
    :math:`\sum \log s - \sum \log \sigma + d \log\lvert\det(I - A^\top)\rvert
    + \sum \frac{\mathrm{Var}_q + (E_q - m)^2}{2 s^2} - \frac{nd}{2}`."""
    base = p.base_dist
    if not isinstance(base, Normal) or p.reinterpreted_batch_ndims != 2:
        raise NotImplementedError
    n, d = q.event_shape
    m, s = base.loc, base.scale
    quad = (q.variance + (q.mean - m).pow(2)) / (2 * s.pow(2))
    kl = s.log() - q.scale.log() + quad - 0.5
    return kl.sum((-1, -2)) + d * q._log_abs_det()


class MaskLayer(nn.Module):
    r"""The mask layer's functions :math:`g_i(A_i \circ z)` (Yang et al. 2021, eq. 3):
    one MLP per concept, ``n*d -> hidden -> d`` with ELU (the official code's
    width 32 and activation), reading all concept blocks, block ``j`` scaled
    by ``A[j, i]``.

    Departure: the official code feeds each :math:`g_i` the weighted *sum*
    :math:`\sum_j A_{ji} z_j` (``d`` inputs); the paper's :math:`A_i \circ z`
    keeps the parents apart, which we follow.
    """

    def __init__(self, num_concepts: int, concept_dim: int, hidden_dim: int = 32) -> None:
        super().__init__()
        self.num_concepts = num_concepts
        self.concept_dim = concept_dim
        self.nets = nn.ModuleList(
            nn.Sequential(
                nn.Linear(num_concepts * concept_dim, hidden_dim),
                nn.ELU(),
                nn.Linear(hidden_dim, concept_dim),
            )
            for _ in range(num_concepts)
        )

    def concept(self, i: int, A: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """:math:`g_i(A_i \\circ z)` for one concept: ``(..., d)``."""
        masked = A[:, i, None] * z
        return self.nets[i](masked.reshape(*z.shape[:-2], -1))

    def forward(self, A: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """:math:`g_i(A_i \\circ z)` for every concept: ``(..., n, d)``."""
        return torch.stack([self.concept(i, A, z) for i in range(self.num_concepts)], -2)


class SCMPrior(nn.Module):
    r"""CausalVAE's prior program (see the module docs for the model).

    :param int num_concepts: ``n``.
    :param int concept_dim: ``d``, latent dimensions per concept.
    :param float label_scale: :math:`\lambda` of the conditional prior
        :math:`N(\lambda (u - c), I)`.
    :param float label_shift: its centre :math:`c`.
    :param float label_weight: weight of the label loss (the paper's :math:`\beta`).
    :param float mask_weight: weight of the mask loss (the paper's :math:`\gamma`).
    :param int mask_hidden: width of the mask layer's MLPs.
    :param float dag_penalty_init: initial penalty weight ``c``.
    :param float dag_multiplier_init: initial Lagrange multiplier ``alpha``.
    :param dag_update_every: training evaluations between Lagrangian updates
        (``None``: never automatically; call :meth:`update_lagrangian`).
    :param float dag_penalty_growth: factor ``rho`` applied to ``c`` when
        ``H(A)`` did not shrink enough.
    :param float dag_progress: the required shrink factor ``eta``.
    :param float dag_max_penalty: upper bound of ``c``.
    :param float graph_threshold: edges with ``|A_ji|`` above it define the
        topological order of the SCM program (the official code prunes at 0.3).
    :param initial_graph: initial ``A`` (``n x n``, zero diagonal); default
        zeros. The official code starts from a hand-set graph (``initial=True``:
        edges 0->1, 0->2, 0->3, 1->2, 1->3 of weight 1 on the pendulum).
    """

    def __init__(
        self,
        num_concepts: int,
        concept_dim: int,
        *,
        label_scale: float = 2.0,
        label_shift: float = 0.5,
        label_weight: float = 1.0,
        mask_weight: float = 1.0,
        mask_hidden: int = 32,
        dag_penalty_init: float = 1.0,
        dag_multiplier_init: float = 0.0,
        dag_update_every: int | None = 500,
        dag_penalty_growth: float = 10.0,
        dag_progress: float = 0.25,
        dag_max_penalty: float = 1e8,
        graph_threshold: float = 0.3,
        initial_graph=None,
        eps_site: str = "eps",
        z_site: str = "z",
    ) -> None:
        super().__init__()
        if num_concepts < 1 or concept_dim < 1:
            raise ValueError(
                f"num_concepts and concept_dim must be >= 1, got {num_concepts}, {concept_dim}"
            )
        for name, value in (("label_weight", label_weight), ("mask_weight", mask_weight)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if dag_update_every is not None and dag_update_every < 1:
            raise ValueError(f"dag_update_every must be >= 1 or None, got {dag_update_every}")
        if dag_penalty_init <= 0 or dag_penalty_growth < 1 or not 0 < dag_progress <= 1:
            raise ValueError(
                "need dag_penalty_init > 0, dag_penalty_growth >= 1 and 0 < dag_progress <= 1"
            )
        self.num_concepts = num_concepts
        self.concept_dim = concept_dim
        self.latent_dim = num_concepts * concept_dim
        self.label_scale = float(label_scale)
        self.label_shift = float(label_shift)
        self.label_weight = float(label_weight)
        self.mask_weight = float(mask_weight)
        self.dag_update_every = dag_update_every
        self.dag_penalty_growth = float(dag_penalty_growth)
        self.dag_progress = float(dag_progress)
        self.dag_max_penalty = float(dag_max_penalty)
        self.graph_threshold = float(graph_threshold)
        self.eps_site = eps_site
        self.z_site = z_site
        self.A_raw = nn.Parameter(torch.zeros(num_concepts, num_concepts))
        self.register_buffer("offdiag", 1.0 - torch.eye(num_concepts))
        if initial_graph is not None:
            self.set_graph(torch.as_tensor(initial_graph, dtype=torch.float32))
        self.mask_layer = MaskLayer(num_concepts, concept_dim, mask_hidden)
        # the augmented Lagrangian's state: buffers, so checkpoints carry it
        self.register_buffer("dag_multiplier", torch.tensor(float(dag_multiplier_init)))
        self.register_buffer("dag_penalty", torch.tensor(float(dag_penalty_init)))
        self.register_buffer("dag_h_previous", torch.tensor(math.inf))
        self.register_buffer("dag_evaluations", torch.tensor(0, dtype=torch.long))
        self.register_buffer("dag_updates", torch.tensor(0, dtype=torch.long))

    # ------------------------------------------------------------ the graph
    @property
    def A(self) -> torch.Tensor:  # noqa: N802 - the paper's notation
        """The adjacency matrix (diagonal held at zero); ``A[j, i]``: edge ``j -> i``."""
        return self.A_raw * self.offdiag

    @torch.no_grad()
    def set_graph(self, A: torch.Tensor) -> None:
        """Set the adjacency matrix (e.g. a known graph); its diagonal must be zero."""
        A = torch.as_tensor(A, dtype=self.A_raw.dtype, device=self.A_raw.device)
        if A.shape != self.A_raw.shape:
            raise ValueError(f"A must have shape {tuple(self.A_raw.shape)}, got {tuple(A.shape)}")
        if A.diagonal().abs().max() > 0:
            raise ValueError("A must have a zero diagonal (no self-loops)")
        self.A_raw.copy_(A)

    def dag_constraint(self) -> torch.Tensor:
        """:func:`dag_constraint` of the current ``A``."""
        return dag_constraint(self.A)

    def dag_penalty_value(self) -> torch.Tensor:
        r"""The augmented-Lagrangian term :math:`\alpha H(A) + \tfrac{c}{2} H(A)^2`."""
        h = self.dag_constraint()
        return self.dag_multiplier * h + 0.5 * self.dag_penalty * h * h

    @torch.no_grad()
    def update_lagrangian(self) -> dict[str, float]:
        r"""One dual step of the augmented Lagrangian for :math:`H(A) = 0`.

        The rule of NOTEARS (Zheng et al. 2018, Algorithm 1) and DAG-GNN
        (Yu et al. 2019, Sec. 3.4), which CausalVAE cites for its constraint,
        run on a schedule instead of after an inner solve to convergence: with
        ``h = H(A)`` at the current ``A``,

        1. if ``h > eta * h_previous``: ``c <- min(rho * c, c_max)``;
        2. ``alpha <- alpha + c * h``;
        3. ``h_previous <- h``.

        Called automatically every ``dag_update_every`` training evaluations of
        the prior (see :meth:`forward`), or by hand.

        :returns: the new ``{"h", "multiplier", "penalty"}``.
        """
        h = self.dag_constraint().detach().to(self.dag_penalty.dtype)
        if h > self.dag_progress * self.dag_h_previous:
            grown = self.dag_penalty * self.dag_penalty_growth
            self.dag_penalty.copy_(grown.clamp(max=self.dag_max_penalty))
        self.dag_multiplier.add_(self.dag_penalty * h)
        self.dag_h_previous.copy_(h)
        self.dag_updates.add_(1)
        return {
            "h": float(h),
            "multiplier": float(self.dag_multiplier),
            "penalty": float(self.dag_penalty),
        }

    def _count_training_evaluation(self) -> None:
        """Advance the schedule: an update before every ``K``-th evaluation
        after the first, i.e. after ``K``, ``2K``, ... optimizer steps."""
        if self.dag_update_every is None:
            return
        done = int(self.dag_evaluations)
        if done > 0 and done % self.dag_update_every == 0:
            self.update_lagrangian()
        self.dag_evaluations.add_(1)

    @torch.no_grad()
    def topological_order(self) -> list[int]:
        """A topological order of the graph ``|A| > graph_threshold``; should that
        graph have a cycle, the remaining concept with the least incoming
        weight goes next."""
        weights = self.A.detach().abs()
        edges = weights > self.graph_threshold
        remaining = list(range(self.num_concepts))
        order: list[int] = []
        while remaining:
            sub = edges[remaining][:, remaining]
            roots = [remaining[k] for k in range(len(remaining)) if not sub[:, k].any()]
            if roots:
                nxt = roots[0]
            else:
                incoming = weights[remaining][:, remaining].sum(0)
                nxt = remaining[int(incoming.argmin())]
            order.append(nxt)
            remaining.remove(nxt)
        return order

    # ------------------------------------------------------------ the layers
    def causal_layer(self, eps: torch.Tensor) -> torch.Tensor:
        """:math:`(I - A^T)^{-1} eps` on ``(..., n, d)``."""
        return causal_layer(self.A, eps)

    def mask(self, z: torch.Tensor) -> torch.Tensor:
        """:math:`g_i(A_i \\circ z)` for all concepts, ``(..., n, d)``."""
        return self.mask_layer(self.A, z)

    def mask_loss(self, z: torch.Tensor) -> torch.Tensor:
        r""":math:`\sum_i \lVert z_i - g_i(A_i \circ z) \rVert^2` per example, ``(B,)``."""
        return (z - self.mask(z)).pow(2).sum((-1, -2))

    def abduct(self, z: torch.Tensor) -> torch.Tensor:
        """The exogenous noise of the mask layer's equations that reproduces ``z``:
        ``eps_i = z_i - g_i(A_i o z)`` (the abduction step of a counterfactual)."""
        return z - self.mask(z)

    def structural(self, eps: torch.Tensor) -> torch.Tensor:
        """The SCM as a Pyro program (call inside the data plate): the causal
        layer's ``z = (I - A^T)^{-1} eps``, then each concept ``i`` in
        topological order set to ``g_i(A_i o z) + eps_i`` from the concepts
        already set, as the ``pyro.deterministic`` site ``concept{i}``.

        For a DAG this solves the mask layer's equations exactly (the linear
        values only stand in for parents later in the order, i.e. for edges
        below ``graph_threshold`` that close a cycle). A ``poutine.do`` on
        ``concept{i}`` therefore reaches its descendants and no ancestor.
        """
        z = self.causal_layer(eps)
        blocks = list(z.unbind(-2))
        for i in self.topological_order():
            current = torch.stack(blocks, -2)
            value = self.mask_layer.concept(i, self.A, current) + eps[..., i, :]
            blocks[i] = pyro.deterministic(concept_site(i), value, event_dim=1)
        return torch.stack(blocks, -2)

    # ------------------------------------------------------------- programs
    def _check_labels(self, u: torch.Tensor, batch_size: int) -> torch.Tensor:
        if u.dim() != 2 or u.shape != (batch_size, self.num_concepts):
            raise ValueError(
                f"the concept labels u must have shape ({batch_size}, {self.num_concepts}) "
                f"(one normalized label per concept), got {tuple(u.shape)}"
            )
        return u.to(self.A_raw.dtype)

    def forward(self, ctx: LatentContext) -> torch.Tensor:
        """The prior program; returns ``z`` ``(B, n, d)``."""
        shape = (self.num_concepts, self.concept_dim)
        zeros = self.A_raw.new_zeros(shape, device=ctx.device)
        if ctx.u is None:  # the SCM: generation and interventions, no training terms
            with ctx.plate:
                eps = pyro.sample(self.eps_site, dist.Normal(zeros, 1.0).to_event(2))
                z = self.structural(eps)
                return pyro.deterministic(self.z_site, z, event_dim=2)
        u = self._check_labels(ctx.u, ctx.batch_size)
        if self.training and torch.is_grad_enabled():
            self._count_training_evaluation()
        full_size = getattr(ctx.plate, "size", None) or ctx.batch_size
        pyro.factor("dag_penalty", -full_size * self.dag_penalty_value())
        with ctx.plate:
            eps = pyro.sample(self.eps_site, dist.Normal(zeros, 1.0).to_event(2))
            if self.label_weight:
                pyro.factor("label_loss", -self.label_weight * label_loss(self.A, u))
            prior_loc = self.label_scale * (u[:, :, None] - self.label_shift).expand(-1, *shape)
            z = pyro.sample(self.z_site, dist.Normal(prior_loc, 1.0).to_event(2))
            if self.mask_weight:
                pyro.factor("mask_loss", -self.mask_weight * self.mask_loss(z))
        return z

    def posterior(self, loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        """The guide's sites (call inside the data plate): ``eps ~ N(loc, scale^2)``
        and ``z = (I - A^T)^{-1} eps`` scored by :class:`LinearSCMNormal`.

        :param loc: ``(B, n, d)``; :param scale: ``(B, n, d)``.
        :returns: ``z``.
        """
        eps = pyro.sample(self.eps_site, dist.Normal(loc, scale).to_event(2))
        return pyro.sample(self.z_site, LinearSCMNormal(loc, scale, self.A, base_sample=eps))

    def lagrangian_state(self) -> dict[str, float]:
        """``{"h", "multiplier", "penalty", "updates", "evaluations"}`` for logs."""
        return {
            "h": float(self.dag_constraint().detach()),
            "multiplier": float(self.dag_multiplier),
            "penalty": float(self.dag_penalty),
            "updates": int(self.dag_updates),
            "evaluations": int(self.dag_evaluations),
        }
