"""Dequantization without noise: y = x / 17, so the flow sees only 17 values per pixel."""
# expect_lost: test_dequantize
# train: stub
# caught_visibly: test_dequantize
# expect_message: test_dequantize: dequantize adds no noise


# %% answer: dequantize
def dequantize(x):
    """Pixel values x (batch, dim) -> y = (x + u) / N_LEVELS (batch, dim) in [0, 1), u ~ U[0, 1) per pixel."""
    return x / N_LEVELS
