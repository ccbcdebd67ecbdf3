"""The masks are returned as images (n_layers, height, width), not flattened to (n_layers, height * width)."""
# expect_lost: test_checkerboard
# train: stub
# caught_visibly: test_checkerboard
# expect_message: test_checkerboard: flatten each mask row by row


# %% answer: checkerboard
def checkerboard_masks(n_layers, height, width):
    """Alternating checkerboards: a float tensor (n_layers, height * width) of 0/1, each row flattened row by row."""
    rows, columns = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    board = ((rows + columns) % 2 == 0).float()
    return torch.stack([board if k % 2 == 0 else 1 - board for k in range(n_layers)])
