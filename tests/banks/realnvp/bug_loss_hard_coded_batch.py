"""nll_loss divides the summed -log_prob by a hard-coded batch size of 256 (the training batch)."""
# expect_lost: test_nll
# train: stub
# caught_visibly: no


# %% answer: nll
def nll_loss(flow, x):
    """Mean negative log-likelihood of x (batch, dim) under flow, in nats per sample: a scalar tensor."""
    return -flow.log_prob(x).sum() / 256
