"""A valid variant: the derivative by torch.autograd.grad in the answer itself, and log|f'| as half the log of its square."""
# expect_lost: none
# train: stub


# %% answer: change_of_variables
def log_prob_1d(x, f, log_p_z):
    """log p_X(x) at each point of x (n,), where z = f(x) has log-density log_p_z: a tensor of shape (n,)."""
    x = x.clone().requires_grad_(True)
    z = f(x)
    (slope,) = torch.autograd.grad(z.sum(), x, create_graph=True)
    return (log_p_z(z) + 0.5 * torch.log(slope**2)).detach()
