"""pytorch-metric-learning reference values for test/pml.test.ts.

Writes JSON (inputs and PML's outputs) to the path given, or to stdout. Needs torch (Debian's
python3-torch) and pytorch_metric_learning importable (pure Python: its src/ on PYTHONPATH):
  PYTHONPATH=/path/to/pytorch-metric-learning/src /usr/bin/python3 test/pml/make_fixture.py \
    test/fixtures/pml.json
"""

import json
import sys

import pytorch_metric_learning
import torch
from pytorch_metric_learning import distances, losses, miners

torch.manual_seed(0)


def mat(t):
    return [[float(v) for v in row] for row in t.tolist()]


def ints(t):
    return [int(v) for v in t.tolist()]


def tuple_of(t):
    return [ints(x) for x in t]


out = {"pml_version": pytorch_metric_learning.__version__, "torch_version": torch.__version__}

# TripletMarginLoss with BatchHardMiner: the acceptance check.
cases = []
for seed, n, d, classes, margin, normalize in [
    (1, 32, 8, 8, 0.05, True),
    (2, 32, 8, 8, 0.2, True),
    (3, 24, 5, 4, 0.2, True),
    (4, 24, 5, 6, 0.5, False),
]:
    g = torch.Generator().manual_seed(seed)
    emb = torch.randn(n, d, generator=g)
    labels = torch.randint(0, classes, (n,), generator=g)
    dist = distances.LpDistance(normalize_embeddings=normalize)
    miner = miners.BatchHardMiner(distance=dist)
    idx = miner(emb, labels)
    loss = losses.TripletMarginLoss(margin=margin, distance=dist)(emb, labels, idx)
    cases.append(
        {
            "embeddings": mat(emb),
            "labels": ints(labels),
            "margin": margin,
            "normalize": normalize,
            "indices": tuple_of(idx),
            "loss": float(loss),
        }
    )
out["tripletBatchHard"] = cases

# VICRegLoss.
g = torch.Generator().manual_seed(5)
z1 = torch.randn(16, 8, generator=g) * 0.7
z2 = z1 + 0.3 * torch.randn(16, 8, generator=g)
out["vicReg"] = {
    "z1": mat(z1),
    "z2": mat(z2),
    "loss": float(losses.VICRegLoss()(z1, ref_emb=z2)),
}

# MultiSimilarityMiner + SupConLoss; TripletMarginMiner + TripletMarginLoss.
g = torch.Generator().manual_seed(6)
emb = torch.randn(20, 6, generator=g)
labels = torch.randint(0, 4, (20,), generator=g)
ms = miners.MultiSimilarityMiner(epsilon=0.1)(emb, labels)
out["multiSimilarity"] = {
    "embeddings": mat(emb),
    "labels": ints(labels),
    "indices": tuple_of(ms),
    "supCon": float(losses.SupConLoss(temperature=0.1)(emb, labels, ms)),
}
tm = {}
for kind in ["all", "hard", "semihard", "easy"]:
    idx = miners.TripletMarginMiner(margin=0.2, type_of_triplets=kind)(emb, labels)
    tm[kind] = {
        "indices": tuple_of(idx),
        "loss": float(losses.TripletMarginLoss(margin=0.2)(emb, labels, idx)),
    }
out["tripletMargin"] = tm

# CrossBatchMemory around TripletMarginLoss and SupConLoss: 5 batches of 4 into a queue of 10.
g = torch.Generator().manual_seed(7)
batches = [torch.randn(4, 6, generator=g) for _ in range(5)]
batch_labels = [torch.randint(0, 3, (4,), generator=g) for _ in range(5)]
xbm = {"batches": [mat(b) for b in batches], "labels": [ints(l) for l in batch_labels]}
for name, loss in [
    ("triplet", losses.TripletMarginLoss(margin=0.2)),
    ("supCon", losses.SupConLoss(temperature=0.1)),
]:
    wrapper = losses.CrossBatchMemory(loss, embedding_size=6, memory_size=10)
    xbm[name] = [float(wrapper(b, l)) for b, l in zip(batches, batch_labels)]
wrapper = losses.CrossBatchMemory(
    losses.TripletMarginLoss(margin=0.2), embedding_size=6, memory_size=10,
    miner=miners.BatchHardMiner(),
)
xbm["tripletBatchHard"] = [float(wrapper(b, l)) for b, l in zip(batches, batch_labels)]
out["crossBatchMemory"] = xbm

text = json.dumps(out)
if len(sys.argv) > 1:
    with open(sys.argv[1], "w") as f:
        f.write(text + "\n")
else:
    print(text)
