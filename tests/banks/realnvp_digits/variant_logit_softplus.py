"""Valid: torch.logit for w, and log s + log(1 - s) written with softplus of w (log sigmoid(w) + log sigmoid(-w))."""
# expect_lost: none
# train: stub


# %% answer: logit
def logit_transform(y):
    """y (batch, dim) in [0, 1) -> w = logit(ALPHA + (1 - 2 ALPHA) y) (batch, dim) and log|det dw/dy| (batch,)."""
    w = torch.logit(ALPHA + (1 - 2 * ALPHA) * y)
    log_s_one_minus_s = -nn.functional.softplus(-w) - nn.functional.softplus(w)
    log_det = (math.log(1 - 2 * ALPHA) - log_s_one_minus_s).sum(dim=-1)
    return w, log_det
