"""Valid: checkerboards that start with b = 0 at pixel (0, 0), each mask the complement of the previous; quick training."""
# expect_lost: none
# train: quick


# %% answer: checkerboard
def checkerboard_masks(n_layers, height, width):
    """Alternating checkerboards: a float tensor (n_layers, height * width) of 0/1, each row flattened row by row."""
    masks = torch.zeros(n_layers, height * width)
    for i in range(height):
        for j in range(width):
            masks[0, i * width + j] = (i + j) % 2
    for k in range(1, n_layers):
        masks[k] = 1 - masks[k - 1]
    return masks
