# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Normalizing flows: Real NVP on two moons
#
# A **normalizing flow** turns a simple density (a standard Gaussian) into a complicated one by an
# invertible, differentiable map whose Jacobian determinant is cheap. In this notebook you build
# **Real NVP** (Dinh, Sohl-Dickstein and Bengio, 2016) from its parts and train it on the two-moons data:
#
# | part | you write | points |
# |---|---|---|
# | 1 | `make_masks`: alternating binary masks | 1 |
# | 2 | `AffineCoupling`: one coupling layer, its log-determinant and its inverse | 3 |
# | 3 | `RealNVP`: the stack, `f`, `g`, `log_prob`, `sample` | 3 |
# | 4 | `nll_loss`: the training objective | 1 |
# | 5 | training a flow on two moons | 2 |
#
# **How to work.** Run the cells from the top. Each answer cell (`# YOUR CODE HERE`) is followed by a test
# cell: run it, and if something is wrong it tells you *what* is wrong. Passing the visible tests is a good
# sign; the grader also runs hidden tests on other inputs (other dimensions, float64, random weights), so
# write general code: no hard-coded dimension 2, no hard-coded batch size. Do not rename the functions and
# classes, and do not delete or edit the test cells.
#
# Notation, as in the course: `x` data, `z` latent, `f` maps data to latent, `g = f⁻¹` maps latent to data,
# `b` a binary mask, `s` and `t` the scale and translation networks, `⊙` the element-wise product.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import copy
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import make_moons
from torch import nn
from tqdm.auto import tqdm

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)  # these networks are small: one thread is fastest, and leaves a core free
plt.rcParams.update({"figure.dpi": 80, "axes.titlesize": 10, "axes.labelsize": 9})

# %% [markdown]
# ## The data: two moons
#
# The data are 2-D points from scikit-learn's `make_moons(noise=0.05)`: two interleaved half circles blurred
# by Gaussian noise of standard deviation 0.05. The course ships three fixed splits in `data/`: `train`
# (for fitting), `test` (to report a held-out score) and `val` (kept for the grader). If the notebook is
# opened alone (say on Colab), the same splits are regenerated from the same seeds.

# %% nbgrader={"grade": false, "grade_id": "data", "locked": true, "schema_version": 3, "solution": false, "task": false}
MOONS_NOISE = 0.05
DATA_SPLITS = {"train": (100_000, 1), "val": (5_000, 2), "test": (100_000, 3)}  # split: (size, seed)


def load_moons(split):
    """One split of two moons: points x (n, 2) float32 and moon labels (n,) int64.

    Reads data/moons_<split>.csv when the course's data folder is next to (or one level above) the
    notebook; otherwise regenerates the same split with scikit-learn, same size and seed.
    """
    size, seed = DATA_SPLITS[split]
    for folder in (Path("data"), Path("..") / "data"):
        path = folder / f"moons_{split}.csv"
        if path.is_file():
            table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
            return torch.from_numpy(table[:, :2].copy()), torch.from_numpy(table[:, 2].astype(np.int64))
    x, label = make_moons(size, noise=MOONS_NOISE, random_state=seed)
    return torch.from_numpy(x.astype(np.float32)), torch.from_numpy(label.astype(np.int64))


x_train, label_train = load_moons("train")
x_test, label_test = load_moons("test")
print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}")

fig, ax = plt.subplots(figsize=(4, 3))
ax.scatter(*x_train[:2000].T, c=label_train[:2000], cmap="coolwarm", s=2)
ax.set(title="Two moons (2000 training points)", xlabel="$x_1$", ylabel="$x_2$")
plt.show()

# %% nbgrader={"grade": false, "grade_id": "check_helpers", "locked": true, "schema_version": 3, "solution": false, "task": false}
def check(condition, message):
    """Fail with a message that says what is wrong (used by the test cells)."""
    if not condition:
        raise AssertionError(message)


def check_shape(name, value, expected, hint=""):
    """Check that value is a tensor of the expected shape."""
    check(isinstance(value, torch.Tensor), f"{name} should be a torch.Tensor, got {type(value).__name__}")
    shape = tuple(value.shape)
    check(shape == tuple(expected), f"{name} has shape {shape}, expected {tuple(expected)}. {hint}")


def check_close(name, value, expected, hint="", atol=1e-5):
    """Check that two tensors of the same shape agree to atol, and report the largest gap."""
    check_shape(name, value, expected.shape, hint)
    gap = (value.detach().double() - expected.detach().double()).abs().max().item()
    check(gap <= atol, f"{name} is off by up to {gap:.3g} (tolerance {atol:g}). {hint}")


# %% [markdown]
# ## Change of variables and the training objective
#
# Let $f$ be an invertible, differentiable map from data $x \in \mathbb{R}^D$ to a latent $z = f(x)$, and
# let $g = f^{-1}$. If $z$ has a simple density $p_Z$ (here $\mathcal{N}(0, I)$), then $x = g(z)$ has density
#
# $$p_X(x) = p_Z\big(f(x)\big)\,\left|\det \frac{\partial f(x)}{\partial x}\right| ,\qquad
# \ln p_X(x) = \ln p_Z\big(f(x)\big) + \ln\left|\det \frac{\partial f}{\partial x}\right| .$$
#
# The determinant accounts for how much $f$ stretches or squeezes volume around $x$. We fit $f$ by maximum
# likelihood, that is by minimising the **negative log-likelihood** of the data
#
# $$-\sum_i \ln p_X(x_i) = \sum_i \Big( -\ln p_Z\big(f(x_i)\big) - \ln\left|\det \frac{\partial f}{\partial x}(x_i)\right| \Big),$$
#
# reported as a mean in **nats per sample**. Two things must be cheap: the log-determinant (for training)
# and the inverse $g$ (for sampling). Real NVP gets both from *coupling layers*. If $f = f_K \circ \dots
# \circ f_1$, the chain rule makes the log-determinants add up: $\ln|\det \partial f/\partial x| =
# \sum_k \ln|\det \partial f_k/\partial h_{k-1}|$ with $h_0 = x$, $h_k = f_k(h_{k-1})$.
#
# ## Part 1 — Binary masks (1 point)
#
# A coupling layer splits the coordinates with a binary mask $b \in \{0, 1\}^D$: the coordinates where
# $b = 1$ pass through unchanged and *condition* the transformation of the others (where $b = 0$). A
# single layer therefore leaves half the coordinates untouched, so consecutive layers must **alternate**:
# the next mask is $1 - b$, and after two layers every coordinate has been transformed, conditioned on
# the others.
#
# Write `make_masks(n_layers, dim)`: a float tensor of shape `(n_layers, dim)` of zeros and ones, where
# each mask has $\lfloor D/2 \rfloor$ or $\lceil D/2 \rceil$ ones and consecutive masks are complementary
# (`masks[i] + masks[i + 1]` is all ones). For `dim = 2` this gives `[1, 0], [0, 1], [1, 0], …` (starting
# with `[0, 1]` is just as good).

# %% nbgrader={"grade": false, "grade_id": "masks", "locked": false, "schema_version": 3, "solution": true, "task": false}
def make_masks(n_layers, dim):
    """Alternating binary masks: a float tensor (n_layers, dim) of 0/1, consecutive rows complementary."""
    ### BEGIN SOLUTION
    first = (torch.arange(dim) % 2 == 0).float()
    return torch.stack([first if i % 2 == 0 else 1 - first for i in range(n_layers)])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_masks", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""make_masks: shape, 0/1 float values, half the coordinates each, consecutive masks complementary."""
masks_seen = make_masks(4, 2)
check_shape("make_masks(4, 2)", masks_seen, (4, 2), "one row per layer, one column per coordinate")
check(masks_seen.is_floating_point(), "the masks should be a float tensor (they multiply float data): use .float()")
check(bool(((masks_seen == 0) | (masks_seen == 1)).all()), f"masks may only hold 0 and 1, got {masks_seen.tolist()}")
check(
    bool((masks_seen[1:] + masks_seen[:-1] == 1).all()),
    f"consecutive masks must be complementary (masks[i] + masks[i+1] == 1), got {masks_seen.tolist()}",
)
check(tuple(make_masks(3, 5).shape) == (3, 5), "make_masks(3, 5) should have shape (3, 5): do not hard-code dim = 2")
print("make_masks(4, 2) =", masks_seen.tolist())
### BEGIN HIDDEN TESTS
for n_layers, dim in [(1, 2), (6, 2), (5, 3), (4, 7), (3, 10)]:
    masks_seen = make_masks(n_layers, dim)
    assert tuple(masks_seen.shape) == (n_layers, dim), (n_layers, dim, masks_seen.shape)
    assert masks_seen.is_floating_point()
    assert bool(((masks_seen == 0) | (masks_seen == 1)).all())
    ones = masks_seen.sum(dim=1)
    assert bool(((ones == dim // 2) | (ones == (dim + 1) // 2)).all()), ones
    assert bool((masks_seen[1:] + masks_seen[:-1] == 1).all())
### END HIDDEN TESTS

# %% [markdown]
# ## Part 2 — Affine coupling layer (3 points)
#
# With a mask $b$ and two networks $s, t : \mathbb{R}^D \to \mathbb{R}^D$ (scale and translation), the
# **affine coupling layer** is
#
# $$y = x \odot \exp\big((1-b) \odot s(b \odot x)\big) + (1-b) \odot t(b \odot x).$$
#
# Where $b = 1$ the exponent is $0$ and the translation is $0$: $y = x$ there. Where $b = 0$, the coordinate is
# scaled and shifted by amounts that depend only on the *masked* input $b \odot x$, that is on coordinates
# the layer does not change. The paper writes the same layer as
# $y = b \odot x + (1-b) \odot \big(x \odot \exp(s(b \odot x)) + t(b \odot x)\big)$: on each coordinate the two
# formulas agree (take $b = 1$, then $b = 0$).
#
# **The Jacobian is triangular.** Order the coordinates with the unchanged ones first. Then
# $\partial y / \partial x = \begin{pmatrix} I & 0 \\ \ast & \operatorname{diag}\big(\exp(s(b \odot x))\big) \end{pmatrix}$:
# the unchanged coordinates do not depend on the others, and each changed coordinate depends on itself only
# through the factor $\exp(s)$. The $\ast$ block (derivatives of $s$ and $t$) never enters the determinant, so
# $s$ and $t$ can be any networks, and
#
# $$\ln\left|\det \frac{\partial y}{\partial x}\right| = \sum_{j} (1-b_j)\, s_j(b \odot x) .$$
#
# **The inverse is as cheap.** Since $b \odot y = b \odot x$, the networks see the same input in both
# directions, and
#
# $$x = \big(y - (1-b) \odot t(b \odot y)\big) \odot \exp\big(-(1-b) \odot s(b \odot y)\big).$$
#
# No network is ever inverted. Write `forward` (returns `y` and `log_det` of shape `(batch,)`) and
# `inverse`. Do not modify the input tensor in place.

# %% nbgrader={"grade": false, "grade_id": "coupling", "locked": false, "schema_version": 3, "solution": true, "task": false}
class AffineCoupling(nn.Module):
    """One affine coupling layer with mask b (dim,) and networks s_net, t_net: (batch, dim) -> (batch, dim)."""

    def __init__(self, mask, s_net, t_net):
        super().__init__()
        self.register_buffer("mask", mask)
        self.s_net = s_net
        self.t_net = t_net

    def forward(self, x):
        """x (batch, dim) -> y (batch, dim) and log|det dy/dx| of shape (batch,)."""
        ### BEGIN SOLUTION
        b = self.mask
        x_kept = b * x
        s = (1 - b) * self.s_net(x_kept)
        t = (1 - b) * self.t_net(x_kept)
        return x * torch.exp(s) + t, s.sum(dim=1)
        ### END SOLUTION

    def inverse(self, y):
        """y (batch, dim) -> x (batch, dim), the inverse of forward."""
        ### BEGIN SOLUTION
        b = self.mask
        y_kept = b * y
        s = (1 - b) * self.s_net(y_kept)
        t = (1 - b) * self.t_net(y_kept)
        return (y - t) * torch.exp(-s)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_coupling_forward", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""AffineCoupling.forward: shapes, masked coordinates unchanged, y and log_det as in the formula."""
with torch.random.fork_rng():
    torch.manual_seed(1)
    mask_seen = torch.tensor([1.0, 0.0])
    s_seen = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    t_seen = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    layer_seen = AffineCoupling(mask_seen, s_seen, t_seen)
    x_seen = torch.randn(128, 2)
x_copy = x_seen.clone()
with torch.no_grad():
    y_seen, log_det_seen = layer_seen(x_seen)
    s_ref = s_seen(x_seen * mask_seen)[:, 1]
    t_ref = t_seen(x_seen * mask_seen)[:, 1]
check(torch.equal(x_seen, x_copy), "forward changed its input x in place: compute a new tensor instead")
check_shape("y", y_seen, (128, 2), "y has the shape of x")
check_shape("log_det", log_det_seen, (128,), "one value per sample: sum (1 - b) * s over the dimensions (dim=1)")
check_close("y[:, 0], where b = 1,", y_seen[:, 0], x_seen[:, 0], "coordinates with b = 1 must pass through: multiply s and t by (1 - b)")
check_close(
    "y[:, 1], where b = 0,",
    y_seen[:, 1],
    x_seen[:, 1] * torch.exp(s_ref) + t_ref,
    "expected x * exp(s(b * x)) + t(b * x) there: feed the networks b * x, not x",
)
check_close("log_det", log_det_seen, s_ref, "log|det J| = sum over j of (1 - b_j) * s_j(b * x), with a plus sign")
print("forward looks right")
### BEGIN HIDDEN TESTS
def _hidden_net(dim, seed, gain):
    """A float64 MLP with random, non-zero weights; gain scales its output."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(dim, 16), nn.Tanh(), nn.Linear(16, dim)).double()
        with torch.no_grad():
            net[2].weight.mul_(gain)
            net[2].bias.uniform_(-gain, gain)
    return net


def _hidden_jacobian_log_det(fn, x):
    """log|det J| of fn at each row of x (batch, dim), from autograd's full Jacobian."""
    rows = [torch.autograd.functional.jacobian(lambda v: fn(v.unsqueeze(0))[0].squeeze(0), xi) for xi in x]
    return torch.stack([torch.linalg.slogdet(j)[1] for j in rows])


for dim, mask_list in [(2, [1.0, 0.0]), (2, [0.0, 1.0]), (5, [1.0, 0.0, 1.0, 0.0, 1.0]), (6, [0.0, 0.0, 0.0, 1.0, 1.0, 1.0])]:
    with torch.random.fork_rng():
        torch.manual_seed(dim)
        x_hidden = torch.randn(64, dim, dtype=torch.float64)
    mask_hidden = torch.tensor(mask_list, dtype=torch.float64)
    layer_hidden = AffineCoupling(mask_hidden, _hidden_net(dim, 10 + dim, 1.5), _hidden_net(dim, 20 + dim, 1.5))
    x_copy = x_hidden.clone()
    y_hidden, log_det_hidden = layer_hidden(x_hidden)
    assert torch.equal(x_hidden, x_copy), "input modified in place"
    assert tuple(y_hidden.shape) == (64, dim) and tuple(log_det_hidden.shape) == (64,)
    kept = mask_hidden.bool()
    assert (y_hidden[:, kept] - x_hidden[:, kept]).abs().max().item() < 1e-12, "masked coordinates changed"
    assert (y_hidden[:, ~kept] - x_hidden[:, ~kept]).abs().max().item() > 1e-3, "the layer changes nothing"
    log_det_autograd = _hidden_jacobian_log_det(layer_hidden, x_hidden[:8])
    assert (log_det_hidden[:8] - log_det_autograd).abs().max().item() < 1e-4, "log_det is not log|det J|"
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_coupling_inverse", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""AffineCoupling.inverse undoes forward: inverse(forward(x)) = x and forward(inverse(y)) = y."""
with torch.no_grad():
    x_back = layer_seen.inverse(y_seen)
    y_again, _ = layer_seen(layer_seen.inverse(x_seen))
check_close(
    "inverse(forward(x))",
    x_back,
    x_seen,
    "the inverse is x = (y - (1 - b) * t(b * y)) * exp(-(1 - b) * s(b * y)): subtract t first, then divide by exp(s)",
)
check_close("forward(inverse(y))", y_again, x_seen, "inverse must undo forward for any input, not just forward's outputs")
print("inverse looks right")
### BEGIN HIDDEN TESTS
for dim, mask_list in [(2, [0.0, 1.0]), (5, [0.0, 1.0, 0.0, 1.0, 0.0]), (6, [1.0, 1.0, 1.0, 0.0, 0.0, 0.0])]:
    with torch.random.fork_rng():
        torch.manual_seed(30 + dim)
        x_hidden = torch.randn(64, dim, dtype=torch.float64)
        nets_hidden = [
            nn.Sequential(nn.Linear(dim, 16), nn.Tanh(), nn.Linear(16, dim), nn.Tanh()).double() for _ in range(2)
        ]
        for net in nets_hidden:
            with torch.no_grad():
                net[2].bias.uniform_(-1, 1)
    mask_hidden = torch.tensor(mask_list, dtype=torch.float64)
    layer_hidden = AffineCoupling(mask_hidden, *nets_hidden)
    x_copy = x_hidden.clone()
    x_back = layer_hidden.inverse(layer_hidden(x_hidden)[0])
    assert torch.equal(x_hidden, x_copy), "inverse modified its input in place"
    assert (x_back - x_hidden).abs().max().item() < 1e-9, "inverse(forward(x)) != x"
    y_again = layer_hidden(layer_hidden.inverse(x_hidden))[0]
    assert (y_again - x_hidden).abs().max().item() < 1e-9, "forward(inverse(y)) != y"
### END HIDDEN TESTS

# %% [markdown]
# ## Part 3 — Real NVP: stacking coupling layers (3 points)
#
# Real NVP composes $K$ coupling layers with alternating masks $b_1, \dots, b_K$, each with **its own**
# networks $s_k$, $t_k$:
#
# - $f(x)$: start from $h_0 = x$, apply the layers in order, $h_k = f_k(h_{k-1})$, return $z = h_K$ and the
#   sum of the layers' log-determinants (shape `(batch,)`);
# - $g(z) = f^{-1}(z)$: apply the layers' **inverses in reverse order**, $K$ down to $1$;
# - $\ln p_X(x) = \ln p_Z(f(x)) + \ln|\det \partial f / \partial x|$, with the prior $p_Z$ given below;
# - sampling: draw $z \sim p_Z$, return $g(z)$.
#
# `RealNVP(nets, nett, masks, prior)` receives *factories*: `nets()` and `nett()` each build a fresh network,
# so call them once per layer. Keep the layers in an `nn.ModuleList` (a plain Python list hides their
# parameters from `flow.parameters()`, and the optimiser would train nothing).
#
# The networks below follow the course: $s$ ends with a `Tanh`, which bounds the log-scale and keeps training
# stable. One change from the course: a learnable factor per coordinate after the `Tanh` (initialised to 1)
# lets each layer choose how far it may stretch, which fits the thin moons noticeably better.

# %% nbgrader={"grade": false, "grade_id": "nets_prior", "locked": true, "schema_version": 3, "solution": false, "task": false}
DIM = 2
WIDTH = 64


class Scale(nn.Module):
    """Multiplies (batch, dim) inputs by a learnable factor per coordinate, initialised to 1."""

    def __init__(self, dim):
        super().__init__()
        self.factor = nn.Parameter(torch.ones(dim))

    def forward(self, h):
        return h * self.factor


def nets():
    """A fresh scale network s: (batch, DIM) -> (batch, DIM), a Tanh with a learnable range."""
    return nn.Sequential(
        nn.Linear(DIM, WIDTH), nn.LeakyReLU(), nn.Linear(WIDTH, WIDTH), nn.LeakyReLU(), nn.Linear(WIDTH, DIM), nn.Tanh(), Scale(DIM)
    )


def nett():
    """A fresh translation network t: (batch, DIM) -> (batch, DIM)."""
    return nn.Sequential(nn.Linear(DIM, WIDTH), nn.LeakyReLU(), nn.Linear(WIDTH, WIDTH), nn.LeakyReLU(), nn.Linear(WIDTH, DIM))


prior = torch.distributions.MultivariateNormal(torch.zeros(DIM), torch.eye(DIM))

# %% nbgrader={"grade": false, "grade_id": "realnvp", "locked": false, "schema_version": 3, "solution": true, "task": false}
class RealNVP(nn.Module):
    """A stack of affine coupling layers, one per mask, with a prior on the latent space."""

    def __init__(self, nets, nett, masks, prior):
        super().__init__()
        self.prior = prior
        ### BEGIN SOLUTION
        self.layers = nn.ModuleList(AffineCoupling(mask, nets(), nett()) for mask in masks)
        ### END SOLUTION

    def f(self, x):
        """Data x (batch, dim) -> latent z (batch, dim) and log|det df/dx| of shape (batch,)."""
        ### BEGIN SOLUTION
        log_det = x.new_zeros(x.shape[0])
        for layer in self.layers:
            x, layer_log_det = layer(x)
            log_det = log_det + layer_log_det
        return x, log_det
        ### END SOLUTION

    def g(self, z):
        """Latent z (batch, dim) -> data x (batch, dim): the inverse of f."""
        ### BEGIN SOLUTION
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z
        ### END SOLUTION

    def log_prob(self, x):
        """log p_X(x) of each row of x (batch, dim): shape (batch,)."""
        ### BEGIN SOLUTION
        z, log_det = self.f(x)
        return self.prior.log_prob(z) + log_det
        ### END SOLUTION

    def sample(self, n):
        """n samples (n, dim) of the model: g applied to draws from the prior."""
        ### BEGIN SOLUTION
        return self.g(self.prior.sample((n,)))
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_realnvp_inverse", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""RealNVP: f returns (z, log_det) of the right shapes, g undoes f, the layers' parameters are registered."""
with torch.random.fork_rng():
    torch.manual_seed(2)
    flow_seen = RealNVP(nets, nett, torch.tensor([[1.0, 0.0], [0.0, 1.0]] * 2), prior)
    x_seen = torch.randn(256, 2)
with torch.no_grad():
    z_seen, log_det_seen = flow_seen.f(x_seen)
check_shape("z from f(x)", z_seen, (256, 2), "f returns z with the shape of x, and log_det")
check_shape("log_det from f(x)", log_det_seen, (256,), "add the layers' log_det: one value per sample")
n_net_parameters = sum(p.numel() for p in nets().parameters()) + sum(p.numel() for p in nett().parameters())
n_flow_parameters = sum(p.numel() for p in flow_seen.parameters() if p.requires_grad)
check(
    n_flow_parameters == 4 * n_net_parameters,
    f"flow.parameters() holds {n_flow_parameters} trainable numbers, expected {4 * n_net_parameters} "
    "(4 layers, each with its own s and t): call nets() and nett() once per layer and keep the layers in an nn.ModuleList",
)
with torch.no_grad():
    check_close("g(f(x))", flow_seen.g(z_seen), x_seen, "g must apply the layers' inverses in reverse order", atol=1e-4)
print("f and g look right")
### BEGIN HIDDEN TESTS
# Each hidden block defines the helpers it uses: a block does not run when its cell's visible checks fail,
# and a later cell must not lose points for a name that block would have defined.
def _hidden_flow(dim, n_layers, gain, seed, start=1.0):
    """A student RealNVP in float64 with random, non-zero weights, and the list of the nets it asked for."""
    made = []

    def factory(tanh):
        def make():
            net = nn.Sequential(nn.Linear(dim, 16), nn.Tanh(), nn.Linear(16, dim), *([nn.Tanh()] if tanh else [])).double()
            with torch.no_grad():
                net[2].weight.mul_(gain)
                net[2].bias.uniform_(-0.5 * gain, 0.5 * gain)
            made.append(net)
            return net

        return make

    base = (torch.arange(dim) % 2 == (0 if start else 1)).double()
    masks_hidden = torch.stack([base if k % 2 == 0 else 1 - base for k in range(n_layers)])
    eye = torch.eye(dim, dtype=torch.float64)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        flow_hidden = RealNVP(factory(True), factory(False), masks_hidden, torch.distributions.MultivariateNormal(0 * eye[0], eye))
    return flow_hidden, made


for dim, n_layers, start in [(2, 1, 1.0), (2, 4, 0.0), (4, 3, 1.0), (6, 6, 0.0)]:
    flow_hidden, made = _hidden_flow(dim, n_layers, 1.5, 40 + dim + n_layers, start)
    assert len(made) == 2 * n_layers, f"{len(made)} nets built for {n_layers} layers"
    trainable = {id(p) for p in flow_hidden.parameters() if p.requires_grad}
    assert all(id(p) in trainable for net in made for p in net.parameters()), "a layer's net is not registered"
    with torch.random.fork_rng():
        torch.manual_seed(50 + dim)
        x_hidden = torch.randn(128, dim, dtype=torch.float64)
    x_copy = x_hidden.clone()
    z_hidden, log_det_hidden = flow_hidden.f(x_hidden)
    assert torch.equal(x_hidden, x_copy), "f modified its input in place"
    assert tuple(z_hidden.shape) == (128, dim) and tuple(log_det_hidden.shape) == (128,)
    assert (flow_hidden.g(z_hidden) - x_hidden).abs().max().item() < 1e-8, "g(f(x)) != x"
    z_copy = x_hidden.clone()
    assert (flow_hidden.f(flow_hidden.g(x_hidden))[0] - x_hidden).abs().max().item() < 1e-8, "f(g(z)) != z"
    assert torch.equal(x_hidden, z_copy), "g modified its input in place"
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_realnvp_log_prob", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""RealNVP.log_prob = log p_Z(f(x)) + log|det df/dx|, of shape (batch,)."""
with torch.no_grad():
    log_prob_seen = flow_seen.log_prob(x_seen)
    z_seen, log_det_seen = flow_seen.f(x_seen)
check_shape("log_prob(x)", log_prob_seen, (256,), "one log-density per sample")
check_close(
    "log_prob(x)",
    log_prob_seen,
    prior.log_prob(z_seen) + log_det_seen,
    "log p_X(x) = prior.log_prob(z) + log_det, with z, log_det = f(x): check both terms and both signs",
    atol=1e-4,
)
print("log_prob looks right")
### BEGIN HIDDEN TESTS
def _hidden_jacobian_log_det(fn, x):
    """log|det J| of fn at each row of x (batch, dim), from autograd's full Jacobian."""
    rows = [torch.autograd.functional.jacobian(lambda v: fn(v.unsqueeze(0))[0].squeeze(0), xi) for xi in x]
    return torch.stack([torch.linalg.slogdet(j)[1] for j in rows])


def _hidden_flow(dim, n_layers, gain, seed, start=1.0):
    """A student RealNVP in float64 with random, non-zero weights, and the list of the nets it asked for."""
    made = []

    def factory(tanh):
        def make():
            net = nn.Sequential(nn.Linear(dim, 16), nn.Tanh(), nn.Linear(16, dim), *([nn.Tanh()] if tanh else [])).double()
            with torch.no_grad():
                net[2].weight.mul_(gain)
                net[2].bias.uniform_(-0.5 * gain, 0.5 * gain)
            made.append(net)
            return net

        return make

    base = (torch.arange(dim) % 2 == (0 if start else 1)).double()
    masks_hidden = torch.stack([base if k % 2 == 0 else 1 - base for k in range(n_layers)])
    eye = torch.eye(dim, dtype=torch.float64)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        flow_hidden = RealNVP(factory(True), factory(False), masks_hidden, torch.distributions.MultivariateNormal(0 * eye[0], eye))
    return flow_hidden, made


for dim, n_layers, start in [(2, 2, 1.0), (2, 5, 0.0), (4, 4, 1.0), (5, 3, 0.0)]:
    flow_hidden, _ = _hidden_flow(dim, n_layers, 1.5, 60 + dim + n_layers, start)
    with torch.random.fork_rng():
        torch.manual_seed(70 + dim)
        x_hidden = torch.randn(8, dim, dtype=torch.float64)
    log_det_autograd = _hidden_jacobian_log_det(flow_hidden.f, x_hidden)
    assert (flow_hidden.f(x_hidden)[1] - log_det_autograd).abs().max().item() < 1e-4, "f's log_det != log|det J|"
    z_reference = flow_hidden.f(x_hidden)[0].detach()
    log_prob_reference = flow_hidden.prior.log_prob(z_reference) + log_det_autograd
    log_prob_hidden = flow_hidden.log_prob(x_hidden)
    assert tuple(log_prob_hidden.shape) == (8,)
    assert (log_prob_hidden - log_prob_reference).abs().max().item() < 1e-4, "log_prob != log p_Z(f(x)) + log|det J|"
# A density integrates to one: a gentle flow keeps its mass inside a wide grid.
flow_hidden, _ = _hidden_flow(2, 4, 0.6, 80)
grid_1d = torch.linspace(-9, 9, 361, dtype=torch.float64)
grid = torch.cartesian_prod(grid_1d, grid_1d)
with torch.no_grad():
    mass = flow_hidden.log_prob(grid).exp().sum().item() * (grid_1d[1] - grid_1d[0]).item() ** 2
assert abs(mass - 1) < 0.01, f"the density integrates to {mass:.3f}, not 1"
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "test_realnvp_sample", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""RealNVP.sample(n) returns n points of shape (n, dim): g applied to prior draws."""
with torch.random.fork_rng():
    torch.manual_seed(3)
    with torch.no_grad():
        samples_seen = flow_seen.sample(500)
check_shape("sample(500)", samples_seen, (500, 2), "draw z = prior.sample((n,)) and return g(z)")
with torch.no_grad():
    z_back = flow_seen.f(samples_seen)[0]
check(
    z_back.mean(0).abs().max().item() < 0.25 and (z_back.std(0) - 1).abs().max().item() < 0.25,
    "f(sample(n)) should look like draws from the prior N(0, I): sample must return g(z), not z or f(z)",
)
print("sample looks right")
### BEGIN HIDDEN TESTS
def _hidden_flow(dim, n_layers, gain, seed, start=1.0):
    """A student RealNVP in float64 with random, non-zero weights, and the list of the nets it asked for."""
    made = []

    def factory(tanh):
        def make():
            net = nn.Sequential(nn.Linear(dim, 16), nn.Tanh(), nn.Linear(16, dim), *([nn.Tanh()] if tanh else [])).double()
            with torch.no_grad():
                net[2].weight.mul_(gain)
                net[2].bias.uniform_(-0.5 * gain, 0.5 * gain)
            made.append(net)
            return net

        return make

    base = (torch.arange(dim) % 2 == (0 if start else 1)).double()
    masks_hidden = torch.stack([base if k % 2 == 0 else 1 - base for k in range(n_layers)])
    eye = torch.eye(dim, dtype=torch.float64)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        flow_hidden = RealNVP(factory(True), factory(False), masks_hidden, torch.distributions.MultivariateNormal(0 * eye[0], eye))
    return flow_hidden, made


for dim, n_layers in [(2, 4), (3, 3)]:
    flow_hidden, _ = _hidden_flow(dim, n_layers, 1.5, 90 + dim)
    with torch.random.fork_rng():
        torch.manual_seed(95 + dim)
        with torch.no_grad():
            samples_hidden = flow_hidden.sample(20_000)
    assert tuple(samples_hidden.shape) == (20_000, dim)
    with torch.no_grad():
        z_back = flow_hidden.f(samples_hidden)[0]
    assert z_back.mean(0).abs().max().item() < 0.05, "f(sample) is not centred like the prior"
    assert (torch.cov(z_back.T) - torch.eye(dim, dtype=z_back.dtype)).abs().max().item() < 0.06, "f(sample) is not N(0, I)"
    assert (samples_hidden.mean(0)).abs().max().item() > 0.05 or (samples_hidden.std(0) - 1).abs().max().item() > 0.05
### END HIDDEN TESTS

# %% [markdown]
# ## Part 4 — The negative log-likelihood (1 point)
#
# The training loss is the mean negative log-likelihood of a batch, in nats per sample:
# $\mathcal{L} = -\frac{1}{n}\sum_i \ln p_X(x_i)$. It must be a scalar tensor that gradients flow through (no
# `.item()`), and a *mean*, so that its value does not depend on the batch size.

# %% nbgrader={"grade": false, "grade_id": "nll", "locked": false, "schema_version": 3, "solution": true, "task": false}
def nll_loss(flow, x):
    """Mean negative log-likelihood of x (batch, dim) under flow, in nats per sample: a scalar tensor."""
    ### BEGIN SOLUTION
    return -flow.log_prob(x).mean()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_nll", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""nll_loss: a scalar mean of -log_prob, in nats per sample, that gradients flow through."""
loss_seen = nll_loss(flow_seen, x_seen)
check(isinstance(loss_seen, torch.Tensor), f"nll_loss should return a tensor, got {type(loss_seen).__name__}: do not call .item()")
check_shape("nll_loss(flow, x)", loss_seen, (), "average over the batch with .mean(): the loss is a single number")
check(loss_seen.requires_grad, "the loss does not depend on the flow's parameters: do not detach it")
with torch.no_grad():
    expected_loss = -flow_seen.log_prob(x_seen).mean()
check_close(
    "nll_loss(flow, x)",
    loss_seen,
    expected_loss,
    "the negative log-likelihood is minus the mean of flow.log_prob(x): check the sign and that it is a mean, not a sum",
    atol=1e-4,
)
print(f"nll_loss looks right: {loss_seen.item():.3f} nats per sample for an untrained flow")
### BEGIN HIDDEN TESTS
class _HiddenScaleFlow(nn.Module):
    """A known flow z = (x - mu) / sigma with the RealNVP interface, to test nll_loss on its own."""

    def __init__(self, mu, log_sigma):
        super().__init__()
        self.mu = nn.Parameter(mu)
        self.log_sigma = nn.Parameter(log_sigma)
        dim = mu.shape[0]
        self.prior = torch.distributions.MultivariateNormal(torch.zeros(dim, dtype=mu.dtype), torch.eye(dim, dtype=mu.dtype))

    def f(self, x):
        return (x - self.mu) * torch.exp(-self.log_sigma), -self.log_sigma.sum().expand(x.shape[0])

    def g(self, z):
        return z * torch.exp(self.log_sigma) + self.mu

    def log_prob(self, x):
        z, log_det = self.f(x)
        return self.prior.log_prob(z) + log_det

    def sample(self, n):
        return self.g(self.prior.sample((n,)))

    def forward(self, x):
        return self.f(x)


for dim in (2, 3):
    mu_hidden = torch.linspace(-1, 1, dim, dtype=torch.float64)
    log_sigma_hidden = torch.linspace(-0.5, 0.7, dim, dtype=torch.float64)
    scale_flow = _HiddenScaleFlow(mu_hidden, log_sigma_hidden)
    with torch.random.fork_rng():
        torch.manual_seed(100 + dim)
        x_hidden = 3 * torch.randn(50, dim, dtype=torch.float64)
    expected = -torch.distributions.Normal(mu_hidden, log_sigma_hidden.exp()).log_prob(x_hidden).sum(1).mean()
    loss_hidden = nll_loss(scale_flow, x_hidden)
    assert isinstance(loss_hidden, torch.Tensor) and loss_hidden.dim() == 0, "loss is not a scalar tensor"
    assert abs(loss_hidden.item() - expected.item()) < 1e-6, f"{loss_hidden.item()} != {expected.item()}"
    assert abs(nll_loss(scale_flow, torch.cat([x_hidden, x_hidden])).item() - expected.item()) < 1e-6, "not a mean"
    loss_hidden.backward()
    assert scale_flow.mu.grad is not None and scale_flow.mu.grad.abs().sum().item() > 0, "no gradient reaches the flow"
### END HIDDEN TESTS

# %% [markdown]
# ## Part 5 — Training on two moons (2 points)
#
# Train a `RealNVP` on `x_train` by minimising `nll_loss` with a gradient-based optimiser, and leave the
# trained model in the variable `flow`. Record your progress in `history` (the plots below use it).
#
# **Budget.** Your training must finish within **60 seconds** on a laptop CPU; the grader stops the cell after
# 120 seconds. **Target:** a held-out NLL below **0.45 nats per sample** on the test split (the best any
# model can do on these data is about 0.289, the entropy of the noisy moons; a single Gaussian scores 1.88).
#
# Hints: the course's recipe (6 layers, Adam with learning rate $10^{-4}$, 5000 steps of 100 points) works but
# learns slowly. A larger learning rate ($10^{-3}$ to $5 \cdot 10^{-3}$) that decays towards zero at the end
# (`torch.optim.lr_scheduler.OneCycleLR`), batches of a few hundred points drawn at random from `x_train`, 6 to
# 10 layers and a few thousand steps get well below the target in well under a minute. If the loss jumps to
# `nan`, lower the learning rate or clip the gradients (`nn.utils.clip_grad_norm_`).

# %% nbgrader={"grade": false, "grade_id": "train", "locked": false, "schema_version": 3, "solution": true, "task": false}
history = {"step": [], "batch_nll": [], "eval_step": [], "test_nll": []}
### BEGIN SOLUTION
N_LAYERS, N_STEPS, BATCH, LEARNING_RATE = 10, 5000, 256, 5e-3

flow = RealNVP(nets, nett, make_masks(N_LAYERS, DIM), prior)
optimizer = torch.optim.Adam(flow.parameters(), lr=LEARNING_RATE, fused=True)  # fused: one kernel for all parameters
schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LEARNING_RATE, total_steps=N_STEPS, pct_start=0.3)
started = time.perf_counter()
for step in tqdm(range(N_STEPS), desc="training", mininterval=1.0):
    batch = x_train[torch.randint(len(x_train), (BATCH,))]
    loss = nll_loss(flow, batch)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(flow.parameters(), max_norm=1.0)
    optimizer.step()
    schedule.step()
    history["step"].append(step)
    history["batch_nll"].append(loss.item())
    if step % 250 == 0 or step == N_STEPS - 1:  # a 10,000-point slice of the test split is enough for the curve
        with torch.no_grad():
            history["eval_step"].append(step)
            history["test_nll"].append(nll_loss(flow, x_test[:10_000]).item())
print(f"trained {N_STEPS} steps in {time.perf_counter() - started:.1f} s")
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "test_train", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""The trained flow scores a held-out NLL below 0.45 nats per sample."""
NLL_TARGET = 0.45
check("flow" in globals(), "the training cell must leave the trained model in a variable named flow")
check(isinstance(flow, RealNVP), f"flow should be a RealNVP, got {type(flow).__name__}")
with torch.no_grad():
    test_nll = nll_loss(flow, x_test).item()
check(np.isfinite(test_nll), f"the held-out NLL is {test_nll}: training diverged (try a smaller learning rate)")
check(
    test_nll < NLL_TARGET,
    f"held-out NLL {test_nll:.3f} nats per sample, target below {NLL_TARGET}: train longer, with larger batches or a larger learning rate",
)
print(f"held-out NLL on the test split: {test_nll:.3f} nats per sample (target below {NLL_TARGET}; floor about 0.289)")
### BEGIN HIDDEN TESTS
def _hidden_jacobian_log_det(fn, x):
    """log|det J| of fn at each row of x (batch, dim), from autograd's full Jacobian."""
    rows = [torch.autograd.functional.jacobian(lambda v: fn(v.unsqueeze(0))[0].squeeze(0), xi) for xi in x]
    return torch.stack([torch.linalg.slogdet(j)[1] for j in rows])


x_val, _ = load_moons("val")
x_val = x_val.double()
flow_val = copy.deepcopy(flow).double()
prior_val = torch.distributions.MultivariateNormal(torch.zeros(2, dtype=torch.float64), torch.eye(2, dtype=torch.float64))
with torch.no_grad():
    z_val, log_det_val = flow_val.f(x_val)
    val_nll = -(prior_val.log_prob(z_val) + log_det_val).mean().item()
    assert (flow_val.g(z_val[:500]) - x_val[:500]).abs().max().item() < 1e-4, "the trained flow is not invertible"
assert (log_det_val[:4] - _hidden_jacobian_log_det(flow_val.f, x_val[:4])).abs().max().item() < 1e-4
assert np.isfinite(val_nll) and val_nll < NLL_TARGET, f"validation NLL {val_nll:.3f}"
### END HIDDEN TESTS

# %% [markdown]
# ## Does it invert? (not graded)
#
# As in the course: map the test points to the latent space and back. The gap should be at the level of
# float32 round-off.

# %% nbgrader={"grade": false, "grade_id": "invertibility", "locked": true, "schema_version": 3, "solution": false, "task": false}
with torch.no_grad():
    z_test, _ = flow.f(x_test)
    round_trip_gap = (flow.g(z_test) - x_test).abs().max().item()
print(f"max |g(f(x)) - x| over the test split: {round_trip_gap:.2e}")

# %% [markdown]
# ## What the flow learned
#
# The course's four panels: the data $X$ and its image $f(X)$ in latent space (it should look like the
# prior), and prior draws $z$ with their image $g(z)$ (they should look like the data).

# %% nbgrader={"grade": false, "grade_id": "plot_four_panels", "locked": true, "schema_version": 3, "solution": false, "task": false}
with torch.no_grad(), torch.random.fork_rng():
    torch.manual_seed(SEED)
    z_from_data = flow.f(x_test[:1000])[0]
    z_drawn = prior.sample((1000,))
    x_drawn = flow.g(z_drawn)
panels = [
    (x_test[:1000], r"data $X \sim p(X)$", "$x$", "tab:red"),
    (z_from_data, r"$z = f(X)$", "$z$", "tab:red"),
    (z_drawn, r"prior draws $z \sim p(z)$", "$z$", "tab:green"),
    (x_drawn, r"samples $X = g(z)$", "$x$", "tab:green"),
]
fig, axes = plt.subplots(1, 4, figsize=(12, 3))
for ax, (points, title, name, colour) in zip(axes, panels):
    ax.scatter(*points.T, s=2, c=colour)
    ax.set(title=title, xlabel=f"{name}$_1$", ylabel=f"{name}$_2$", xlim=(-4, 4) if name == "$z$" else (-1.6, 2.6), ylim=(-4, 4) if name == "$z$" else (-1.1, 1.6))
fig.tight_layout()
plt.show()

# %% [markdown]
# ## The learned density beside the true one
#
# The two-moons density is known exactly: pick a moon with probability 1/2 and an angle $\theta$ uniformly in
# $[0, \pi]$; the point on the upper moon is $(\cos\theta, \sin\theta)$, on the lower one
# $(1 - \cos\theta, \tfrac12 - \sin\theta)$; then add $\mathcal{N}(0, 0.05^2 I)$ noise. Its density is an average
# of Gaussians along the two half circles, computed below by quadrature over $\theta$. Its entropy, about
# 0.289 nats, is the lowest expected NLL any model can reach.

# %% nbgrader={"grade": false, "grade_id": "true_density", "locked": true, "schema_version": 3, "solution": false, "task": false}
def true_log_density(x, n_angles=1000):
    """Exact log-density of make_moons(noise=0.05) at points x (n, 2), by quadrature over the angle."""
    theta = (np.arange(n_angles) + 0.5) * np.pi / n_angles
    centres = np.concatenate([np.stack([np.cos(theta), np.sin(theta)], 1), np.stack([1 - np.cos(theta), 0.5 - np.sin(theta)], 1)])
    x = np.asarray(x, dtype=np.float64)
    log_mean = np.empty(len(x))
    for start in range(0, len(x), 2048):  # in chunks: all points at once would take gigabytes
        log_kernels = -0.5 * ((x[start : start + 2048, None, :] - centres[None]) ** 2).sum(-1) / MOONS_NOISE**2
        top = log_kernels.max(1, keepdims=True)
        log_mean[start : start + 2048] = top[:, 0] + np.log(np.exp(log_kernels - top).mean(1))
    return log_mean - np.log(2 * np.pi * MOONS_NOISE**2)


# %% nbgrader={"grade": false, "grade_id": "plot_density", "locked": true, "schema_version": 3, "solution": false, "task": false}
with torch.no_grad():
    heldout_nll = nll_loss(flow, x_test).item()
true_nll = -true_log_density(x_test.numpy()).mean()
grid_x1, grid_x2 = np.meshgrid(np.linspace(-1.5, 2.5, 160), np.linspace(-1.0, 1.5, 100))
grid_points = np.stack([grid_x1.ravel(), grid_x2.ravel()], 1)
with torch.no_grad():
    learned = flow.log_prob(torch.from_numpy(grid_points).float()).exp().numpy().reshape(grid_x1.shape)
true_density = np.exp(true_log_density(grid_points)).reshape(grid_x1.shape)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for ax, density, title in [
    (axes[0], learned, f"learned density: held-out NLL {heldout_nll:.3f}"),
    (axes[1], true_density, f"true density: NLL {true_nll:.3f} (floor about 0.289)"),
]:
    image = ax.pcolormesh(grid_x1, grid_x2, density, shading="auto", cmap="viridis", vmin=0, vmax=true_density.max())
    ax.set(title=title, xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
    fig.colorbar(image, ax=ax, label="density")
fig.tight_layout()
plt.show()
print(f"held-out NLL {heldout_nll:.3f} nats per sample; the true density scores {true_nll:.3f} on the same points, "
      f"a gap of {heldout_nll - true_nll:.3f}")

# %% [markdown]
# ## How each coupling layer moves the data
#
# Each panel shows the test points after one more coupling layer, coloured by moon. A layer moves the points
# along one axis only (the coordinate its mask leaves free), by an amount that depends on the other coordinate.
# Step by step the two moons are unbent into a Gaussian blob.

# %% nbgrader={"grade": false, "grade_id": "plot_layers", "locked": true, "schema_version": 3, "solution": false, "task": false}
coupling_layers = [module for module in flow.modules() if isinstance(module, AffineCoupling)]
if not coupling_layers:
    print("This RealNVP does not use AffineCoupling modules, so its layers cannot be shown one by one.")
else:
    stages = [x_test[:1000]]
    with torch.no_grad():
        for layer in coupling_layers:
            stages.append(layer(stages[-1])[0])
    columns = min(6, len(stages))
    rows = -(-len(stages) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.3 * columns, 2.1 * rows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= len(stages):
            ax.axis("off")
            continue
        ax.scatter(*stages[k].T, c=label_test[:1000], cmap="coolwarm", s=1)
        ax.set(title="input $x$" if k == 0 else f"after layer {k}", xlabel="$h_1$", ylabel="$h_2$")
    fig.tight_layout()
    plt.show()

# %% [markdown]
# ## Training curves

# %% nbgrader={"grade": false, "grade_id": "plot_training", "locked": true, "schema_version": 3, "solution": false, "task": false}
if not history["step"]:
    print("history is empty: append to it in your training loop to see the training curves here.")
else:
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(history["step"], history["batch_nll"], lw=0.5, alpha=0.6, label="training batch NLL")
    if history["eval_step"]:
        ax.plot(history["eval_step"], history["test_nll"], lw=1.5, label="held-out NLL (10,000 test points)")
    ax.axhline(0.289, color="k", ls="--", lw=1, label="floor: entropy of the data (0.289)")
    ax.set(xlabel="step", ylabel="NLL (nats per sample)", title="Training", ylim=(0.2, 2.5))
    ax.legend()
    fig.tight_layout()
    plt.show()
