"""Gaussian noise instead of uniform noise on [0, 1)."""
# expect_lost: test_dequantize
# train: stub
# caught_visibly: test_dequantize
# expect_message: test_dequantize: it must lie in [0, 1) (torch.rand, not torch.randn)


# %% answer: dequantize
def dequantize(x):
    """Pixel values x (batch, dim) -> y = (x + u) / N_LEVELS (batch, dim) in [0, 1), u ~ U[0, 1) per pixel."""
    return (x + 0.5 + 0.3 * torch.randn_like(x)) / N_LEVELS
