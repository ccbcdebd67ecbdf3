def check(condition, message):
    """Fail with a message that says what is wrong (used by the test cells)."""
    if not condition:
        raise AssertionError(message)


def check_shape(name, value, expected, hint=""):
    """Check that value is a tensor of the expected shape."""
    check(isinstance(value, torch.Tensor), f"{name} should be a torch.Tensor, got {type(value).__name__}")
    shape = tuple(value.shape)
    check(shape == tuple(expected), f"{name} has shape {shape}, expected {tuple(expected)}. {hint}")


def check_close(name, value, expected, hint="", atol=1e-5):
    """Check that two tensors of the same shape agree to atol, and report the largest gap."""
    check_shape(name, value, expected.shape, hint)
    gap = (value.detach().double() - expected.detach().double()).abs().max().item()
    check(gap <= atol, f"{name} is off by up to {gap:.3g} (tolerance {atol:g}). {hint}")


def close(value, expected, atol=1e-5):
    """True when value is a tensor of expected's shape within atol of it (to recognise a known mistake)."""
    if not isinstance(value, torch.Tensor) or value.shape != expected.shape:
        return False
    return (value.detach().double() - expected.detach().double()).abs().max().item() <= atol


def calling(what, fn, *args):
    """fn(*args), a call into your code; an error it raises is reported as coming from `what`, the call under test.
    Under the grader the value is also handed to it, which checks the hidden tests again, outside your kernel, on the
    values your code returned."""
    try:
        value = fn(*args)
    except Exception as error:
        raise AssertionError(f"{what} raised {type(error).__name__}: {error}") from error
    keep = globals().get("_autograder_keep")
    if keep is not None:
        keep(what, value)
    return value


def autograd_log_det(fn, x):
    """log|det J| of fn at each row of x (batch, dim), from autograd's full Jacobian; fn returns (y, ...)."""
    jacobians = [torch.autograd.functional.jacobian(lambda v: fn(v.unsqueeze(0))[0].squeeze(0), row) for row in x]
    return torch.stack([torch.linalg.slogdet(j)[1] for j in jacobians])
