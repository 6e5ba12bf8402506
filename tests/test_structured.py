from __future__ import annotations

import pytest

from bot.context import Context
from bot.core import Core
from bot.model import Answer


def ids(answer: Answer) -> list[str]:
    return [c.id for c in answer.citations]


def directive(core: Core, chunk_id: str, verb: str) -> tuple[str, str, frozenset[str]]:
    d = next(d for d in core.structure.directives if d.chunk_id == chunk_id and d.verb == verb)
    return d.addressee, d.action, d.concepts


def test_op22_directive(core: Core) -> None:
    addressee, action, concepts = directive(core, "OP22", "Requests")
    assert addressee == "the Secretary-General" and concepts == {"@sg"}
    assert action.startswith("to submit a report on the implementation of the present resolution")
    assert "seventy-fourth session" in action


def test_shared_action_and_qualifiers(core: Core) -> None:
    _, urges_action, urges_concepts = directive(core, "OP2", "Urges")
    invites_action = directive(core, "OP2", "Invites")[1]
    assert urges_action == invites_action and urges_action.startswith("to continue to contribute")
    assert "@gpa" not in urges_concepts and "@memberstates" in urges_concepts
    assert directive(core, "OP10", "Requests")[0] == "the United Nations Office on Drugs and Crime"
    assert directive(core, "OP10", "Requests")[2] == {"@unodc"}  # "as coordinator of ICAT" is a qualifier


def test_secretary_general_tasks(core: Core) -> None:
    answer = core.answer("What is the Secretary-General asked to do?")
    assert answer.found and answer.kind == "task" and ids(answer) == ["OP7", "OP22"]
    assert all(i.group == "Requests" for i in answer.items)
    assert answer.items[1].text.startswith("Requests the Secretary-General to submit a report")


def test_member_states_called_upon(core: Core) -> None:
    answer = core.answer("What are Member States called upon to do?")
    assert set(ids(answer)) == {"OP1", "OP2", "OP14", "OP16", "OP18"}
    assert {i.group for i in answer.items} == {"Urges / calls upon"}


def test_groups_are_ordered_by_strength(core: Core) -> None:
    answer = core.answer("what is UNODC asked to do?")
    groups = [i.group for i in answer.items]
    assert groups == sorted(groups, key=["Requests", "Urges / calls upon", "Encourages / invites"].index)
    assert set(ids(answer)) == {"OP8", "OP10", "OP13", "OP19", "OP20"}


@pytest.mark.parametrize("question", ["What is ICAT asked to do?", "what is the coordination group requested to do"])
def test_icat_aliases(core: Core, question: str) -> None:
    assert ids(core.answer(question)) == ["OP12"]


@pytest.mark.parametrize("question", ["what does the resolution want from ICAT", "ICAT's tasks",
                                      "what must the coordination group do", "what is expected from ICAT",
                                      "what does it want ICAT to do", "what has ICAT been asked to do"])
def test_addressee_questions_in_any_phrasing_reach_who_is_asked_what(core: Core, question: str) -> None:
    answer = core.answer(question)
    assert answer.kind == "task" and ids(answer) == ["OP12"]


def test_who_is_invited_to_contribute(core: Core) -> None:
    answer = core.answer("Who is invited to make voluntary contributions?")
    assert answer.found and set(ids(answer)) == {"OP7", "OP13"}
    assert any("Member States" in i.text for i in answer.items)
    # each item says what its addressee is asked to do, not only who
    assert any("to the Office" in i.text for i in answer.items)


def test_who_is_asked_items_carry_the_action(core: Core) -> None:
    answer = core.answer("who should develop trafficking indicators and common methods for collecting data")
    assert answer.kind == "task" and "Chief Statisticians" in answer.items[0].text


def test_unaddressed_entity_falls_back_to_retrieval(core: Core) -> None:
    answer = core.answer("what is the World Bank asked to do?")
    assert answer.kind != "task" and ids(answer)[:1] == ["PP15"]


def test_preamble_families(core: Core) -> None:
    recalled = core.answer("which instruments does the resolution recall?")
    assert {"PP4", "PP5", "PP7", "PP9", "PP10", "PP11"} <= set(ids(recalled))
    welcomed = core.answer("what does it welcome?")
    assert set(ids(welcomed)) == {"PP12", "PP14", "PP26", "OP9", "OP21"}
    op9 = next(i for i in welcomed.items if i.cite == "OP9")
    assert op9.text.startswith("the participation of the Organization for Security and Cooperation in Europe")
    noted = core.answer("what does the resolution take note of?")
    assert {"PP6", "PP13", "PP28", "PP29", "PP32", "PP33"} <= set(ids(noted))


def test_footnote_six_lists_and_links_its_resolutions(core: Core) -> None:
    answer = core.answer("What is footnote 6?")
    assert [i.text for i in answer.items] == ["55/67", "58/137", "59/166", "61/144", "63/156", "63/194"]
    assert answer.links["55/67"] == "https://undocs.org/A/RES/55/67"


def test_symbol_links_by_body(core: Core) -> None:
    links = core.structure.links
    assert links["64/293"] == "https://undocs.org/A/RES/64/293"
    assert links["2017/18"] == "https://undocs.org/E/RES/2017/18"
    assert links["32/3"] == "https://undocs.org/A/HRC/RES/32/3"
    assert links["A/71/119"] == "https://undocs.org/A/71/119"
    assert links["E/2002/68/Add.1"] == "https://undocs.org/E/2002/68/Add.1"


def test_recalled_resolutions_with_dates(core: Core) -> None:
    answer = core.answer("Which earlier resolutions on this topic are recalled?")
    texts = [i.text for i in answer.items]
    assert "General Assembly resolution 61/180 of 20 December 2006" in texts
    assert "Economic and Social Council resolution 2017/18 of 6 July 2017" in texts
    assert {"PP9", "FN6"} <= set(ids(answer))


def test_timeline(core: Core) -> None:
    everything = core.timeline()
    keys = [i.text.split(":")[0] for i in everything.items]
    assert keys[:3] == ["1930", "20 December 2006", "18 December 2009"]
    year = core.answer("what happened in 2014?")
    assert [i.cite for i in year.items] == ["OP19", "PP28", "PP29"]
    assert "(Bangkok)" in year.items[0].text
    assert not core.answer("what happened in 2001?").found


def test_follow_ups(core: Core) -> None:
    first = core.answer("when is World Day?")
    context = Context(last=first)
    full = core.answer("show the full paragraph", context)
    assert full.citations[0].quote == core.document.by_id["OP5"].text
    assert ids(core.answer("and paragraph 13?", context)) == ["OP13"]
    about = core.answer("what about the global report?", context)
    assert about.kind == "when" and "2018" in about.text
    tasks = core.answer("What is the Secretary-General asked to do?")
    assert set(ids(core.answer("what about UNODC?", Context(last=tasks)))) == {"OP8", "OP10", "OP13", "OP19", "OP20"}


def test_more_pages_through_related_paragraphs(core: Core) -> None:
    first = core.answer("what does it say about the internet?")
    more = core.answer("more", Context(last=first))
    assert more.kind == "more" and more.found
    assert not set(ids(more)) & {ids(first)[0]}
    again = core.answer("more", Context(last=more))
    assert not set(ids(again)) & set(ids(more))


def test_follow_up_without_context_is_a_plain_question(core: Core) -> None:
    assert core.answer("more").kind != "more"


def test_footnote_facts_follow_the_named_instrument(core: Core) -> None:
    palermo = core.answer("what's the treaty number of the palermo protocol")
    assert palermo.kind == "footnote" and ids(palermo)[0] == "FN3" and "2237" in palermo.text
    untoc = core.answer("treaty series volume of the organized crime convention")
    assert ids(untoc)[0] == "FN2" and "2225" in untoc.text
    report = core.answer("what is the symbol of the secretary-general's report?")
    assert ids(report) == ["FN12", "PP32"] and "A/71/119" in report.text
    assert report.links["A/71/119"] == "https://undocs.org/A/71/119"


def test_footnote_anchors(core: Core) -> None:
    anchors = dict(core.document.by_id["PP5"].anchors)
    assert anchors[2] == "Recalling the United Nations Convention against Transnational Organized Crime"
    assert anchors[5].startswith("and the Supplementary Convention on the Abolition of Slavery")
