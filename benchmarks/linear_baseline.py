"""Reference accuracy of a linear classifier on binned spike counts (SHD-layout data).

Softmax regression (L2-regularised, L-BFGS) on ``log(1 + count)`` features: spikes are
counted per band of ``--band`` adjacent channels and, with ``--time-bins K``, per time bin of
``[0, --t-max)`` (``K = 1``: counts over the whole trial, no timing). Features are standardised
on the training file. This calibrates what the spike counts carry for a linear read-out; it is
not a spiking network. Run from the repository root:

    python benchmarks/linear_baseline.py --data ../shared/data/fsdd_shd

FSDD-SHD is our conversion of the Free Spoken Digit Dataset, not SHD.
"""
import argparse
import numpy as np
from scipy.optimize import minimize

from snnexact.data import SHDDataset
from snnexact.data.splits import find_split_files


def binned_counts(dataset, band, n_time_bins, t_max):
    """``log1p`` counts, shape ``(n_samples, n_bands * n_time_bins)``, and the labels."""
    n_bands = -(-dataset.n_channels // band)
    X = np.zeros((len(dataset), n_bands * n_time_bins))
    y = np.zeros(len(dataset), dtype=np.int64)
    for i, s in enumerate(dataset):
        keep = s.times < t_max
        k = (s.times[keep] * (n_time_bins / t_max)).astype(np.int64)
        np.add.at(X[i], (s.units[keep] // band) * n_time_bins + k, 1.0)
        y[i] = s.label
    return np.log1p(X), y


def fit_softmax(X, y, n_classes, l2):
    """Weights ``(d + 1, n_classes)`` (last row: bias) minimising the mean cross-entropy plus
    ``l2 |W|^2``."""
    n, d = X.shape
    Y = np.eye(n_classes)[y]

    def loss_and_grad(w):
        W = w.reshape(d + 1, n_classes)
        Z = X @ W[:-1] + W[-1]
        Z -= Z.max(axis=1, keepdims=True)
        logp = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
        G = (np.exp(logp) - Y) / n
        value = -(Y * logp).sum() / n + l2 * np.sum(W[:-1] ** 2)
        grad = np.vstack([X.T @ G + 2.0 * l2 * W[:-1], G.sum(axis=0)])
        return value, grad.ravel()

    res = minimize(loss_and_grad, np.zeros((d + 1) * n_classes), jac=True, method="L-BFGS-B",
                   options={"maxiter": 1000})
    return res.x.reshape(d + 1, n_classes)


def accuracy(W, X, y):
    return float(np.mean((X @ W[:-1] + W[-1]).argmax(axis=1) == y))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data/fsdd_shd",
                    help="folder with *train*.h5 and *test*.h5")
    ap.add_argument("--band", type=int, default=10, help="channels per band")
    ap.add_argument("--time-bins", type=int, nargs="+", default=[1, 10],
                    help="numbers of time bins to try")
    ap.add_argument("--t-max", type=float, default=1.0, help="count spikes in [0, t_max)")
    ap.add_argument("--l2", type=float, default=1e-3)
    args = ap.parse_args()
    try:
        train_file, test_file = find_split_files(args.data)
    except (OSError, ValueError) as exc:
        raise SystemExit(f"--data: {exc}") from exc
    train, test = SHDDataset(train_file), SHDDataset(test_file)
    folder = args.data
    n_classes = max(train.n_classes, test.n_classes)
    print(f"{folder}: {len(train)} train, {len(test)} test, {n_classes} classes")
    for k in args.time_bins:
        Xtr, ytr = binned_counts(train, args.band, k, args.t_max)
        Xte, yte = binned_counts(test, args.band, k, args.t_max)
        mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0) + 1e-6
        Xtr, Xte = (Xtr - mu) / sd, (Xte - mu) / sd
        W = fit_softmax(Xtr, ytr, n_classes, args.l2)
        print(f"bands of {args.band} channels x {k} time bins ({Xtr.shape[1]} features): "
              f"train {accuracy(W, Xtr, ytr):.3f}, test {accuracy(W, Xte, yte):.3f}")


if __name__ == "__main__":
    main()
