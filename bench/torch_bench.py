"""PyTorch CPU baseline for `pnpm bench`: the same nets, shapes and SimCLR step as bench/run.mjs.

Prints one JSON object on stdout. Run by bench/run.mjs with /usr/bin/python3; usable alone:
  python3 bench/torch_bench.py --net conv --batch 256 --threads 1 --runs 5 --warmup 2
  python3 bench/torch_bench.py --mode infer --net conv --batch 64 --threads 1 --runs 20
(--mode infer: the encoder's forward pass alone, eval mode, under torch.inference_mode()).
"""

import argparse
import json
import platform
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_encoder(in_ch, channels=(32, 64, 128)):
    layers = []
    prev = in_ch
    for i, ch in enumerate(channels):
        if i > 0:
            # 'same' max-pool as in @ebmjs/models (ceil_mode keeps odd sizes: 7 -> 4).
            layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
        layers += [nn.Conv2d(prev, ch, 3, padding=1, bias=False), nn.BatchNorm2d(ch), nn.ReLU()]
        prev = ch
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers), prev


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


def resnet18(in_ch, width=64):
    layers = [nn.Conv2d(in_ch, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
    cin = width
    for stage in range(4):
        cout = width * 2**stage
        for b in range(2):
            layers.append(BasicBlock(cin, cout, 2 if stage > 0 and b == 0 else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers), cin


def nt_xent(z1, z2, tau):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    sim = z @ z.t() / tau
    sim = sim - 1e9 * torch.eye(2 * n)
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--net', choices=['conv', 'resnet18'], required=True)
    p.add_argument('--batch', type=int, required=True)
    p.add_argument('--size', type=int, default=32)
    p.add_argument('--channels', type=int, default=3)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--runs', type=int, default=5)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--proj', type=int, default=128)
    p.add_argument('--mode', choices=['train', 'infer'], default='train')
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    enc, dim = (conv_encoder if a.net == 'conv' else resnet18)(a.channels)
    # @ebmjs/models' projectionHead default: Dense(no bias) -> BN -> ReLU -> Dense.
    head = nn.Sequential(nn.Linear(dim, dim, bias=False), nn.BatchNorm1d(dim), nn.ReLU(), nn.Linear(dim, a.proj))
    model = nn.Sequential(enc, head)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    # NCHW here, NHWC in tfjs: the layout each framework is fastest with on the CPU.
    v1 = torch.rand(a.batch, a.channels, a.size, a.size)
    v2 = torch.rand(a.batch, a.channels, a.size, a.size)

    def infer():
        with torch.inference_mode():
            return enc(v1)[0, 0].item()

    def step():
        opt.zero_grad(set_to_none=True)
        z = model(torch.cat([v1, v2]))
        loss = nt_xent(z[: a.batch], z[a.batch :], 0.5)
        loss.backward()
        opt.step()
        return loss.item()

    if a.mode == 'infer':
        enc.eval()
    timed = infer if a.mode == 'infer' else step  # infer's "losses" are an output value
    losses = []
    for _ in range(a.warmup):
        losses.append(timed())
    times = []
    cpu_times = []
    for _ in range(a.runs):
        t = time.perf_counter()
        c = time.process_time()  # CPU time of all the process's threads: robust to other load
        losses.append(timed())
        times.append(time.perf_counter() - t)
        cpu_times.append(time.process_time() - c)
    print(
        json.dumps(
            {
                'framework': 'pytorch',
                'mode': a.mode,
                'version': torch.__version__,
                'python': platform.python_version(),
                'threads': torch.get_num_threads(),
                'net': a.net,
                'batch': a.batch,
                'stepSeconds': times,
                'stepCpuSeconds': cpu_times,
                'losses': losses,
                'mkldnn': torch.backends.mkldnn.is_available(),
                # Trainable parameters of encoder + head: the same count as ebm.js's step graph.
                'params': sum(p.numel() for p in model.parameters()),
            }
        )
    )


if __name__ == '__main__':
    sys.exit(main())
