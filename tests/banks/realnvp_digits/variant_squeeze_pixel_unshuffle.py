"""Valid: squeeze and unsqueeze with torch.nn.functional.pixel_unshuffle and pixel_shuffle (the same sub-pixel order)."""
# expect_lost: none
# train: stub


# %% answer: squeeze
def squeeze(x):
    """(N, C, H, W) -> (N, 4C, H/2, W/2): output channel 4c + 2a + b at (i, j) is input channel c at (2i + a, 2j + b)."""
    return nn.functional.pixel_unshuffle(x, 2)


def unsqueeze(x):
    """(N, 4C, H, W) -> (N, C, 2H, 2W): the inverse of squeeze."""
    return nn.functional.pixel_shuffle(x, 2)
