"""Figures of landscapes and single-sample spike changes (docs/landscapes.md): loss and
gradient-norm maps side by side on one colour scale, loss curves with the classified events,
spike rasters across a change, and a bar chart of the fragmentation metrics."""
import numpy as np

from snnexact.analysis.fragmentation import fd_mismatch, grid_pairs
from snnexact.interfaces.plotting import pyplot

COLORS = {"appear": "tab:green", "disappear": "tab:red", "move": "tab:orange"}


def _maps(fields, titles, path, label, log, cmap="viridis"):
    """One map per field on a shared colour scale; ``fields``: ``[(a, b, Z)]``."""
    plt = pyplot()
    from matplotlib.colors import LogNorm, Normalize
    Z_all = np.concatenate([z.ravel() for _, _, z in fields])
    Z_all = Z_all[np.isfinite(Z_all)]
    if log:
        pos = Z_all[Z_all > 0]
        norm = LogNorm(pos.min(), pos.max()) if pos.size else Normalize()
    else:
        norm = Normalize(Z_all.min(), Z_all.max()) if Z_all.size else Normalize()
    fig, axes = plt.subplots(1, len(fields), figsize=(3.6 * len(fields) + 0.8, 3.3),
                             squeeze=False, constrained_layout=True)
    for ax, (a, b, Z), title in zip(axes[0], fields, titles):
        im = ax.pcolormesh(a, b, np.where(Z > 0, Z, np.nan) if log else Z, norm=norm,
                           cmap=cmap, shading="nearest")
        ax.plot([0], [0], "w+", ms=8)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("a (direction 1)", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0, 0].set_ylabel("b (direction 2)", fontsize=8)
    fig.colorbar(im, ax=axes[0].tolist(), label=label, shrink=0.9)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def loss_maps(landscapes, path, log=False):
    """2-D loss maps, one per ``{name: Landscape}``, on one (optionally log) colour scale."""
    _maps([(L.a, L.b, L.loss) for L in landscapes.values()], list(landscapes), path,
          "mean loss" + (" (log scale)" if log else ""), log)


def gradient_maps(landscapes, path):
    """Maps of the exact gradient norm ``|g|`` (log colour scale)."""
    _maps([(L.a, L.b, L.grad_norm) for L in landscapes.values()], list(landscapes), path,
          "|exact gradient| (log scale)", True, cmap="magma")


def mismatch_maps(landscapes, path):
    """Maps of the relative mismatch between the finite difference along ``a`` and the exact
    directional derivative (``fragmentation.fd_mismatch``), at the midpoints of the pairs:
    near 0 where the loss is smooth, near 1 across a jump."""
    fields = []
    for L in landscapes.values():
        pairs = grid_pairs(L.loss.shape, L.steps)
        m = fd_mismatch(L.loss, pairs, (L.dd_a, L.dd_b))[pairs.axis == 0]
        fields.append((0.5 * (L.a[1:] + L.a[:-1]), L.b, m.reshape(L.b.size, L.a.size - 1)))
    _maps(fields, list(landscapes), path, "FD vs exact derivative along a (relative mismatch)",
          False, cmap="cividis")


def line_events(analyses, path):
    """Loss along the line per ``{name: SampleLineAnalysis}``, with the isolated changes marked:
    mid-trial appear / disappear / move (colours), changes at ``T`` (grey ticks), loss jumps
    (dotted lines)."""
    plt = pyplot()
    fig, axes = plt.subplots(len(analyses), 1, figsize=(7, 2.3 * len(analyses)), squeeze=False,
                             constrained_layout=True)
    for ax, (name, an) in zip(axes[:, 0], analyses.items()):
        ax.plot(an.alphas, an.losses, "k-", lw=0.8)
        lo, hi = np.min(an.losses), np.max(an.losses)
        for cp in an.change_points:
            for e in cp.changes.events:
                y = lo - 0.05 * (hi - lo) if e.at_T else hi + 0.05 * (hi - lo)
                ax.plot(cp.alpha, y, "|" if e.at_T else "v", color="0.5" if e.at_T else
                        COLORS[e.kind], ms=5)
        for j in an.jumps:
            ax.axvline(j.refinement.position, color="tab:purple", ls=":", lw=0.8)
        s = an.summary()
        ax.set_title(f"{name}: {s['mid_appear'] + s['mid_disappear']} mid-trial (dis)appearances,"
                     f" {s['T_appear'] + s['T_disappear']} at T, {s['jumps']} loss jumps "
                     f"({s['jumps_unattributed']} unattributed)", fontsize=8)
        ax.set_ylabel("loss", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[-1, 0].set_xlabel("a (params + a d)", fontsize=8)
    handles = [plt.Line2D([], [], color=c, marker="v", ls="", label=f"mid-trial {k}")
               for k, c in COLORS.items()]
    handles += [plt.Line2D([], [], color="0.5", marker="|", ls="", label="at T"),
                plt.Line2D([], [], color="tab:purple", ls=":", label="loss jump")]
    fig.legend(handles=handles, fontsize=6, ncol=5, loc="outside lower center", frameon=False)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def change_raster(change_point, T, path, title=""):
    """Spike rasters of every spiking layer just before (left, grey) and just after (right,
    black) one isolated change; the classified events are circled."""
    plt = pyplot()
    left, right = change_point.left.trains, change_point.right.trains
    fig, axes = plt.subplots(len(left), 1, figsize=(6.5, 1.6 * len(left) + 0.4), sharex=True,
                             squeeze=False, constrained_layout=True)
    for l, ax in enumerate(axes[:, 0]):
        ax.plot(left[l][0], left[l][1] - 0.15, "|", color="0.6", ms=5, label="before")
        ax.plot(right[l][0], right[l][1] + 0.15, "|", color="k", ms=5, label="after")
        for e in change_point.changes.events:
            if e.layer == l:
                ax.plot(e.time, e.neuron, "o", mfc="none", color=COLORS[e.kind], ms=9)
        ax.set_ylabel(f"layer {l}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.axvline(T, color="0.8", lw=0.8)
    axes[0, 0].legend(fontsize=6, loc="upper left", frameon=False)
    axes[0, 0].set_title(title or f"a = {change_point.alpha:.12g} "
                         f"(bracket {change_point.right.alpha - change_point.left.alpha:.1e})",
                         fontsize=8)
    axes[-1, 0].set_xlabel("time", fontsize=8)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def metric_bars(metrics, keys, path):
    """Grouped bars of ``keys`` for ``{name: {key: value}}``."""
    plt = pyplot()
    names = list(metrics)
    x = np.arange(len(keys))
    w = 0.8 / max(len(names), 1)
    fig, ax = plt.subplots(figsize=(1.3 * len(keys) + 2, 3.2), constrained_layout=True)
    for k, name in enumerate(names):
        vals = [float(metrics[name].get(key, np.nan)) for key in keys]
        ax.bar(x + (k - (len(names) - 1) / 2) * w, vals, w, label=name)
    ax.set_xticks(x, [key.replace("_", "\n") for key in keys], fontsize=7)
    ax.legend(fontsize=7, frameon=False)
    fig.savefig(path, dpi=90)
    plt.close(fig)
