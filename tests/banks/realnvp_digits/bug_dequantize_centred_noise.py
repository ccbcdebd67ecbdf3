"""The noise is centred on the pixel value, u in [-1/2, 1/2): y can fall below 0 and the bins shift by half a level."""
# expect_lost: test_dequantize
# train: stub
# caught_visibly: test_dequantize
# expect_message: test_dequantize: the noise is centred on 0


# %% answer: dequantize
def dequantize(x):
    """Pixel values x (batch, dim) -> y = (x + u) / N_LEVELS (batch, dim) in [0, 1), u ~ U[0, 1) per pixel."""
    return (x + torch.rand_like(x) - 0.5) / N_LEVELS
