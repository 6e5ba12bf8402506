"""Every usual name of every Member State (retrieval.countries), and the sponsor yes/no built on it."""

from __future__ import annotations

import pytest

from bot.core import Core
from retrieval.countries import Countries, load_countries


@pytest.fixture(scope="module")
def countries(core: Core) -> Countries:
    return load_countries(core.config.path("countries"))


def test_the_table_holds_the_193_member_states(countries: Countries) -> None:
    assert len(countries.un_members()) == 193


@pytest.mark.parametrize(("name", "iso3"), [
    ("US", "USA"), ("the US", "USA"), ("USA", "USA"), ("America", "USA"), ("United States of America", "USA"),
    ("UK", "GBR"), ("Britain", "GBR"), ("Ivory Coast", "CIV"), ("Côte d'Ivoire", "CIV"), ("Russia", "RUS"),
    ("Syria", "SYR"), ("Venezuela (Bolivarian Republic of)", "VEN"), ("Niger", "NER"), ("Nigeria", "NGA"),
    ("Holland", "NLD"), ("North Korea", "PRK"), ("South Korea", "KOR"),
])
def test_usual_names_resolve(countries: Countries, name: str, iso3: str) -> None:
    found = countries.resolve(name)
    assert found is not None and found.iso3 == iso3


@pytest.mark.parametrize("name", ["it", "UNODC", "the draft", ""])
def test_words_that_are_no_country_do_not_resolve(countries: Countries, name: str) -> None:
    assert countries.resolve(name) is None


def test_every_member_state_is_a_sponsor_exactly_when_the_text_lists_it(core: Core, countries: Countries) -> None:
    sponsors = {c.iso3 for s in core.document.meta.sponsors if (c := countries.resolve(s)) is not None}
    assert len(sponsors) == len(core.document.meta.sponsors) == 16
    said_yes: set[str] = set()
    for state in countries.un_members():
        for name in {state.name, state.official}:
            answer = core.answer(f"Is {name} a sponsor?")
            assert answer.kind == "membership", name
            first = answer.text.split()[0]
            assert first in ("Yes", "No"), (name, answer.text)
            assert (first == "Yes") == (state.iso3 in sponsors), (name, answer.text)
            if first == "Yes":
                said_yes.add(state.iso3)
    assert said_yes == sponsors


def test_every_name_of_every_icat_member_is_a_yes_and_other_bodies_a_no(core: Core) -> None:
    icat = next(n for n in core.shapes.members.lists if n.id == "icat")
    assert len(icat.names) == 16
    glossary = core.glossary
    for token in icat.concepts:
        concept = glossary.concept_for_token(token)
        assert concept is not None
        for alias in concept.aliases:
            answer = core.answer(f"Is {alias} a member of ICAT?")
            assert answer.text.startswith("Yes"), (alias, answer.text)
    others = [c for c in glossary.concepts.values()
              if c.type in ("org", "body") and c.token not in icat.concepts and c.id != "icat"]
    assert others
    for concept in others:
        answer = core.answer(f"is {concept.aliases[0]} part of ICAT?")
        assert answer.text.startswith("No"), (concept.id, answer.text)
