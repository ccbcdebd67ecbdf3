"""log_det sums s over every coordinate, the kept ones too (y itself is right): training inflates it."""
# expect_lost: test_coupling_forward, test_train
# train: quick
# caught_visibly: test_coupling_forward, test_train
# expect_message: test_train: is impossible


# %% answer: coupling
class AffineCoupling(nn.Module):
    """One affine coupling layer with mask b (dim,) and networks s_net, t_net: (batch, dim) -> (batch, dim)."""

    def __init__(self, mask, s_net, t_net):
        super().__init__()
        self.register_buffer("mask", mask)
        self.s_net = s_net
        self.t_net = t_net

    def forward(self, x):
        """x (batch, dim) -> y (batch, dim) and log|det dy/dx| of shape (batch,)."""
        b = self.mask
        s_all = self.s_net(b * x)
        s = (1 - b) * s_all
        t = (1 - b) * self.t_net(b * x)
        return x * torch.exp(s) + t, s_all.sum(dim=1)

    def inverse(self, y):
        """y (batch, dim) -> x (batch, dim), the inverse of forward."""
        b = self.mask
        s = (1 - b) * self.s_net(b * y)
        t = (1 - b) * self.t_net(b * y)
        return (y - t) * torch.exp(-s)
