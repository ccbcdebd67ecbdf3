"""Valid: the coupling layer selects kept and changed coordinates with torch.where instead of multiplying by the mask."""
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
        kept = self.mask.bool()
        x_kept = torch.where(kept, x, torch.zeros_like(x))
        s = torch.where(kept, torch.zeros_like(x), self.s_net(x_kept))
        t = self.t_net(x_kept)
        y = torch.where(kept, x, x * torch.exp(s) + t)
        return y, s.sum(dim=1)

    def inverse(self, y):
        """y (batch, dim) -> x (batch, dim), the inverse of forward."""
        kept = self.mask.bool()
        y_kept = torch.where(kept, y, torch.zeros_like(y))
        s = self.s_net(y_kept)
        t = self.t_net(y_kept)
        return torch.where(kept, y, (y - t) * torch.exp(-s))
