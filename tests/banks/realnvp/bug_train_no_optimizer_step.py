"""The training loop computes the loss and its gradients but never calls optimizer.step(): the flow stays untrained."""
# expect_lost: test_train
# train: answer
# caught_visibly: test_train

# %% answer: train
history = {"step": [], "batch_nll": [], "eval_step": [], "test_nll": []}
flow = RealNVP(nets, nett, make_masks(6, DIM), prior)
optimizer = torch.optim.Adam(flow.parameters(), lr=1e-3)
for step in range(100):
    batch = x_train[torch.randint(len(x_train), (256,))]
    optimizer.zero_grad()
    loss = nll_loss(flow, batch)
    loss.backward()
    history["step"].append(step)
    history["batch_nll"].append(loss.item())
print(f"final batch NLL {history['batch_nll'][-1]:.3f}")
