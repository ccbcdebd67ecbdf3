"""make_masks cuts a hard-coded pattern of six coordinates: wrong from dim 7 on."""
# expect_lost: test_masks
# train: stub
# caught_visibly: no


# %% answer: masks
def make_masks(n_layers, dim):
    """Alternating binary masks: a float tensor (n_layers, dim) of 0/1, consecutive rows complementary."""
    first = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])[:dim]
    return torch.stack([first if i % 2 == 0 else 1 - first for i in range(n_layers)])
