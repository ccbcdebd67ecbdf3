"""Bits per dimension of the rescaled y, not of the pixels: the D log 17 of the rescaling is missing."""
# expect_lost: test_bpd
# train: stub
# caught_visibly: test_bpd
# expect_message: test_bpd: misses the rescaling


# %% answer: bpd
def bits_per_dim(flow, y):
    """Mean bits per dimension of the pixels behind dequantized images y (batch, dim) in [0, 1): a scalar tensor."""
    dim = y.shape[1]
    w, logit_log_det = logit_transform(y)
    return -(flow.log_prob(w) + logit_log_det).mean() / (dim * math.log(2))
