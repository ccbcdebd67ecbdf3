"""channel_masks keeps 2 channels, not half of them: right at 4 channels only."""
# expect_lost: test_channel_masks
# train: stub
# caught_visibly: no


# %% answer: channel_masks
def channel_masks(n_layers, channels):
    """(n_layers, channels, 1, 1) of 0/1: row 0 keeps the first half of the channels, consecutive rows complementary."""
    first_half = (torch.arange(channels) < 2).float().reshape(channels, 1, 1)
    return torch.stack([first_half if k % 2 == 0 else 1 - first_half for k in range(n_layers)])
