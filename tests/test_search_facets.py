"""Facet counts (Searcher.search(..., facets=True)): matched pages per code system and per section,
checked against the totals of the filtered searches they stand for."""

from __future__ import annotations

import pytest

from procsearch.search.filters import FilterError, resolve_section, resolve_system, section_label
from search_fixtures import bundled_index, searcher  # noqa: F401 - fixtures


def counts(facets) -> tuple[dict[str, int], dict[str, int]]:
    return ({c.value: c.count for c in facets.code_systems}, {c.value: c.count for c in facets.sections})


@pytest.mark.parametrize("query", ["spinal headache after epidural", "infection", "knee replacement",
                                   "biopsy", "62273", "622*", '"blood patch" OR colonoscopy'])
def test_system_counts_add_up_to_the_pages_matched(searcher, query: str) -> None:
    results = searcher.search(query, facets=True)
    systems, _ = counts(results.facets)
    assert results.matched >= results.total > 0
    assert sum(systems.values()) == results.matched


@pytest.mark.parametrize("query", ["spinal headache after epidural", "infection", "colonoscopy"])
def test_a_system_count_is_the_total_of_that_filter(searcher, query: str) -> None:
    systems, _ = counts(searcher.search(query, facets=True).facets)
    assert len(systems) >= 2, systems  # the bundled corpus spreads these over several systems
    for system, n in systems.items():
        filtered = searcher.search(query, code_system=system, facets=True)
        assert filtered.matched == n, system
        # The system facet ignores its own filter: the other systems stay on offer.
        assert counts(filtered.facets)[0] == systems


@pytest.mark.parametrize("word", ["infection", "anesthesia", "biopsy"])
def test_a_section_count_is_the_total_of_that_section(searcher, word: str) -> None:
    _, sections = counts(searcher.search(word, expand=False, facets=True).facets)
    assert sections, word
    for key, n in sections.items():
        assert searcher.search(word, expand=False, sections=[key]).matched == n, key


def test_sections_are_labelled_and_largest_first(searcher) -> None:
    facets = searcher.search("infection", facets=True).facets
    values = [c.count for c in facets.sections]
    assert values == sorted(values, reverse=True)
    assert all(c.label == section_label(c.value) for c in facets.sections)


def test_a_scoped_search_counts_only_its_section(searcher) -> None:
    facets = searcher.search("infection", sections=["risks"], facets=True).facets
    assert [c.value for c in facets.sections] == ["risks"]
    assert facets.sections[0].label == "Risks and Complications"


def test_no_match_no_facets(searcher) -> None:
    facets = searcher.search("zzzzqqq", facets=True).facets
    assert facets.code_systems == () and facets.sections == ()


def test_facets_only_when_asked(searcher) -> None:
    assert searcher.search("infection").facets is None


@pytest.mark.parametrize("spelling, system", [("cpt", "CPT"), ("ICD-10-PCS", "ICD-10-PCS"), ("pcs", "ICD-10-PCS"),
                                              ("hcpcs", "HCPCS")])
def test_system_spellings(spelling: str, system: str) -> None:
    assert resolve_system(spelling) == system


@pytest.mark.parametrize("spelling, key", [("risks", "risks"), ("Risks and Complications", "risks"),
                                           ("complications", "risks"), ("How it is done", "procedure"),
                                           ("Other sections", "other"), ("Patient Experience", "experience")])
def test_section_spellings(spelling: str, key: str) -> None:
    assert resolve_section(spelling) == key


@pytest.mark.parametrize("bad, resolve, listed", [("ICD-11", resolve_system, "ICD-10-PCS"),
                                                  ("bogus", resolve_section, "recovery")])
def test_unknown_filters_name_the_accepted_ones(bad: str, resolve, listed: str) -> None:
    with pytest.raises(FilterError) as info:
        resolve(bad)
    assert bad in str(info.value) and listed in str(info.value) and "\n" not in str(info.value)
