"""The coupling layer indexes x[:, 0] and x[:, 1]: right for dim 2, wrong for any other dimension."""
# expect_lost: test_coupling_forward, test_coupling_inverse
# train: stub
# caught_visibly: no


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
        s = (1 - b) * self.s_net(b * x)
        t = (1 - b) * self.t_net(b * x)
        y0 = x[:, 0] * torch.exp(s[:, 0]) + t[:, 0]
        y1 = x[:, 1] * torch.exp(s[:, 1]) + t[:, 1]
        return torch.stack([y0, y1], dim=1), s[:, 0] + s[:, 1]

    def inverse(self, y):
        """y (batch, dim) -> x (batch, dim), the inverse of forward."""
        b = self.mask
        s = (1 - b) * self.s_net(b * y)
        t = (1 - b) * self.t_net(b * y)
        x0 = (y[:, 0] - t[:, 0]) * torch.exp(-s[:, 0])
        x1 = (y[:, 1] - t[:, 1]) * torch.exp(-s[:, 1])
        return torch.stack([x0, x1], dim=1)
