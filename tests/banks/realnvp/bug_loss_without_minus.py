"""nll_loss returns the mean log-likelihood, without the minus sign."""
# expect_lost: test_nll
# train: stub
# caught_visibly: test_nll


# %% answer: nll
def nll_loss(flow, x):
    """Mean negative log-likelihood of x (batch, dim) under flow, in nats per sample: a scalar tensor."""
    return flow.log_prob(x).mean()
