"""multiscale_sample draws z1 at temperature 1 whatever the temperature."""
# expect_lost: test_multiscale_sample
# train: stub
# caught_visibly: test_multiscale_sample
# expect_message: test_multiscale_sample: expected 0.7


# %% answer: multiscale
def multiscale_log_prob(flow, x):
    """log p(x) (N,) of images x (N, C, H, W): z1 = the first half of the channels of first(x), z2 = second(the other half)."""
    h, log_det_first = flow.first(x)
    z1, h2 = h.chunk(2, dim=1)
    z2, log_det_second = flow.second(h2)
    return standard_normal_log_prob(z1) + standard_normal_log_prob(z2) + log_det_first + log_det_second


def multiscale_sample(flow, n, temperature=1.0):
    """n images (n, C, H, W): z1 and z2 drawn from N(0, temperature^2 I), z1 put back beside second.inverse(z2), then first.inverse."""
    z1 = torch.randn(n, *flow.factored_shape)
    z2 = temperature * torch.randn(n, *flow.final_shape)
    h = torch.cat([z1, flow.second.inverse(z2)], dim=1)
    return flow.first.inverse(h)
