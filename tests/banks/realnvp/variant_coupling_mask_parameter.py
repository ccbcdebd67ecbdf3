"""Valid: the coupling layer stores its mask as nn.Parameter(mask, requires_grad=False) instead of a buffer."""
# expect_lost: none
# train: stub


# %% answer: coupling
class AffineCoupling(nn.Module):
    """One affine coupling layer with mask b (dim,) and networks s_net, t_net: (batch, dim) -> (batch, dim)."""

    def __init__(self, mask, s_net, t_net):
        super().__init__()
        self.mask = nn.Parameter(mask, requires_grad=False)
        self.s_net = s_net
        self.t_net = t_net

    def forward(self, x):
        """x (batch, dim) -> y (batch, dim) and log|det dy/dx| of shape (batch,)."""
        s = self.s_net(x * self.mask) * (1 - self.mask)
        t = self.t_net(x * self.mask) * (1 - self.mask)
        y = x * torch.exp(s) + t
        log_det = torch.sum(s, dim=1)
        return y, log_det

    def inverse(self, y):
        """y (batch, dim) -> x (batch, dim), the inverse of forward."""
        s = self.s_net(y * self.mask) * (1 - self.mask)
        t = self.t_net(y * self.mask) * (1 - self.mask)
        return (y - t) / torch.exp(s)
