"""One noise value per image, shared by all its pixels, instead of one per pixel."""
# expect_lost: test_dequantize
# train: stub
# caught_visibly: test_dequantize
# expect_message: test_dequantize: the same for every pixel of an image


# %% answer: dequantize
def dequantize(x):
    """Pixel values x (batch, dim) -> y = (x + u) / N_LEVELS (batch, dim) in [0, 1), u ~ U[0, 1) per pixel."""
    return (x + torch.rand(x.shape[0], 1)) / N_LEVELS
