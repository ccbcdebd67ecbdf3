"""channel_masks returns (n_layers, channels), without the two axes of size 1 that broadcast over H and W."""
# expect_lost: test_channel_masks
# train: stub
# caught_visibly: test_channel_masks
# expect_message: test_channel_masks: add two axes of size 1


# %% answer: channel_masks
def channel_masks(n_layers, channels):
    """(n_layers, channels, 1, 1) of 0/1: row 0 keeps the first half of the channels, consecutive rows complementary."""
    first_half = (torch.arange(channels) < channels // 2).float()
    return torch.stack([first_half if k % 2 == 0 else 1 - first_half for k in range(n_layers)])
