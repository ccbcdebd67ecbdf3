"""The flat index k is split into row and column with the height instead of the width: right on square images only."""
# expect_lost: test_checkerboard
# train: stub
# caught_visibly: no


# %% answer: checkerboard
def checkerboard_masks(n_layers, height, width):
    """Alternating checkerboards: a float tensor (n_layers, height * width) of 0/1, each row flattened row by row."""
    k = torch.arange(height * width)
    board = ((k // height + k % height) % 2 == 0).float()
    return torch.stack([board if i % 2 == 0 else 1 - board for i in range(n_layers)])
