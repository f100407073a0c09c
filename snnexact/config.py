"""Training settings: one frozen dataclass, loadable from TOML, written beside every run."""
from dataclasses import asdict, dataclass, field, fields, replace
import json
import tomllib

from snnexact._checks import check_fields
from snnexact.gradients import READOUTS
from snnexact.optim import OPTIMISERS, SCHEDULES

BACKENDS = ("loky", "threads", "dask")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (neuron parameters live in ``model``/``tau_m``/
    ``theta``; the rest is data, loss, optimisation and execution)."""

    # network
    model: str = "qif"
    hidden: tuple = (60,)
    recurrent: bool = False
    tau_m: float = 1.0
    theta: float = 1.0
    T: float = 4.0
    # readout and loss
    readout: str = "first_spike"
    tau_r: float = None
    gamma: float = 1e-2
    alpha: float = 10.0
    pseudo: bool = True
    window: float = 0.0   # readout window T_p after T (voltage readouts; QIF adds pseudospikes)
    silence_reg: float = 0.0  # silence regulariser (QIF; gradients.LossConfig)
    rate_reg: float = 0.0     # firing-rate regulariser on hidden soft counts, band below
    rate_lower: float = 0.0
    rate_upper: float = float("inf")
    # initialisation, in units of the kick that fires a neuron from rest (LIF 4 theta, QIF
    # pi^2/4), so that one setting means the same for both models; None: init_params defaults
    w_mean: float = 0.5
    w_std: float = None
    r_std: float = None
    out_std: float = None
    train_v0: bool = False  # trainable initial voltages (Params.V0), projected into v0_range
    # optimisation
    optimiser: str = "adabelief"
    lr: float = 5e-3
    lr_schedule: str = "cosine"
    lr_step_every: int = None
    epochs: int = 20
    batch_size: int = 32
    clip_norm: float = None
    # data
    dataset: str = "yinyang"
    data_path: str = None
    t_early: float = 0.0
    t_late: float = 2.0
    bias_time: float = 0.0
    pool: int = 1
    time_scale: float = 1.0
    # per-sample time normalisation onto [0, time_norm_span * T) (data.transforms.TimeNormalise)
    time_norm: bool = False
    time_norm_span: float = 1.0
    time_norm_quantile: float = 0.05
    time_norm_margin: float = 0.0
    # binned virtual input events: n_bins equal bins over [0, T) (data.transforms.Bin)
    n_bins: int = None
    max_input_spikes: int = None
    channel_shift: int = 0
    time_jitter: float = 0.0
    validation_fraction: float = 0.1
    max_samples: int = None
    # execution
    seed: int = 0
    n_jobs: int = 1
    backend: str = "loky"
    scheduler: str = None
    chunk_size: int = 16
    max_spikes: int = None
    checkpoint_every: int = 0
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        checks = [
            ("model", self.model in ("lif", "qif"), "'lif' or 'qif'"),
            ("readout", self.readout in READOUTS, f"one of {READOUTS}"),
            ("optimiser", self.optimiser in OPTIMISERS, f"one of {OPTIMISERS}"),
            ("lr_schedule", self.lr_schedule in SCHEDULES, f"one of {SCHEDULES}"),
            ("backend", self.backend in BACKENDS, f"one of {BACKENDS}"),
            ("tau_m", self.tau_m > 0, "> 0"), ("T", self.T > 0, "> 0"),
            ("lr", self.lr > 0, "> 0"), ("epochs", self.epochs >= 0, ">= 0"),
            ("batch_size", self.batch_size >= 1, ">= 1"), ("chunk_size", self.chunk_size >= 1, ">= 1"),
            ("n_jobs", self.n_jobs >= 1, ">= 1"), ("pool", self.pool >= 1, ">= 1"),
            ("validation_fraction", 0 <= self.validation_fraction < 1, "in [0, 1)"),
            ("time_norm_span", 0 < self.time_norm_span <= 1, "in (0, 1]"),
            ("time_norm_quantile", 0 <= self.time_norm_quantile < 0.5, "in [0, 0.5)"),
            ("time_norm_margin", self.time_norm_margin >= 0, ">= 0"),
            ("n_bins", self.n_bins is None or self.n_bins >= 1, ">= 1 or unset"),
            ("window", 0 <= self.window < float("inf"), "finite and >= 0"),
        ]
        check_fields("config", self, checks)
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        if self.backend == "dask" and not self.scheduler:
            raise ValueError("config: backend 'dask' needs scheduler (e.g. tcp://127.0.0.1:8786)")

    def to_json(self):
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    def to_toml(self):
        lines = []
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None or f.name == "extra":
                continue
            lines.append(f"{f.name} = {_toml_value(v)}")
        return "\n".join(lines) + "\n"


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, str):
        return json.dumps(v)
    return repr(v)


def load_config(path=None, **overrides):
    """``TrainConfig`` from a TOML file (unknown keys are an error) with ``overrides`` on top
    (``None`` overrides are ignored)."""
    values = {}
    if path is not None:
        with open(path, "rb") as fh:
            values = tomllib.load(fh)
    known = {f.name for f in fields(TrainConfig)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"config file {path}: unknown keys {sorted(unknown)}")
    values.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig(**values)


def config_from_json(text):
    return TrainConfig(**json.loads(text))


def with_changes(cfg, **changes):
    return replace(cfg, **changes)
