"""The logit of y itself, without squeezing y into [ALPHA, 1 - ALPHA]: infinite at y = 0."""
# expect_lost: test_logit
# train: stub
# caught_visibly: test_logit
# expect_message: test_logit: w is logit(y)


# %% answer: logit
def logit_transform(y):
    """y (batch, dim) in [0, 1) -> w = logit(ALPHA + (1 - 2 ALPHA) y) (batch, dim) and log|det dw/dy| (batch,)."""
    w = torch.log(y) - torch.log1p(-y)
    log_det = (-torch.log(y) - torch.log1p(-y)).sum(dim=1)
    return w, log_det
