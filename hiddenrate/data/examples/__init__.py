"""Bundled example data sets, each with its source and what has been published about it.

``hiddenrate examples`` lists them; ``--example NAME`` runs a command on one. Every list data
set here is real, published data (the citation says where); none is invented. Examples built
on assumptions say which numbers are published and which are illustrative.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from hiddenrate.core.exceptions import DataError


@dataclass(frozen=True)
class Example:
    """One bundled data set.

    Attributes
    ----------
    name
        What to pass to ``--example``.
    command
        The command it is for (``lists``, ``reporting`` or ``trend``).
    filename
        File inside ``hiddenrate/data/examples/``.
    title
        What the data are.
    source
        Where they were published.
    published
        The published estimate(s), for comparison.
    status
        ``published data`` or ``illustrative`` (with what is assumed).
    """

    name: str
    command: str
    filename: str
    title: str
    source: str
    published: str
    status: str = "published data"
    #: what is counted when it is not people (the report then says "68 animals", not "68 people")
    unit: str | None = None

    def path(self) -> Path:
        """Path of the bundled file."""
        return Path(str(resources.files("hiddenrate.data.examples").joinpath(self.filename)))


EXAMPLES: dict[str, Example] = {
    e.name: e
    for e in [
        Example(
            "uk-2013",
            "lists",
            "lists/uk_modern_slavery_2013.csv",
            "Potential victims of modern slavery, UK 2013; 6 lists (LA local authorities, NG NGOs, PF police "
            "forces, GO government organisations, GP general public, NCA National Crime Agency); 2,744 people",
            "Home Office strategic assessment (2014); Silverman (2014); Bales, Hesketh & Silverman (2015), Significance",
            'Home Office: "between 10,000 and 13,000"; Silverman, Chan & Vincent (2024), model-selection-aware '
            "bootstrap: 12,350 [9,622, 27,889]",
        ),
        Example(
            "uk-2013-5lists",
            "lists",
            "lists/uk_modern_slavery_2013_5lists.csv",
            "The UK 2013 data with police forces and the National Crime Agency merged (5 lists)",
            "as uk-2013",
            "all-model BIC 25,311, BCa 95% [11,168, 56,052]; stepwise 11,313 (Chan, Silverman & Vincent 2021)",
        ),
        Example(
            "new-orleans",
            "lists",
            "lists/new_orleans_trafficking.csv",
            "Human trafficking victims, Greater New Orleans; 8 anonymised lists, 185 people; 18 of 28 pairs of "
            "lists never overlap",
            "Bales, Murphy & Silverman (2019)",
            "stepwise (D:E) 1,184, BCa 95% [717, 1,657] (Chan, Silverman & Vincent 2021, JASA)",
        ),
        Example(
            "new-orleans-5lists",
            "lists",
            "lists/new_orleans_trafficking_5lists.csv",
            "The New Orleans data with lists B, E, F, G merged (5 lists)",
            "as new-orleans",
            "main effects 1,034, BCa 95% [589, 1,703] (Chan, Silverman & Vincent 2021)",
        ),
        Example(
            "western-us",
            "lists",
            "lists/western_us_sex_trafficking.csv",
            "Sex-trafficking victims at a U.S. western site; 5 anonymised lists, 345 people",
            "Farrell et al. (2019), National Institute of Justice report",
            "stepwise (A:E) 2,483, BCa 95% [1,293, 3,670] (Chan, Silverman & Vincent 2021)",
        ),
        Example(
            "hiv-rome",
            "lists",
            "lists/hiv_rome.csv",
            "HIV-1 infections, Rome; 4 reporting centres, 1,896 people",
            "Abeni et al. (1994)",
            "Rcapture documentation: Mt + c1:c2 gives 12,308, profile 95% [10,266, 14,992]",
        ),
        Example(
            "lesbian-allegheny",
            "lists",
            "lists/lesbian_allegheny.csv",
            "Lesbian population, Allegheny County; 4 mailing lists, 2,185 people",
            "Aaron et al. (2003)",
            "Rcapture documentation: [12,13,14] + Darroch heterogeneity gives 7,016 [5,837, 8,559]",
        ),
        Example(
            "congenital-anomaly",
            "lists",
            "lists/congenital_anomaly_massachusetts.csv",
            "Congenital anomalies, Massachusetts; 5 sources, 537 cases (list order as in R's dga)",
            "Wittes et al. (1974); the 5-list example of Madigan & York (1997), Biometrika",
            "dga model averaging (delta = 2^-5): 618 [590, 656]",
        ),
        Example(
            "spina-bifida",
            "lists",
            "lists/spina_bifida_new_york.csv",
            "Spina bifida, upstate New York 1969-74; 3 lists (birth certificates, death certificates, medical "
            "rehabilitation), 626 cases",
            "Madigan & York (1997), 3-list example",
            "dga model averaging: 731 [691, 786]",
        ),
        Example(
            "artificial-sparse",
            "lists",
            "lists/artificial_sparse_3lists.csv",
            "An artificial 3-list table built so that some log-linear models have no MLE or are not identifiable "
            "(any model with A:B; all three two-way terms); 96 records",
            "Chan, Silverman & Vincent (2021), JASA",
            "an edge case: such models must be flagged, not estimated",
            status="artificial (constructed to test software, not real data)",
        ),
        Example(
            "snowshoe-hare",
            "lists",
            "lists/snowshoe_hare.csv",
            "Snowshoe hares, 6 trapping occasions, 68 animals (a time-ordered capture study, not lists)",
            "Cormack (1989)",
            "Rcapture Mth Poisson2: 80.1 [71.8, 93.8]",
            unit="animals",
        ),
        Example(
            "dutch-immigrants",
            "lists",
            "lists/illegal_immigrants_capture_counts.csv",
            "Illegal immigrants apprehended by police in 4 Dutch cities, 1995: number of people caught 1, 2, ... "
            "times (the nbcap,count format); 1,880 people",
            "van der Heijden et al. (2003)",
            "Rcapture Mh lower bound 9,267 [8,088, 10,704]; zero-truncated Poisson regression with covariates "
            "12,690 [8,431, 19,718]",
        ),
        Example(
            "vancouver",
            "reporting",
            "reporting/vancouver.csv",
            "Violent incidents against women sex workers, Metro Vancouver: 195 of 711 reported to police; "
            "100 police-recorded incidents",
            "AESHA cohort 2009-2017 (McBride et al.), as cited by Buwono, Runturambi & Daryanto; see examples/reporting.md",
            "reporting rate 27.4% (Wilson 95% [24.3%, 30.8%]); reference total for 100 recorded: 363 [296, 446]",
            status="published reporting rate (195/711); the 100 recorded incidents are illustrative",
        ),
        Example(
            "jakarta",
            "reporting",
            "reporting/jakarta.csv",
            "A Jakarta-style case: no crimes against sex workers recorded by the police in a year; the population "
            "route (population size x share victimised) carries the estimate",
            "Central Jakarta Metro Police, as reported by Buwono et al.; see examples/reporting.md",
            "the police recorded none (besides one trafficking case, not used)",
            status="published: zero recorded; illustrative assumptions: population 1,500-3,000, 40 of 150 victimised",
        ),
        Example(
            "two-sources",
            "reporting",
            "reporting/two_sources.csv",
            "Two multipliers for one population: police records (100, reporting 195/711) and an NGO caseload "
            "(140, contact rate 150/400)",
            "Vancouver reporting rate as above; see examples/reporting.md",
            "none (the NGO figures are invented to show the combination)",
            status="published police reporting rate; the counts and the NGO survey are illustrative",
        ),
        Example(
            "vancouver-trend",
            "trend",
            "trend/vancouver_trend.csv",
            "Violent incidents against women sex workers, Metro Vancouver 2009-2017: police-recorded incidents and "
            "the share reported to police, year by year, with the reporting share falling (as published) and the "
            "true incidence held constant at 400 a year",
            "AESHA cohort 2009-2017 (McBride et al.), as cited by Buwono, Runturambi & Daryanto; see examples/trend/README.md",
            "195 of 711 incidents reported to police over 2009-2017 (27.4%), the share trending down over the period; "
            "no yearly figures are published here",
            status="published: the 195/711 aggregate and the downward direction; illustrative: every yearly count "
                   "(surveys sum to 195/711; recorded = 400 x a reporting rate falling from 36% to 19%)",
        ),
        Example(
            "police-ngo-survey",
            "combine",
            "combine/police_ngo_survey.toml",
            "Matched police and NGO lists of violent incidents (the NGO refers clients to the police) with a survey of "
            "the police's reach: the survey measures the dependence the two lists cannot",
            "Vancouver reporting rate 195/711 (AESHA cohort, as cited by Buwono et al.); see examples/combine/combine.md",
            "none (no source publishes a police-NGO overlap); by construction about 1,000 incidents",
            status="ILLUSTRATIVE: published survey (195/711); the lists and their overlap are invented",
        ),
        Example(
            "police-ngo-counts",
            "combine",
            "combine/police_ngo_counts.toml",
            "Unlinked police and NGO counts, each with a survey of its reach, combined exactly",
            "Vancouver reporting rate 195/711 as above; see examples/combine/combine.md",
            "none (the counts and the NGO survey are invented)",
            status="ILLUSTRATIVE: published police reporting rate; the counts and the NGO survey are invented",
        ),
        Example(
            "synthetic-records",
            "link",
            "linkage/spec.toml",
            "Invented person records on three sources (police, NGO, shelter) with typos, working names, swapped "
            "names, missing values and duplicates, for `hiddenrate link`; 400 people",
            "none: generated by `hiddenrate simulate records` (seed 7); see examples/linkage/README.md",
            "none; the true total is 400 by construction",
            status="ILLUSTRATIVE: synthetic records, every person and name invented; the true total is 400",
        ),
    ]
}


def get_example(name: str) -> Example:
    """Look up an example by name.

    Raises
    ------
    DataError
        If there is no such example; the message lists the names.
    """
    if name not in EXAMPLES:
        raise DataError(f"no example named '{name}'; the examples are: {', '.join(EXAMPLES)}")
    return EXAMPLES[name]


__all__ = ["EXAMPLES", "Example", "get_example"]
