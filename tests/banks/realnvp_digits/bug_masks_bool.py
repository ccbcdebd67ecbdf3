"""The masks are boolean tensors, not floats (1 - b then fails on them)."""
# expect_lost: test_checkerboard
# train: stub
# caught_visibly: test_checkerboard
# expect_message: test_checkerboard: should be a float tensor


# %% answer: checkerboard
def checkerboard_masks(n_layers, height, width):
    """Alternating checkerboards: a float tensor (n_layers, height * width) of 0/1, each row flattened row by row."""
    rows, columns = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    board = ((rows + columns) % 2 == 0).reshape(-1)
    return torch.stack([board if k % 2 == 0 else ~board for k in range(n_layers)])
