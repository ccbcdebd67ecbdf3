"""log_prob subtracts the log-determinant: log p_Z(f(x)) - log_det."""
# expect_lost: test_realnvp_log_prob
# train: stub
# caught_visibly: test_realnvp_log_prob
# expect_message: test_realnvp_log_prob: subtracts the log-determinant


# %% answer: realnvp
class RealNVP(nn.Module):
    """A stack of affine coupling layers, one per mask, with a prior on the latent space."""

    def __init__(self, nets, nett, masks, prior):
        super().__init__()
        self.prior = prior
        self.layers = nn.ModuleList(AffineCoupling(mask, nets(), nett()) for mask in masks)

    def f(self, x):
        """Data x (batch, dim) -> latent z (batch, dim) and log|det df/dx| of shape (batch,)."""
        log_det = x.new_zeros(x.shape[0])
        for layer in self.layers:
            x, layer_log_det = layer(x)
            log_det = log_det + layer_log_det
        return x, log_det

    def g(self, z):
        """Latent z (batch, dim) -> data x (batch, dim): the inverse of f."""
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z

    def log_prob(self, x):
        """log p_X(x) of each row of x (batch, dim): shape (batch,)."""
        z, log_det = self.f(x)
        return self.prior.log_prob(z) - log_det

    def sample(self, n):
        """n samples (n, dim) of the model: g applied to draws from the prior."""
        return self.g(self.prior.sample((n,)))
