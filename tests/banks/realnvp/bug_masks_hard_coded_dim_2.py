"""make_masks alternates [1, 0] and [0, 1]: the dimension 2 is hard-coded."""
# expect_lost: test_masks
# train: stub
# caught_visibly: test_masks


# %% answer: masks
def make_masks(n_layers, dim):
    """Alternating binary masks: a float tensor (n_layers, dim) of 0/1, consecutive rows complementary."""
    first = torch.tensor([1.0, 0.0])
    return torch.stack([first if i % 2 == 0 else 1 - first for i in range(n_layers)])
