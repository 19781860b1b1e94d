"""Fellegi-Sunter linkage with splink: the model, its training, and the scored candidate pairs.

One table of every source's records is deduplicated as a whole (``dedupe_only``), which compares
records within a source and across sources alike. Candidate pairs come from blocking rules (pairs
that agree exactly on first and last name, on a name and the birth year, or on the ID fragment and
the birth year); the m and u probabilities are estimated without labels (u from random pairs, m by
EM), and every candidate pair gets a match weight and probability (docs/methods.md, "Record linkage").
splink and DuckDB load only inside :func:`score_pairs`.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hiddenrate.core.exceptions import DataError, EstimationError

#: pairs scored below this probability are dropped (treated as certain non-matches)
KEEP_ABOVE = 0.01
#: records sampled to train the model on large inputs (all of them below this)
EM_RECORDS = 200_000
#: random pairs for the u probabilities
U_PAIRS = 2_000_000
#: looser blocking rules are used while each adds at most this many pairs (or PAIRS_PER_RECORD per record)
PAIR_BUDGET = 1_000_000
PAIRS_PER_RECORD = 20
#: EM iterations when the first training failed (an m probability of a level no match shows shrinks
#: geometrically with the iterations until it underflows to 0, which splink refuses)
RETRY_ITERATIONS = 8
#: DuckDB's memory limit (it spills to disk beyond it)
DUCKDB_MEMORY = "3GB"
#: a-priori recall of the deterministic rule used to estimate the share of matching pairs
PRIOR_RECALL = 0.7
#: the link report's note when the model had to be trained on the reduced comparisons
REDUCED_NOTE = ("EM left a comparison level without matches; the model was trained without the levels "
                "Jaro-Winkler >= 0.92 (names) and same year / one year apart on another day (birth), "
                "without comparing sex, place and partial ID, and with 8 EM iterations")


#: the record's row in ``records``, carried through splink so that pairs come back as row numbers
ROW = "row_index"


@dataclass(frozen=True)
class ScoredPairs:
    """Candidate pairs with their match weight (log2 Bayes factor) and probability, ordered by the
    two records' unique ids (first, then second; splink puts the smaller id first)."""

    left: np.ndarray             # int32: row in ``records`` of each pair's first record
    right: np.ndarray            # int32: row of its second record
    match_weight: np.ndarray     # float64
    match_probability: np.ndarray  # float64
    prior_match: float           # estimated probability that two random records match
    parameters: dict[str, Any]   # m and u per comparison level, as splink reports them
    notes: tuple[str, ...] = ()  # what went wrong in training (said in the link report)


def _dice(column: str, at_least: float) -> str:
    both = f"bit_count({column}_l::BIT & {column}_r::BIT)"
    return f"2.0 * {both} / nullif({column}_n_l + {column}_n_r, 0) >= {at_least}"


def _comparisons(encoded: bool, reduced: bool = False) -> list[Any]:
    """The comparisons; ``reduced`` leaves out the levels that may hold no match in a small file
    (names: Jaro-Winkler >= 0.92; birth: same year or one year apart on another day; sex, place and
    partial ID, whose disagreement level is empty when no matched pair disagrees: they then serve
    only in blocking), used when EM fails on the full set."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    def names(field: str, other: str) -> Any:
        if encoded:
            levels = [cll.NullLevel(f"{field}_tok"), cll.ExactMatchLevel(f"{field}_tok"),
                      cll.CustomLevel(_dice(f"{field}_bf", 0.8), "Dice >= 0.8"),
                      cll.CustomLevel(_dice(f"{field}_bf", 0.6), "Dice >= 0.6"),
                      cll.CustomLevel(f"{field}_tok_l = {other}_tok_r", "matches the other name")]
        else:
            levels = [cll.NullLevel(field), cll.ExactMatchLevel(field), cll.DamerauLevenshteinLevel(field, 1),
                      *([] if reduced else [cll.JaroWinklerLevel(field, 0.92)]),
                      cll.JaroWinklerLevel(field, 0.8), cll.CustomLevel(f"{field}_l = {other}_r", "matches the other name")]
        return cl.CustomComparison([*levels, cll.ElseLevel()], output_column_name=field)

    suffix = "_tok" if encoded else ""
    if encoded:
        year_near = cll.CustomLevel(_dice("birth_year_bf", 0.6), "one year apart")
    else:
        year_near = cll.CustomLevel("abs(cast(birth_year_l as integer) - cast(birth_year_r as integer)) = 1",
                                    "one year apart")
    if encoded:
        day_same = "birth_monthday_tok_l = birth_monthday_tok_r"
    else:
        day_same = "substr(birth_date_l, 6, 5) = substr(birth_date_r, 6, 5)"
    near_same_day = cll.And(year_near, cll.CustomLevel(day_same))
    loose = [] if reduced else [cll.ExactMatchLevel(f"birth_year{suffix}"), year_near]
    year = cl.CustomComparison([cll.NullLevel(f"birth_year{suffix}"), cll.ExactMatchLevel(f"birth_date{suffix}"),
                                near_same_day, *loose, cll.ElseLevel()],
                               output_column_name="birth")
    exact = [] if reduced else [cl.ExactMatch(f"{name}{suffix}") for name in ("sex", "place", "id_fragment")]
    return [names("first_name", "last_name"), names("last_name", "first_name"), year, *exact]


def blocking_rules(encoded: bool) -> list[list[str]]:
    """Columns that candidate pairs agree on exactly (one list per rule; a pair is a candidate if
    any rule holds). These are always used; :func:`loose_rules` adds more where they are affordable."""
    s = "_tok" if encoded else ""
    initials = "initials_tok" if encoded else "concat(substr(first_name, 1, 1), substr(last_name, 1, 1))"
    return [[f"first_name{s}", f"last_name{s}"], [f"last_name{s}", f"birth_year{s}"],
            [f"first_name{s}", f"birth_year{s}"], [f"id_fragment{s}", f"birth_year{s}"],
            [initials, f"birth_year{s}"], [f"birth_date{s}"]]


def pair_count(records: pd.DataFrame, columns: list[str]) -> int:
    """Pairs of records that agree on every one of ``columns`` (none missing)."""
    sizes = records[columns].dropna().groupby(columns).size().to_numpy()
    return int((sizes * (sizes - 1) // 2).sum())


def loose_rules(records: pd.DataFrame, encoded: bool) -> list[list[str]]:
    """Looser rules (birth year with place and sex; the partial ID; a name with place and sex; a name
    with sex; a name), each kept only while the pairs it adds stay within
    ``max(PAIR_BUDGET, PAIRS_PER_RECORD x records)``: on small files they find the matches whose birth
    date or names are missing or misspelt; on large ones they would cost too much and are left out."""
    s = "_tok" if encoded else ""
    budget = max(PAIR_BUDGET, PAIRS_PER_RECORD * len(records))
    candidates = [[f"birth_year{s}", f"place{s}", f"sex{s}"], [f"id_fragment{s}"],
                  [f"first_name{s}", f"place{s}", f"sex{s}"], [f"last_name{s}", f"place{s}", f"sex{s}"],
                  [f"last_name{s}", f"sex{s}"], [f"first_name{s}", f"sex{s}"], [f"last_name{s}"], [f"first_name{s}"]]
    return [rule for rule in candidates if pair_count(records, rule) <= budget]


def _private_folder(prefix: str) -> str:
    """A new folder (mode 0700) under the system's temporary folder, removed when the process ends."""
    folder = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _spark_session() -> Any:
    """The active Spark session (``spark-submit`` chooses the cluster), or a new one without console
    progress bars. splink checkpoints tables, which needs a checkpoint folder: when the session has
    none (``spark.checkpoint.dir``), a private temporary folder, removed at exit -- on a cluster set
    one every executor can reach (docs/linkage.md)."""
    import warnings

    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DataError("backend = \"spark\" needs pyspark: pip install 'hiddenrate[spark]'") from None
    # pyspark warns on every pandas conversion that it does not yet support pandas 3; splink's
    # Spark path passes the records through pandas once (tests/test_linkage_spark.py)
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    from splink.backends.spark import similarity_jar_location

    session = SparkSession.getActiveSession()
    if session is None:  # splink's string similarities (Jaro-Winkler, Damerau-Levenshtein) are Scala UDFs
        # Spark writes an empty ./spark-warehouse (and metastore files) unless told otherwise
        warehouse = _private_folder("hiddenrate-spark-warehouse-")
        session = (SparkSession.builder.appName("hiddenrate link").config("spark.jars", similarity_jar_location())
                   .config("spark.sql.warehouse.dir", warehouse)
                   .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    context = session.sparkContext
    context.setLogLevel("ERROR")
    if context.getCheckpointDir() is None:
        context.setCheckpointDir(_private_folder("hiddenrate-spark-"))
    return session


def _database(backend: str) -> Any:
    if backend == "spark":
        from splink import SparkAPI

        return SparkAPI(spark_session=_spark_session())
    import duckdb
    from splink import DuckDBAPI

    # DuckDB spills to ./.tmp by default: records (names) would land beside the user's files. A private
    # folder (mode 0700) under the system's temporary folder instead, removed when the process ends.
    spill = _private_folder("hiddenrate-duckdb-")
    return DuckDBAPI(duckdb.connect(config={"memory_limit": DUCKDB_MEMORY, "temp_directory": spill}))


def _duckdb(db: Any) -> Any:
    """The connection holding a DuckDB database's tables; None on Spark (every splink database has a
    ``duckdb_con``, on Spark a helper connection that holds none of them)."""
    from splink import DuckDBAPI

    return db.duckdb_con if isinstance(db, DuckDBAPI) else None


def _close(db: Any) -> None:
    """Free a database's memory now: DuckDB's connection closed drops its tables and its hold on the
    frame registered in it (the linker's reference cycles would otherwise keep them until the
    garbage collector runs). A Spark session is left as it is."""
    connection = _duckdb(db)
    if connection is not None:
        connection.close()


def _linker(table: pd.DataFrame, settings: Any, backend: str) -> tuple[Any, Any]:
    """A splink Linker on ``table`` in a database of its own, and that database."""
    from splink import Linker

    db = _database(backend)
    return Linker(db.register(table), settings, log_level=logging.ERROR), db


def _train(table: pd.DataFrame, encoded: bool, seed: int, backend: str, reduced: bool,
           columns: list[list[str]]) -> tuple[Any, Any]:
    """A splink Linker trained on ``table`` (all records, or a sample of a large input: see
    :func:`score_pairs`), predicting with the blocking rules ``columns``, and its database; raises
    ValueError when EM drives an m probability to 0."""
    from splink import SettingsCreator, block_on

    rules: list[Any] = [block_on(*cols) for cols in columns]
    settings = SettingsCreator(link_type="dedupe_only", comparisons=_comparisons(encoded, reduced),
                               blocking_rules_to_generate_predictions=rules,
                               max_iterations=RETRY_ITERATIONS if reduced else 25,
                               retain_matching_columns=False, retain_intermediate_calculation_columns=False,
                               additional_columns_to_retain=[ROW])
    linker, db = _linker(table, settings, backend)
    s = "_tok" if encoded else ""
    try:
        linker.training.estimate_probability_two_random_records_match(
            [block_on(f"first_name{s}", f"last_name{s}", f"birth_year{s}")], recall=PRIOR_RECALL)
        linker.training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=seed)
        for rule in (block_on(f"first_name{s}", f"last_name{s}"), block_on(f"birth_date{s}")):
            linker.training.estimate_parameters_using_expectation_maximisation(rule, record_sample_proportion=1.0)
    except BaseException:
        _close(db)
        raise
    return linker, db


def _trained(table: pd.DataFrame, encoded: bool, seed: int, backend: str,
             columns: list[list[str]]) -> tuple[Any, Any, tuple[str, ...]]:
    """:func:`_train` on the full set of comparison levels, else (EM failed) on the reduced set;
    the linker, its database and the notes for the link report."""
    try:
        return (*_train(table, encoded, seed, backend, reduced=False, columns=columns), ())
    except ValueError:
        pass
    try:
        linker, db = _train(table, encoded, seed, backend, reduced=True, columns=columns)
    except ValueError:
        raise EstimationError("the linkage model could not be trained (EM left a comparison level without "
                              "matches); link more records at once or check the field mapping") from None
    return linker, db, (REDUCED_NOTE,)


def _training_records(records: pd.DataFrame, seed: int) -> pd.DataFrame:
    """All records, or on a large input a uniform sample of :data:`EM_RECORDS` of them.

    The model trained on a uniform sample of records is the model of the whole: the share of
    pairs that match (matching pairs and all pairs both shrink with the square of the sampling
    fraction), the u probabilities (random pairs) and the m probabilities (pairs that match) are
    the same in expectation. Sampling inside splink instead still blocked the whole table, and EM
    grew with it (docs in benchmarks/README.md, "Record linkage").
    """
    if len(records) <= EM_RECORDS:
        return records
    return records.sample(n=EM_RECORDS, random_state=seed).sort_index()


def _splink_input(records: pd.DataFrame) -> pd.DataFrame:
    """What splink reads: unique_id, the fields, and each record's row number (:data:`ROW`, carried
    into the pairs). Source and record id stay out: splink copies every column into its own table."""
    return records.drop(columns=["source", "record_id"]).assign(**{ROW: np.arange(len(records), dtype=np.int32)})


def _fetch(linker: Any, predictions: Any, db: Any) -> dict[str, np.ndarray]:
    """The four columns the pairs need (both rows, weight, probability), ordered by the two unique
    ids. On DuckDB they are sorted there and come out as numpy arrays; nothing else leaves it."""
    wanted = f"{ROW}_l, {ROW}_r, match_weight, match_probability"
    connection = _duckdb(db)
    if connection is not None:
        sql = f"select {wanted} from {predictions.physical_name} order by unique_id_l, unique_id_r"
        return dict(connection.sql(sql).fetchnumpy())
    # another backend: a table's row order is not kept through query_sql, so sort here
    frame = linker.misc.query_sql(f"select unique_id_l, unique_id_r, {wanted} from {predictions.physical_name}",
                                  output_type="pandas")
    frame = frame.sort_values(["unique_id_l", "unique_id_r"], ignore_index=True)
    return {name: frame[name].to_numpy() for name in frame.columns[2:]}


def score_pairs(records: pd.DataFrame, *, encoded: bool, seed: int, backend: str = "duckdb") -> ScoredPairs:
    """Train the Fellegi-Sunter model on ``records`` (from :func:`~hiddenrate.linkage.records.read_sources`)
    and score every candidate pair. When EM fails (a comparison level that no match shows drives its
    m probability to 0, which splink refuses), the model is trained again without the levels that
    small files leave empty, and the link report says so. On a large input the model is trained on a
    sample in one database, which is closed before a second one scores every record's pairs."""
    for name in ("splink", "duckdb"):
        logging.getLogger(name).setLevel(logging.ERROR)
    table = _splink_input(records)
    columns = [*blocking_rules(encoded), *loose_rules(table, encoded)]  # from all records: they decide the pairs
    training = _training_records(table, seed)
    sampled = training is not table
    linker, db, notes = _trained(training, encoded, seed, backend, columns)
    del training
    model = linker.misc.save_model_to_json()
    if sampled:
        _close(db)
        linker, db = _linker(table, model, backend)
    del table  # from here only the database reads it (and drops it when closed)
    try:
        predictions = linker.inference.predict(threshold_match_probability=KEEP_ABOVE)
        pairs = _fetch(linker, predictions, db)
    finally:
        _close(db)
    return ScoredPairs(np.asarray(pairs[f"{ROW}_l"], dtype=np.int32), np.asarray(pairs[f"{ROW}_r"], dtype=np.int32),
                       np.asarray(pairs["match_weight"], dtype=np.float64),
                       np.asarray(pairs["match_probability"], dtype=np.float64),
                       float(model.get("probability_two_random_records_match", float("nan"))),
                       {"comparisons": model.get("comparisons", [])}, notes)
