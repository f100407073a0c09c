"""Reference accuracy of a non-spiking GRU on binned spike counts (FSDD-SHD).

This calibrates expectations for the spiking networks: it trains a conventional
(non-spiking) 1-layer GRU, and a 1-hidden-layer MLP, on spike counts binned into
time bins x channel bands, and reports test accuracy.

Needs torch, which is NOT a dependency of the project (install it separately,
e.g. the CPU wheel). Run from the repository root:

    python benchmarks/ann_baseline.py --data ../shared/data/fsdd_shd

Data: FSDD-SHD (our conversion), not the Spiking Heidelberg Digits; see the
README.md next to the .h5 files. Never report these numbers as SHD numbers.

Features: spikes in [0, t_max) are counted in bins of --bin-ms and pooled over
--band adjacent channels (700 channels -> 700 / band bands); later spikes are
cut. Counts are transformed with log1p.
Training: Adam, batch 32; 10 % of the training set (seeded split) is held out
for validation; the test set is touched only for the final report.
"""

import argparse
import os
import time

import h5py
import numpy as np

try:
    import torch
    import torch.nn as nn
except ImportError as exc:  # torch is deliberately not a project dependency
    raise SystemExit("benchmarks/ann_baseline.py needs torch, which snnexact does not depend on; "
                     "install the CPU wheel: pip install torch --index-url "
                     "https://download.pytorch.org/whl/cpu") from exc

N_UNITS = 700
N_CLASSES = 10


def load_binned(path, bin_ms, t_max, band):
    """Return (X [N, T, C] float32 log1p counts, y [N] int64)."""
    n_bins = int(round(t_max * 1000.0 / bin_ms))
    n_bands = N_UNITS // band
    with h5py.File(path, "r") as f:
        times = f["spikes/times"][:]
        units = f["spikes/units"][:]
        y = f["labels"][:].astype(np.int64)
    X = np.zeros((len(y), n_bins, n_bands), dtype=np.float32)
    for i, (t, u) in enumerate(zip(times, units)):
        t = t.astype(np.float32)
        b = np.floor(t * (1000.0 / bin_ms)).astype(np.int64)
        c = u.astype(np.int64) // band
        keep = (b >= 0) & (b < n_bins) & (c < n_bands)
        np.add.at(X[i], (b[keep], c[keep]), 1.0)
    return np.log1p(X), y


class GRUNet(nn.Module):
    def __init__(self, n_in, hidden, readout):
        super().__init__()
        self.gru = nn.GRU(n_in, hidden, batch_first=True)
        self.out = nn.Linear(hidden, N_CLASSES)
        self.readout = readout

    def forward(self, x):
        h, _ = self.gru(x)
        z = h.mean(dim=1) if self.readout == "mean" else h[:, -1]
        return self.out(z)


class MLP(nn.Module):
    def __init__(self, n_in, hidden, dropout):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(n_in, hidden),
            nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, N_CLASSES))

    def forward(self, x):
        return self.net(x)


@torch.no_grad()
def accuracy(model, X, y, bs=256):
    model.eval()
    correct = 0
    for i in range(0, len(y), bs):
        correct += (model(X[i:i + bs]).argmax(1) == y[i:i + bs]).sum().item()
    return correct / len(y)


def train(model, data, epochs, lr, wd, bs, seed):
    Xtr, ytr, Xva, yva, Xte, yte = data
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=wd)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    lossf = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(seed)
    best_va, best_state = -1.0, None
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(ytr), generator=g)
        tot = 0.0
        for i in range(0, len(ytr), bs):
            idx = perm[i:i + bs]
            opt.zero_grad()
            loss = lossf(model(Xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            tot += loss.item() * len(idx)
        sched.step()
        va = accuracy(model, Xva, yva)
        if va > best_va:
            best_va = va
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        if (ep + 1) % 5 == 0 or ep == 0:
            print(f"    ep {ep + 1:3d} loss {tot / len(ytr):.4f} val {va:.3f}",
                  flush=True)
    final_va, final_te = accuracy(model, Xva, yva), accuracy(model, Xte, yte)
    model.load_state_dict(best_state)
    best_te = accuracy(model, Xte, yte)
    return final_va, final_te, best_va, best_te


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="../shared/data/fsdd_shd")
    ap.add_argument("--bin-ms", type=float, default=10.0)
    ap.add_argument("--t-max", type=float, default=1.0)
    ap.add_argument("--band", type=int, default=10)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--readout", choices=["mean", "last"], default="mean")
    ap.add_argument("--epochs", type=int, default=35)
    ap.add_argument("--mlp-epochs", type=int, default=40)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--wd", type=float, default=1e-4)
    ap.add_argument("--mlp-dropout", type=float, default=0.3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--models", nargs="+", choices=["gru", "mlp"],
                    default=["gru", "mlp"])
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.time()

    Xtr_all, ytr_all = load_binned(os.path.join(args.data, "fsdd_shd_train.h5"),
                                   args.bin_ms, args.t_max, args.band)
    Xte, yte = load_binned(os.path.join(args.data, "fsdd_shd_test.h5"),
                           args.bin_ms, args.t_max, args.band)
    n_bins, n_bands = Xtr_all.shape[1:]
    print(f"features: {n_bins} bins of {args.bin_ms:g} ms x {n_bands} bands; "
          f"train {len(ytr_all)}, test {len(yte)}; load {time.time() - t0:.1f} s",
          flush=True)
    Xte_t, yte_t = torch.from_numpy(Xte), torch.from_numpy(yte)

    results = {m: [] for m in args.models}
    for seed in args.seeds:
        rng = np.random.default_rng(seed)
        perm = rng.permutation(len(ytr_all))
        n_va = len(ytr_all) // 10
        va_idx, tr_idx = perm[:n_va], perm[n_va:]
        data = (torch.from_numpy(Xtr_all[tr_idx]), torch.from_numpy(ytr_all[tr_idx]),
                torch.from_numpy(Xtr_all[va_idx]), torch.from_numpy(ytr_all[va_idx]),
                Xte_t, yte_t)
        for m in args.models:
            torch.manual_seed(seed)
            if m == "gru":
                model, ep = GRUNet(n_bands, args.hidden, args.readout), args.epochs
            else:
                model = MLP(n_bins * n_bands, args.hidden, args.mlp_dropout)
                ep = args.mlp_epochs
            ts = time.time()
            print(f"[{m} seed {seed}]", flush=True)
            r = train(model, data, ep, args.lr, args.wd, args.batch, seed)
            results[m].append(r)
            print(f"  {m} seed {seed}: final val {r[0]:.3f} test {r[1]:.3f} | "
                  f"best-val epoch: val {r[2]:.3f} test {r[3]:.3f} | "
                  f"{time.time() - ts:.0f} s", flush=True)

    print("\nsummary (test accuracy, FSDD-SHD (our conversion), official split)")
    for m, rs in results.items():
        fin = np.array([r[1] for r in rs])
        bst = np.array([r[3] for r in rs])
        print(f"  {m}: final-epoch {fin.mean():.4f} +- {fin.std():.4f} "
              f"{np.round(fin, 4).tolist()} | best-val-epoch {bst.mean():.4f} "
              f"{np.round(bst, 4).tolist()}")
    print(f"total wall time {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
