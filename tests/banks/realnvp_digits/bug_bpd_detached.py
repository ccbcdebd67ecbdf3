"""Bits per dimension computed under torch.no_grad(): a number, not a loss the optimiser can use."""
# expect_lost: test_bpd
# train: stub
# caught_visibly: test_bpd
# expect_message: test_bpd: does not depend on the flow's parameters


# %% answer: bpd
def bits_per_dim(flow, y):
    """Mean bits per dimension of the pixels behind dequantized images y (batch, dim) in [0, 1): a scalar tensor."""
    dim = y.shape[1]
    with torch.no_grad():
        w, logit_log_det = logit_transform(y)
        log_p = flow.log_prob(w) + logit_log_det - dim * math.log(N_LEVELS)
    return -log_p.mean() / (dim * math.log(2))
