"""Valid: the checkerboard from numpy.indices, the layers alternating through (board + k) % 2."""
# expect_lost: none
# train: stub


# %% answer: checkerboard
def checkerboard_masks(n_layers, height, width):
    """Alternating checkerboards: a float tensor (n_layers, height * width) of 0/1, each row flattened row by row."""
    rows, columns = np.indices((height, width))
    board = torch.from_numpy(((rows + columns) % 2).reshape(-1))
    return torch.stack([(board + k) % 2 for k in range(n_layers)]).float()
