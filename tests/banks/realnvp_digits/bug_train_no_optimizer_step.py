"""The training loop computes the loss and its gradients but never calls optimizer.step(): the flow stays the prior."""
# expect_lost: test_train
# train: answer
# caught_visibly: test_train
# expect_message: test_train: did not train

# %% answer: train
history = {"step": [], "batch_bpd": [], "eval_step": [], "test_bpd": []}
flow = ImageFlow(checkerboard_masks(8, HEIGHT, WIDTH), 128)
optimizer = torch.optim.Adam(flow.parameters(), lr=5e-4)
for step in range(100):
    batch = x_train[torch.randint(len(x_train), (128,))]
    optimizer.zero_grad()
    loss = bits_per_dim(flow, dequantize(batch))
    loss.backward()
    history["step"].append(step)
    history["batch_bpd"].append(loss.item())
print(f"final batch bits/dim {history['batch_bpd'][-1]:.3f}")
