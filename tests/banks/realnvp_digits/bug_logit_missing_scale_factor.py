"""The log-determinant forgets the factor 1 - 2 ALPHA of the squeeze s = ALPHA + (1 - 2 ALPHA) y (chain rule)."""
# expect_lost: test_logit
# train: stub
# caught_visibly: test_logit
# expect_message: test_logit: misses the factor 1 - 2 ALPHA


# %% answer: logit
def logit_transform(y):
    """y (batch, dim) in [0, 1) -> w = logit(ALPHA + (1 - 2 ALPHA) y) (batch, dim) and log|det dw/dy| (batch,)."""
    s = ALPHA + (1 - 2 * ALPHA) * y
    w = torch.log(s) - torch.log1p(-s)
    log_det = (-torch.log(s) - torch.log1p(-s)).sum(dim=1)
    return w, log_det
