"""Training stops after 100 steps, far from converged: better than independent Gaussians, short of the target."""
# expect_lost: test_train
# train: answer
# caught_visibly: test_train
# expect_message: test_train: target below

# %% answer: train
history = {"step": [], "batch_bpd": [], "eval_step": [], "test_bpd": []}
flow = ImageFlow(checkerboard_masks(8, HEIGHT, WIDTH), 128)
optimizer = torch.optim.Adam(flow.parameters(), lr=5e-4)
for step in range(100):
    batch = x_train[torch.randint(len(x_train), (128,))]
    loss = bits_per_dim(flow, dequantize(batch))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    history["step"].append(step)
    history["batch_bpd"].append(loss.item())
print(f"final batch bits/dim {history['batch_bpd'][-1]:.3f}")
