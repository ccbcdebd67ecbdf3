"""unsqueeze takes the width from the height: right on square images only."""
# expect_lost: test_squeeze
# train: stub
# caught_visibly: test_squeeze
# expect_message: test_squeeze: unsqueeze(squeeze(x)) raised


# %% answer: squeeze
def squeeze(x):
    """(N, C, H, W) -> (N, 4C, H/2, W/2): output channel 4c + 2a + b at (i, j) is input channel c at (2i + a, 2j + b)."""
    n, c, h, w = x.shape
    blocks = x.reshape(n, c, h // 2, 2, w // 2, 2)  # (n, c, i, a, j, b)
    return blocks.permute(0, 1, 3, 5, 2, 4).reshape(n, 4 * c, h // 2, w // 2)


def unsqueeze(x):
    """(N, 4C, H, W) -> (N, C, 2H, 2W): the inverse of squeeze."""
    n, c, h, w = x.shape
    blocks = x.reshape(n, c // 4, 2, 2, h, h)  # (n, c, a, b, i, j)
    return blocks.permute(0, 1, 4, 2, 5, 3).reshape(n, c // 4, 2 * h, 2 * h)
