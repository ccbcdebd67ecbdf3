"""The logit's log-determinant is subtracted from log p_W(w) instead of added."""
# expect_lost: test_bpd
# train: stub
# caught_visibly: test_bpd
# expect_message: test_bpd: the logit's log-determinant has the wrong sign


# %% answer: bpd
def bits_per_dim(flow, y):
    """Mean bits per dimension of the pixels behind dequantized images y (batch, dim) in [0, 1): a scalar tensor."""
    dim = y.shape[1]
    w, logit_log_det = logit_transform(y)
    log_p = flow.log_prob(w) - logit_log_det - dim * math.log(N_LEVELS)
    return -log_p.mean() / (dim * math.log(2))
