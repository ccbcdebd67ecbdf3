# ---
# jupyter:
#   autograder:
#     title: Real NVP on 8x8 digits
#     student_files: false
#     blank_answers: person
#     check_outside_kernel: true
#     data: []
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
# # Normalizing flows on images: Real NVP on 8×8 digits
#
# In the first exercise you built Real NVP (Dinh, Sohl-Dickstein and Bengio, 2016) and fitted it to points in
# the plane. This notebook fits it to **images**: the 1,797 handwritten digits of 8×8 pixels that ship with
# scikit-learn. This notebook **contains a working Real NVP** (the coupling layer and the flow are given, as in
# the first exercise's solution); what is new, and what you write, is what images need around it:
#
# | part | you write | points |
# |---|---|---|
# | 1 | `checkerboard_masks`: masks that fit an image | 2 |
# | 2 | `dequantize` and `logit_transform`: from pixel values to a flow's data, with the exact log-determinant | 3 |
# | 3 | `bits_per_dim`: the score image models are compared by | 2 |
# | 4 | training a flow on the digits, beating a full-covariance Gaussian | 3 |
# | written | two short answers, graded by hand: what dequantization buys (after Part 2), what bits/dim compares (after Part 3) | 2 |
#
# **How to work.** Run the cells from the top. Each answer cell (`# YOUR CODE HERE`) is followed by a test
# cell: run it, and if something is wrong it tells you *what* is wrong. The grader also runs hidden tests on
# other inputs (other image sizes, float64), so write general code: no hard-coded 8 or 64, no hard-coded batch
# size. Do not rename the functions, and do not delete or edit the test cells.
#
# Notation, as in the course: `x` data, `z` latent, `f` maps data to latent, `g = f⁻¹` maps latent to data,
# `b` a binary mask, `s` and `t` the scale and translation networks, `log_det` a log-determinant of shape `(batch,)`.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false, "task": false}
import base64
import io
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn
from tqdm.auto import tqdm

SEED = 0
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(1)  # these networks are small: one thread is fastest, and leaves a core free
plt.rcParams.update({"figure.dpi": 80, "axes.titlesize": 10, "axes.labelsize": 9})

# %% [markdown]
# ## The data: 8×8 digits
#
# Each image has $D = 8 \times 8 = 64$ pixels, each an **integer from 0 to 16** (17 grey levels). We flatten an
# image row by row into a vector of 64 numbers: pixel $(i, j)$ (row $i$, column $j$) is at index $i \cdot 8 + j$,
# as `image.reshape(-1)` does. The images are split once and for all by a fixed permutation: `train` to fit,
# `test` to report a held-out score, and `grading`, which the grader's hidden tests keep to themselves.

# %% nbgrader={"grade": false, "grade_id": "data", "locked": true, "schema_version": 3, "solution": false, "task": false}
HEIGHT, WIDTH = 8, 8
DIM = HEIGHT * WIDTH
N_LEVELS = 17  # pixel values are the integers 0, 1, ..., 16
SPLIT_SIZES = {"train": 1297, "test": 250, "grading": 250}  # 1,797 images in all
SPLIT_SEED = 0


def load_digit_split(split):
    """One split of the digits: pixel values x (n, 64) float32 (integers 0..16) and labels (n,) int64.

    The split is fixed: a permutation from NumPy's legacy RandomState(SPLIT_SEED), whose stream never changes.
    """
    digits = load_digits()
    order = np.random.RandomState(SPLIT_SEED).permutation(len(digits.target))
    starts = np.cumsum([0, *SPLIT_SIZES.values()])
    start = starts[list(SPLIT_SIZES).index(split)]
    chosen = order[start : start + SPLIT_SIZES[split]]
    return torch.from_numpy(digits.data[chosen].astype(np.float32)), torch.from_numpy(digits.target[chosen].astype(np.int64))


def show_digits(ax, images, title, columns=10):
    """Draw images (n, 64) of pixel values in [0, 16] as a grid with `columns` images per row."""
    images = np.asarray(images, dtype=np.float64).reshape(-1, HEIGHT, WIDTH)
    rows = -(-len(images) // columns)
    canvas = np.full((rows * (HEIGHT + 1) + 1, columns * (WIDTH + 1) + 1), np.nan)
    for k, image in enumerate(images):
        top, left = 1 + (k // columns) * (HEIGHT + 1), 1 + (k % columns) * (WIDTH + 1)
        canvas[top : top + HEIGHT, left : left + WIDTH] = image
    ax.imshow(canvas, cmap="gray_r", vmin=0, vmax=N_LEVELS - 1)
    ax.set(title=title, xticks=[], yticks=[])


x_train, label_train = load_digit_split("train")
x_test, label_test = load_digit_split("test")
print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}; pixel values {x_train.min():.0f} to {x_train.max():.0f}")
fig, ax = plt.subplots(figsize=(5, 2.2))
show_digits(ax, x_train[:40], "40 training digits")
plt.show()

# %% nbgrader={"grade": false, "grade_id": "check_helpers", "locked": true, "schema_version": 3, "solution": false, "task": false}
# autograder: include shared/checks.py


# %% nbgrader={"grade": false, "grade_id": "explorer_kit", "locked": true, "schema_version": 3, "solution": false, "task": false}
# autograder: include shared/explorer_kit.py


# %% [markdown]
# ## Part 1 — Checkerboard masks (2 points)
#
# A coupling layer keeps the coordinates where its mask $b$ is 1 and transforms the others, conditioned on the
# kept ones; the next layer uses $1 - b$, so that after two layers every coordinate has been transformed. In the
# first exercise any split of the coordinates would do. In an image, **neighbouring pixels** are what predict a
# pixel best, so Real NVP uses a **checkerboard**: pixel $(i, j)$ gets $b = 1$ when $i + j$ is even and $b = 0$
# when it is odd (or the other way round). Then every transformed pixel is conditioned on its four neighbours,
# above, below, left and right.
#
# Beware of the flattening: the alternating vector `[1, 0, 1, 0, …]` of the first exercise, laid out on an image
# 8 pixels wide, is a pattern of **vertical stripes** (pixel $(i, j)$ and pixel $(i + 1, j)$ are $8$ apart, so
# they get the same value), not a checkerboard.
#
# Write `checkerboard_masks(n_layers, height, width)`: a float tensor of shape `(n_layers, height * width)` of
# zeros and ones; row $k$ is a checkerboard of `height × width` pixels flattened row by row (pixel $(i, j)$ at
# index $i \cdot \text{width} + j$), and consecutive rows are complementary (`masks[k] + masks[k + 1]` is all ones).


# %% nbgrader={"grade": false, "grade_id": "checkerboard", "locked": false, "schema_version": 3, "solution": true, "task": false} autograder={"defines": ["checkerboard_masks"]}
def checkerboard_masks(n_layers, height, width):
    """Alternating checkerboards: a float tensor (n_layers, height * width) of 0/1, each row flattened row by row."""
    ### BEGIN SOLUTION
    rows = torch.arange(height).unsqueeze(1)
    columns = torch.arange(width).unsqueeze(0)
    board = ((rows + columns) % 2 == 0).float().reshape(-1)
    return torch.stack([board if k % 2 == 0 else 1 - board for k in range(n_layers)])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_checkerboard", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""checkerboard_masks: shape (n_layers, h * w), 0/1 floats, each row a checkerboard flattened row by row, consecutive rows complementary."""
for n_layers, height, width in [(4, 8, 8), (3, 4, 4)]:
    call = f"checkerboard_masks({n_layers}, {height}, {width})"
    masks_seen = calling(call, checkerboard_masks, n_layers, height, width)
    check(
        not (isinstance(masks_seen, torch.Tensor) and tuple(masks_seen.shape) == (n_layers, height, width)),
        f"{call} has shape {(n_layers, height, width)}: flatten each mask row by row to height * width = {height * width} values (.reshape(-1))",
    )
    check_shape(call, masks_seen, (n_layers, height * width), "one row per layer, one column per pixel: do not hard-code 8 or 64")
    check(masks_seen.is_floating_point(), "the masks should be a float tensor (they multiply float data): use .float()")
    check(bool(((masks_seen == 0) | (masks_seen == 1)).all()), f"{call} holds values other than 0 and 1")
    boards = masks_seen.reshape(n_layers, height, width)
    check(
        bool((boards[:, :, 1:] != boards[:, :, :-1]).all()),
        f"{call}: two pixels side by side in a row, (i, j) and (i, j + 1), have the same mask value; in a checkerboard they differ",
    )
    check(
        bool((boards[:, 1:, :] != boards[:, :-1, :]).all()),
        f"{call}: pixels (i, j) and (i + 1, j), one above the other, have the same mask value: these are stripes, not a "
        f"checkerboard. Pixel (i, j) is at index i * width + j, so give it (i + j) % 2, not index % 2",
    )
    check(
        bool((masks_seen[1:] + masks_seen[:-1] == 1).all()),
        f"{call}: consecutive masks must be complementary (masks[k] + masks[k + 1] == 1): alternate the checkerboard and 1 minus it",
    )
print("the first two masks of checkerboard_masks(2, 4, 4), as 4 x 4 images:")
print(checkerboard_masks(2, 4, 4).reshape(2, 4, 4).int())
### BEGIN HIDDEN TESTS
for n_layers, height, width in [(1, 8, 8), (6, 2, 2), (5, 3, 5), (2, 5, 4), (3, 1, 6), (4, 7, 7), (2, 6, 3)]:
    where = f"checkerboard_masks({n_layers}, {height}, {width})"
    masks_hidden = calling(where, checkerboard_masks, n_layers, height, width)
    assert isinstance(masks_hidden, torch.Tensor) and tuple(masks_hidden.shape) == (n_layers, height * width), f"{where}: wrong shape"
    assert masks_hidden.is_floating_point(), f"{where} is not a float tensor"
    assert bool(((masks_hidden == 0) | (masks_hidden == 1)).all()), f"{where} holds values other than 0 and 1"
    boards = masks_hidden.reshape(n_layers, height, width)
    assert bool((boards[:, :, 1:] != boards[:, :, :-1]).all()), f"{where}: not a checkerboard along the rows"
    assert bool((boards[:, 1:, :] != boards[:, :-1, :]).all()), f"{where}: not a checkerboard along the columns"
    assert bool((masks_hidden[1:] + masks_hidden[:-1] == 1).all()), f"{where}: consecutive masks not complementary"
### END HIDDEN TESTS

# %% [markdown]
# ## Part 2 — Dequantization and the logit transform (3 points)
#
# **Why dequantize.** A pixel takes one of 17 values, but a flow defines a *continuous* density. Fitted to
# discrete points, a continuous density can pile up on them and make the likelihood as large as it likes,
# without learning anything. The fix is to model the **dequantized** data $x + u$, with $u \sim \mathcal{U}[0, 1)^D$
# drawn afresh each time: $x + u$ has a density on $[0, 17)^D$, and the probability a continuous density $p$
# gives to the integer image $x$ is $P(x) = \int_{[0,1)^D} p(x + u)\,du$. By Jensen's inequality,
#
# $$\mathbb{E}_u\big[-\log p(x + u)\big] \ \ge\ -\log P(x),$$
#
# so the NLL of the dequantized data is an upper bound on the NLL of the discrete images (Theis, van den Oord
# and Bethge, 2016): a score on it is an honest score for the digits. We also rescale to the unit cube:
#
# $$y = \frac{x + u}{17} \in [0, 1)^D .$$
#
# **Why a logit.** The flow's prior is a Gaussian on all of $\mathbb{R}^D$, while $y$ lives in a box. Real NVP
# maps the box to $\mathbb{R}^D$ pixel by pixel with a logit, after squeezing $y$ away from 0 and 1 (where the
# logit is infinite) by $\alpha = 0.05$:
#
# $$s = \alpha + (1 - 2\alpha)\, y, \qquad w = \operatorname{logit}(s) = \log s - \log(1 - s).$$
#
# The flow then models $w$. The map $y \mapsto w$ is invertible and acts on each pixel alone, so its Jacobian
# is **diagonal**, and its log-determinant is the sum of the logs of the pixel-wise derivatives:
#
# $$\frac{\partial w_j}{\partial y_j} = \frac{1 - 2\alpha}{s_j (1 - s_j)}, \qquad
# \log\left|\det \frac{\partial w}{\partial y}\right| = \sum_{j=1}^{D} \Big( \log(1 - 2\alpha) - \log s_j - \log(1 - s_j) \Big).$$
#
# ### 2a. Dequantization
#
# Write `dequantize(x)`: `x` holds pixel values (integers $0, \dots, 16$ stored as floats) of any batch and
# dimension; return $y = (x + u) / 17$ with fresh uniform noise $u \in [0, 1)$, one independent draw per pixel
# (`torch.rand_like`), the shape and dtype of `x`. Use `N_LEVELS` (17). Do not change `x` in place.


# %% nbgrader={"grade": false, "grade_id": "dequantize", "locked": false, "schema_version": 3, "solution": true, "task": false} autograder={"defines": ["dequantize"]}
def dequantize(x):
    """Pixel values x (batch, dim) -> y = (x + u) / N_LEVELS (batch, dim) in [0, 1), u ~ U[0, 1) per pixel."""
    ### BEGIN SOLUTION
    return (x + torch.rand_like(x)) / N_LEVELS
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_dequantize", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
"""dequantize: y = (x + u) / 17 of the shape of x, with u uniform on [0, 1), fresh and independent for every pixel and call."""
with torch.random.fork_rng():
    torch.manual_seed(1)
    x_seen = torch.randint(0, N_LEVELS, (2000, 64)).float()
    x_copy = x_seen.clone()
    y_seen = calling("dequantize(x)", dequantize, x_seen)
    y_again = dequantize(x_seen)
check(torch.equal(x_seen, x_copy), "dequantize changed its input x in place: compute a new tensor instead")
check_shape("dequantize(x)", y_seen, (2000, 64), "y has the shape of x: one noise value per pixel (torch.rand_like(x))")
check(y_seen.dtype == x_seen.dtype, f"dequantize(x) has dtype {y_seen.dtype}, expected the dtype of x, {x_seen.dtype}")
check(not close(y_seen, x_seen / N_LEVELS), "dequantize adds no noise: add u ~ U[0, 1) to x before dividing by 17")
check(
    not close(y_seen, x_seen / (N_LEVELS - 1), 1e-2), "dequantize adds no noise and divides by 16: add u ~ U[0, 1), divide by N_LEVELS = 17"
)
noise_seen = y_seen * N_LEVELS - x_seen
noise_16 = y_seen * (N_LEVELS - 1) - x_seen
check(
    not (float(noise_16.min()) > -1e-4 and float(noise_16.max()) < 1 + 1e-4),
    "dequantize divides by 16, the largest pixel value: divide by the number of levels, N_LEVELS = 17, so that y < 1",
)
check(
    not (float(noise_seen.min()) < -1e-4 and float(noise_seen.min()) > -0.5 - 1e-4 and float(noise_seen.max()) < 0.5 + 1e-4),
    "the noise is centred on 0, in [-1/2, 1/2): it must lie in [0, 1), so that x + u stays in the bin [x, x + 1) (torch.rand_like(x))",
)
check(
    float(noise_seen.min()) > -1e-4 and float(noise_seen.max()) < 1 + 1e-4,
    f"the noise 17 * y - x ranges from {float(noise_seen.min()):.3f} to {float(noise_seen.max()):.3f}: it must lie in [0, 1) (torch.rand, not torch.randn)",
)
check(
    float(y_seen.min()) >= 0.0 and float(y_seen.max()) < 1.0,
    f"y ranges from {float(y_seen.min()):.4f} to {float(y_seen.max()):.4f}: it must lie in [0, 1)",
)
check(
    abs(float(noise_seen.mean()) - 0.5) < 0.02 and abs(float(noise_seen.std()) - 12**-0.5) < 0.02,
    f"the noise 17 * y - x has mean {float(noise_seen.mean()):.3f} and standard deviation {float(noise_seen.std()):.3f}; "
    f"uniform noise on [0, 1) has 0.5 and {12**-0.5:.3f}",
)
check(
    float(noise_seen.std(dim=1).min()) > 0.1,
    "the noise is the same for every pixel of an image: draw one value per pixel, torch.rand_like(x)",
)
check(
    float(noise_seen.std(dim=0).min()) > 0.1,
    "the noise is the same for every image of the batch: draw one value per pixel of every image, torch.rand_like(x)",
)
check(not close(y_again, y_seen, 1e-3), "two calls of dequantize gave the same noise: draw fresh noise at every call")
print(f"dequantize looks right: noise mean {float(noise_seen.mean()):.3f}, standard deviation {float(noise_seen.std()):.3f}")
### BEGIN HIDDEN TESTS
for shape, dtype in [((300, 16), torch.float64), ((50, 5), torch.float32), ((1000, 3), torch.float64)]:
    where = f"dequantize of shape {shape}, {dtype}"
    with torch.random.fork_rng():
        torch.manual_seed(sum(shape))
        x_hidden = torch.randint(0, N_LEVELS, shape).to(dtype)
        y_hidden = calling(where, dequantize, x_hidden)
    assert isinstance(y_hidden, torch.Tensor) and tuple(y_hidden.shape) == shape, f"{where}: wrong shape"
    assert y_hidden.dtype == dtype, f"{where}: returned dtype {y_hidden.dtype}"
    noise_hidden = y_hidden * N_LEVELS - x_hidden
    assert float(noise_hidden.min()) >= -1e-9 and float(noise_hidden.max()) < 1 + 1e-9, f"{where}: noise outside [0, 1)"
    counts = torch.histc(noise_hidden.double().clamp(0, 1 - 1e-9), bins=5, min=0, max=1) / noise_hidden.numel()
    assert float((counts - 0.2).abs().max()) < 0.05 or noise_hidden.numel() < 1000, f"{where}: the noise is not uniform on [0, 1)"
    assert float(noise_hidden.std(dim=0).min()) > 0.1, f"{where}: the same noise for every image"
    assert float((noise_hidden.std(dim=1) < 1e-4).double().mean()) < 0.01, f"{where}: the same noise for every pixel of an image"
### END HIDDEN TESTS

# %% [markdown]
# ### 2b. The logit transform and its log-determinant
#
# Write `logit_transform(y)`: for `y` of shape `(batch, dim)` in $[0, 1)$, return `w` (same shape) and the
# log-determinant of $y \mapsto w$ of shape `(batch,)`, exactly as in the formulas above, with the given `ALPHA`. The test
# checks the log-determinant against autograd's Jacobian. `torch.log1p(-s)` computes $\log(1 - s)$ accurately.

# %% nbgrader={"grade": false, "grade_id": "alpha", "locked": true, "schema_version": 3, "solution": false, "task": false}
ALPHA = 0.05  # y is squeezed into [ALPHA, 1 - ALPHA] before the logit


# %% nbgrader={"grade": false, "grade_id": "logit", "locked": false, "schema_version": 3, "solution": true, "task": false} autograder={"defines": ["logit_transform"]}
def logit_transform(y):
    """y (batch, dim) in [0, 1) -> w = logit(ALPHA + (1 - 2 ALPHA) y) (batch, dim) and log|det dw/dy| (batch,)."""
    ### BEGIN SOLUTION
    s = ALPHA + (1 - 2 * ALPHA) * y
    w = torch.log(s) - torch.log1p(-s)
    log_det = (math.log(1 - 2 * ALPHA) - torch.log(s) - torch.log1p(-s)).sum(dim=1)
    return w, log_det
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_logit", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""logit_transform: w = logit(ALPHA + (1 - 2 ALPHA) y) and its log-determinant of shape (batch,), checked against autograd's Jacobian."""
with torch.random.fork_rng():
    torch.manual_seed(2)
    y_seen = torch.rand(256, 64)
y_copy = y_seen.clone()
result_seen = calling("logit_transform(y)", logit_transform, y_seen)
check(torch.equal(y_seen, y_copy), "logit_transform changed its input y in place: compute new tensors instead")
check(isinstance(result_seen, (tuple, list)) and len(result_seen) == 2, "logit_transform should return two things: (w, log_det)")
w_seen, log_det_seen = result_seen
check_shape("w", w_seen, (256, 64), "w has the shape of y")
squeezed = ALPHA + (1 - 2 * ALPHA) * y_seen
check(not close(w_seen, torch.logit(y_seen), 1e-4), "w is logit(y): squeeze y first, w = logit(ALPHA + (1 - 2 * ALPHA) * y)")
check_close("w", w_seen, torch.logit(squeezed), "w = log(s) - log(1 - s) with s = ALPHA + (1 - 2 * ALPHA) * y", atol=1e-4)
check(
    not (isinstance(log_det_seen, torch.Tensor) and tuple(log_det_seen.shape) == (256, 64)),
    "log_det has shape (256, 64), one value per pixel: the log-determinant of the whole map is their sum over the pixels (dim=1)",
)
check_shape("log_det", log_det_seen, (256,), "one value per image: sum over the pixels (dim=1), not over the batch")
y_leaf = y_seen.double().requires_grad_(True)
(slopes,) = torch.autograd.grad(torch.logit(ALPHA + (1 - 2 * ALPHA) * y_leaf).sum(), y_leaf)  # the diagonal of dw/dy, by autograd
log_det_ref = slopes.log().sum(dim=1)
scale_term = math.log(1 - 2 * ALPHA)
log_det_hints = [
    (
        -log_det_ref,
        "log_det has the wrong sign: the logit stretches [ALPHA, 1 - ALPHA] onto a long interval, dw/dy > 1, so log|det dw/dy| > 0",
    ),
    (log_det_ref - 64 * scale_term, "log_det misses the factor 1 - 2 ALPHA in ds/dy (chain rule): add log(1 - 2 * ALPHA) for every pixel"),
    (log_det_ref - 63 * scale_term, "log_det adds log(1 - 2 * ALPHA) once per image: add it once per pixel, inside the sum"),
    (log_det_ref / 64, "log_det averages over the pixels: the log-determinant is their sum"),
]
for wrong, hint in log_det_hints:
    check(not close(log_det_seen, wrong, 1e-3), hint)
check_close(
    "log_det",
    log_det_seen,
    log_det_ref,
    "log|det dw/dy| = sum over the pixels of log(1 - 2 ALPHA) - log(s) - log(1 - s) (here from autograd)",
    atol=1e-3,
)
print(
    f"logit_transform looks right: w from {float(w_seen.min()):.2f} to {float(w_seen.max()):.2f}, log_det about {float(log_det_seen.mean()):.1f}"
)
### BEGIN HIDDEN TESTS
for dim, batch in [(16, 32), (5, 7), (64, 3)]:
    with torch.random.fork_rng():
        torch.manual_seed(dim)
        y_hidden = torch.rand(batch, dim, dtype=torch.float64)
    y_hidden[0, 0], y_hidden[-1, -1] = 0.0, 1 - 1e-12  # the edges of [0, 1): finite thanks to ALPHA
    w_hidden, log_det_hidden = calling(f"logit_transform at dim {dim}", logit_transform, y_hidden)
    assert tuple(w_hidden.shape) == (batch, dim) and tuple(log_det_hidden.shape) == (batch,), f"dim {dim}: wrong shapes"
    assert w_hidden.dtype == torch.float64 and log_det_hidden.dtype == torch.float64, f"dim {dim}: float64 input, {w_hidden.dtype} output"
    assert bool(torch.isfinite(w_hidden).all() and torch.isfinite(log_det_hidden).all()), f"dim {dim}: not finite at y = 0 or y near 1"
    assert float((w_hidden - torch.logit(ALPHA + (1 - 2 * ALPHA) * y_hidden)).abs().max()) < 1e-9, (
        f"dim {dim}, float64: w differs from the formula"
    )
    log_det_autograd = calling(f"log|det| of logit_transform at dim {dim}, by autograd", autograd_log_det, logit_transform, y_hidden)
    assert float((log_det_hidden - log_det_autograd).abs().max()) < 1e-8, f"dim {dim}, float64: log_det is not log|det dw/dy| (autograd)"
### END HIDDEN TESTS

# %% [markdown]
# ### Written question (1 point, graded by hand)
#
# Answer in the cell below, in two to four sentences. What does dequantization buy? Say what would happen if the
# flow were trained on the pixel values $x / 17$ without the noise $u$, and why the NLL of the dequantized images
# is still an honest score for the discrete ones.

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_dequantization", "locked": false, "points": 1, "schema_version": 3, "solution": true, "task": false} autograder={"rubric": ["0.5: without noise the data take 17 values per pixel, and a continuous density can pile ever narrower, taller spikes on them: the likelihood grows without bound (the loss dives), and nothing is learnt about digits.", "0.5: with u uniform on the unit cube, P(x) = ∫ p(x + u) du is a proper discrete model of the images, and by Jensen E_u[-log p(x + u)] ≥ -log P(x): the dequantized NLL is an upper bound on the NLL of the digits, so it never flatters."]}
# A continuous density fitted to data that take only 17 values per pixel can put ever taller and narrower spikes
# on those values: its density at the training images, hence the likelihood, grows without bound while the model
# learns nothing about digits (the loss would dive and bits/dim would mean nothing). Adding fresh uniform noise
# $u \in [0, 1)^D$ spreads each image over a unit cube, so the model has to spread its mass and cannot cheat. And
# $P(x) = \int_{[0,1)^D} p(x + u)\,du$ is a proper model of the discrete images; by Jensen's inequality
# $\mathbb{E}_u[-\log p(x + u)] \ge -\log P(x)$, so the dequantized NLL is an upper bound on the NLL of the digits:
# a score on it never flatters the model.

# %% [markdown]
# ## Part 3 — Bits per dimension (2 points)
#
# Image models are compared by their held-out NLL in **bits per dimension** (bits/dim): the NLL of the
# *pixels*, in bits (divide nats by $\ln 2$), divided by the number of pixels $D$. It is the number of bits per
# pixel a compressor built on the model would need, and it does not depend on the image size.
#
# The flow gives a density $p_W$ of $w$. Two changes of variables lead back to the dequantized pixels
# $x + u \in [0, 17)^D$: $w$ is a function of $y$ (the logit, with the log-determinant of Part 2), and
# $y = (x + u) / 17$ shrinks every pixel's range by 17, so the density of $y$ is $17^D$ times the density of
# $x + u$ at the same image:
#
# $$\log p(x + u) = \log p_W(w) + \log\left|\det \frac{\partial w}{\partial y}\right| - D \log 17,
# \qquad \text{bits/dim} = \frac{-\log p(x + u)}{D \ln 2}.$$
#
# Without the $-D \log 17$ the score would be the bits/dim of the rescaled $y$, not of the pixels, and could not
# be compared with the literature's figures (nor with anyone who rescales differently); without the logit's
# log-determinant it would be a score of $w$, not of the images.
#
# Write `bits_per_dim(flow, y)`: `y` holds dequantized images in $[0, 1)$, shape `(batch, dim)` (not pixel values:
# `dequantize` has been applied); `flow` is a density on $w$ with a method `flow.log_prob(w)` of shape `(batch,)`.
# Get `w` and the logit's log-determinant by calling your `logit_transform(y)`, and return the **mean** over
# the batch of the bits per dimension, a scalar tensor that gradients flow through (it is also the training loss).
# Use `N_LEVELS`, and take $D$ from `y`.
#
# **How this part is tested.** The test calls your `bits_per_dim` with `logit_transform` replaced by a stand-in
# (`StandInLogit`, below): another invertible pixel-wise map whose log-determinant is known, and with a `flow`
# whose density is known (`GaussianDensity`). So a mistake in Part 2 costs no points here, as long as
# `bits_per_dim` calls `logit_transform` (if it computes the logit itself, it is checked with the true logit).


# %% nbgrader={"grade": false, "grade_id": "stand_ins", "locked": true, "schema_version": 3, "solution": false, "task": false}
class StandInLogit:
    """What the test of Part 3 puts in place of your logit_transform: y (batch, dim) -> (w, log_det (batch,)).

    Not the logit: the increasing pixel-wise map w = 3 (y - 1/2) + y^3, whose derivative is 3 + 3 y^2, so its
    log_det is the sum over the pixels of log(3 + 3 y^2). It counts its calls.
    """

    def __init__(self):
        self.calls = 0

    def __call__(self, y):
        self.calls += 1
        return 3 * (y - 0.5) + y**3, torch.log(3 + 3 * y**2).sum(dim=1)


class GaussianDensity(nn.Module):
    """A density of known form on w (batch, dim): N(mu, diag(sigma^2)), with learnable mu and log sigma.

    It has the flow's interface: log_prob(w) (batch,), and f(w) = (w - mu) / sigma with its log_det and a N(0, I) prior.
    """

    def __init__(self, mu, log_sigma):
        super().__init__()
        self.mu, self.log_sigma = nn.Parameter(mu), nn.Parameter(log_sigma)
        dim = mu.shape[0]
        self.prior = torch.distributions.Independent(
            torch.distributions.Normal(torch.zeros(dim, dtype=mu.dtype), torch.ones(dim, dtype=mu.dtype)), 1
        )

    def f(self, x):
        return (x - self.mu) * torch.exp(-self.log_sigma), (-self.log_sigma.sum()).expand(x.shape[0])

    def log_prob(self, x):
        return torch.distributions.Normal(self.mu, self.log_sigma.exp()).log_prob(x).sum(dim=1)


def with_stand_in(name, replacement, fn, *args):
    """fn(*args) with the notebook's global `name` replaced by `replacement` during the call."""
    namespace, missing = globals(), object()
    saved = namespace.get(name, missing)
    namespace[name] = replacement
    try:
        return fn(*args)
    finally:
        if saved is missing:
            namespace.pop(name, None)
        else:
            namespace[name] = saved


# %% nbgrader={"grade": false, "grade_id": "bpd", "locked": false, "schema_version": 3, "solution": true, "task": false} autograder={"defines": ["bits_per_dim"]}
def bits_per_dim(flow, y):
    """Mean bits per dimension of the pixels behind dequantized images y (batch, dim) in [0, 1): a scalar tensor."""
    ### BEGIN SOLUTION
    dim = y.shape[1]
    w, logit_log_det = logit_transform(y)
    log_p = flow.log_prob(w) + logit_log_det - dim * math.log(N_LEVELS)
    return -log_p.mean() / (dim * math.log(2))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_bpd", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
"""bits_per_dim with a stand-in logit and a density of known form: a scalar mean of -log p(x + u) / (D ln 2), with both changes of variables."""
density_seen = GaussianDensity(torch.linspace(-1.5, 1.5, 64), torch.linspace(-0.5, 0.5, 64))
logit_seen = StandInLogit()
with torch.random.fork_rng():
    torch.manual_seed(3)
    y_seen = torch.rand(256, 64)
bpd_seen = with_stand_in("logit_transform", logit_seen, calling, "bits_per_dim(flow, y)", bits_per_dim, density_seen, y_seen)
check(isinstance(bpd_seen, torch.Tensor), f"bits_per_dim should return a tensor, got {type(bpd_seen).__name__}: do not call .item()")
check_shape("bits_per_dim(flow, y)", bpd_seen, (), "average over the batch with .mean(): the score is a single number")
check(bpd_seen.requires_grad, "bits_per_dim does not depend on the flow's parameters: do not detach it or compute it under torch.no_grad()")
if logit_seen.calls > 0:
    w_ref, logit_log_det_ref = StandInLogit()(y_seen)
else:  # your bits_per_dim computes the logit itself, without logit_transform: it is checked with the true logit
    y_leaf = y_seen.double().requires_grad_(True)
    w_leaf = torch.logit(ALPHA + (1 - 2 * ALPHA) * y_leaf)
    (slopes,) = torch.autograd.grad(w_leaf.sum(), y_leaf)  # the logit acts pixel by pixel: its Jacobian is diagonal
    w_ref, logit_log_det_ref = w_leaf.detach().float(), slopes.log().sum(dim=1).float()
with torch.no_grad():
    log_p_w = density_seen.log_prob(w_ref)
    nll_pixels = -(log_p_w + logit_log_det_ref - 64 * math.log(N_LEVELS))  # nats per image, of the pixels x + u
expected_seen = nll_pixels.mean() / (64 * math.log(2))
bpd_hints = [
    (nll_pixels.mean() / 64, "bits_per_dim is in nats per dimension: divide by ln 2 as well, to count bits"),
    (nll_pixels.mean() / math.log(2), "bits_per_dim is in bits per image: divide by the number of pixels D as well"),
    (
        nll_pixels.sum() / (64 * math.log(2)),
        "bits_per_dim sums over the batch: take the mean, so the score does not grow with the batch size",
    ),
    (-expected_seen, "bits_per_dim has the wrong sign: it is the negative log-likelihood, -log p, in bits per dimension"),
    (
        expected_seen - math.log2(N_LEVELS),
        "bits_per_dim misses the rescaling y = (x + u) / 17: add D log 17 to the NLL (log p(x + u) = ... - D log 17)",
    ),
    (
        expected_seen - 2 * math.log2(N_LEVELS),
        "the rescaling term has the wrong sign: log p(x + u) = log p_W(w) + log_det - D log 17, so the NLL gains + D log 17",
    ),
    (
        expected_seen + logit_log_det_ref.mean() / (64 * math.log(2)),
        "bits_per_dim misses the logit's log-determinant: add the log_det logit_transform returns to log p_W(w)",
    ),
    (
        expected_seen + 2 * logit_log_det_ref.mean() / (64 * math.log(2)),
        "the logit's log-determinant has the wrong sign: log p(y) = log p_W(w) + log_det, a plus",
    ),
]
for wrong, hint in bpd_hints:
    check(not close(bpd_seen, wrong, 1e-4), hint)
check_close(
    "bits_per_dim(flow, y)", bpd_seen, expected_seen, "bits/dim = -(flow.log_prob(w) + log_det - D log 17).mean() / (D ln 2)", atol=1e-4
)
print(f"bits_per_dim looks right: {bpd_seen.item():.3f} bits/dim on a density of known form")


### BEGIN HIDDEN TESTS
def _bpd_on_stand_in(density, y):
    """bits_per_dim on a known density with a stand-in logit, on y and on y twice over, as data: the values, how
    often the stand-in was called, and the gradient the loss sends to the density's mu."""
    logit = StandInLogit()
    bpd = with_stand_in("logit_transform", logit, bits_per_dim, density, y)
    doubled = with_stand_in("logit_transform", StandInLogit(), bits_per_dim, density, torch.cat([y, y]))
    if isinstance(bpd, torch.Tensor) and bpd.requires_grad:
        bpd.backward()
    value = bpd.detach() if isinstance(bpd, torch.Tensor) else bpd
    return {"bpd": value, "doubled": doubled, "calls": logit.calls, "mu_grad": density.mu.grad}


for dim, batch in [(16, 40), (5, 9), (64, 2)]:
    density_hidden = GaussianDensity(torch.linspace(-1, 1, dim, dtype=torch.float64), torch.linspace(-0.7, 0.3, dim, dtype=torch.float64))
    with torch.random.fork_rng():
        torch.manual_seed(10 + dim)
        y_hidden = torch.rand(batch, dim, dtype=torch.float64)
    where = f"dim {dim}, batch {batch}, float64"
    found = calling(f"bits_per_dim at {where}", _bpd_on_stand_in, density_hidden, y_hidden)
    if found["calls"] > 0:
        w_hidden, log_det_hidden = StandInLogit()(y_hidden)
    else:
        y_leaf = y_hidden.clone().requires_grad_(True)
        w_leaf = torch.logit(ALPHA + (1 - 2 * ALPHA) * y_leaf)
        w_hidden, log_det_hidden = w_leaf.detach(), torch.autograd.grad(w_leaf.sum(), y_leaf)[0].log().sum(dim=1)
    with torch.no_grad():
        log_p_hidden = density_hidden.log_prob(w_hidden) + log_det_hidden - dim * math.log(N_LEVELS)
    expected = (-log_p_hidden.mean() / (dim * math.log(2))).item()
    bpd_hidden = found["bpd"]
    assert isinstance(bpd_hidden, torch.Tensor) and bpd_hidden.dim() == 0, f"{where}: not a scalar tensor"
    assert abs(bpd_hidden.item() - expected) < 1e-9, f"{where}: bits_per_dim {bpd_hidden.item()} != {expected}"
    assert abs(float(found["doubled"]) - expected) < 1e-9, f"{where}: not a mean over the batch"
    gradient = found["mu_grad"]
    assert gradient is not None and gradient.abs().sum().item() > 0, f"{where}: no gradient reaches the flow"
### END HIDDEN TESTS

# %% [markdown]
# ### Written question (1 point, graded by hand)
#
# Answer in the cell below, in two to four sentences. What does bits per dimension compare? Explain what the
# $-D \log 17$ term and the division by $D \ln 2$ are for, so that your flow can be compared with a model that
# rescaled the pixels to $[-1, 1]$ instead, or with one trained on larger images of the same kind.

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_bits_per_dim", "locked": false, "points": 1, "schema_version": 3, "solution": true, "task": false} autograder={"rubric": ["0.5: it is the NLL of the pixels (not of y or w), in bits per pixel: the average number of bits per pixel a compressor built on the model would need. -D log 17 undoes the rescaling (the logit's log-det undoes the logit), so whoever rescales differently, undoing their own rescaling, gets the same number.", "0.5: dividing by D makes it per pixel, so images of different sizes compare; dividing by ln 2 turns nats into bits. It compares models of the same discrete data (the same 17 levels, the same images): our flow with the Gaussians above, or with published figures on those data."]}
# Bits/dim is the negative log-likelihood of the pixel values themselves (through the dequantized $x + u$), in bits
# and per pixel: the average number of bits per pixel that a lossless compressor built on the model would spend.
# Each change of variables on the way ($x + u \to y \to w$) adds a log-determinant; $-D \log 17$ undoes the
# rescaling $y = (x + u) / 17$, so the score is that of the pixels and not of $y$, and a model that rescaled to
# $[-1, 1]$ undoes its own rescaling and lands on the same scale. Dividing by $D$ makes the score per pixel, so
# images of different sizes compare; dividing by $\ln 2$ turns nats into bits. It compares models of the same
# discrete data (the same 17 grey levels): our flow with the two Gaussians, or with published numbers for the same
# images.

# %% [markdown]
# ## The flow (given)
#
# The coupling layer is the one of the first exercise, $y = x \odot \exp\big((1-b) \odot s(b \odot x)\big) + (1-b)
# \odot t(b \odot x)$, with two changes that suit 64 dimensions. One network computes both $s$ and $t$ (its output
# has $2D$ numbers, split in two), which halves the Python overhead. And $s$ is a `tanh` times a learnable factor
# per pixel, and the last linear map starts at zero, so every layer starts as the identity and training starts
# from the prior itself. `ImageFlow(masks, hidden)` stacks one such layer per mask with a $\mathcal{N}(0, I)$ prior;
# it has the first exercise's `f`, `g`, `log_prob` and `sample`. Here the flow's data are the $w$ of Part 2.


# %% nbgrader={"grade": false, "grade_id": "flow_model", "locked": true, "schema_version": 3, "solution": false, "task": false}
class CouplingLayer(nn.Module):
    """Affine coupling with mask b (dim,): s and t from one network of b * x, s a tanh times a learnable factor."""

    def __init__(self, mask, hidden):
        super().__init__()
        dim = mask.shape[0]
        self.register_buffer("mask", mask)
        self.net = nn.Sequential(
            nn.Linear(dim, hidden), nn.LeakyReLU(), nn.Linear(hidden, hidden), nn.LeakyReLU(), nn.Linear(hidden, 2 * dim)
        )
        self.scale = nn.Parameter(torch.ones(dim))
        nn.init.zeros_(self.net[-1].weight)  # the layer starts as the identity
        nn.init.zeros_(self.net[-1].bias)

    def s_t(self, x):
        """s and t (batch, dim), zero where b = 1."""
        b = self.mask
        s, t = self.net(b * x).chunk(2, dim=1)
        return (1 - b) * self.scale * torch.tanh(s), (1 - b) * t

    def forward(self, x):
        """x (batch, dim) -> y (batch, dim) and log|det dy/dx| (batch,)."""
        s, t = self.s_t(x)
        return x * torch.exp(s) + t, s.sum(dim=1)

    def inverse(self, y):
        """y (batch, dim) -> x (batch, dim)."""
        s, t = self.s_t(y)
        return (y - t) * torch.exp(-s)


class ImageFlow(nn.Module):
    """Real NVP: one CouplingLayer per mask (n_layers, dim), networks of width `hidden`, a N(0, I) prior on z."""

    def __init__(self, masks, hidden=64):
        super().__init__()
        self.layers = nn.ModuleList(CouplingLayer(mask, hidden) for mask in masks)
        dim = masks.shape[1]
        self.prior = torch.distributions.Independent(torch.distributions.Normal(torch.zeros(dim), torch.ones(dim)), 1)

    def f(self, x):
        """Data x (batch, dim) -> latent z (batch, dim) and log|det df/dx| (batch,)."""
        log_det = x.new_zeros(x.shape[0])
        for layer in self.layers:
            x, layer_log_det = layer(x)
            log_det = log_det + layer_log_det
        return x, log_det

    def g(self, z):
        """Latent z (batch, dim) -> data x (batch, dim): the inverse of f."""
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z

    def log_prob(self, x):
        """log p(x) of each row of x (batch, dim): shape (batch,)."""
        z, log_det = self.f(x)
        return self.prior.log_prob(z) + log_det

    def sample(self, n, temperature=1.0):
        """n samples (n, dim): g of prior draws scaled by temperature (below 1: fewer, cleaner strokes)."""
        return self.g(temperature * self.prior.sample((n,)))


# %% [markdown]
# ## Part 4 — Training on the digits (3 points)
#
# Train an `ImageFlow` built on your `checkerboard_masks(n_layers, HEIGHT, WIDTH)` on `x_train`: at every step,
# draw a batch of training images, dequantize it afresh with your `dequantize`, and minimise your `bits_per_dim`
# (the mean NLL up to constants that do not depend on the flow, so it is a fine loss). Leave the trained model in
# the variable `flow`. Record your progress in `history`, which the training curve at the end plots: at every step
# append the step number to `history["step"]` and the batch's bits/dim to `history["batch_bpd"]`; every couple of
# hundred steps (and at the last one) append the step to `history["eval_step"]` and the bits/dim of `x_test`
# (under `torch.no_grad()`) to `history["test_bpd"]`.
#
# **How it is graded.** The test scores the density your trained `flow` defines on held-out digits, from its prior,
# its `f` and `f`'s log-determinant, with the test's *own* dequantization and logit (so your `bits_per_dim` is not
# used there). It never calls `g` or `sample`. Your flow learns from what your `dequantize` and `logit_transform`
# return, though: make the tests of Parts 1–3 pass first.
#
# **Budget and target.** Your training must finish within **60 seconds** on a laptop CPU; the grader stops the
# cell after 120 seconds. **Target:** below **2.35 bits/dim** on the test split. For scale, fitted to the same
# preprocessed data, independent Gaussians per pixel score about 2.90 bits/dim and one Gaussian with a full
# 64 × 64 covariance about 2.44; a flow should beat both.
#
# Hints. With only 1,297 training images, a flow **overfits** quickly: the training bits/dim keep falling while
# the test bits/dim stop improving or turn back up. What works here: 8 layers with `hidden=64`, Adam with a peak
# learning rate around $5 \cdot 10^{-4}$ that decays to zero (`torch.optim.lr_scheduler.OneCycleLR`), batches of 128
# images and about 2,000 steps (about 25 s on the machine this course is tested on, with `fused=True` for Adam: the
# plain Adam loops over the parameters in Python, which makes each step a third slower). Wider networks with larger
# learning rates overfit: `hidden=128` with a learning rate of $10^{-3}$ for as many steps ends near 2.4 bits/dim,
# hardly better than the full-covariance Gaussian. If the loss jumps to `nan`, clip the gradients
# (`nn.utils.clip_grad_norm_`; `foreach=True`, on `list(flow.parameters())` built once, is the fast way).


# %% nbgrader={"grade": false, "grade_id": "pixels_bpd", "locked": true, "schema_version": 3, "solution": false, "task": false}
def pixels_bpd(flow, x, n_noise=4, seed=0):
    """Bits/dim of pixel images x (n, dim) under flow, averaged over n_noise dequantizations x + u.

    The map from x + u to the flow's data w is applied here; its log-determinant (which includes the rescaling by
    N_LEVELS) comes from autograd: the map acts pixel by pixel, so its Jacobian is diagonal.
    """
    scores = []
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for _ in range(n_noise):
            v = (x.double() + torch.rand(x.shape, dtype=torch.float64)).requires_grad_(True)
            w = torch.logit(ALPHA + (1 - 2 * ALPHA) * v / N_LEVELS)
            (slopes,) = torch.autograd.grad(w.sum(), v)
            with torch.no_grad():
                z, log_det = flow.f(w.detach().float())
                log_p = flow.prior.log_prob(z).double() + log_det.double() + slopes.log().sum(dim=1)
            scores.append(-log_p.mean().item() / (x.shape[1] * math.log(2)))
    return float(np.mean(scores))


# %% nbgrader={"grade": false, "grade_id": "train", "locked": false, "schema_version": 3, "solution": true, "task": false} autograder={"defines": ["flow", "history"], "timeout": 120}
history = {"step": [], "batch_bpd": [], "eval_step": [], "test_bpd": []}
### BEGIN SOLUTION
N_LAYERS, HIDDEN, N_STEPS, BATCH, LEARNING_RATE = 8, 64, 2000, 128, 5e-4

flow = ImageFlow(checkerboard_masks(N_LAYERS, HEIGHT, WIDTH), HIDDEN)
parameters = list(flow.parameters())  # listed once: the clipping below walks this list each step
optimizer = torch.optim.Adam(parameters, lr=LEARNING_RATE, fused=True)  # fused: one kernel for all parameters
schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LEARNING_RATE, total_steps=N_STEPS, pct_start=0.3)
started = time.perf_counter()
for step in tqdm(range(N_STEPS), desc="training", mininterval=1.0):
    batch = x_train[torch.randint(len(x_train), (BATCH,))]
    loss = bits_per_dim(flow, dequantize(batch))
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(parameters, max_norm=10.0, foreach=True)
    optimizer.step()
    schedule.step()
    history["step"].append(step)
    history["batch_bpd"].append(loss.item())
    if step % 200 == 0 or step == N_STEPS - 1:
        with torch.no_grad():
            history["eval_step"].append(step)
            history["test_bpd"].append(bits_per_dim(flow, dequantize(x_test)).item())
print(f"trained {N_STEPS} steps in {time.perf_counter() - started:.1f} s; test bits/dim {history['test_bpd'][-1]:.3f}")
### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_train", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
"""The density the trained flow defines, scored on held-out digits with the test's own dequantization and logit, is below 2.35 bits/dim."""
BPD_TARGET, FULL_GAUSSIAN_BPD, INDEPENDENT_BPD = 2.35, 2.44, 2.90
check("flow" in globals(), "the training cell must leave the trained model in a variable named flow")
check(isinstance(flow, ImageFlow), f"flow should be an ImageFlow (built on your checkerboard_masks), got {type(flow).__name__}")


def looks_right(question):
    """question() -> bool, False when it raises: a quick look at an answer the training depends on."""
    try:
        with torch.random.fork_rng():
            torch.manual_seed(0)
            return bool(question())
    except Exception:
        return False


def boards_ok():
    boards = checkerboard_masks(2, HEIGHT, WIDTH).reshape(2, HEIGHT, WIDTH)
    return (boards[:, 1:] != boards[:, :-1]).all() and (boards[:, :, 1:] != boards[:, :, :-1]).all() and (boards.sum(0) == 1).all()


def noise_ok():
    noise = dequantize(x_train[:200]) * N_LEVELS - x_train[:200]
    return float(noise.min()) >= -1e-4 and float(noise.max()) < 1 + 1e-4 and float(noise.std(dim=1).min()) > 0.1


def logit_ok():
    y = torch.rand(8, DIM)
    return close(logit_transform(y)[0], torch.logit(ALPHA + (1 - 2 * ALPHA) * y), 1e-4)


suspects = [
    name
    for name, question in [("checkerboard_masks", boards_ok), ("dequantize", noise_ok), ("logit_transform", logit_ok)]
    if not looks_right(question)
]
first_fix = (
    f"Your {' and '.join(suspects)} fail(s) the checks of Parts 1-2, and your flow learned from what they return (this test scores it on "
    "correct ones): fix them first, then train again. "
    if suspects
    else ""
)
heldout_bpd = pixels_bpd(flow, x_test)
check(
    np.isfinite(heldout_bpd) and heldout_bpd < INDEPENDENT_BPD,
    f"held-out {heldout_bpd:.4g} bits/dim, worse than independent Gaussians per pixel ({INDEPENDENT_BPD}). "
    + (first_fix or "The training diverged or did not train. Usual causes: optimizer.zero_grad() or optimizer.step() missing, ")
    + "a learning rate too large, a loss with the wrong sign",
)
check(
    heldout_bpd < BPD_TARGET,
    f"held-out {heldout_bpd:.3f} bits/dim, target below {BPD_TARGET} (a full-covariance Gaussian scores {FULL_GAUSSIAN_BPD}). {first_fix}If the "
    "training bits/dim are much lower than the test's, the flow overfits: fewer steps or a smaller learning rate; if both are high, "
    "train longer, with a learning rate that decays (OneCycleLR)",
)
print(f"held-out bits/dim on the test split: {heldout_bpd:.3f} (target below {BPD_TARGET}; full-covariance Gaussian {FULL_GAUSSIAN_BPD})")


### BEGIN HIDDEN TESTS
def _flow_as_data(trained):
    """The trained ImageFlow as data: its masks, its networks' width and every parameter and buffer."""
    state = {name: value.detach().clone() for name, value in trained.state_dict().items()}
    return {"masks": torch.stack([layer.mask for layer in trained.layers]), "hidden": trained.layers[0].net[0].out_features, "state": state}


found = calling("your trained flow's masks and parameters", _flow_as_data, flow)
masks_hidden = found["masks"]
assert bool(((masks_hidden == 0) | (masks_hidden == 1)).all()), "the trained flow's masks hold values other than 0 and 1"
rebuilt = ImageFlow(masks_hidden.float(), int(found["hidden"]))  # the course's own coupling layers, with its parameters
try:
    rebuilt.load_state_dict(found["state"])
except RuntimeError as error:
    raise AssertionError(f"the trained flow's parameters do not fit an ImageFlow of its masks: {str(error)[:200]}") from None
x_grading, _ = load_digit_split("grading")
grading_bpd = pixels_bpd(rebuilt, x_grading, seed=1)
assert np.isfinite(grading_bpd) and grading_bpd < 2.35, f"{grading_bpd:.3f} bits/dim on the grader's held-out split, target 2.35"
### END HIDDEN TESTS

# %% [markdown]
# ## The flow beside two Gaussian baselines (not graded)
#
# Two classic density models fitted by maximum likelihood to the same preprocessed data (the $w$ of ten
# dequantizations of the training images), and scored like the flow, with your `bits_per_dim`: independent
# Gaussians per pixel, and one Gaussian with a full covariance, which captures every linear correlation between
# pixels. A flow is a Gaussian pushed through a non-linear map; it must do better than the second to be worth it.


# %% nbgrader={"grade": false, "grade_id": "baselines", "locked": true, "schema_version": 3, "solution": false, "task": false}
class GaussianBaseline:
    """A Gaussian on w (batch, dim) fitted by maximum likelihood: a full covariance, or a diagonal one (independent pixels)."""

    def __init__(self, w, full):
        mean, covariance = w.mean(dim=0), torch.cov(w.T, correction=0)
        self.density = torch.distributions.MultivariateNormal(mean, covariance if full else torch.diag(covariance.diagonal()))

    def log_prob(self, w):
        return self.density.log_prob(w.double())


def heldout_score(model, x, n_noise=4):
    """Mean bits/dim of pixel images x (n, dim) under model (a density on w), over n_noise seeded dequantizations."""
    with torch.no_grad(), torch.random.fork_rng():
        torch.manual_seed(SEED)
        return float(np.mean([bits_per_dim(model, dequantize(x)).item() for _ in range(n_noise)]))


with torch.random.fork_rng():
    torch.manual_seed(SEED)
    w_fit = torch.cat([logit_transform(dequantize(x_train.double()))[0] for _ in range(10)])
scores = {
    "independent Gaussians per pixel": heldout_score(GaussianBaseline(w_fit, full=False), x_test),
    "one full-covariance Gaussian": heldout_score(GaussianBaseline(w_fit, full=True), x_test),
    "Real NVP (your flow)": heldout_score(flow, x_test),
}
print("held-out bits/dim on the test split (lower is better):")
for name, score in scores.items():
    print(f"  {name:32s} {score:.3f}")
print(
    f"the flow beats the full-covariance Gaussian by {scores['one full-covariance Gaussian'] - scores['Real NVP (your flow)']:.3f} bits/dim; "
    f"on the training split it scores {heldout_score(flow, x_train):.3f} (the gap is overfitting)"
)

# %% [markdown]
# ## Samples beside real digits (not graded)
#
# Samples are $g(z)$ for prior draws $z$, mapped back to pixels by inverting the logit and the rescaling. Drawing
# $z$ from a narrower Gaussian (a *temperature* below 1, as in Glow) trades variety for cleaner strokes.


# %% nbgrader={"grade": false, "grade_id": "plot_samples", "locked": true, "schema_version": 3, "solution": false, "task": false}
def to_pixels(w):
    """The flow's data w (batch, dim) back to dequantized pixel values in [0, 17): the inverse of the logit and the rescaling."""
    return N_LEVELS * (torch.sigmoid(w) - ALPHA) / (1 - 2 * ALPHA)


with torch.no_grad(), torch.random.fork_rng():
    torch.manual_seed(SEED)
    samples = {temperature: to_pixels(flow.sample(40, temperature)).clamp(0, N_LEVELS - 1) for temperature in (1.0, 0.7)}
    w_round_trip = logit_transform(dequantize(x_test))[0]
    round_trip_gap = (flow.g(flow.f(w_round_trip)[0]) - w_round_trip).abs().max().item()
fig, axes = plt.subplots(1, 3, figsize=(13, 2.4))
show_digits(axes[0], x_test[:40], "real digits (test split)")
show_digits(axes[1], samples[1.0], "samples, temperature 1")
show_digits(axes[2], samples[0.7], "samples, temperature 0.7")
fig.tight_layout()
plt.show()
print(f"max |g(f(w)) - w| over the test split: {round_trip_gap:.1e}")

# %% [markdown]
# ### Explorer: the temperature of the samples
#
# The same 40 prior draws $z$, scaled by a temperature $T$ before $g$: $x = g(T z)$.
#
# **What to try:** lower $T$ from 1 towards 0.3: the strokes get cleaner and the digits more alike; near 0 every
# sample becomes the same blurred "average" digit, $g(0)$. Above 1 the samples fall apart into noise.

# %% nbgrader={"grade": false, "grade_id": "explore_temperature", "locked": true, "schema_version": 3, "solution": false, "task": false}
with torch.random.fork_rng():
    torch.manual_seed(SEED)
    Z_DRAWS = torch.randn(40, DIM)


def draw_temperature(temperature):
    """40 samples g(T z) of the trained flow, for the same draws z at every temperature T."""
    with torch.no_grad():
        images = to_pixels(flow.g(temperature * Z_DRAWS)).clamp(0, N_LEVELS - 1)
    figure, ax = plt.subplots(figsize=(6, 2.6))
    show_digits(ax, images, f"samples g(T z), temperature T = {temperature:.2f}")
    return figure


Explorer(draw_temperature, {"temperature": control(lambda: slider("temperature T", 0.7, 0.0, 1.5, 0.05), 0.7)})

# %% [markdown]
# ## Interpolating in latent space (not graded)
#
# Map two test digits to the latent space, $z_a = f(w_a)$ and $z_b = f(w_b)$, walk along the segment between
# them and map each point back with $g$. Each intermediate image is an image the flow finds likely; the path is
# not a cross-fade of the pixels.

# %% nbgrader={"grade": false, "grade_id": "plot_interpolation", "locked": true, "schema_version": 3, "solution": false, "task": false}
pairs = [(int(np.flatnonzero(label_test == a)[0]), int(np.flatnonzero(label_test == b)[0])) for a, b in [(0, 6), (1, 7), (3, 8)]]
steps = torch.linspace(0, 1, 10).unsqueeze(1)
rows = []
with torch.no_grad():
    for first, last in pairs:
        w_ends = torch.logit(ALPHA + (1 - 2 * ALPHA) * (x_test[[first, last]] + 0.5) / N_LEVELS)  # mid-bin dequantization
        z_ends = flow.f(w_ends)[0]
        rows.append(to_pixels(flow.g((1 - steps) * z_ends[0] + steps * z_ends[1])).clamp(0, N_LEVELS - 1))
fig, ax = plt.subplots(figsize=(6, 2.2))
show_digits(ax, torch.cat(rows), "latent interpolation: 0 to 6, 1 to 7, 3 to 8")
plt.show()

# %% [markdown]
# ### Explorer: interpolate between any two test digits
#
# Choose two test digits by their index (0 to 249): the first row walks from one to the other in latent space, the
# second cross-fades their pixels, for comparison.
#
# **What to try:** two digits of the same class, then of two classes that share strokes (a 1 and a 7, a 3 and an 8):
# the latent path keeps every step a plausible stroke, while the cross-fade overlays two faint digits.


# %% nbgrader={"grade": false, "grade_id": "explore_interpolation", "locked": true, "schema_version": 3, "solution": false, "task": false}
def draw_interpolation(first, last):
    """The latent path and the pixel cross-fade between test digits first and last (indexes into x_test)."""
    ends = x_test[[first, last]]
    with torch.no_grad():
        w_ends = torch.logit(ALPHA + (1 - 2 * ALPHA) * (ends + 0.5) / N_LEVELS)  # mid-bin dequantization
        z_ends = flow.f(w_ends)[0]
        path = to_pixels(flow.g((1 - steps) * z_ends[0] + steps * z_ends[1])).clamp(0, N_LEVELS - 1)
    fade = (1 - steps) * ends[0] + steps * ends[1]
    figure, ax = plt.subplots(figsize=(6, 1.75))
    title = f"test digit {first} (a {label_test[first]}) to test digit {last} (a {label_test[last]})\ntop: the latent path; bottom: the pixel cross-fade"
    show_digits(ax, torch.cat([path, fade]), title)
    figure.tight_layout()
    return figure


Explorer(
    draw_interpolation,
    {
        "first": control(lambda: slider("first digit", pairs[1][0], 0, len(x_test) - 1, 1, integer=True), pairs[1][0]),
        "last": control(lambda: slider("last digit", pairs[1][1], 0, len(x_test) - 1, 1, integer=True), pairs[1][1]),
    },
)

# %% [markdown]
# ## A likelihood is not a typicality test (not graded)
#
# A density model that scores real digits well need not score everything else badly. Below, the trained flow's
# bits/dim on images that are not the test digits: the same digits at half intensity, the average training image,
# a blank image, the digits shifted two pixels to the right, inverted ($16 - x$), and uniform noise. Noise is the
# least likely, as it should be. But look at the order of the others: images nobody would call a digit of these
# data (faint digits, the blurry average, a blank square) score close to real digits, while the same digits moved by
# two pixels, which a person reads at once, score as badly as noise. A likelihood measures how predictable the
# pixels are under the model, pixel position by pixel position; it is not a test of whether an image looks like
# the data (Nalisnick et al., 2019, "Do deep generative models know what they don't know?").


# %% nbgrader={"grade": false, "grade_id": "out_of_distribution", "locked": true, "schema_version": 3, "solution": false, "task": false}
def shifted(x, pixels=2):
    """Images x (n, dim) moved `pixels` columns to the right (blank columns enter on the left)."""
    images = x.reshape(-1, HEIGHT, WIDTH)
    moved = torch.zeros_like(images)
    moved[:, :, pixels:] = images[:, :, :-pixels]
    return moved.reshape(len(x), -1)


with torch.random.fork_rng():
    torch.manual_seed(SEED)
    noise_images = torch.randint(0, N_LEVELS, x_test.shape).float()
strangers = {
    "real digits (test split)": x_test,
    "half intensity": torch.div(x_test, 2, rounding_mode="floor"),
    "the average training image": x_train.mean(dim=0).round().expand_as(x_test).clone(),
    "blank (all 0)": torch.zeros_like(x_test),
    "shifted 2 pixels right": shifted(x_test),
    "inverted, 16 - x": N_LEVELS - 1 - x_test,
    "uniform noise": noise_images,
}
stranger_bpd = {name: heldout_score(flow, images) for name, images in strangers.items()}
fig, axes = plt.subplots(1, len(strangers), figsize=(13, 1.9))
for ax, (name, images) in zip(axes, strangers.items()):
    show_digits(ax, images[:4], f"{name}\n{stranger_bpd[name]:.2f} bits/dim", columns=2)
fig.tight_layout()
plt.show()
for name, score in stranger_bpd.items():
    print(f"  {name:26s} {score:6.2f} bits/dim")

# %% [markdown]
# ## Training curve (not graded)

# %% nbgrader={"grade": false, "grade_id": "plot_training", "locked": true, "schema_version": 3, "solution": false, "task": false}
if not history["step"]:
    print("history is empty: append to it in your training loop to see the training curve here.")
else:
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(history["step"], history["batch_bpd"], lw=0.5, alpha=0.6, label="training batch")
    if history["eval_step"]:
        ax.plot(history["eval_step"], history["test_bpd"], lw=1.5, label="test split")
    for (name, score), style in zip(list(scores.items())[:2], (":", "--")):
        ax.axhline(score, color="k", ls=style, lw=1, label=name)
    ax.set(xlabel="step", ylabel="bits per dimension", title="Training", ylim=(1.5, 4.0))
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.show()
