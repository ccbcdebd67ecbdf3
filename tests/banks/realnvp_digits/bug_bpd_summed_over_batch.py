"""Bits per dimension summed over the batch instead of averaged."""
# expect_lost: test_bpd
# train: stub
# caught_visibly: test_bpd
# expect_message: test_bpd: sums over the batch


# %% answer: bpd
def bits_per_dim(flow, y):
    """Mean bits per dimension of the pixels behind dequantized images y (batch, dim) in [0, 1): a scalar tensor."""
    dim = y.shape[1]
    w, logit_log_det = logit_transform(y)
    log_p = flow.log_prob(w) + logit_log_det - dim * math.log(N_LEVELS)
    return -log_p.sum() / (dim * math.log(2))
