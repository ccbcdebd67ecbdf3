"""Valid: bits_per_dim goes through flow.f and flow.prior instead of flow.log_prob, and counts in log2 directly."""
# expect_lost: none
# train: stub


# %% answer: bpd
def bits_per_dim(flow, y):
    """Mean bits per dimension of the pixels behind dequantized images y (batch, dim) in [0, 1): a scalar tensor."""
    w, logit_log_det = logit_transform(y)
    z, flow_log_det = flow.f(w)
    log_p_pixels = flow.prior.log_prob(z) + flow_log_det + logit_log_det - y.shape[1] * math.log(N_LEVELS)
    return -(log_p_pixels / math.log(2)).mean() / y.shape[1]
