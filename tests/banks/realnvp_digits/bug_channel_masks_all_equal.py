"""every row of channel_masks is the same mask: the second coupling transforms the same half again."""
# expect_lost: test_channel_masks
# train: stub
# caught_visibly: test_channel_masks
# expect_message: test_channel_masks: complementary


# %% answer: channel_masks
def channel_masks(n_layers, channels):
    """(n_layers, channels, 1, 1) of 0/1: row 0 keeps the first half of the channels, consecutive rows complementary."""
    first_half = (torch.arange(channels) < channels // 2).float().reshape(channels, 1, 1)
    return torch.stack([first_half for k in range(n_layers)])
