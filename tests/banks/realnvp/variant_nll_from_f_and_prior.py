"""Valid: nll_loss computed from flow.f and flow.prior directly instead of flow.log_prob."""
# expect_lost: none
# train: stub


# %% answer: nll
def nll_loss(flow, x):
    """Mean negative log-likelihood of x (batch, dim) under flow, in nats per sample: a scalar tensor."""
    z, log_det = flow.f(x)
    log_likelihood = flow.prior.log_prob(z) + log_det
    return -torch.mean(log_likelihood)
