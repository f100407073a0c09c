"""Training settings: one frozen dataclass, loadable from TOML, written beside every run.

Every setting is checked in one place, ``SETTINGS`` (one row per field: its kind and range),
whether it comes from a flag, a TOML file or Python; errors name the setting (and the TOML file
and line). A new field of ``TrainConfig`` is one new row (a test refuses a field without one).
"""
from dataclasses import asdict, dataclass, field, fields, replace
import json
import math
import numbers
from pathlib import Path
import re
import tomllib

from snnexact.checks import check_fields
from snnexact.engine.gradients import READOUTS
from snnexact.engine.neurons import MODELS
from snnexact.training.optim import OPTIMISERS, SCHEDULES

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
    tau_s: float = None   # LIF synaptic time constant (None: tau_m / 2, the closed form)
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
    rate_upper: float = None  # None: no upper bound
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
    # "threads" is faster on a few cores (nothing pickled or sent; the kernels release the GIL),
    # "loky" processes scale further (docs/performance.md, issue 13 session 6)
    backend: str = "loky"
    scheduler: str = None
    chunk_size: int = 16
    max_spikes: int = None
    checkpoint_every: int = 0
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if isinstance(self.rate_upper, float) and self.rate_upper == float("inf"):
            object.__setattr__(self, "rate_upper", None)  # "no upper bound", as in older configs
        validate(self)

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
    (``None`` overrides are ignored). Errors name the setting, and the file and line for a
    value that comes from the file."""
    values = {}
    text = ""
    if path is not None:
        try:
            text = Path(path).read_bytes().decode("utf-8")
            values = tomllib.loads(text)
        except FileNotFoundError:
            raise FileNotFoundError(f"config file {path} does not exist") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"config file {path}: not valid TOML: {exc}") from None
    known = {f.name for f in fields(TrainConfig)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"config file {path}: unknown keys {sorted(unknown)}")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    values.update(overrides)
    try:
        return TrainConfig(**values)
    except (ValueError, TypeError) as exc:
        name = getattr(exc, "setting", None)
        if path is None or name is None or name in overrides:
            raise
        line = _toml_line(text, name)
        raise prefixed(exc, f"config file {path}" + (f", line {line}" if line else "")) from None


def _toml_line(text, key):
    """1-based line of ``key = ...`` in TOML ``text`` (None if not found)."""
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for i, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return i
    return None


# ----------------------------------------------------------------------------- the settings table

class SettingError(ValueError):
    """A setting with a value out of range; ``setting`` names it."""

    def __init__(self, setting, message):
        super().__init__(message)
        self.setting = setting


class SettingTypeError(TypeError):
    """A setting with a value of the wrong type; ``setting`` names it."""

    def __init__(self, setting, message):
        super().__init__(message)
        self.setting = setting


def prefixed(exc, where):
    """The setting error ``exc`` with ``where`` (a file and line, or a flag) put in front."""
    return type(exc)(exc.setting, f"{where}: {exc}")


@dataclass(frozen=True)
class Rule:
    """How one setting is checked: ``kind`` ("int", "real", "bool", "str", "choice", "ints",
    "dict"), bounds ``lo``/``hi`` (inclusive unless ``lo_open``/``hi_open``), ``choices``,
    ``optional`` (``None`` allowed) and a ``note`` added to the error (what the value means)."""

    kind: str
    lo: float = None
    hi: float = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple = ()
    optional: bool = False
    note: str = ""

    def describe(self):
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "str":
            return "a string"
        if self.kind == "dict":
            return "a table"
        what = {"int": "an integer", "real": "a finite number",
                "ints": "a list of integers"}[self.kind]
        bounds = []
        if self.lo is not None:
            bounds.append(("> " if self.lo_open else ">= ") + _fmt(self.lo))
        if self.hi is not None:
            bounds.append(("< " if self.hi_open else "<= ") + _fmt(self.hi))
        if bounds:
            what += (" (each " if self.kind == "ints" else " ") + " and ".join(bounds) + \
                (")" if self.kind == "ints" else "")
        return what


def _fmt(x):
    return str(int(x)) if float(x).is_integer() else repr(x)


def _int(lo=None, hi=None, optional=False, note=""):
    return Rule("int", lo, hi, optional=optional, note=note)


def _real(lo=None, hi=None, lo_open=False, hi_open=False, optional=False, note=""):
    return Rule("real", lo, hi, lo_open, hi_open, optional=optional, note=note)


def _choice(*choices, optional=False):
    return Rule("choice", choices=tuple(choices), optional=optional)


_POS = dict(lo=0.0, lo_open=True)
DATASETS = ("yinyang", "shd")

# One row per TrainConfig field (a test checks that none is missing).
SETTINGS = {
    "model": _choice(*MODELS),
    "hidden": Rule("ints", lo=1, note="hidden layer sizes, e.g. [60]"),
    "recurrent": Rule("bool"),
    "tau_m": _real(**_POS),
    "theta": _real(**_POS),
    "tau_s": _real(**_POS, optional=True, note="LIF only; default tau_m / 2"),
    "T": _real(**_POS, note="trial length"),
    "readout": _choice(*READOUTS),
    "tau_r": _real(**_POS, optional=True),
    "gamma": _real(lo=0.0),
    "alpha": _real(**_POS),
    "pseudo": Rule("bool"),
    "w_mean": _real(optional=True),
    "w_std": _real(lo=0.0, optional=True),
    "r_std": _real(lo=0.0, optional=True),
    "out_std": _real(lo=0.0, optional=True),
    "optimiser": _choice(*OPTIMISERS),
    "lr": _real(**_POS),
    "lr_schedule": _choice(*SCHEDULES),
    "lr_step_every": _int(lo=1, optional=True),
    "epochs": _int(lo=0),
    "batch_size": _int(lo=1),
    "clip_norm": _real(**_POS, optional=True, note="the largest global gradient norm; "
                                                   "leave unset for no clipping"),
    "dataset": _choice(*DATASETS),
    "data_path": Rule("str", optional=True),
    "t_early": _real(lo=0.0),
    "t_late": _real(**_POS),
    "bias_time": _real(lo=0.0),
    "pool": _int(lo=1, note="input channels pooled into one (must leave at least 2 channels)"),
    "time_scale": _real(**_POS),
    "max_input_spikes": _int(lo=1, optional=True),
    "channel_shift": _int(lo=0),
    "time_jitter": _real(lo=0.0),
    "validation_fraction": _real(lo=0.0, hi=1.0, hi_open=True),
    "max_samples": _int(lo=1, optional=True, note="leave unset to use every sample"),
    "seed": _int(lo=0, hi=2 ** 63 - 1),
    "n_jobs": _int(lo=1),
    "backend": _choice(*BACKENDS),
    "scheduler": Rule("str", optional=True),
    "chunk_size": _int(lo=1),
    "max_spikes": _int(lo=1, optional=True, note="spike budget per layer"),
    "checkpoint_every": _int(lo=0, note="0: checkpoint only at the end of each epoch"),
    "train_v0": Rule("bool"),
    "time_norm": Rule("bool"),
    "time_norm_span": _real(lo=0.0, hi=1.0, lo_open=True, note="fraction of T"),
    "time_norm_quantile": _real(lo=0.0, hi=0.5, hi_open=True),
    "time_norm_margin": _real(lo=0.0, note="fraction of the quantile window, on each side"),
    "n_bins": _int(lo=1, optional=True, note="leave unset for raw input spikes"),
    "window": _real(lo=0.0, note="readout window after T, in time units"),
    "silence_reg": _real(lo=0.0),
    "rate_reg": _real(lo=0.0),
    "rate_lower": _real(lo=0.0, note="soft spike count"),
    "rate_upper": _real(lo=0.0, optional=True, note="soft spike count; unset: no upper bound"),
    "extra": Rule("dict"),
}


def check_setting(name, value, rule=None):
    """``value`` converted to the setting's type (``int`` for a whole-number real only where an
    integer is expected is refused: ``epochs = 1.5`` and ``epochs = 2.0`` both are); raises
    ``SettingTypeError``/``SettingError`` naming ``name``."""
    rule = SETTINGS[name] if rule is None else rule
    got = f"got {value!r} ({type(value).__name__})"
    note = f" ({rule.note})" if rule.note else ""
    if value is None:
        if rule.optional:
            return None
        raise SettingTypeError(name, f"{name} must be {rule.describe()}{note}, {got}")
    kind = rule.kind
    if kind == "bool":
        if not isinstance(value, bool):
            raise SettingTypeError(name, f"{name} must be {rule.describe()}, {got}")
        return value
    if kind in ("str", "choice"):
        if not isinstance(value, str) or (kind == "choice" and value not in rule.choices):
            exc = SettingTypeError if not isinstance(value, str) else SettingError
            raise exc(name, f"{name} must be {rule.describe()}, {got}")
        return value
    if kind == "dict":
        if not isinstance(value, dict):
            raise SettingTypeError(name, f"{name} must be {rule.describe()}, {got}")
        return value
    if kind == "ints":
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            value = [value]              # hidden = 60 means one layer of 60
        if not isinstance(value, (list, tuple)):
            raise SettingTypeError(name, f"{name} must be {rule.describe()}{note}, {got}")
        item = Rule("int", rule.lo, rule.hi)
        out = []
        for i, v in enumerate(value):
            try:
                out.append(check_setting(f"{name}[{i}]", v, item))
            except (SettingError, SettingTypeError) as exc:
                raise type(exc)(name, f"{name} must be {rule.describe()}{note}, {got}") from None
        return tuple(out)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise SettingTypeError(name, f"{name} must be {rule.describe()}{note}, {got}")
        value = int(value)
    else:  # real
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise SettingTypeError(name, f"{name} must be {rule.describe()}{note}, {got}")
        value = float(value)
        if not math.isfinite(value):
            raise SettingError(name, f"{name} must be {rule.describe()}{note}, {got}")
    lo_bad = rule.lo is not None and (value <= rule.lo if rule.lo_open else value < rule.lo)
    hi_bad = rule.hi is not None and (value >= rule.hi if rule.hi_open else value > rule.hi)
    if lo_bad or hi_bad:
        raise SettingError(name, f"{name} must be {rule.describe()}{note}, {got}")
    return value


def validate(cfg):
    """Check and normalise every field of ``cfg`` in place (``TrainConfig.__post_init__``)."""
    for f in fields(cfg):
        if f.name not in SETTINGS:
            raise RuntimeError(f"TrainConfig.{f.name} has no row in snnexact.training.config.SETTINGS")
        object.__setattr__(cfg, f.name, check_setting(f.name, getattr(cfg, f.name)))
    # relations between settings
    if cfg.backend == "dask" and not cfg.scheduler:
        raise SettingError("scheduler", "backend 'dask' needs scheduler "
                                        "(e.g. tcp://127.0.0.1:8786)")
    if cfg.dataset == "yinyang" and cfg.pool != 1:
        raise SettingError("pool", f"pool applies to SHD-layout data (--data) only; Yin-Yang "
                                   f"has 5 inputs, got pool = {cfg.pool}")
    if cfg.dataset == "yinyang" and not cfg.t_late > cfg.t_early:
        raise SettingError("t_late", f"t_late must be > t_early = {cfg.t_early}, "
                                     f"got {cfg.t_late!r}")


def config_from_json(text):
    return TrainConfig(**json.loads(text))


def with_changes(cfg, **changes):
    return replace(cfg, **changes)
