"""The training cell is left as released: it raises NotImplementedError, so there is no trained flow."""
# expect_lost: test_train
# train: answer
# caught_visibly: test_train
# expect_message: test_train: variable named flow

# %% answer: train
history = {"step": [], "batch_nll": [], "eval_step": [], "test_nll": [], "snapshots": []}
# YOUR CODE HERE
raise NotImplementedError()
