"""The masks alternate along the flattened vector, [1, 0, 1, 0, ...]: on an image 8 pixels wide these are vertical stripes."""
# expect_lost: test_checkerboard
# train: stub
# caught_visibly: test_checkerboard
# expect_message: test_checkerboard: these are stripes, not a checkerboard


# %% answer: checkerboard
def checkerboard_masks(n_layers, height, width):
    """Alternating checkerboards: a float tensor (n_layers, height * width) of 0/1, each row flattened row by row."""
    board = (torch.arange(height * width) % 2 == 0).float()
    return torch.stack([board if k % 2 == 0 else 1 - board for k in range(n_layers)])
