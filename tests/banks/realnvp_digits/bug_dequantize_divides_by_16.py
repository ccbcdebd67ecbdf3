"""The dequantized pixels are divided by the largest value, 16, not by the number of levels, 17: y reaches past 1."""
# expect_lost: test_dequantize
# train: stub
# caught_visibly: test_dequantize
# expect_message: test_dequantize: divides by 16, the largest pixel value


# %% answer: dequantize
def dequantize(x):
    """Pixel values x (batch, dim) -> y = (x + u) / N_LEVELS (batch, dim) in [0, 1), u ~ U[0, 1) per pixel."""
    return (x + torch.rand_like(x)) / (N_LEVELS - 1)
