"""The layers are appended to an nn.ModuleList in a loop and f adds the layers' log_dets with Python's sum."""
# expect_lost: none
# train: stub


# %% answer: realnvp
class RealNVP(nn.Module):
    """A stack of affine coupling layers, one per mask, with a prior on the latent space."""

    def __init__(self, nets, nett, masks, prior):
        super().__init__()
        self.prior = prior
        self.layers = nn.ModuleList()
        for mask in masks:
            self.layers.append(AffineCoupling(mask, nets(), nett()))

    def f(self, x):
        """Data x (batch, dim) -> latent z (batch, dim) and log|det df/dx| of shape (batch,)."""
        log_dets = []
        for layer in self.layers:
            x, layer_log_det = layer(x)
            log_dets.append(layer_log_det)
        return x, sum(log_dets)

    def g(self, z):
        """Latent z (batch, dim) -> data x (batch, dim): the inverse of f."""
        for k in range(len(self.layers) - 1, -1, -1):
            z = self.layers[k].inverse(z)
        return z

    def log_prob(self, x):
        """log p_X(x) of each row of x (batch, dim): shape (batch,)."""
        z, log_det = self.f(x)
        return self.prior.log_prob(z) + log_det

    def sample(self, n):
        """n samples (n, dim) of the model: g applied to draws from the prior."""
        return self.g(self.prior.sample(torch.Size([n])))
