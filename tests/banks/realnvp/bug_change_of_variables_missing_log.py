"""The slope is added without its log: log p_Z(f(x)) + |f'(x)|."""
# expect_lost: test_change_of_variables
# train: stub
# caught_visibly: test_change_of_variables
# expect_message: test_change_of_variables: add its log


# %% answer: change_of_variables
def log_prob_1d(x, f, log_p_z):
    """log p_X(x) at each point of x (n,), where z = f(x) has log-density log_p_z: a tensor of shape (n,)."""
    return log_p_z(f(x)) + torch.abs(derivative(f, x))
