"""Bits per dimension with the digits' 64 pixels hard-coded (DIM) instead of D taken from y."""
# expect_lost: test_bpd
# train: stub
# caught_visibly: no


# %% answer: bpd
def bits_per_dim(flow, y):
    """Mean bits per dimension of the pixels behind dequantized images y (batch, dim) in [0, 1): a scalar tensor."""
    w, logit_log_det = logit_transform(y)
    log_p = flow.log_prob(w) + logit_log_det - DIM * math.log(N_LEVELS)
    return -log_p.mean() / (DIM * math.log(2))
