"""Every usual name of every country, for yes/no questions about the States a text lists.

The table comes from the country_converter package (short and official names, ISO codes, UN
membership, regions and a name pattern per country), read as its data file with the standard
library: importing the package itself would pull in pandas (about a second). The project's own
aliases (content/countries.yaml) add names the table lacks ("America", "Holland").
"""

from __future__ import annotations

import csv
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from retrieval.yamltext import load_yaml

_NOISE = re.compile(r"^(?:the|a|an)\s+|[.,;:!?()\"“”]")
_UN_NAME = re.compile(r"^(?P<short>[^(]+?)\s*\((?P<qualifier>[^)]+)\)$")  # "Venezuela (Bolivarian Republic of)"
MAX_RESOLVED = 4096  # names remembered by Countries.resolve


@dataclass(frozen=True, slots=True)
class Country:
    """One country: ISO alpha-3 code, names, UN membership and where it lies."""

    iso3: str
    name: str
    official: str
    un_member: bool
    continent: str
    un_region: str


@dataclass(frozen=True, slots=True)
class Region:
    """A group of countries users name ("Latin American"), by continent or UN region."""

    name: str
    continents: frozenset[str]
    un_regions: frozenset[str]

    def holds(self, country: Country) -> bool:
        """True when ``country`` lies in this region."""
        return country.continent in self.continents or country.un_region in self.un_regions


def normalise_name(text: str) -> str:
    """Lowercase, no leading article or punctuation, single spaces."""
    text = " ".join(text.lower().replace("’", "'").split())
    return " ".join(_NOISE.sub("", text).split())


class Countries:
    """Resolves any usual name, code or alias of a country to one Country."""

    def __init__(self, rows: list[dict[str, str]], aliases: dict[str, str],
                 regions: dict[str, Region]) -> None:
        self.by_iso3: dict[str, Country] = {}
        self._exact: dict[str, str] = {}
        self._codes: dict[str, str] = {}  # "DE", "DEU": only as written, in capitals ("it" is not Italy)
        self._patterns: list[tuple[re.Pattern[str], str]] = []
        self._resolved: dict[str, Country | None] = {}  # names asked before: the patterns run once per name
        for row in rows:
            country = Country(row["ISO3"], row["name_short"], row["name_official"],
                              row.get("UNmember", "") not in ("", "nan"), row.get("continent", ""),
                              row.get("UNregion", ""))
            self.by_iso3[country.iso3] = country
            for name in (country.name, country.official):
                self._exact.setdefault(normalise_name(name), country.iso3)
            for code in (row["ISO3"], row["ISO2"]):
                self._codes[code] = country.iso3
            if row.get("regex"):
                self._patterns.append((re.compile(row["regex"], re.I), country.iso3))
        for alias, iso3 in aliases.items():
            self._exact[normalise_name(alias)] = iso3
        self.regions = regions

    def resolve(self, name: str) -> Country | None:
        """The country ``name`` refers to (name, official name, ISO code, alias or pattern), or None."""
        if name in self._resolved:
            return self._resolved[name]
        country = self._resolve(name)
        if len(self._resolved) < MAX_RESOLVED:
            self._resolved[name] = country
        return country

    def _resolve(self, name: str) -> Country | None:
        key = normalise_name(name)
        if not key:
            return None
        iso3 = self._exact.get(key) or self._codes.get(name.strip().strip(".?!"))
        if iso3 is None:
            m = _UN_NAME.match(key)  # the UN's own style: "Venezuela (Bolivarian Republic of)"
            iso3 = self._exact.get(m.group("short")) if m else None
        if iso3 is None:
            matches = {code for pattern, code in self._patterns if pattern.search(key)}
            iso3 = matches.pop() if len(matches) == 1 else None
        return self.by_iso3.get(iso3) if iso3 else None

    def region(self, text: str) -> Region | None:
        """The region a phrase names ("latin american"), longest name first, or None."""
        lower = normalise_name(text)
        for name in sorted(self.regions, key=len, reverse=True):
            if re.search(rf"\b{re.escape(name)}\b", lower):
                return self.regions[name]
        return None

    def un_members(self) -> list[Country]:
        """The 193 Member States of the United Nations."""
        return [c for c in self.by_iso3.values() if c.un_member]


def _table_path() -> Path:
    """The package's data file, found without importing the package (which imports pandas)."""
    spec = importlib.util.find_spec("country_converter")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the country_converter package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "country_data.tsv"


def _table_rows() -> list[dict[str, str]]:
    with _table_path().open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def load_countries(aliases_path: Path) -> Countries:
    """The country table plus the project's aliases and regions."""
    data = load_yaml(aliases_path.read_text(encoding="utf-8")) or {}
    aliases = {str(k): str(v) for k, v in (data.get("aliases") or {}).items()}
    regions = {str(k): Region(str(v["name"]), frozenset(v.get("continents") or ()),
                              frozenset(v.get("un_regions") or ()))
               for k, v in (data.get("regions") or {}).items()}
    return Countries(_table_rows(), aliases, regions)
