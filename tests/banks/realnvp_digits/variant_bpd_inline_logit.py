"""Valid: bits_per_dim computes the logit and its log-determinant itself instead of calling logit_transform."""
# expect_lost: none
# train: stub


# %% answer: bpd
def bits_per_dim(flow, y):
    """Mean bits per dimension of the pixels behind dequantized images y (batch, dim) in [0, 1): a scalar tensor."""
    n_pixels = y.shape[-1]
    s = ALPHA + (1 - 2 * ALPHA) * y
    w = torch.log(s / (1 - s))
    log_det = torch.log((1 - 2 * ALPHA) / (s * (1 - s))).sum(dim=-1)
    nll_nats = -(flow.log_prob(w) + log_det) + n_pixels * math.log(N_LEVELS)
    return (nll_nats / (n_pixels * math.log(2))).mean()
