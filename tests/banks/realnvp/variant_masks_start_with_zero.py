"""Valid: the first mask starts with 0 ([0, 1, 0, ...]), the next ones alternate."""
# expect_lost: none
# train: stub


# %% answer: masks
def make_masks(n_layers, dim):
    """Alternating binary masks: a float tensor (n_layers, dim) of 0/1, consecutive rows complementary."""
    masks = torch.zeros(n_layers, dim)
    for i in range(n_layers):
        masks[i, (i + 1) % 2 :: 2] = 1
    return masks
