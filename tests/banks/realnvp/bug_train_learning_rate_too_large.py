"""Adam with learning rate 0.2 and no gradient clipping: the training diverges (the held-out NLL reaches 1e16 to 1e26 over seeds)."""
# expect_lost: test_train
# train: answer
# caught_visibly: test_train
# expect_message: test_train: diverged

# %% answer: train
history = {"step": [], "batch_nll": [], "eval_step": [], "test_nll": []}
flow = RealNVP(nets, nett, make_masks(8, DIM), prior)
optimizer = torch.optim.Adam(flow.parameters(), lr=0.2)
for step in range(600):
    batch = x_train[torch.randint(len(x_train), (256,))]
    loss = nll_loss(flow, batch)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    history["step"].append(step)
    history["batch_nll"].append(loss.item())
