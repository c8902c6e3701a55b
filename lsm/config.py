"""Configuration: schema validation and cross-reference checks.

The schema (`workflow/schemas/config.schema.yaml`) is the single source of truth for
keys, types, defaults and descriptions. :func:`validate_config` checks a config against
it (with integers that must really be integers), fills the defaults, and adds what a
schema cannot say: every value JSON-like, finite and free of quotes and control
characters (values reach shell lines and papermill parameters), cross references, class
ids that both sides of a zero-shot pair have. The workflow and ``lsm config validate``
call the same function, so the config that validates is the config that runs.
:func:`load_yaml_strict` reads a config file and refuses duplicate keys.
"""

from __future__ import annotations

import copy
import json
import math
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from lsm.datasets.catalog import DATASETS, FRAMES
from lsm.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml"

# Per-dataset facts come from the descriptors (lsm.datasets.catalog), never from a
# branch on a dataset's name.
PAPER_SIM_SIZES = {name: dict(d.paper_sizes) for name, d in DATASETS.items()}


def simulation_params(cfg: dict[str, Any], name: str) -> dict[str, Any]:
    """The simulate block of dataset `name`, with paper sizes applied if asked."""
    sim = copy.deepcopy(cfg["datasets"][name]["simulate"])
    if cfg.get("paper_size"):
        sim.update(PAPER_SIM_SIZES[name])
    return sim


def _set_defaults(schema: dict, inst: Any, root: dict) -> None:
    """Fill in schema defaults recursively (as Snakemake's validate does)."""
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        schema = root["$defs"][name]
    if not isinstance(inst, dict):
        return
    for key, sub in schema.get("properties", {}).items():
        if key not in inst and "default" in sub:
            inst[key] = copy.deepcopy(sub["default"])
        if key in inst:
            _set_defaults(sub, inst[key], root)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for key in inst:
            if key not in schema.get("properties", {}):
                _set_defaults(extra, inst[key], root)


def _strict_validator(schema: dict) -> Any:
    """A Draft 2020-12 validator whose "integer" is a Python int: the stock one accepts
    64.0 (a float with a zero fraction), which would reach range() or torch as a float."""
    import jsonschema

    base = jsonschema.Draft202012Validator
    checker = base.TYPE_CHECKER.redefine(
        "integer", lambda _c, v: isinstance(v, int) and not isinstance(v, bool))
    return jsonschema.validators.extend(base, type_checker=checker)(schema)


def _schema_error(exc: Any) -> ConfigError:
    key = "/".join(str(p) for p in exc.absolute_path) or "<top level>"
    fix = "see workflow/schemas/config.schema.yaml."
    if (exc.validator == "type" and "integer" in exc.validator_value
            and isinstance(exc.instance, float)):
        x = exc.instance
        fix = (f"write a whole number without a decimal point ({int(x)}, not {x!r})."
               if x.is_integer() and abs(x) < 1e15 else
               "write a whole number without a decimal point or exponent.")
    elif isinstance(exc.schema, dict) and exc.schema.get("description"):
        fix = f"see workflow/schemas/config.schema.yaml: {exc.schema['description']}"
    return ConfigError(key, exc.message.rstrip(".") + ".", fix)


def validate_config(config: dict[str, Any], base: Path | None = None) -> dict[str, Any]:
    """The complete config that will run, or a :class:`ConfigError` naming the key.

    Checks, in order: a mapping at the top level; every value JSON-like (string keys;
    str, int, float, bool, null, lists, mappings), every float finite, no string with a
    single quote or a control character; the schema (defaults filled in, integers must be
    ints); the RRAM window; zero-shot classes both sides have; then expands zero-shot
    window scans and checks cross references (relative data folders against `base`, or
    the working directory).

    The result is a fresh JSON-serialisable dict (the input is not modified), the same
    for the same input, and a fixed point: ``validate_config(validate_config(x)) ==
    validate_config(x)`` (expanded scan experiments carry ``unseen_window_scan: None``).
    """
    import jsonschema

    if not isinstance(config, dict):
        raise ConfigError("<top level>", f"the config is a {type(config).__name__}, not a "
                          "mapping of keys to values.",
                          "write it as 'key: value' lines (see config/config.yaml).")
    check_values(config)
    cfg = json.loads(json.dumps(config))  # plain dicts and lists, no shared (aliased) nodes
    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    _set_defaults(schema, cfg, schema)
    err = jsonschema.exceptions.best_match(_strict_validator(schema).iter_errors(cfg))
    if err is not None:
        raise _schema_error(err)
    check_rram(cfg["rram"])
    for name, zs in cfg["zeroshot"].items():
        check_classes(f"zeroshot/{name}", zs)
    cfg["zeroshot"] = expand_window_scans(cfg["zeroshot"])
    check_references(cfg, base)
    check_energy(cfg["energy"], base)
    return cfg


def energy_constants_path(constants: str, base: Path | None = None) -> Path:
    """The energy constants file: relative to `base` (or the working directory) where it
    is there, else to the repository (as the workflow's ``energy_constants()``)."""
    path = Path(constants)
    if path.is_absolute():
        return path
    here = (base / path) if base is not None else path
    return here if here.exists() else REPO_ROOT / path


def check_energy(energy: dict[str, Any], base: Path | None = None) -> None:
    """The constants file exists, is a file and is valid, and every override names a
    constant and gives it a value the constants schema allows (:func:`lsm.energy.model.
    load_constants`): otherwise only the last job of a run would find out."""
    from lsm.energy.model import load_constants
    from lsm.errors import DataFormatError

    path = energy_constants_path(energy["constants"], base)
    fix = ("point it at an energy constants file (the default, config/energy.yaml, is "
           "resolved against the working directory, then the repository).")
    if not path.exists():
        where = "" if Path(energy["constants"]).is_absolute() else (
            f" in {base or 'the working directory'} or the repository {REPO_ROOT}")
        raise ConfigError("energy/constants", f"file '{energy['constants']}' does not exist"
                          f"{where}.", fix)
    if not path.is_file():
        raise ConfigError("energy/constants", f"'{energy['constants']}' ({path}) is a "
                          "folder, not a file.", fix)
    try:
        load_constants(path)
    except DataFormatError as exc:
        raise ConfigError("energy/constants", f"{exc.path}: {exc.problem}", fix) from exc
    except ConfigError as exc:  # keyed "<file>: <where>"
        problem = str(exc).removeprefix("config key ").split(" Fix: ")[0]
        raise ConfigError("energy/constants", f"the constants file is invalid at {problem}",
                          "fix the file (see workflow/schemas/energy.schema.yaml).") from exc
    load_constants(path, energy["overrides"])  # errors name energy/overrides/<key>


MAX_INT = 2**53  # the largest integer a JSON number (a 64-bit float) holds exactly
_CONTROL_NAMES = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab",
                  "\x00": "a NUL byte"}
_PATH_KEYS = ("_dir", "_path", "constants")


def _unsafe(text: str) -> str | None:
    """What makes a string unsafe to hand to a shell line or papermill, or None."""
    if "'" in text:
        return "a single quote (')"
    for ch in text:
        if unicodedata.category(ch) == "Cc":
            return f"{_CONTROL_NAMES.get(ch, 'a control character')} (U+{ord(ch):04X})"
    return None


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any, bool]]:
    """(key path, item, is_key) for every mapping key and every value under `node`."""
    if isinstance(node, dict):
        for k, v in node.items():
            key = f"{path}/{k}" if path else str(k)
            yield key, k, True
            yield from _walk(v, key)
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}/{i}" if path else str(i))
    else:
        yield path or "<top level>", node, False


def check_values(config: Any) -> None:
    """Every key a string and every value JSON-like, finite, and safe in a shell line.

    A quote or a control character in any string (a path, a label) would break, or be
    injected into, the quoted shell lines and papermill parameters the workflow builds
    from the config; NaN or infinity passes every schema bound (all comparisons with NaN
    are false) and would silently poison a run.
    """
    for key, item, is_key in _walk(config):
        if is_key and not isinstance(item, str):
            raise ConfigError(key, f"the key {item!r} is not text but a "
                              f"{type(item).__name__}.",
                              f'quote it ("{item}") or rename it.')
        if isinstance(item, str):
            bad = _unsafe(item)
            if (not bad and not is_key and key.rsplit("/", 1)[-1].endswith(_PATH_KEYS)
                    and ("{" in item or "}" in item)):
                raise ConfigError(key, f"the path {item!r} contains a brace, which Snakemake "
                                  "reads as a wildcard in a file name.",
                                  "rename the folder or use a path without braces.")
            if bad:
                what = "its name" if is_key else "its value"
                is_path = not is_key and key.rsplit("/", 1)[-1].endswith(_PATH_KEYS)
                if not is_path:
                    fix = "write it without quotes or control characters."
                elif "quote" in bad:
                    fix = "rename the folder or use a path without quotes."
                else:
                    fix = "rename the folder or use a path without control characters."
                raise ConfigError(key, f"{what} {item!r} contains {bad}, which config "
                                  "values must not hold (they reach shell lines and notebook "
                                  "parameters).", fix)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ConfigError(key, f"is {'NaN' if math.isnan(item) else item} (not a "
                                  "finite number).", "give a finite number.")
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_INT:
            shown = (f"{item}" if item.bit_length() <= 128 else
                     f"an integer of about {int(item.bit_length() * math.log10(2)) + 1} digits")
            raise ConfigError(key, f"is {shown}, beyond the maximum ±2**53 ({MAX_INT}) "
                              "of a config integer (JSON and the notebooks read numbers as "
                              "64-bit floats).", "give a smaller number.")
        elif not is_key and not (item is None or isinstance(item, (bool, int))):
            raise ConfigError(key, f"is a {type(item).__name__} ({item!r}), which a config "
                              "value cannot be.",
                              "quote it to make it text, or give a number, list or mapping.")


def check_rram(rram: dict[str, Any], key: str = "rram") -> None:
    """Device-model values a schema cannot relate: an empty conductance window, one
    quantisation level (it would be ignored, not applied), stuck-at rates above 1 in
    total. Used by :func:`validate_config` and by ``RRAMParams`` itself."""
    for name, v in rram.items():
        if isinstance(v, float) and not math.isfinite(v):
            raise ConfigError(f"{key}/{name}", f"is {v} (not a finite number).",
                              "give a finite number.")
    g_min, g_max = rram.get("g_min_us", 20.0), rram.get("g_max_us", 80.0)
    if not 0 <= g_min < g_max:
        raise ConfigError(f"{key}/g_min_us", f"the conductance window [{g_min}, {g_max}] uS "
                          "is empty or negative: g_min_us must be at least 0 and below "
                          "g_max_us.", "make g_min_us smaller than g_max_us (the default "
                          "window is 20-80 uS).")
    levels = rram.get("levels", 0)
    if levels == 1 or levels < 0:
        raise ConfigError(f"{key}/levels", f"{levels} is not a number of levels (one level "
                          "cannot quantise a window).", "use 0 (analogue) or at least 2.")
    on, off = rram.get("p_stuck_on", 0.0), rram.get("p_stuck_off", 0.0)
    if not (0 <= on <= 1 and 0 <= off <= 1 and on + off <= 1):
        raise ConfigError(f"{key}/p_stuck_on", f"stuck-at probabilities {on} (ON) and {off} "
                          "(OFF) must each lie in [0, 1] and sum to at most 1.",
                          "lower them.")


# Class ids of each frames file (results/frames/<name>.npz), for the zero-shot checks.
FRAME_CLASSES: dict[str, range] = {n: range(f.n_classes) for n, f in FRAMES.items()}
FRAME_CLASS_HELP = {n: f.class_help for n, f in FRAMES.items()}
LETTER_FRAMES = frozenset(n for n, f in FRAMES.items() if f.letters)
# frames with the same samples, labels and split as other frames (an encoder of them may
# stand on that side of a zero-shot pair): the simulated BMI letters in the mixed-font
# ablation (lsm.datasets.simulators.bmi_dataset)
SAME_ITEMS_AS = {n: f.same_items_as for n, f in FRAMES.items() if f.same_items_as}


def check_classes(key: str, zs: dict[str, Any]) -> None:
    """Every seen and unseen class of a zero-shot experiment is a class of both sides'
    frames (a class one side lacks has no pairs; a letter in a digit pair would be read
    as a digit), and no class is listed twice (``d`` and ``3`` are the same class)."""
    frames = {side: zs[side]["frames"] for side in ("query", "gallery")}
    if any(f not in FRAME_CLASSES for f in frames.values()):
        return  # unknown frames: check_references names them
    valid = sorted(set(FRAME_CLASSES[frames["query"]]) & set(FRAME_CLASSES[frames["gallery"]]))
    letters = all(f in LETTER_FRAMES for f in frames.values())
    sides = "; ".join(f"{side} {f}: {FRAME_CLASS_HELP[f]}" for side, f in frames.items())
    allowed = (f"letters {chr(97 + valid[0])}..{chr(97 + valid[-1])} (or {valid[0]}.."
               f"{valid[-1]})" if letters else f"integers {valid[0]}..{valid[-1]}")
    for field in ("seen", "unseen"):
        seen_ids: dict[int, int | str] = {}
        for v in zs[field]:
            if isinstance(v, str) and not letters:
                raise ConfigError(f"{key}/{field}", f"'{v}' is a letter, but this pair's "
                                  f"classes are numbers ({sides}).",
                                  f"use classes both sides have: {allowed}.")
            c = class_ids([v])[0]
            if c not in valid:
                raise ConfigError(f"{key}/{field}", f"class {v!r} is not a class of both "
                                  f"sides ({sides}).", f"use classes both sides have: "
                                  f"{allowed}.")
            if c in seen_ids:
                raise ConfigError(f"{key}/{field}", f"{seen_ids[c]!r} and {v!r} are the "
                                  f"same class ({c}).", "list each class once.")
            seen_ids[c] = v


def expand_window_scans(experiments: dict[str, Any]) -> dict[str, Any]:
    """Replace every experiment with ``unseen_window_scan: w`` by one experiment per window
    of w consecutive classes (seen + unseen, in ascending order) held out as unseen.

    An expanded experiment has ``unseen_window_scan: None``, so expanding twice changes
    nothing; a window whose name another experiment already has is an error (one of the
    two would silently replace the other)."""
    out = {}
    for name, zs in experiments.items():
        w = zs.get("unseen_window_scan")
        if not w:
            out[name] = zs
            continue
        classes = sorted({*zs["seen"], *zs["unseen"]}, key=lambda v: class_ids([v])[0])
        if w >= len(classes) - 1:
            raise ConfigError(f"zeroshot/{name}/unseen_window_scan",
                              f"a window of {w} leaves fewer than 2 of {len(classes)} classes "
                              "seen.", "use a smaller window.")
        for i in range(len(classes) - w + 1):
            window = classes[i : i + w]
            tag = "".join(str(c) for c in window)
            new = f"{name}_unseen_{tag}"
            if new in experiments or new in out:
                raise ConfigError(f"zeroshot/{name}/unseen_window_scan",
                                  f"the window {window} is named '{new}', and another "
                                  "experiment already has that name.",
                                  f"rename or remove the experiment '{new}'.")
            # the scan is itself the rotation: its windows carry no power analysis
            out[new] = {
                **copy.deepcopy(zs), "unseen_window_scan": None, "unseen": window,
                "seen": [c for c in classes if c not in window], "power": None}
    return out


class StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, but a key repeated in one mapping is an error: the plain
    loader keeps the last value silently, so a config would not mean what it says."""

    def construct_document(self, node: yaml.Node) -> Any:
        # Before anything is constructed: the key path and the keys as written of every
        # mapping (merge keys, "<<: *anchor", later rewrite the nodes in place).
        self._paths: dict[int, str] = {}
        self._written: dict[int, list[yaml.Node]] = {}
        self._index(node, "")
        return super().construct_document(node)

    def _index(self, node: yaml.Node, path: str) -> None:
        if id(node) in self._paths:
            return  # an alias: keep the first path
        self._paths[id(node)] = path
        if isinstance(node, yaml.MappingNode):
            self._written[id(node)] = [k for k, _ in node.value]
            for k, v in node.value:
                name = k.value if isinstance(k, yaml.ScalarNode) else "?"
                self._index(v, f"{path}/{name}" if path else str(name))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                self._index(v, f"{path}/{i}" if path else str(i))

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict:
        """Raise :class:`DuplicateKeyError` on a repeated key, then construct as usual."""
        first: dict[Any, yaml.Node] = {}
        for key_node in self._written.get(id(node), []):
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # merged keys may be overridden: that is what a merge is for
            key = self.construct_object(key_node, deep=True)
            try:
                earlier = first.get(key)
            except TypeError:
                continue  # an unhashable key: the base class reports it
            if earlier is not None:
                parent = self._paths.get(id(node), "")
                raise DuplicateKeyError(f"{parent}/{key}" if parent else str(key), key,
                                        earlier.start_mark.line + 1,
                                        key_node.start_mark.line + 1)
            first[key] = key_node
        return super().construct_mapping(node, deep=deep)


class DuplicateKeyError(yaml.YAMLError):
    """A key given twice in one mapping (raised by :class:`StrictLoader`)."""

    def __init__(self, path: str, key: Any, first_line: int, line: int) -> None:
        self.path, self.key, self.first_line, self.line = path, key, first_line, line
        super().__init__(f"key '{key}' on line {line} repeats line {first_line}")


def load_yaml_strict(path: str | Path) -> dict[str, Any]:
    """Read a YAML (or JSON) config file, refusing what a plain load lets through.

    Raises :class:`ConfigError` naming the file (and the line and key) for an unreadable
    file, invalid YAML, a key repeated in one mapping (at any depth), an empty file and a
    top level that is not a mapping. Returns the mapping as read (no defaults)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("<top level>", f"cannot read {path} ({exc}).",
                          "check the path and that the file is UTF-8 text.") from exc
    try:
        data = yaml.load(text, Loader=StrictLoader)  # a SafeLoader: no arbitrary objects
    except DuplicateKeyError as exc:
        raise ConfigError(exc.path, f"{path}, line {exc.line}: the key '{exc.key}' is given "
                          f"twice in the same mapping (first on line {exc.first_line}); "
                          "YAML would silently keep only the last one.",
                          "delete or merge one of the two.") from exc
    except yaml.YAMLError as exc:
        raise ConfigError("<top level>", f"{path} is not valid YAML ({exc}).",
                          "fix the syntax at the line shown.") from exc
    except (ValueError, RecursionError) as exc:  # an integer of thousands of digits, ...
        raise ConfigError("<top level>", f"{path} cannot be read as YAML ({exc}).",
                          "give numbers of at most 16 digits, and nest less deeply.") from exc
    if data is None:
        raise ConfigError("<top level>", f"{path} is empty (no keys at all).",
                          "give at least the datasets to run, e.g. copy config/config.yaml.")
    if not isinstance(data, dict):
        raise ConfigError("<top level>", f"{path} holds a {type(data).__name__}, not a "
                          "mapping of keys to values.",
                          "write it as 'key: value' lines (see config/config.yaml).")
    return data


def load_config(path: str | Path, base: Path | None = None) -> dict[str, Any]:
    """:func:`load_yaml_strict` then :func:`validate_config`: the config that will run."""
    return validate_config(load_yaml_strict(path), base)


def check_references(cfg: dict[str, Any], base: Path | None = None) -> None:
    """Names must resolve (run -> encoder -> dataset; run -> readout), and a real dataset's
    configured data_dir must exist. Raises ConfigError naming the key and the fix."""
    datasets, encoders = cfg.get("datasets", {}), cfg.get("encoders", {})
    readouts = cfg.get("readouts", {})
    frames = frame_names(datasets)
    for name, enc in encoders.items():
        if enc["dataset"] not in frames:
            only_sim = ("the mixed-font letters exist for simulated BMI data only: remove "
                        "this encoder and the runs using it, or "
                        if enc["dataset"] in SAME_ITEMS_AS else "")
            raise ConfigError(f"encoders/{name}/dataset",
                              f"unknown frames '{enc['dataset']}'.",
                              f"{only_sim}use one of {sorted(frames)}.")
    from lsm.models.registry import PluginError, model_input

    for name, run in cfg.get("supervised", {}).get("runs", {}).items():
        try:
            reads = model_input(run["kind"])
        except PluginError as e:
            raise ConfigError(f"supervised/runs/{name}/kind", f"{e}.",
                              "name a built-in kind or an importable 'package.module:Class' "
                              "(examples/new_baseline/README.md).") from None
        if reads == "features" and run.get("encoder") not in encoders:
            raise ConfigError(f"supervised/runs/{name}/encoder",
                              f"unknown encoder '{run.get('encoder')}'.",
                              f"use one of {sorted(encoders)}.")
        if reads == "frames" and run.get("dataset") not in datasets:
            raise ConfigError(f"supervised/runs/{name}/dataset",
                              f"unknown dataset '{run.get('dataset')}'.",
                              f"use one of {sorted(datasets)}.")
        if run["readout"] not in readouts:
            raise ConfigError(f"supervised/runs/{name}/readout",
                              f"unknown readout '{run['readout']}'.",
                              f"use one of {sorted(readouts)}.")
        _check_bins(f"supervised/runs/{name}/params", run.get("params", {}),
                    datasets.get(run.get("dataset"), {}))
    _check_one_protocol(cfg)
    var = cfg.get("variability", {})
    if var.get("encoder"):
        if var["encoder"] not in encoders:
            raise ConfigError("variability/encoder", f"unknown encoder '{var['encoder']}'.",
                              f"use one of {sorted(encoders)}.")
        if var["readout"] not in readouts:
            raise ConfigError("variability/readout", f"unknown readout '{var['readout']}'.",
                              f"use one of {sorted(readouts)}.")
    for name, zs in cfg.get("zeroshot", {}).items():
        _check_zeroshot(f"zeroshot/{name}", zs, frames, encoders, readouts)
    for name, ds in datasets.items():
        if ds["source"] != "real":
            continue
        for key, hint in DATASETS[name].data_help.items():
            if not ds.get(key):
                continue
            d = Path(ds[key])
            if not d.is_absolute() and base is not None:
                d = base / d
            if not d.is_dir():
                raise ConfigError(f"datasets/{name}/{key}",
                                  f"folder '{ds[key]}' does not exist.",
                                  hint)


def _zs_reads(key: str, zs: dict[str, Any]) -> dict[str, str]:
    """Each zero-shot run's input (``features``: frozen encoders; ``frames``: trainable
    ones), from the registry; a kind that does not resolve is a ConfigError."""
    from lsm.models.registry import PluginError, zs_input

    out = {}
    for name, run in zs.get("runs", {}).items():
        try:
            out[name] = zs_input(run["kind"])
        except PluginError as e:
            raise ConfigError(f"{key}/runs/{name}/kind", f"{e}.",
                              "name a built-in kind (lsm, srnn) or an importable "
                              "'package.module:Class' encoder (examples/new_baseline).") from None
    return out


def _check_one_protocol(cfg: dict[str, Any]) -> None:
    """With a tuning grid, every supervised run must share one budget (epoch cap,
    patience, lr decay, optimiser and weight decay: lsm.pipeline.protocol.BUDGET_KEYS): the
    comparison is fair only when every model gets the same."""
    sup = cfg.get("supervised", {})
    tuning = sup.get("tuning", {})
    if not tuning.get("grid"):
        if tuning.get("halving"):
            raise ConfigError("supervised/tuning/halving", "is set without a grid to halve.",
                              "add supervised/tuning/grid (lr and batch_size), or remove "
                              "halving.")
        return
    from lsm.pipeline.protocol import BUDGET_KEYS, run_budgets

    cap = max((b[BUDGET_KEYS.index("epochs")] or 0 for b in run_budgets(cfg).values()),
              default=0)
    first = (tuning.get("halving") or {}).get("min_epochs", 0)
    if cap and first >= cap:
        raise ConfigError("supervised/tuning/halving/min_epochs",
                          f"{first} is not below the epoch cap {cap}: every point would train "
                          "to the cap before the first rung, so nothing is halved.",
                          f"use a min_epochs below {cap} (e.g. {max(1, cap // 10)}), or remove "
                          "halving.")

    seen: dict[tuple, str] = {}
    for name, budget in run_budgets(cfg).items():
        seen.setdefault(budget, name)
    if len(seen) > 1:
        (a, ra), (b, rb) = list(seen.items())[:2]
        raise ConfigError(f"supervised/runs/{rb}/readout",
                          f"its budget {dict(zip(BUDGET_KEYS, b, strict=True))} differs from "
                          f"that of run '{ra}' {dict(zip(BUDGET_KEYS, a, strict=True))}; with "
                          "supervised/tuning every model gets the same budget.",
                          "give every supervised run a readout with the same "
                          f"{', '.join(BUDGET_KEYS)} (e.g. readout: supervised).")


def _check_bins(key: str, params: dict[str, Any], dataset: dict[str, Any]) -> None:
    """A model's own binning (n_bins, time_window) must fit in the dataset's frames."""
    n_t = dataset.get("preprocess", {}).get("n_bins")
    nb, tw = params.get("n_bins"), params.get("time_window")
    if nb is not None and n_t is not None and nb > n_t:
        raise ConfigError(f"{key}/n_bins", f"{nb} bins, but the dataset's frames have {n_t}.",
                          f"use at most {n_t} (bins can only be coarsened).")
    top = nb if nb is not None else n_t
    if tw is not None and top is not None and tw > top:
        raise ConfigError(f"{key}/time_window", f"{tw} steps, but the input has {top} bins.",
                          f"use at most {top}.")


def _check_power(key: str, zs: dict[str, Any], encoders: dict, readouts: dict) -> None:
    """The power analysis names LSM runs of this experiment that it can repeat as they
    are (lsm.zeroshot.power: counts or standardised features, distinct pairs, encoders that read
    the experiment's frames) and fits in the main runs."""
    pw = zs.get("power")
    if not pw:
        return
    if zs.get("enlarge", 1) > 1:
        raise ConfigError(f"{key}/power", f"the experiment pairs each query with "
                          f"{zs['enlarge']} gallery samples (enlarge); the power analysis "
                          "ranks pairs as they come and would count repeated trials as "
                          "independent queries.", "set power: null for this experiment.")
    labels = set()
    for i, name in enumerate(pw["runs"]):
        if name not in zs["runs"]:
            raise ConfigError(f"{key}/power/runs/{i}", f"'{name}' is not a run of this "
                              "experiment.", f"use one of {sorted(zs['runs'])}.")
        run = zs["runs"][name]
        label = (run.get("model"), run.get("variant"))
        if label in labels:
            raise ConfigError(f"{key}/power/runs/{i}", f"run '{name}' has the model and "
                              f"variant {label} of another power run: their rows would merge.",
                              "list runs with distinct model or variant names.")
        labels.add(label)
        frozen = _zs_reads(key, zs)[name] == "features"
        if frozen and run.get("feature_scale") == "rates":
            raise ConfigError(f"{key}/runs/{name}/feature_scale", "the power analysis feeds "
                              "spike counts (standardised in the heads), not rates.",
                              "use feature_scale standardized or counts, or leave the run "
                              "out of power/runs.")
        for side in ("query", "gallery") if frozen else ():
            enc = run["encoders"][side]
            if enc in encoders and encoders[enc]["dataset"] != zs[side]["frames"]:
                raise ConfigError(f"{key}/runs/{name}/encoders/{side}", f"encoder '{enc}' "
                                  f"reads {encoders[enc]['dataset']}, but the power analysis "
                                  f"encodes the experiment's {side} frames "
                                  f"({zs[side]['frames']}).",
                                  "leave the run out of power/runs.")
        if not frozen:
            raise ConfigError(f"{key}/power/runs/{i}", f"run '{name}' has kind "
                              f"'{zs['runs'][name]['kind']}'; the power analysis repeats "
                              "frozen-encoder runs (kind lsm) only.",
                              "list LSM runs; the SRNN rows keep the seeds list.")
    rot = pw.get("rotations")
    if not rot:
        return
    for i, name in enumerate(rot["runs"]):
        if name not in pw["runs"]:
            raise ConfigError(f"{key}/power/rotations/runs/{i}", f"'{name}' is not in "
                              "power/runs.", f"use one of {pw['runs']}.")
    for k in ("n_reservoirs", "n_heads"):
        if rot[k] > pw[k]:
            raise ConfigError(f"{key}/power/rotations/{k}", f"{rot[k]} exceeds power/{k} "
                              f"({pw[k]}): the configured split's rows come from the main "
                              "runs.", f"set it to at most {pw[k]}.")
    n_classes = len(zs["seen"]) + len(zs["unseen"])
    if rot["n_unseen"] > n_classes - 2:
        raise ConfigError(f"{key}/power/rotations/n_unseen", f"{rot['n_unseen']} unseen of "
                          f"{n_classes} classes leaves fewer than 2 seen.",
                          f"use at most {n_classes - 2}.")


def _check_zeroshot(key: str, zs: dict[str, Any], frames: list[str], encoders: dict,
                    readouts: dict) -> None:
    """Cross references of one zero-shot experiment (see the schema's zeroshot_experiment)."""
    q, g = zs["query"], zs["gallery"]
    for side in ("query", "gallery"):
        if zs[side]["frames"] not in frames:
            raise ConfigError(f"{key}/{side}/frames", f"unknown frames '{zs[side]['frames']}'.",
                              f"use one of {sorted(frames)}.")
    if q["name"] == g["name"]:
        raise ConfigError(f"{key}/gallery/name", "query and gallery share a name.",
                          "give the two modalities different tags (e.g. a and i).")
    both = sorted(set(class_ids(zs["seen"])) & set(class_ids(zs["unseen"])))
    if both:
        raise ConfigError(f"{key}/unseen", f"classes {both} are also seen.",
                          "make the seen and unseen lists disjoint.")
    directions = (f"{q['name']}2{g['name']}", f"{g['name']}2{q['name']}")
    if select_direction(zs) not in directions:
        raise ConfigError(f"{key}/select/direction",
                          f"'{zs['select']['direction']}' is not a direction of this pair.",
                          f"use one of {list(directions)}.")
    reads = _zs_reads(key, zs)
    _check_power(key, zs, encoders, readouts)
    from lsm.models.registry import zs_entry

    for name, run in zs["runs"].items():
        rk = f"{key}/runs/{name}"
        if run["train"] not in readouts:
            raise ConfigError(f"{rk}/train", f"unknown readout '{run['train']}'.",
                              f"use one of {sorted(readouts)}.")
        for k in ("patience", "lr_patience"):
            if readouts[run["train"]].get(k):
                raise ConfigError(f"{rk}/train", f"readout '{run['train']}' sets {k}, but "
                                  "zero-shot training has neither early stopping nor lr "
                                  "decay (every epoch runs at one lr; the epoch is selected "
                                  "on seen-class validation pairs).",
                                  f"use a readout without {k} for zero-shot runs.")
        batch = readouts[run["train"]]["batch_size"]
        if run["loss"] == "proto" and batch <= len(zs["seen"]):
            raise ConfigError(f"{rk}/train", f"readout '{run['train']}' has batch_size "
                              f"{batch}, which cannot hold two of any of the "
                              f"{len(zs['seen'])} seen classes, as prototypical training "
                              "needs.", f"use a readout with a batch_size above "
                              f"{len(zs['seen'])} (the paper: the full set).")
        sides_key = zs_entry(run["kind"]).params_key
        for side in ("query", "gallery"):
            if reads[name] == "features":
                enc = run.get("encoders", {}).get(side)
                if enc not in encoders:
                    raise ConfigError(f"{rk}/encoders/{side}", f"unknown encoder '{enc}'.",
                                      f"use one of {sorted(encoders)}.")
                enc_frames = encoders[enc]["dataset"]
                if SAME_ITEMS_AS.get(enc_frames, enc_frames) != zs[side]["frames"]:
                    raise ConfigError(f"{rk}/encoders/{side}",
                                      f"encoder '{enc}' reads '{encoders[enc]['dataset']}', "
                                      f"but the {side} side is '{zs[side]['frames']}'.",
                                      "use an encoder of that dataset.")
            elif side not in run.get(sides_key, {}):
                raise ConfigError(f"{rk}/{sides_key}/{side}",
                                  f"missing (kind {run['kind']} trains an encoder per side).",
                                  "give the encoder's settings for query and gallery (srnn: "
                                  "const, and n_res, decay, v_th).")
    for i, r in enumerate(zs["cost_ratios"]):
        for end in ("numerator", "denominator"):
            run = zs["runs"].get(r[end])
            if run is None:
                raise ConfigError(f"{key}/cost_ratios/{i}/{end}", f"unknown run '{r[end]}'.",
                                  f"use one of {sorted(zs['runs'])}.")
            field = "denominator_proj_dim" if (end == "denominator" and
                                               r.get("denominator_proj_dim")) else "proj_dim"
            if r[field] not in run["proj_dims"]:
                raise ConfigError(f"{key}/cost_ratios/{i}/{field}",
                                  f"run '{r[end]}' does not train pd={r[field]}.",
                                  f"use one of {run['proj_dims']}.")


def class_ids(values: list[int | str]) -> list[int]:
    """Class labels from config: integers as they are, letters a-z as 0-25."""
    return [ord(v) - ord("a") if isinstance(v, str) else int(v) for v in values]


def frame_names(datasets: dict[str, Any]) -> list[str]:
    """Names of the frame files the datasets give (results/frames/<name>.npz), from their
    descriptors: one per dataset, but two for bmi (neural trials and letter images), and
    three for simulated bmi (also the letters of the mixed-font ablation)."""
    return [f for name, ds in datasets.items()
            for f in DATASETS[name].frame_names(ds.get("source", "simulated"))]


def select_direction(zs: dict[str, Any]) -> str:
    """The selection direction of a zero-shot experiment (default: query to gallery)."""
    return zs["select"].get("direction") or f"{zs['query']['name']}2{zs['gallery']['name']}"
