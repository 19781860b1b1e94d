"""Damaged saved results (issue 22): `report` and `claim` answer one line and exit 2, never a traceback.

The named cases are those a careful user tried (14 of 16 raised JSONDecodeError, KeyError,
TypeError, RecursionError or ValueError before the loader checked its schema). The property tests
feed the loader mutated metadata, mutated arrays and mutated format numbers in memory (cheap: no
file is rewritten), and a few dozen byte-level mutations of a real small file through the CLI.
"""

from __future__ import annotations

import copy
import json
import shutil
from io import StringIO
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hiddenrate import fit_lists
from hiddenrate.analysis.claims import check_claim
from hiddenrate.cli.common import saved_result
from hiddenrate.core.exceptions import DataError, HiddenrateError
from hiddenrate.render import render
from hiddenrate.result import io as result_io
from hiddenrate.result import seal
from hiddenrate.result.schema import SchemaError

TWO = "police,ngo,region,count\n1,0,n,100\n0,1,n,200\n1,1,n,50\n1,0,s,30\n0,1,s,40\n1,1,s,12\n"
THREE = "a,b,c,count\n1,0,0,30\n0,1,0,40\n0,0,1,35\n1,1,0,10\n1,0,1,8\n0,1,1,12\n1,1,1,3\n"


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, Path]:
    """Three small saved results: a closed form (point), exact draws by stratum, model averaging (grid)."""
    folder = tmp_path_factory.mktemp("saved")
    two = pd.read_csv(StringIO(TWO))
    fits = {
        "point": fit_lists(two[two.region == "n"].drop(columns="region"), "chapman"),
        "draws": fit_lists(two, "bayes-2list", by=["region"], levels=(0.8, 0.95)),
        "grid": fit_lists(pd.read_csv(StringIO(THREE)), "bma"),
    }
    paths = {}
    for name, result in fits.items():
        paths[name] = folder / f"{name}.nc"
        result.save(str(paths[name]))
    return paths


def _unsealed_copy(source: Path, target: Path) -> Path:
    """A copy without the checksum block in front (hiddenrate.result.seal), as files were saved before it."""
    data = source.read_bytes()
    target.write_bytes(data[seal.BLOCK:] if data.startswith(seal.MAGIC) else data)
    return target


def _damaged(source: Path, target: Path, meta: Any = None, *, edit=None, attrs: dict | None = None,
             drop: str | None = None) -> Path:
    """A copy of ``source`` with its metadata (a dict, or raw text) replaced, other root attributes
    set, or a group removed (h5py edits the copy in place). The checksum is removed, as in a file
    saved before it existed (without the whole-file seal either): the schema is then what stands
    between the file and the renderers."""
    _unsealed_copy(source, target)
    with h5py.File(target, "r+") as handle:
        del handle.attrs["hiddenrate_sha256"]
        text = handle.attrs["hiddenrate_result"]
        if edit is not None:
            document = json.loads(text)
            edit(document)
            meta = document
        if meta is not None:
            handle.attrs["hiddenrate_result"] = meta if isinstance(meta, str) else json.dumps(meta)
        for name, value in (attrs or {}).items():
            if value is None:
                del handle.attrs[name]
            else:
                handle.attrs[name] = value
        if drop is not None:
            del handle[drop]
    return target


def _set(path: list, value: Any):
    def edit(document):
        node = document
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return edit


def _delete(path: list):
    def edit(document):
        node = document
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return edit


CASES = {
    # name: (base file, what to do, a fragment of the message)
    "metadata-not-json": ("point", {"meta": "{not json"}, "not valid JSON"),
    "metadata-a-list": ("point", {"meta": "[1, 2, 3]"}, "expected an object"),
    "nested-brackets": ("point", {"meta": "[" * 100_000 + "]" * 100_000}, "nests too deeply"),
    "nested-objects": ("point", {"edit": _set(["extra"], json.loads('{"a":' * 200 + "1" + "}" * 200))},
                       "nests more than"),
    "missing-estimates-group": ("draws", {"drop": "hiddenrate_estimates"}, "hiddenrate_estimates/overall__draws: is missing"),
    "levels-text": ("point", {"edit": _set(["levels"], "0.95")}, "levels: is str"),
    "levels-out-of-range": ("draws", {"edit": _set(["levels"], [0.8, 1.5])}, "levels[1]"),
    "levels-empty": ("draws", {"edit": _set(["levels"], [])}, "levels: is empty"),
    "distribution-kind": ("point", {"edit": _set(["estimates", "overall", "distribution", "kind"], "gamma")},
                          "estimates.overall.distribution.kind"),
    "no-overall": ("point", {"edit": _delete(["estimates", "overall"])}, "no 'overall'"),
    "stratum-key": ("draws", {"edit": lambda d: d["estimates"].update({"stratumX": d["estimates"]["stratum0"]})},
                    "estimates.stratumX"),
    "observed-text": ("point", {"edit": _set(["estimates", "overall", "observed"], "350")}, "observed"),
    "nan-in-json": ("point", {"meta": '{"levels": NaN}'}, "NaN"),
    "interval-kind": ("draws", {"edit": _set(["interval_kind"], "widest")}, "interval_kind"),
    "newer-format": ("point", {"attrs": {"hiddenrate_format": 99}}, "newer hiddenrate"),
    "no-format": ("point", {"attrs": {"hiddenrate_format": None}}, "hiddenrate_format: is missing"),
    "grid-pmf-negative": ("grid", {"edit": _set(["estimates", "overall", "distribution", "tail_mass"], -1)},
                          "tail_mass"),
    "table-of-wrong-shape": ("point", {"edit": _set(["extra"], {"tables": [{"columns": 3, "rows": "x"}]})}, ""),
    "interval-not-a-pair": ("point", {"edit": _set(["estimates", "overall", "distribution", "intervals"], [[0.95, 3]])},
                            "intervals[0]"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_damaged_result_is_one_line_exit_2(run_cli, saved, tmp_path, case):
    base, how, fragment = CASES[case]
    path = _damaged(saved[base], tmp_path / "damaged.nc", **how)
    before = path.read_bytes()
    for command in (["report", path, "--format", "text"], ["claim", path, "--value", "700"]):
        result = run_cli(*command)
        if result.exit_code == 0:  # the renderers ignore what they do not recognise: allowed, not a crash
            assert case == "table-of-wrong-shape", result.stdout
            continue
        assert result.exit_code == 2, (case, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"hiddenrate: error: {path}: "), lines
        assert fragment in lines[0], (fragment, lines[0])
    assert path.read_bytes() == before


@pytest.mark.parametrize("sealed", [True, False], ids=["sealed", "saved-before-the-seal"])
def test_an_edit_after_saving_is_caught_by_the_checksum(run_cli, saved, tmp_path, sealed):
    """A number edited with HDF5's own tools: the whole-file seal refuses it before HDF5 opens the
    file; in a file saved before the seal existed, the checksum of the estimates does."""
    path = tmp_path / "edited.nc"
    if sealed:
        shutil.copyfile(saved["draws"], path)
    else:
        _unsealed_copy(saved["draws"], path)
    with h5py.File(path, "r+") as handle:
        draws = handle["hiddenrate_estimates/overall__draws"]
        draws[0] = draws[0] * 10  # a plausible number, silently wrong without the checksum
    result = run_cli("report", path, "--format", "text")
    expected = "the file's checksum does not match" if sealed else "hiddenrate_sha256: does not match the content"
    assert result.exit_code == 2 and expected in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_damaged_checksum_block_is_refused(run_cli, saved, tmp_path):
    """The block itself damaged (its first bytes, or its digest) is refused, never read past."""
    data = saved["point"].read_bytes()
    for i, change in enumerate([b"X" + data[1:], data[:30] + b"z" + data[31:]]):
        path = tmp_path / f"b{i}.nc"
        path.write_bytes(change)
        result = run_cli("report", path, "--format", "text")
        assert result.exit_code == 2 and "damaged" in result.stderr, result.stderr


@pytest.mark.parametrize("content", [b"", b"police,ngo\n1,0\n", b"\x89HDF\r\n\x1a\n" + b"\0" * 100])
def test_not_a_netcdf_file(run_cli, tmp_path, content):
    path = tmp_path / "r.nc"
    path.write_bytes(content)
    result = run_cli("report", path)
    assert result.exit_code == 2 and "not a netCDF file written by hiddenrate" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.99])
def test_truncated_file(run_cli, saved, tmp_path, fraction):
    data = saved["draws"].read_bytes()
    path = tmp_path / "r.nc"
    path.write_bytes(data[: int(len(data) * fraction)])
    result = run_cli("claim", path, "--value", "700")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr


# ----------------------------------------------------------------------------- property tests


def _parts(path: Path) -> dict[str, Any]:
    """The parts :func:`result_from` reads, held in memory."""
    data = result_io._read(path)
    store = data[result_io._ESTIMATES].load() if result_io._ESTIMATES in data.groups() else None
    return {"meta": json.loads(data.attrs["hiddenrate_result"]), "version": data.attrs["hiddenrate_format"],
            "store": store, "idata": data if "posterior" in data.groups() else None}


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path in a JSON document."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


@pytest.fixture(scope="module")
def parts(saved) -> dict[str, dict[str, Any]]:
    out = {name: _parts(path) for name, path in saved.items()}
    for item in out.values():
        item["paths"] = _paths(item["meta"])
    return out


def _show(meta_text: Any, version: Any, store: Any, idata: Any) -> str:
    """What `report` and `claim` do with a loaded result, in memory: 'shown' or 'refused'.
    Anything but a HiddenrateError escaping is a bug (a traceback for the user)."""
    try:
        with saved_result("r.nc"):
            try:
                result = result_io.result_from(meta_text, version, store, idata)
            except SchemaError as err:
                raise DataError(f"r.nc: {err}") from None
            for fmt in ("text", "json", "csv"):
                render(result, fmt)
            check_claim(result, 700.0, direction="at least")
    except HiddenrateError:
        return "refused"
    return "shown"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
PROPERTY = settings(max_examples=700, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@PROPERTY
@given(base=st.sampled_from(["point", "draws", "grid"]), data=st.data())
def test_mutated_metadata_never_crashes(parts, base, data):
    """Replace, delete or add one to three values anywhere in the metadata."""
    item = parts[base]
    meta = copy.deepcopy(item["meta"])
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(item["paths"]))
        try:
            node = meta
            for key in path[:-1]:
                node = node[key]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if not path:
            meta = data.draw(JSON)
        elif action == "replace" or (action == "delete" and isinstance(node, list)):
            present = path[-1] in node if isinstance(node, dict) else (
                isinstance(node, list) and isinstance(path[-1], int) and path[-1] < len(node))
            if present:
                node[path[-1]] = data.draw(JSON)
        elif action == "delete" and isinstance(node, dict):
            node.pop(path[-1], None)
        elif isinstance(node, dict):
            node[data.draw(st.text(max_size=6))] = data.draw(JSON)
    _show(json.dumps(meta), item["version"], item["store"], item["idata"])


@settings(PROPERTY, max_examples=250)
@given(base=st.sampled_from(["point", "draws", "grid"]), data=st.data())
def test_mutated_metadata_text_never_crashes(parts, base, data):
    """Truncate the JSON text, or insert or overwrite characters (brackets, quotes, digits)."""
    text = json.dumps(parts[base]["meta"])
    position = data.draw(st.integers(0, len(text)))
    piece = data.draw(st.text(alphabet='[]{}",:0123456789.eE-+ntrufalsNI\\\x00é', max_size=12))
    action = data.draw(st.sampled_from(["truncate", "insert", "overwrite"]))
    if action == "truncate":
        text = text[:position]
    elif action == "insert":
        text = text[:position] + piece + text[position:]
    else:
        text = text[:position] + piece + text[position + len(piece):]
    item = parts[base]
    _show(text, item["version"], item["store"], item["idata"])


@settings(PROPERTY, max_examples=120)
@given(base=st.sampled_from(["draws", "grid"]), data=st.data())
def test_mutated_arrays_never_crash(parts, base, data):
    """An estimates array dropped, emptied, reshaped, made non-numeric or given NaN/inf."""
    item = parts[base]
    store = item["store"].copy()
    name = data.draw(st.sampled_from(sorted(store.data_vars)))
    change = data.draw(st.sampled_from(["drop", "empty", "2d", "text", "nan", "inf", "negative", "huge"]))
    values = np.asarray(store[name].values, dtype=float)
    if change == "drop":
        store = store.drop_vars(name)
    else:
        with np.errstate(over="ignore"):
            new = {"empty": lambda: values[:0], "2d": lambda: values.reshape(1, -1), "text": lambda: values.astype(str),
                   "nan": lambda: np.where(np.arange(values.size) == 0, np.nan, values),
                   "inf": lambda: values + np.inf, "negative": lambda: -values,
                   "huge": lambda: values * 1e308}[change]()
        dims = (f"{name}_a", f"{name}_b") if new.ndim == 2 else (f"{name}_new",)
        store = store.drop_vars(name).assign({name: (dims, new)})
    _show(json.dumps(item["meta"]), item["version"], store, item["idata"])


@settings(PROPERTY, max_examples=60)
@given(version=st.none() | st.integers() | st.text(max_size=5) | st.floats() | st.booleans())
def test_mutated_format_number_never_crashes(parts, version):
    item = parts["point"]
    outcome = _show(json.dumps(item["meta"]), version, item["store"], item["idata"])
    assert outcome == ("shown" if version == 1 and not isinstance(version, (bool, float)) else "refused")


def test_byte_level_mutations_of_a_real_file(run_cli, saved, tmp_path):
    """36 byte-level mutations of a small saved file (seeded): each is reported unchanged (bytes
    no reader uses: the zero padding of the checksum block) or refused in one line with exit 2,
    before HDF5 reads the file (one of these mutations made HDF5 loop for ever before the whole-file
    checksum of hiddenrate.result.seal)."""
    data = saved["point"].read_bytes()
    rng = np.random.default_rng(22)
    outcomes = {0: 0, 2: 0}
    for i in range(36):
        mutated = bytearray(data)
        if i < 12:  # overwrite a run of bytes with random ones
            start = int(rng.integers(0, len(data) - 64))
            mutated[start:start + 64] = rng.integers(0, 256, 64, dtype=np.uint8).tobytes()
        elif i < 24:  # flip single bits
            for at in rng.integers(0, len(data), 8):
                mutated[at] ^= 1 << int(rng.integers(0, 8))
        else:  # zero a block
            start = int(rng.integers(0, len(data) - 512))
            mutated[start:start + 512] = bytes(512)
        path = tmp_path / f"m{i}.nc"
        path.write_bytes(bytes(mutated))
        result = run_cli("report", path, "--format", "text")
        assert result.exit_code in (0, 2), (i, result.stderr)
        if result.exit_code == 2:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith(f"hiddenrate: error: {path}: "), (i, lines)
        outcomes[result.exit_code] += 1
    assert outcomes[2] > 0
