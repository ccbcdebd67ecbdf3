"""Valid: the noise drawn with torch.rand(x.shape, dtype=x.dtype), and x divided and shifted in two steps."""
# expect_lost: none
# train: stub


# %% answer: dequantize
def dequantize(x):
    """Pixel values x (batch, dim) -> y = (x + u) / N_LEVELS (batch, dim) in [0, 1), u ~ U[0, 1) per pixel."""
    u = torch.rand(x.shape, dtype=x.dtype)
    return x / N_LEVELS + u / N_LEVELS
