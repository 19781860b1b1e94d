"""Saving and loading results as ArviZ InferenceData in netCDF — the only module that does so.

Layout of a saved file
----------------------
* root attribute ``hiddenrate_result``: JSON with everything but the distributions (model,
  assumptions, priors, options, seed, versions, levels, diagnostics, warnings (texts, and their
  ``[code, severity]`` in ``warning_codes``; a file without them is classified by the texts' words),
  details, and each estimate's kind); root attribute ``hiddenrate_format`` = :data:`FORMAT_VERSION`;
  root attribute ``hiddenrate_sha256``: a checksum of the JSON and the estimates arrays (checked on
  loading when present; files saved before it existed have none).
* a 512-byte block in front of the HDF5 data (a "user block", which HDF5 skips): the SHA-256 of
  the rest of the file, checked before HDF5 opens it (:mod:`hiddenrate.result.seal`).
* group ``hiddenrate_estimates``: each estimate's distribution — posterior draws
  (``<key>__draws``) or an exact grid (``<key>__values``, ``<key>__pmf``); maximum-likelihood
  points and intervals live in the JSON.
* group ``input_data``: the input counts by stratum and capture pattern (aggregates only).
* the model's own groups (``posterior``, ``sample_stats``, ``observed_data``) when it sampled
  with MCMC and was fitted to one table.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from hiddenrate.core.caveats import codes_of, restore
from hiddenrate.core.diagnostics import Diagnostics
from hiddenrate.core.distributions import (
    Distribution,
    DrawsDistribution,
    GridDistribution,
    PointEstimate,
)
from hiddenrate.core.exceptions import DataError, ModelError
from hiddenrate.core.files import atomic_write
from hiddenrate.result.schema import SchemaError, parse_meta
from hiddenrate.result.seal import check, seal
from hiddenrate.result.value import Result, StratumEstimate

FORMAT_VERSION = 1
#: no saved array holds a value beyond this (the largest counts any model computes are far below)
MAX_SAVED_VALUE = 1e18
_ESTIMATES = "hiddenrate_estimates"
_INPUT = "input_data"


def _az() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az
    return az


def _dist_meta(dist: Distribution | None) -> dict[str, Any] | None:
    if dist is None:
        return None
    if isinstance(dist, PointEstimate):
        return {
            "kind": "point",
            "point": dist.point,
            "intervals": [[level, list(ends)] for level, ends in dist.intervals.items()],
            "interval_method": dist.interval_method,
        }
    if isinstance(dist, GridDistribution):
        return {"kind": "grid", "tail_mass": dist.tail_mass, "mean_exists": dist.mean_exists}
    return {"kind": "draws"}


def _estimate_meta(estimate: StratumEstimate) -> dict[str, Any]:
    from hiddenrate.result.value import _jsonable

    return {
        "stratum": dict(estimate.stratum),
        "observed": int(estimate.observed),
        "distribution": _dist_meta(estimate.total),
        "diagnostics": estimate.diagnostics.to_dict(),
        "warnings": list(estimate.warnings),
        "warning_codes": codes_of(estimate.warnings),
        "details": _jsonable(dict(estimate.details)),
        "reason": estimate.reason,
        "quantities": {name: _dist_meta(dist) for name, dist in estimate.quantities.items()},
    }


def _dist_variables(key: str, dist: Distribution | None) -> dict[str, xr.DataArray]:
    if isinstance(dist, DrawsDistribution):
        return {f"{key}__draws": xr.DataArray(np.asarray(dist.draws), dims=(f"{key}__draw",))}
    if isinstance(dist, GridDistribution):
        dims = (f"{key}__grid",)
        return {
            f"{key}__values": xr.DataArray(np.asarray(dist.values), dims=dims),
            f"{key}__pmf": xr.DataArray(np.asarray(dist.pmf), dims=dims),
        }
    return {}


def save_result(result: Result, path: str | Path) -> None:
    """Write ``result`` to a netCDF file at ``path`` (replaced if it exists), whole or not at all:
    it is written to a temporary name in the same folder and renamed (:mod:`hiddenrate.core.files`)."""
    with atomic_write(path) as temporary:
        write_result(result, temporary)


def write_result(result: Result, path: str | Path) -> None:
    """Write ``result`` to ``path`` directly (see :func:`save_result`)."""
    from hiddenrate.result.value import _jsonable

    az = _az()
    estimates = {"overall": result.overall, **{f"stratum{i}": s for i, s in enumerate(result.strata)}}
    variables: dict[str, xr.DataArray] = {}
    for key, estimate in estimates.items():
        variables.update(_dist_variables(key, estimate.total))
        for name, dist in estimate.quantities.items():
            variables.update(_dist_variables(f"{key}__{name}", dist))
    meta = {
        "command": result.command,
        "model": result.model,
        "model_name": result.model_name,
        "description": result.description,
        "assumptions": list(result.assumptions),
        "estimate_type": result.estimate_type,
        "interval_type": result.interval_type,
        "levels": list(result.levels),
        "interval_kind": result.interval_kind,
        "seed": result.seed,
        "priors": _jsonable(dict(result.priors)),
        "options": _jsonable(dict(result.options)),
        "input": _jsonable(dict(result.input)),
        "provenance": _jsonable(dict(result.provenance)),
        "warnings": list(result.warnings),
        "warning_codes": codes_of(result.warnings),
        "extra": _jsonable(dict(result.extra)),
        "unit": result.unit,
        "estimates": {key: _estimate_meta(e) for key, e in estimates.items()},
    }
    groups: dict[str, xr.Dataset] = {}
    idata = result.overall.idata if not result.strata else None
    if idata is not None:
        for name in ("posterior", "sample_stats", "observed_data", "constant_data"):
            if name in idata.groups():
                groups[name] = idata[name]
    groups[_ESTIMATES] = xr.Dataset(variables)
    groups[_INPUT] = _input_dataset(result.input)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # our two groups are outside ArviZ's schema, on purpose
        data = az.InferenceData(**groups)
    data.attrs["hiddenrate_format"] = FORMAT_VERSION
    data.attrs["hiddenrate_result"] = json.dumps(meta, allow_nan=False)
    data.attrs["hiddenrate_sha256"] = _digest(data.attrs["hiddenrate_result"], groups[_ESTIMATES])
    data.to_netcdf(str(path))
    seal(path)


def _digest(meta_text: str, store: xr.Dataset) -> str:
    """SHA-256 of the metadata text and every estimates array (name, then float64 bytes), so that
    a flipped byte in a number is found on loading: netCDF itself keeps no checksum."""
    digest = hashlib.sha256(meta_text.encode("utf-8"))
    for name in sorted(str(v) for v in store.variables):
        digest.update(str(name).encode("utf-8") + b"\0")
        digest.update(np.ascontiguousarray(np.asarray(store[name].values, dtype="<f8")).tobytes())
    return digest.hexdigest()


def _input_dataset(summary: Any) -> xr.Dataset:
    tables = summary.get("tables", []) if isinstance(summary, dict) else []
    if not tables or "cells" not in tables[0]:
        return xr.Dataset()
    cells = list(tables[0]["cells"].keys())
    counts = np.array([[t["cells"].get(c, 0) for c in cells] for t in tables], dtype=np.int64)
    labels = [", ".join(f"{k}={v}" for k, v in t["stratum"].items()) or "all" for t in tables]
    return xr.Dataset(
        {"counts": xr.DataArray(counts, dims=("stratum", "pattern"), coords={"stratum": labels, "pattern": cells})},
        attrs={"lists": ",".join(summary.get("lists", []))},
    )


def _array(store: xr.Dataset, name: str, total: bool = False) -> np.ndarray:
    """A one-dimensional numeric array of the estimates group, read now (a damaged file fails here)."""
    where = f"{_ESTIMATES}/{name}"
    if name not in store.variables:
        raise SchemaError(where, "is missing")
    try:
        values = np.asarray(store[name].values)
    except Exception as err:  # noqa: BLE001 - any failure of the netCDF reader on damaged bytes
        raise SchemaError(where, f"cannot be read ({err.__class__.__name__})") from None
    if values.ndim != 1 or values.size == 0 or values.dtype.kind not in "iuf":
        raise SchemaError(where, "is not a non-empty one-dimensional array of numbers")
    values = values.astype(float)
    if not np.isfinite(values).all() or np.abs(values).max() > MAX_SAVED_VALUE:
        raise SchemaError(where, f"holds values that are not finite or beyond {MAX_SAVED_VALUE:.0e}")
    if total and values.min() < 0:
        raise SchemaError(where, "holds negative totals")
    return values


def _dist_from(meta: dict[str, Any] | None, key: str, store: xr.Dataset) -> Distribution | None:
    if meta is None:
        return None
    total = "__" not in key  # the total of a stratum (not a further quantity): a number of people, >= 0
    try:
        if meta["kind"] == "point":
            intervals = {float(level): (ends[0], ends[1]) for level, ends in meta["intervals"]}
            return PointEstimate(meta["point"], intervals, meta.get("interval_method", ""))
        if meta["kind"] == "grid":
            return GridDistribution(_array(store, f"{key}__values", total), _array(store, f"{key}__pmf"),
                                    meta.get("tail_mass", 0.0), meta.get("mean_exists", True))
        return DrawsDistribution(_array(store, f"{key}__draws", total))
    except ModelError as err:
        raise SchemaError(key.replace("__", "."), str(err)) from None


def check_format(version: Any) -> None:
    """The root attribute ``hiddenrate_format``: a format this version reads."""
    if isinstance(version, np.ndarray) and version.size == 1:
        version = version.item()
    if isinstance(version, np.integer):
        version = int(version)
    if version is None:
        raise SchemaError("hiddenrate_format", "is missing")
    if not isinstance(version, int) or isinstance(version, bool):
        raise SchemaError("hiddenrate_format", f"{str(version)[:20]!r} is not a format number")
    if version > FORMAT_VERSION:
        raise SchemaError("hiddenrate_format", f"is {version}: written by a newer hiddenrate, and this version reads "
                                               f"format {FORMAT_VERSION}; upgrade hiddenrate to read it")
    if version < 1:
        raise SchemaError("hiddenrate_format", f"{version} is not a format hiddenrate ever wrote")


@contextlib.contextmanager
def _quiet_cleanup() -> Iterator[None]:
    """A file that fails half-way through opening leaves h5netcdf objects whose ``__del__`` raises
    ("Exception ignored in ..." on stderr, many lines): collect them here, silently."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        yield
    finally:
        gc.collect()
        sys.unraisablehook = hook


def _read(path: str | Path) -> Any:
    """The InferenceData in ``path``; DataError if it is not a hiddenrate result at all."""
    az = _az()
    target = Path(path)
    if not target.exists():
        raise DataError(f"{path}: no such file")
    if target.is_dir():
        raise DataError(f"{path}: is a directory; give the result file (RESULT.nc) itself")
    if not target.is_file():
        raise DataError(f"{path}: is not a regular file; give the result file (RESULT.nc) itself")
    try:
        damage = check(target)
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror or err.__class__.__name__})") from None
    if damage is not None:
        raise DataError(f"{path}: damaged: {damage}")
    failure = None
    with warnings.catch_warnings(), _quiet_cleanup():
        warnings.simplefilter("ignore")
        try:
            data = az.from_netcdf(str(target))
        except Exception as err:  # noqa: BLE001 - truncated or damaged bytes fail anywhere in h5py/xarray
            failure = err.__class__.__name__  # not the error itself: its frames would keep the half-open file
    if failure is not None:
        raise DataError(f"{path}: not a netCDF file written by hiddenrate ({failure})")
    if "hiddenrate_result" not in data.attrs:
        raise DataError(f"{path}: a netCDF file, but not a saved hiddenrate result")
    return data


def load_result(path: str | Path) -> Result:
    """Read a result written by :func:`save_result`, checking everything it reads
    (:mod:`hiddenrate.result.schema`).

    Raises
    ------
    DataError
        If the file is missing, is not a hiddenrate result, or is damaged (one line saying where).
    """
    data = _read(path)
    try:
        store = data[_ESTIMATES] if _ESTIMATES in data.groups() else xr.Dataset()
        idata = data if "posterior" in data.groups() else None
        _check_digest(data.attrs, store)
        return result_from(data.attrs.get("hiddenrate_result"), data.attrs.get("hiddenrate_format"), store, idata)
    except SchemaError as err:
        raise DataError(f"{path}: damaged or not a result this version reads: {err}") from None


def _check_digest(attrs: Any, store: xr.Dataset) -> None:
    """Compare the stored checksum (files written before it existed have none) with the content."""
    expected = attrs.get("hiddenrate_sha256")
    if expected is None:
        return
    text = attrs.get("hiddenrate_result")
    try:
        actual = _digest(text, store) if isinstance(text, str) else None
    except Exception:  # noqa: BLE001 - arrays of a damaged file that cannot be read or converted
        actual = None
    if actual != expected:
        raise SchemaError("hiddenrate_sha256", "does not match the content: the file was damaged or edited "
                                               "after it was saved")


def result_from(meta_text: Any, version: Any, store: xr.Dataset, idata: Any = None) -> Result:
    """The Result from a saved file's parts: the metadata text, the format number, the estimates
    group and (for a sampled fit) the InferenceData; :class:`SchemaError` on any defect."""
    check_format(version)
    meta = parse_meta(meta_text)

    def estimate(key: str) -> StratumEstimate:
        m = meta["estimates"][key]
        return StratumEstimate(
            stratum={str(k): str(v) for k, v in m["stratum"].items()},
            observed=m["observed"],
            total=_dist_from(m["distribution"], key, store),
            diagnostics=Diagnostics.from_dict(m["diagnostics"]),
            warnings=restore(m["warnings"], m.get("warning_codes")),
            details=m["details"],
            reason=m["reason"],
            idata=idata,
            quantities={
                name: dist
                for name, meta_q in m.get("quantities", {}).items()
                if (dist := _dist_from(meta_q, f"{key}__{name}", store)) is not None
            },
        )

    strata_keys = sorted((k for k in meta["estimates"] if k != "overall"), key=lambda k: int(k[7:]))
    return Result(
        command=meta["command"],
        model=meta["model"],
        model_name=meta["model_name"],
        description=meta["description"],
        assumptions=tuple(meta["assumptions"]),
        estimate_type=meta["estimate_type"],
        interval_type=meta["interval_type"],
        levels=tuple(sorted({float(x) for x in meta["levels"]})),
        interval_kind=meta["interval_kind"],
        overall=estimate("overall"),
        strata=tuple(estimate(k) for k in strata_keys),
        seed=meta["seed"],
        priors=meta["priors"],
        options=meta["options"],
        input=meta["input"],
        provenance=meta["provenance"],
        warnings=restore(meta["warnings"], meta.get("warning_codes")),
        extra=meta["extra"],
        unit=meta.get("unit"),
    )
