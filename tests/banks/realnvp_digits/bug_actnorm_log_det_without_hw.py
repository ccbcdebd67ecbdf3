"""ActNorm's log_det is sum(log_scale), without the H * W positions each channel's scale applies at."""
# expect_lost: test_actnorm
# train: stub
# caught_visibly: test_actnorm
# expect_message: test_actnorm: H * W * sum(log_scale)


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
        if not self.initialized:
            with torch.no_grad():
                self.bias.copy_(-x.mean(dim=(0, 2, 3), keepdim=True))
                self.log_scale.copy_(-torch.log(x.std(dim=(0, 2, 3), keepdim=True) + 1e-6))
                self.initialized.fill_(True)
        y = (x + self.bias) * torch.exp(self.log_scale)
        log_det = self.log_scale.sum()
        return y, log_det.expand(x.shape[0])

    def inverse(self, y):
        """y (N, C, H, W) -> x (N, C, H, W)."""
        return y * torch.exp(-self.log_scale) - self.bias
