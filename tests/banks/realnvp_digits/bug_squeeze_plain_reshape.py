"""squeeze is a plain reshape to (N, 4C, H/2, W/2): a new channel holds half a row, not a 2 x 2 block."""
# expect_lost: test_squeeze
# train: stub
# caught_visibly: test_squeeze
# expect_message: test_squeeze: plain reshape


# %% answer: squeeze
def squeeze(x):
    """(N, C, H, W) -> (N, 4C, H/2, W/2): output channel 4c + 2a + b at (i, j) is input channel c at (2i + a, 2j + b)."""
    n, c, h, w = x.shape
    return x.reshape(n, 4 * c, h // 2, w // 2)


def unsqueeze(x):
    """(N, 4C, H, W) -> (N, C, 2H, 2W): the inverse of squeeze."""
    n, c, h, w = x.shape
    return x.reshape(n, c // 4, 2 * h, 2 * w)
