"""The given log_p_z is ignored and a standard normal prior is hard-coded: right only when the prior is N(0, 1)."""
# expect_lost: test_change_of_variables
# train: stub
# caught_visibly: no


# %% answer: change_of_variables
def log_prob_1d(x, f, log_p_z):
    """log p_X(x) at each point of x (n,), where z = f(x) has log-density log_p_z: a tensor of shape (n,)."""
    z = f(x)
    return torch.distributions.Normal(0.0, 1.0).log_prob(z) + torch.log(torch.abs(derivative(f, x)))
