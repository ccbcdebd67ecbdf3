"""Every layer gets the same checkerboard, so the pixels it keeps are never transformed."""
# expect_lost: test_checkerboard
# train: stub
# caught_visibly: test_checkerboard
# expect_message: test_checkerboard: consecutive masks must be complementary


# %% answer: checkerboard
def checkerboard_masks(n_layers, height, width):
    """Alternating checkerboards: a float tensor (n_layers, height * width) of 0/1, each row flattened row by row."""
    rows, columns = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    board = ((rows + columns) % 2 == 0).float().reshape(-1)
    return board.repeat(n_layers, 1)
