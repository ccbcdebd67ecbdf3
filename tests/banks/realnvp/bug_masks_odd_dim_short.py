"""The masks are built from two halves of dim // 2 coordinates: for odd dim they miss a coordinate (too few ones and zeros)."""
# expect_lost: test_masks
# train: stub
# caught_visibly: test_masks


# %% answer: masks
def make_masks(n_layers, dim):
    """Alternating binary masks: a float tensor (n_layers, dim) of 0/1, consecutive rows complementary."""
    half = dim // 2
    first = torch.cat([torch.ones(half), torch.zeros(half)])
    masks = []
    for i in range(n_layers):
        masks.append(first if i % 2 == 0 else 1 - first)
    return torch.stack(masks)
