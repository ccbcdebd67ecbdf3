"""Valid: the course's RealNVP, masks in one frozen nn.Parameter, s and t in nn.ModuleLists, loops over the index; trained for real."""
# expect_lost: none
# train: quick


# %% answer: realnvp
class RealNVP(nn.Module):
    """A stack of affine coupling layers, one per mask, with a prior on the latent space."""

    def __init__(self, nets, nett, masks, prior):
        super().__init__()
        self.prior = prior
        self.mask = nn.Parameter(masks, requires_grad=False)
        self.t = nn.ModuleList([nett() for _ in range(len(masks))])
        self.s = nn.ModuleList([nets() for _ in range(len(masks))])

    def f(self, x):
        """Data x (batch, dim) -> latent z (batch, dim) and log|det df/dx| of shape (batch,)."""
        log_det_J, z = x.new_zeros(x.shape[0]), x
        for i in range(len(self.t)):
            z_ = self.mask[i] * z
            s = self.s[i](z_) * (1 - self.mask[i])
            t = self.t[i](z_) * (1 - self.mask[i])
            z = z_ + (1 - self.mask[i]) * (z * torch.exp(s) + t)
            log_det_J += s.sum(dim=1)
        return z, log_det_J

    def g(self, z):
        """Latent z (batch, dim) -> data x (batch, dim): the inverse of f."""
        x = z
        for i in reversed(range(len(self.t))):
            x_ = x * self.mask[i]
            s = self.s[i](x_) * (1 - self.mask[i])
            t = self.t[i](x_) * (1 - self.mask[i])
            x = x_ + (1 - self.mask[i]) * ((x - t) * torch.exp(-s))
        return x

    def log_prob(self, x):
        """log p_X(x) of each row of x (batch, dim): shape (batch,)."""
        z, logp = self.f(x)
        return self.prior.log_prob(z) + logp

    def sample(self, batchSize):
        """n samples (n, dim) of the model: g applied to draws from the prior."""
        z = self.prior.sample((batchSize, 1))
        x = self.g(z.squeeze(1))
        return x
