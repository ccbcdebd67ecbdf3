"""Valid: every answer written apart from the master's, in another style (the similarity check must not flag the pair)."""
# expect_lost: none
# train: answer


# %% answer: masks
def make_masks(n_layers, dim):
    """Alternating binary masks: a float tensor (n_layers, dim) of 0/1, consecutive rows complementary."""
    rows = []
    for layer in range(n_layers):
        row = torch.zeros(dim)
        row[layer % 2 :: 2] = 1.0
        rows.append(row)
    return torch.stack(rows)


# %% answer: coupling
class AffineCoupling(nn.Module):
    """One affine coupling layer with mask b (dim,) and networks s_net, t_net: (batch, dim) -> (batch, dim)."""

    def __init__(self, mask, s_net, t_net):
        super().__init__()
        self.register_buffer("mask", mask)
        self.s_net = s_net
        self.t_net = t_net

    def forward(self, x):
        """x (batch, dim) -> y (batch, dim) and log|det dy/dx| of shape (batch,)."""
        keep = self.mask
        change = 1 - keep
        conditioner = x * keep
        log_scale = self.s_net(conditioner) * change
        shift = self.t_net(conditioner) * change
        return conditioner + change * (x * log_scale.exp() + shift), torch.sum(log_scale, dim=-1)

    def inverse(self, y):
        """y (batch, dim) -> x (batch, dim), the inverse of forward."""
        fixed = y * self.mask
        free = 1.0 - self.mask
        shift = free * self.t_net(fixed)
        shrink = torch.exp(-free * self.s_net(fixed))
        return fixed + free * (y - shift) * shrink


# %% answer: realnvp
class RealNVP(nn.Module):
    """A stack of affine coupling layers, one per mask, with a prior on the latent space."""

    def __init__(self, nets, nett, masks, prior):
        super().__init__()
        self.prior = prior
        stack = []
        for b in masks:
            stack.append(AffineCoupling(b, nets(), nett()))
        self.layers = nn.ModuleList(stack)

    def f(self, x):
        """Data x (batch, dim) -> latent z (batch, dim) and log|det df/dx| of shape (batch,)."""
        total = torch.zeros(len(x), dtype=x.dtype, device=x.device)
        z = x
        for coupling in self.layers:
            z, piece = coupling(z)
            total = total + piece
        return z, total

    def g(self, z):
        """Latent z (batch, dim) -> data x (batch, dim): the inverse of f."""
        x = z
        for idx in range(len(self.layers) - 1, -1, -1):
            x = self.layers[idx].inverse(x)
        return x

    def log_prob(self, x):
        """log p_X(x) of each row of x (batch, dim): shape (batch,)."""
        latent, ldj = self.f(x)
        return ldj + self.prior.log_prob(latent)

    def sample(self, n):
        """n samples (n, dim) of the model: g applied to draws from the prior."""
        draws = self.prior.sample(torch.Size([n]))
        return self.g(draws)


# %% answer: nll
def nll_loss(flow, x):
    """Mean negative log-likelihood of x (batch, dim) under flow, in nats per sample: a scalar tensor."""
    log_likelihood = flow.log_prob(x)
    return -(log_likelihood.sum() / x.shape[0])


# %% answer: train
history = {"step": [], "batch_nll": [], "eval_step": [], "test_nll": []}
total_steps = 1500
flow = RealNVP(nets, nett, make_masks(8, DIM), prior)
opt = torch.optim.AdamW(flow.parameters(), lr=3e-3, weight_decay=0.0)
cosine = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps)
generator = torch.Generator().manual_seed(7)
for it in range(total_steps):
    picks = torch.randint(0, x_train.shape[0], (256,), generator=generator)
    objective = nll_loss(flow, x_train[picks])
    opt.zero_grad(set_to_none=True)
    objective.backward()
    torch.nn.utils.clip_grad_norm_(flow.parameters(), 2.0)
    opt.step()
    cosine.step()
    history["step"].append(it)
    history["batch_nll"].append(float(objective))
    if it % 300 == 0 or it == total_steps - 1:
        with torch.no_grad():
            history["eval_step"].append(it)
            history["test_nll"].append(float(nll_loss(flow, x_test[:10000])))
