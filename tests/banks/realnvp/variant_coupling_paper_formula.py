"""Valid: the paper's formula y = b * x + (1 - b) * (x * exp(s(b * x)) + t(b * x)), and its inverse written the same way."""
# expect_lost: none
# train: stub


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
        s = self.s_net(b * x)
        t = self.t_net(b * x)
        y = b * x + (1 - b) * (x * torch.exp(s) + t)
        return y, ((1 - b) * s).sum(-1)

    def inverse(self, y):
        """y (batch, dim) -> x (batch, dim), the inverse of forward."""
        b = self.mask
        s = self.s_net(b * y)
        t = self.t_net(b * y)
        return b * y + (1 - b) * (y - t) / torch.exp(s)
