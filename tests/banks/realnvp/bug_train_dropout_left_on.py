"""The s networks carry dropout, left on (no flow.eval()): f is random, its log_det not the log-determinant of the map."""
# expect_lost: test_train
# train: answer
# caught_visibly: no

# %% answer: train
history = {"step": [], "batch_nll": [], "eval_step": [], "test_nll": [], "snapshots": []}
N_LAYERS, N_STEPS, BATCH, LEARNING_RATE = 8, 600, 512, 1.2e-2
EVAL_AT = set(np.linspace(0, N_STEPS - 1, 13).round().astype(int).tolist())  # 13 evaluations, the first and the last step included


def nets_with_dropout():
    """nets() with dropout after its first layer (left on: the flow is never put in eval mode)."""
    layers = [nn.Linear(DIM, WIDTH), nn.LeakyReLU(), nn.Dropout(0.2), nn.Linear(WIDTH, WIDTH), nn.LeakyReLU()]
    return nn.Sequential(*layers, nn.Linear(WIDTH, DIM), nn.Tanh(), Scale(DIM))


flow = RealNVP(nets_with_dropout, nett, make_masks(N_LAYERS, DIM), prior)
parameters = list(flow.parameters())  # listed once: the clipping below walks this list, not the module tree, each step
optimizer = torch.optim.Adam(parameters, lr=LEARNING_RATE, fused=True)  # fused: one kernel for all parameters
schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=LEARNING_RATE, total_steps=N_STEPS, pct_start=0.05)
started = time.perf_counter()
for step in tqdm(range(N_STEPS), desc="training", mininterval=1.0):
    batch = x_train[torch.randint(len(x_train), (BATCH,))]
    loss = nll_loss(flow, batch)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(parameters, max_norm=1.0, foreach=True)  # foreach: a few calls for all 130 tensors
    optimizer.step()
    schedule.step()
    history["step"].append(step)
    history["batch_nll"].append(loss.item())
    if step in EVAL_AT:  # a 10,000-point slice of the test split is enough for the curve
        with torch.no_grad():
            history["eval_step"].append(step)
            history["test_nll"].append(nll_loss(flow, x_test[:10_000]).item())
            history["snapshots"].append(snapshot(flow))
print(f"trained {N_STEPS} steps in {time.perf_counter() - started:.1f} s")
