"""Titled names found by their shape (retrieval/names.py)."""

from __future__ import annotations

from retrieval.names import titled_names

HEADS = ["Declaration", "declaration", "Convention", "Protocol", "Committee", "Council", "meeting", "Fund", "process",
         "Organization", "resolution"]


def names(text: str) -> list[str]:
    return [n.text for n in titled_names(text, HEADS)]


def test_capitalised_words_before_and_connected_title_words_after_the_head() -> None:
    assert names("Welcoming the adoption of the New York Declaration for Refugees and Migrants at the meeting") == [
        "New York Declaration for Refugees and Migrants"]
    assert names("to work closely with the Committee of the Chief Statisticians of the United Nations System to "
                 "compile") == ["Committee of the Chief Statisticians of the United Nations System"]


def test_a_year_and_number_after_a_comma_belong_to_the_name_but_a_new_clause_does_not() -> None:
    found = names("the Protocol of 2014 to the Forced Labour Convention, 1930 (No. 29), of the International Labour "
                  "Organization, which recognizes")
    assert found == ["Protocol of 2014 to the Forced Labour Convention, 1930 (No. 29)",
                     "Forced Labour Convention, 1930 (No. 29)", "International Labour Organization"]


def test_and_the_starts_the_next_name() -> None:
    found = names("the United Nations Convention against Transnational Organized Crime and the Protocol to Prevent, "
                  "Suppress and Punish Trafficking in Persons, Especially Women and Children, supplementing it")
    assert found == ["United Nations Convention against Transnational Organized Crime",
                     "Protocol to Prevent, Suppress and Punish Trafficking in Persons, Especially Women and Children"]


def test_lowercase_heads_take_modifiers_back_to_the_article_and_a_short_tail_after_on() -> None:
    found = names("Notes the second consultative meeting on strengthening partnerships with national rapporteurs, held")
    assert found == ["second consultative meeting on strengthening partnerships with national rapporteurs"]
    assert names("Taking note of the Khartoum process and its Declaration adopted") == ["Khartoum process"]


def test_conjoined_title_words_before_the_head_and_months_after_a_connector() -> None:
    assert names("Recalling also Economic and Social Council resolution 2017/18 of 6 July 2017, and") == [
        "Economic and Social Council", "Economic and Social Council resolution 2017/18 of 6 July 2017"]
    assert names("hosted by the Coordination Committee in March 2017") == ["Coordination Committee"]


def test_a_bare_head_word_is_not_a_name() -> None:
    assert names("the Declaration adopted there and a fund") == []
