"""Synthetic person records on several sources, with the errors real files have, and the truth kept aside.

``simulate_records`` draws N people (name, sex, birth date, place, a partial ID), puts each on
each source independently with that source's capture probability, and writes one record per
appearance (plus, at ``duplicate`` rate, a second record of the same person on the same source).
Every record then gets, independently and at the rates in :class:`RecordErrors`: typos in the
names (one character deleted, inserted, replaced or two swapped), first and last name swapped, a
working name (alias) instead of the first name, the birth year off by one, and each field missing.
The incident date is drawn per record. Names come from the small built-in lists below; every
record is invented (docs/methods.md, "Simulated records").
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hiddenrate.core.exceptions import DataError

FIRST_FEMALE = ["Maria", "Anna", "Elena", "Olga", "Irina", "Natalia", "Svetlana", "Ana", "Ioana", "Daniela", "Andreea", "Mihaela", "Alina", "Adriana", "Gabriela", "Lucia", "Carmen", "Rosa", "Sofia", "Laura", "Julia", "Eva", "Katarina", "Petra", "Jana", "Martina", "Monika", "Agnieszka", "Katarzyna", "Magdalena", "Joanna", "Ewa", "Aisha", "Fatima", "Amina", "Grace", "Joy", "Blessing", "Precious", "Mercy", "Faith", "Hope", "Esther", "Ruth", "Linh", "Thi", "Mai", "Hoa", "Lan", "Nguyet", "Ying", "Mei", "Li", "Xiu", "Nadia", "Samira", "Leila", "Yasmin", "Tatiana", "Oksana", "Yulia", "Daria", "Alexandra", "Victoria"]
FIRST_MALE = ["Ion", "Andrei", "Mihai", "Alexandru", "Stefan", "Adrian", "Daniel", "Marian", "Florin", "Bogdan", "Piotr", "Tomasz", "Pawel", "Marek", "Jan", "Ivan", "Sergei", "Dmitri", "Oleg", "Pavel", "Mohammed", "Ahmed", "Ali", "Omar", "Hassan", "Samuel", "David", "Joseph", "Emmanuel", "Chinedu", "Tuan", "Minh", "Duc", "Wei", "Jun", "Lucas", "Mateo", "Carlos", "Jose", "Luis", "Miguel", "Juan", "Pedro"]
SURNAMES = ["Popescu", "Ionescu", "Popa", "Dumitru", "Stan", "Stoica", "Gheorghe", "Matei", "Ciobanu", "Rusu", "Munteanu", "Nowak", "Kowalski", "Wisniewski", "Wojcik", "Kaminski", "Lewandowski", "Zielinski", "Szymanski", "Ivanova", "Petrova", "Smirnova", "Kuznetsova", "Popova", "Sokolova", "Novak", "Horvat", "Kovac", "Babic", "Nagy", "Toth", "Szabo", "Kiss", "Molnar", "Okafor", "Okonkwo", "Adeyemi", "Eze", "Mensah", "Owusu", "Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Chen", "Wang", "Zhang", "Liu", "Garcia", "Rodriguez", "Martinez", "Lopez", "Gonzalez", "Perez", "Sanchez", "Ramirez", "Torres", "Flores", "Silva", "Santos", "Oliveira", "Costa", "Pereira", "Ferreira", "Ahmed", "Khan", "Hussain", "Ali", "Rahman", "Begum", "Shah", "Demir", "Yilmaz", "Kaya", "Celik", "Sahin", "Murphy", "Kelly", "Byrne", "Walsh", "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans"]
ALIASES = ["Angel", "Bella", "Candy", "Diamond", "Honey", "Jade", "Kitty", "Lola", "Roxy", "Ruby", "Star", "Sugar", "Summer", "Vicky", "Crystal", "Destiny"]
PLACES = ("North", "Central", "East", "West", "South", "Harbour", "Riverside", "Hillside", "Old Town", "New Town",
          "Station", "Market", "Airport", "Docklands", "Parkside")

#: the columns of a simulated record, in order
RECORD_COLUMNS = ("record_id", "first_name", "last_name", "sex", "birth_date", "place", "incident_date",
                  "id_fragment")
LETTERS = "abcdefghijklmnopqrstuvwxyz"
INCIDENTS_FROM = datetime.date(2024, 1, 1)


@dataclass(frozen=True)
class RecordErrors:
    """Rates (per record) of each kind of error; the defaults are the ones the tests state."""

    typo: float = 0.05          # per name field: one character deleted, inserted, replaced or transposed
    swap: float = 0.02          # first and last name exchanged
    alias: float = 0.02         # a working name instead of the first name
    year_off: float = 0.03      # birth year one too high or too low
    missing: float = 0.05       # per field (except the record id): left empty
    duplicate: float = 0.05     # a second record of the same person on the same source
    no_id: float = 0.5          # the partial ID not recorded at all (most sources do not ask)

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not 0 <= value <= 1:
                raise DataError(f"the {name.replace('_', ' ')} rate must be between 0 and 1, got {value}")


def _typo(word: str, rng: np.random.Generator) -> str:
    if len(word) < 2:
        return word
    i = int(rng.integers(len(word) - 1))
    kind = int(rng.integers(4))
    letter = LETTERS[int(rng.integers(26))]
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + letter + word[i:]
    if kind == 2:
        return word[:i] + letter + word[i + 1:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def simulate_people(total: int, rng: np.random.Generator) -> pd.DataFrame:
    """``total`` invented people: person_id, first and last name, sex, birth date, place, an 8-digit ID (records keep its last 4 digits)."""
    female = rng.random(total) < 0.8
    first = np.where(female, rng.choice(FIRST_FEMALE, total), rng.choice(FIRST_MALE, total))
    return pd.DataFrame({
        "person_id": np.arange(1, total + 1),
        "first_name": first,
        "last_name": rng.choice(SURNAMES, total),
        "sex": np.where(female, "F", "M"),
        "birth_date": pd.Timestamp("1960-01-01") + pd.to_timedelta(rng.integers(0, 48 * 365, total), unit="D"),
        "place": rng.choice(PLACES, total),
        "id_number": [f"{x:08d}" for x in rng.integers(0, 10**8, total)],
    })


def _record(person: Mapping[Any, Any], errors: RecordErrors, rng: np.random.Generator) -> dict[str, object]:
    first, last = str(person["first_name"]), str(person["last_name"])
    if rng.random() < errors.alias:
        first = str(rng.choice(ALIASES))
    if rng.random() < errors.typo:
        first = _typo(first, rng)
    if rng.random() < errors.typo:
        last = _typo(last, rng)
    if rng.random() < errors.swap:
        first, last = last, first
    born = person["birth_date"]
    if rng.random() < errors.year_off:
        born = born.replace(year=born.year + int(rng.choice([-1, 1])), day=min(born.day, 28))
    day = INCIDENTS_FROM + datetime.timedelta(days=int(rng.integers(0, 366)))
    record: dict[str, object] = {
        "first_name": first, "last_name": last, "sex": person["sex"], "birth_date": born.strftime("%Y-%m-%d"),
        "place": person["place"], "incident_date": day.strftime("%Y-%m-%d"),
        "id_fragment": None if rng.random() < errors.no_id else str(person["id_number"])[-4:],
    }
    for field in record:
        if rng.random() < errors.missing:
            record[field] = None
    return record


def simulate_records(total: int, capture: Sequence[float], *, errors: RecordErrors | None = None,
                     seed: int = 1, names: Sequence[str] | None = None) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Records of ``total`` people on ``len(capture)`` sources (independent captures), and the truth.

    Returns
    -------
    (sources, truth)
        ``sources`` maps a source name to its records (columns :data:`RECORD_COLUMNS`); ``truth``
        has one row per record: ``source``, ``record_id``, ``person_id``.
    """
    errors = errors or RecordErrors()
    if total < 1:
        raise DataError("simulate at least one person")
    if len(capture) < 2 or not all(0 < p <= 1 for p in capture):
        raise DataError("give a capture probability in (0, 1] for each of at least two sources")
    names = list(names) if names is not None else [f"source{j + 1}" for j in range(len(capture))]
    if len(names) != len(capture) or len(set(names)) != len(names):
        raise DataError(f"give {len(capture)} distinct source names")
    rng = np.random.default_rng(seed)
    people = simulate_people(total, rng)
    people["birth_date"] = [d.date() for d in people["birth_date"]]
    sources: dict[str, pd.DataFrame] = {}
    truth = []
    for name, p in zip(names, capture, strict=True):
        caught = people[rng.random(total) < p]
        rows, ids = [], []
        for person in caught.to_dict("records"):
            copies = 2 if rng.random() < errors.duplicate else 1
            for _ in range(copies):
                rows.append(_record(person, errors, rng))
                ids.append(int(person["person_id"]))
        order = rng.permutation(len(rows))
        frame = pd.DataFrame([rows[i] for i in order], columns=RECORD_COLUMNS[1:])
        frame.insert(0, "record_id", [f"{name}-{i + 1}" for i in range(len(rows))])
        sources[name] = frame
        truth.append(pd.DataFrame({"source": name, "record_id": frame["record_id"],
                                   "person_id": [ids[i] for i in order]}))
    return sources, pd.concat(truth, ignore_index=True)


def true_list_counts(truth: pd.DataFrame, names: Sequence[str], total: int) -> dict[str, int]:
    """The true number of people on at least one source, and ``total`` (for the truth file)."""
    seen = truth["person_id"].nunique()
    return {"true_total": int(total), "observed_people": int(seen), "true_hidden": int(total - seen),
            "sources": len(names)}
