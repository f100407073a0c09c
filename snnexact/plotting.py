"""Figures of the comparison: training curves, a spike raster and voltage traces."""
import numpy as np


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend (figures go to files)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def training_curves(histories, path, title=""):
    """``histories``: {model: [history per seed]}; validation accuracy and training loss."""
    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    colors = {"lif": "tab:blue", "qif": "tab:red"}
    for model, runs in histories.items():
        for k, hist in enumerate(runs):
            ep = [h["epoch"] for h in hist]
            kw = dict(color=colors.get(model), alpha=0.8, label=model.upper() if k == 0 else None)
            ax1.plot(ep, [h.get("val_acc", np.nan) for h in hist], **kw)
            ax2.plot(ep, [h.get("train_loss", np.nan) for h in hist], **kw)
    ax1.set(xlabel="epoch", ylabel="validation accuracy", title=title)
    ax2.set(xlabel="epoch", ylabel="training loss", yscale="log")
    ax1.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def sample_figure(panels, T, path):
    """``panels``: {model: (input (t, u), [layer (t, u)...], trace_t, traces, trace_labels)};
    one column per model: input raster, hidden/output rasters, voltage traces."""
    plt = pyplot()
    models = list(panels)
    n_rows = max(2 + len(p[1]) for p in panels.values())
    fig, axes = plt.subplots(n_rows, len(models), figsize=(5 * len(models), 1.8 * n_rows),
                             sharex=True, squeeze=False)
    for c, model in enumerate(models):
        (t_in, u_in), layers, tt, traces, labels = panels[model]
        axes[0, c].plot(t_in, u_in, "|", ms=2, color="0.4")
        axes[0, c].set(title=f"{model.upper()}", ylabel="input")
        for r, (t, u) in enumerate(layers, start=1):
            axes[r, c].plot(t, u, "|", ms=4)
            axes[r, c].set(ylabel=f"layer {r - 1}")
        ax = axes[len(layers) + 1, c]
        for tr, lab in zip(traces, labels):
            ax.plot(tt, np.clip(tr, -3, 3), lw=1, label=lab)
        ax.set(ylabel="V (clipped)", xlabel="time", xlim=(-0.02 * T, T))
        ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def search_curves(curves, path, title=""):
    """``curves``: {model: (trial numbers, best validation accuracy so far)}."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    colors = {"lif": "tab:blue", "qif": "tab:red"}
    for model, (x, y) in curves.items():
        if x:
            ax.step(x, y, where="post", color=colors.get(model), label=model.upper())
    ax.set(xlabel="trial", ylabel="best validation accuracy so far", title=title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
