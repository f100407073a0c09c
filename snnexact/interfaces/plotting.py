"""Figures of the comparison: training curves, a spike raster and voltage traces, each readable
without the code (titles, units, chance level, the sample's label and the prediction)."""
import numpy as np

V_PLOT_LIMIT = 3.0  # voltage axis range +-; QIF spikes (V -> +inf) and resets (-inf) are cut here


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend (figures go to files)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _integer_axis(ax, n):
    """Unit indices ``0..n-1`` on the y axis: integer ticks only, the full range shown."""
    from matplotlib.ticker import MaxNLocator
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=min(n, 6)))
    ax.set_ylim(-0.5, n - 0.5)


def training_curves(histories, path, title="", chance=None):
    """``histories``: {model: [history per seed]}; validation accuracy (with the chance level
    if given) and training loss per epoch."""
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    colors = {"lif": "tab:blue", "qif": "tab:red"}
    for model, runs in histories.items():
        for k, hist in enumerate(runs):
            ep = [h["epoch"] for h in hist]
            kw = dict(color=colors.get(model), alpha=0.8, marker="o", ms=3,
                      label=model.upper() if k == 0 else None)
            ax1.plot(ep, [h.get("val_acc", np.nan) for h in hist], **kw)
            ax2.plot(ep, [h.get("train_loss", np.nan) for h in hist], **kw)
    if chance is not None:
        ax1.axhline(chance, color="0.5", ls="--", lw=1, label=f"chance ({chance:.0%})")
    ax1.set(xlabel="epoch", ylabel="validation accuracy", ylim=(0, 1.02),
            title="validation accuracy after each epoch")
    losses = [h.get("train_loss", np.nan) for runs in histories.values() for hist in runs
              for h in hist]
    losses = np.array([v for v in losses if np.isfinite(v) and v > 0])
    wide = losses.size and losses.max() > 20 * losses.min()   # log scale only if it helps
    ax2.set(xlabel="epoch", ylabel="training loss (mean over the epoch)",
            yscale="log" if wide else "linear", title="training loss")
    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    ax1.legend(loc="lower right", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def protocol_evidence(histories, path, title=""):
    """``histories``: {variant: [history per seed]} of the protocol's runs. Three panels per
    epoch: validation accuracy, the mean gradient norm of every weight array (log scale; the
    evidence for where learning signal arrives) and the fraction of silent hidden neurons."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    colors = {"lif": "tab:blue", "qif": "tab:red"}
    styles = ["-", "--", ":", "-.", (0, (1, 3)), (0, (5, 1))]
    for v, (variant, runs) in enumerate(histories.items()):
        color = colors.get(variant, f"C{v + 2}")
        for k, hist in enumerate(runs):
            ep = [h["epoch"] for h in hist]
            lab = variant if k == 0 else None
            axes[0].plot(ep, [h.get("val_acc", np.nan) for h in hist], color=color, alpha=0.7,
                         label=lab)
            axes[2].plot(ep, [h.get("val_silent_hidden_fraction", np.nan) for h in hist],
                         color=color, alpha=0.7, label=lab)
            if k == 0:  # one seed's gradient norms, one line style per weight array
                names = sorted(key[len("grad_norm_"):] for key in hist[0]
                               if key.startswith("grad_norm_W") or key.startswith("grad_norm_R"))
                for j, name in enumerate(names):
                    axes[1].plot(ep, [h.get("grad_norm_" + name, np.nan) for h in hist],
                                 color=color, ls=styles[j % len(styles)],
                                 label=f"{variant} {name}")
    axes[0].set(xlabel="epoch", ylabel="validation accuracy", title="validation accuracy")
    axes[1].set(xlabel="epoch", ylabel="mean |dL/dW| per batch", yscale="log",
                title="gradient norm per weight array (first seed)")
    axes[2].set(xlabel="epoch", ylabel="fraction", ylim=(-0.02, 1.02),
                title="silent hidden neurons (validation)")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def sample_figure(panels, T, path, sizes=None, title=""):
    """One column per model for one test sample: input raster, a raster per simulated layer and
    membrane traces of the first output neurons.

    ``panels``: {model: dict(inputs=(t, u), layers=[(t, u, name, n_units)...], trace_t,
    traces, trace_labels, subtitle)}; ``subtitle`` says the label and the prediction.
    """
    plt = pyplot()
    models = list(panels)
    n_rows = max(2 + len(p["layers"]) for p in panels.values())
    fig, axes = plt.subplots(n_rows, len(models), figsize=(5.5 * len(models), 1.9 * n_rows + 0.6),
                             sharex=True, squeeze=False)
    for c, model in enumerate(models):
        p = panels[model]
        t_in, u_in = p["inputs"]
        ax = axes[0, c]
        ax.plot(t_in, u_in, "|", ms=6, color="0.3")
        ax.set(title=f"{model.upper()}: {p['subtitle']}", ylabel="input unit")
        _integer_axis(ax, p["n_inputs"])
        for r, (t, u, name, n_units) in enumerate(p["layers"], start=1):
            ax = axes[r, c]
            ax.plot(t, u, "|", ms=6, color="tab:red" if model == "qif" else "tab:blue")
            ax.set(ylabel=f"{name}\nunit")
            _integer_axis(ax, n_units)
            if len(t) == 0:
                ax.text(0.5, 0.5, "no spikes in [0, T]", transform=ax.transAxes, ha="center",
                        va="center", color="0.4")
        ax = axes[len(p["layers"]) + 1, c]
        for tr, lab in zip(p["traces"], p["trace_labels"]):
            ax.plot(p["trace_t"], np.clip(tr, -V_PLOT_LIMIT, V_PLOT_LIMIT), lw=1, label=lab)
        ax.set(ylabel="membrane V", xlabel="time (units of tau_m)", xlim=(0, T),
               ylim=(-V_PLOT_LIMIT * 1.05, V_PLOT_LIMIT * 1.05))
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        for r in range(len(p["layers"]) + 2, n_rows):
            axes[r, c].set_visible(False)
    note = (f"V is shown within +-{V_PLOT_LIMIT:g}: a QIF spike is V -> +inf followed by a reset "
            f"to -inf, drawn as a vertical stroke; an LIF spike is V reaching threshold 1 and "
            f"resetting to 0.")
    fig.text(0.5, 0.005, note, ha="center", va="bottom", fontsize=7, color="0.3", wrap=True)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
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
