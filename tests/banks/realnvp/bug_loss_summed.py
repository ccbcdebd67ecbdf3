"""nll_loss sums -log_prob over the batch instead of averaging it."""
# expect_lost: test_nll
# train: stub
# caught_visibly: test_nll


# %% answer: nll
def nll_loss(flow, x):
    """Mean negative log-likelihood of x (batch, dim) under flow, in nats per sample: a scalar tensor."""
    return -flow.log_prob(x).sum()
