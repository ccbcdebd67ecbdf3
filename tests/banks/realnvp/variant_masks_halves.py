"""Valid: the masks split the coordinates in halves (first half ones, then the complement) instead of a checkerboard."""
# expect_lost: none
# train: stub


# %% answer: masks
def make_masks(n_layers, dim):
    """Alternating binary masks: a float tensor (n_layers, dim) of 0/1, consecutive rows complementary."""
    first = torch.zeros(dim)
    first[: dim // 2] = 1
    return torch.stack([first if i % 2 == 0 else 1 - first for i in range(n_layers)])
