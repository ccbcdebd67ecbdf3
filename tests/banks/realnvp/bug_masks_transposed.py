"""make_masks returns the masks transposed: shape (dim, n_layers)."""
# expect_lost: test_masks
# train: stub
# caught_visibly: test_masks


# %% answer: masks
def make_masks(n_layers, dim):
    """Alternating binary masks: a float tensor (n_layers, dim) of 0/1, consecutive rows complementary."""
    first = (torch.arange(dim) % 2 == 0).float()
    return torch.stack([first if i % 2 == 0 else 1 - first for i in range(n_layers)], dim=1)
