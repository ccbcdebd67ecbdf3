"""The logit's log-determinant has the wrong sign (the log-determinant of the inverse, the sigmoid)."""
# expect_lost: test_logit
# train: stub
# caught_visibly: test_logit
# expect_message: test_logit: log_det has the wrong sign


# %% answer: logit
def logit_transform(y):
    """y (batch, dim) in [0, 1) -> w = logit(ALPHA + (1 - 2 ALPHA) y) (batch, dim) and log|det dw/dy| (batch,)."""
    s = ALPHA + (1 - 2 * ALPHA) * y
    w = torch.log(s) - torch.log1p(-s)
    log_det = (torch.log(s) + torch.log1p(-s) - math.log(1 - 2 * ALPHA)).sum(dim=1)
    return w, log_det
