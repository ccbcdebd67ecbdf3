"""Valid: ActNorm initialised from the biased variance, log_scale = -log(sqrt(var + eps))."""
# expect_lost: none
# train: stub


# %% answer: actnorm
class ActNorm(nn.Module):
    """Per-channel y = (x + bias) * exp(log_scale) on (N, C, H, W), initialised from the first batch."""

    def __init__(self, channels):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.log_scale = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.register_buffer("initialized", torch.tensor(False))

    def forward(self, x):
        """x (N, C, H, W) -> y (N, C, H, W) and log|det dy/dx| (N,)."""
        if not bool(self.initialized):  # the first batch: zero mean and unit (biased) variance per channel
            centre = x.mean(dim=(0, 2, 3), keepdim=True)
            spread = ((x - centre) ** 2).mean(dim=(0, 2, 3), keepdim=True)
            with torch.no_grad():
                self.bias.data = -centre
                self.log_scale.data = -0.5 * (spread + 1e-6).log()
                self.initialized.fill_(True)
        height, width = x.shape[-2:]
        out = (x + self.bias) * self.log_scale.exp()
        return out, (height * width * self.log_scale.sum()).repeat(x.shape[0])

    def inverse(self, y):
        """y (N, C, H, W) -> x (N, C, H, W)."""
        return y / self.log_scale.exp() - self.bias
