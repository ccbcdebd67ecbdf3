"""Every layer gets the same mask, so the coordinates it keeps are never transformed."""
# expect_lost: test_masks
# train: stub
# caught_visibly: test_masks


# %% answer: masks
def make_masks(n_layers, dim):
    """Alternating binary masks: a float tensor (n_layers, dim) of 0/1, consecutive rows complementary."""
    mask = (torch.arange(dim) % 2 == 0).float()
    return mask.repeat(n_layers, 1)
