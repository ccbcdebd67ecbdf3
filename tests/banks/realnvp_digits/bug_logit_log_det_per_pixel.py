"""The log-determinant is returned per pixel, (batch, dim), not summed over the pixels."""
# expect_lost: test_logit
# train: stub
# caught_visibly: test_logit
# expect_message: test_logit: one value per pixel


# %% answer: logit
def logit_transform(y):
    """y (batch, dim) in [0, 1) -> w = logit(ALPHA + (1 - 2 ALPHA) y) (batch, dim) and log|det dw/dy| (batch,)."""
    s = ALPHA + (1 - 2 * ALPHA) * y
    return torch.logit(s), math.log(1 - 2 * ALPHA) - torch.log(s) - torch.log1p(-s)
