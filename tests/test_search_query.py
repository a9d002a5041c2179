"""The query language: parser unit tests, then how the engine treats each construct on real indexes."""

from __future__ import annotations

from pathlib import Path

import pytest

from procsearch.index.analysis import terms
from procsearch.search.parse import (MAX_ATOMS, Bool, Code, CodePrefix, CodeRange, Not, ParsedQuery, Phrase, Seq, Word,
                          parse_query)
from procsearch.search.compiler import drop_excluded, flatten
from procsearch.search.searcher import Results, Searcher
from search_fixtures import bundled_index, build, codes, searcher, write_page  # noqa: F401  (fixtures)


def items(text: str) -> tuple:
    return parse_query(text).root.items


def leaves(node) -> list:
    if isinstance(node, (Seq, Bool)):
        return [x for n in node.items for x in leaves(n)]
    if isinstance(node, Not):
        return [node] + leaves(node.child)
    return [node]


# ==================================================================================================
# Parser
# ==================================================================================================

WEIRD = ['', ' ', '"', '""', '"""', '(', ')', ')(', '((((', '))))', 'AND', 'OR', 'NOT', 'NOT NOT', '&&', '||',
         '-', '--', '-"', '*', '**', ':', '::', 'risks:', ':knee', 'section:', 'system:', 'system:"', 'code:',
         'title:"', '622**', '0*', '*0', '62273-', '-62273', '62270-', '62270-6227', 'E11.', 'knee AND',
         'OR knee OR', 'NOT (', '("knee" OR (hip AND', '\x00', '\u200b\u200e', '\ud800', '🙂', '日本語 AND',
         'İ', 'ﬁ', '"\n"', 'a' * 3000, '(' * 50 + 'knee' + ')' * 50, 'NOT ' * 100 + 'knee',
         ' AND '.join(['knee'] * 200), '-' * 500, '"' * 501]


@pytest.mark.parametrize("text", WEIRD, ids=range(len(WEIRD)))
def test_parse_query_never_raises(text: str) -> None:
    parsed = parse_query(text)
    assert isinstance(parsed, ParsedQuery)
    assert isinstance(parsed.root, Seq)


def test_quoted_phrase() -> None:
    assert items('"spinal headache"') == (Phrase("spinal headache"),)
    assert items('epidural "blood patch" headache') == (Word("epidural"), Phrase("blood patch"), Word("headache"))


def test_unbalanced_quote_is_a_phrase_to_the_end() -> None:
    assert items('"spinal headache') == (Phrase("spinal headache"),)
    assert items('knee "') == (Word("knee"),)


def test_unbalanced_parentheses_degrade_to_words() -> None:
    parsed = items("knee (hip OR ankle")
    assert parsed[0] == Word("knee")
    assert isinstance(parsed[1], Bool) and parsed[1].op == "or"
    assert [w.text for w in leaves(parsed[1])] == ["hip", "ankle"]
    assert items("knee)") == (Word("knee"),)
    assert items(")(") == ()
    assert [w.text for w in leaves(parse_query("(knee)) replacement").root)] == ["knee", "replacement"]


@pytest.mark.parametrize("text", ["AND", "OR", "NOT", "OR OR", "AND OR NOT", "&&", "||", "NOT NOT", "( AND )"])
def test_lone_operators_are_dropped(text: str) -> None:
    assert items(text) == ()


@pytest.mark.parametrize("text", ["AND knee", "knee OR", "knee AND", "OR knee OR", "(knee", "knee NOT"])
def test_dangling_operators_leave_the_words(text: str) -> None:
    assert items(text) == (Word("knee"),)


def test_boolean_operators_and_precedence() -> None:
    root = items("a AND b OR c")[0]
    assert isinstance(root, Bool) and root.op == "or"
    assert isinstance(root.items[0], Bool) and root.items[0].op == "and"
    assert [w.text for w in leaves(root)] == ["a", "b", "c"]
    # operators are upper case only: a lower-case "or" is an ordinary (stop) word
    lower = leaves(parse_query("knee or hip").root)
    assert [w.text for w in lower] == ["knee", "or", "hip"] and all(isinstance(w, Word) for w in lower)


def test_not_and_minus_exclude() -> None:
    assert items("knee NOT hip") == (Word("knee"), Not(Word("hip")))
    assert items("-hip knee") == (Not(Word("hip")), Word("knee"))
    assert items('knee -"total knee"') == (Word("knee"), Not(Phrase("total knee")))


@pytest.mark.parametrize("text", ["x-ray", "post-dural", "COVID-19", "T&A"])
def test_inner_hyphen_is_not_negation(text: str) -> None:
    assert not any(isinstance(x, Not) for x in leaves(parse_query(text).root))


@pytest.mark.parametrize("text, field", [
    ("risks:infection", "risks"), ("risk:infection", "risks"), ("complications:infection", "risks"),
    ("recovery:infection", "recovery"), ("title:infection", "title"), ("RISKS:infection", "risks"),
])
def test_field_scopes(text: str, field: str) -> None:
    assert items(text) == (Word("infection", field),)


def test_field_scope_with_phrase() -> None:
    assert items('risks:"wound infection"') == (Phrase("wound infection", "risks"),)


def test_system_and_section_scopes_are_filters() -> None:
    parsed = parse_query("system:HCPCS section:recovery knee system:pcs")
    assert parsed.systems == ("HCPCS", "ICD-10-PCS")
    assert parsed.sections == ("recovery",)
    assert parsed.root.items == (Word("knee"),)
    assert parse_query("section:risks x").sections == ("risks",)


def test_unknown_system_and_section_become_notes() -> None:
    parsed = parse_query("system:bogus section:nowhere knee")
    assert parsed.systems == () and parsed.sections == ()
    assert any("bogus" in n for n in parsed.notes) and any("nowhere" in n for n in parsed.notes)
    assert parsed.root.items == (Word("knee"),)


def test_unknown_scope_becomes_plain_words() -> None:
    found = leaves(parse_query("wound:infection").root)
    assert all(isinstance(x, Word) and x.field is None for x in found)
    assert [t for w in found for t in terms(w.text)] == terms("wound infection")


@pytest.mark.parametrize("text, expected", [
    ("62273", Code("62273")),
    ("62273-50", Code("62273", "50")),
    ("0FT44ZZ", Code("0FT44ZZ")),
    ("0ft44zz", Code("0FT44ZZ")),
    ("E0601", Code("E0601")),
    ("e0601", Code("E0601")),
    ("E11.9", Code("E119")),
    ("code:62273", Code("62273")),
    ("622*", CodePrefix("622")),
    ("0FT4", CodePrefix("0FT4")),
    ("0ft4", CodePrefix("0FT4")),
    ("0FT4*", CodePrefix("0FT4")),
    ("62270-62273", CodeRange("62270", "62273")),
    ("62273-62270", CodeRange("62270", "62273")),
])
def test_codes_prefixes_and_ranges(text: str, expected) -> None:
    assert items(text) == (expected,)


@pytest.mark.parametrize("text", ["knee", "12", "x-ray", "ICD-10", "COVID-19", "T&A", "MRI", "knee*"])
def test_words_are_not_codes(text: str) -> None:
    assert not any(isinstance(x, (Code, CodePrefix, CodeRange)) for x in leaves(parse_query(text).root))


@pytest.mark.parametrize("text, prefix", [("2023", "2023"), ("6227", "6227"), ("J1", "J1"), ("E11", None),
                                          ("J*", "J"), ("E11.*", "E11"), ("e11.*", "E11")])
def test_partial_codes_parse_as_prefixes(text: str, prefix: str | None) -> None:
    """A number of 3-4 digits or a letter with 1-3 digits may be the start of a code ("bare": the
    index decides); with a star it always is. "E11" is an ICD-10-CM category, a code of its own."""
    (item,) = items(text)
    if prefix is None:
        assert item == Code(text)
    else:
        assert isinstance(item, CodePrefix) and item.prefix == prefix
        assert item.bare == (not text.endswith("*"))


def test_very_long_query_is_capped() -> None:
    parsed = parse_query("knee " * 2000)  # 10,000 characters
    assert 0 < len(parsed.root.items) <= MAX_ATOMS
    assert all(x == Word("knee") for x in parsed.root.items)


@pytest.mark.parametrize("text", ["knee\x00replacement", "knee\treplacement\n", "\u200bknee\u200b replacement",
                                  "knee\x1b[31mreplacement", "\x7fknee replacement\r\n"])
def test_control_and_format_characters_separate_words(text: str) -> None:
    words = [w.text for w in leaves(parse_query(text).root)]
    assert "knee" in words and any(w.endswith("replacement") for w in words)
    assert not any(ord(ch) < 32 or ch in "\x7f\u200b" for w in words for ch in w)


# ==================================================================================================
# Engine behaviour on the bundled corpus
# ==================================================================================================

def S(searcher: Searcher, query: str, **kw) -> set[str]:
    return set(codes(searcher.search(query, limit=200, **kw)))


def test_quoted_phrases_match_in_order_only(searcher: Searcher) -> None:
    # 29881 says "knee replacement" in its Alternatives: every section is searched
    assert S(searcher, '"knee replacement"') == {"27447", "0SRC0J9", "29881"}
    assert set(codes(searcher.search('"knee replacement"'))[:2]) == {"27447", "0SRC0J9"}
    assert S(searcher, '"replacement knee"') == set()
    assert codes(searcher.search('"blood patch"'))[:1] == ["62273"]
    assert S(searcher, '"patch blood"') == set()


def test_quotes_are_not_expanded(searcher: Searcher) -> None:
    quoted = searcher.search('"EBP"', limit=200)
    assert quoted.expansions == ()
    assert codes(quoted) == ["62273"]  # only the page that says EBP
    assert searcher.search("EBP").expansions  # unquoted, the abbreviation expands
    # 62273 says "lumbar puncture" but never "spinal tap": only the unquoted words reach it
    assert "62273" in S(searcher, "spinal tap")
    assert "62273" not in S(searcher, '"spinal tap"')
    assert S(searcher, '"spinal tap"') == {"62270", "009U3ZX"}


@pytest.mark.parametrize("query", ["knee -arthroplasty", "knee NOT arthroplasty", "-arthroplasty knee",
                                   "knee AND NOT arthroplasty"])
def test_minus_and_not_exclude(searcher: Searcher, query: str) -> None:
    found = S(searcher, query)
    assert "29881" in found and "20610" in found
    assert not found & {"27447", "0SRC0J9"}


@pytest.mark.parametrize("plain, quoted", [("-knee", '-"knee"'), ("NOT knee", 'NOT "knee"'),
                                           ("-knee -hip", '-"knee" -"hip"')])
def test_a_query_of_exclusions_means_the_same_however_written(searcher: Searcher, plain: str, quoted: str) -> None:
    """Quoting one word changes nothing else; yet the fast path returns no pages and the Whoosh path all others."""
    assert S(searcher, plain) == S(searcher, quoted)


def test_excluding_a_phrase(searcher: Searcher) -> None:
    found = S(searcher, 'knee -"total knee"')
    assert "29881" in found and not found & {"27447", "0SRC0J9"}


def test_and_or_semantics(searcher: Searcher) -> None:
    knee, cataract = S(searcher, "knee"), S(searcher, "cataract")
    assert knee and cataract
    assert S(searcher, "knee AND cataract") == set()
    assert S(searcher, "knee OR cataract") == knee | cataract
    assert S(searcher, "(knee) OR (cataract)") == knee | cataract
    both = S(searcher, "knee AND infection")
    assert both and both <= knee & S(searcher, "infection")
    assert S(searcher, "cataract AND lens") <= cataract


@pytest.mark.parametrize("query", ["62274", "0FT44ZY", "E0602", "62273-51X", "0FT45ZZ"])
def test_codes_are_never_fuzzed(searcher: Searcher, query: str) -> None:
    results = searcher.search(query)
    assert results.hits == ()
    assert results.corrections == () and results.corrected_query is None


def test_code_or_missing_code(searcher: Searcher) -> None:
    assert codes(searcher.search("62273 OR 62274"))[:1] == ["62273"]


def test_unknown_scope_searches_the_words(searcher: Searcher) -> None:
    assert codes(searcher.search("nonsense:cataract"))[:2] == codes(searcher.search("cataract"))[:2]


def test_field_scope_restricts_to_that_section(searcher: Searcher) -> None:
    scoped = searcher.search("risks:infection", limit=200)
    assert scoped.hits
    for hit in scoped.hits:
        risks = searcher.get(hit.code).section("Risks and Complications")
        assert "infect" in " ".join(terms(risks)), hit.code
    # the section filter alike, in API form
    assert S(searcher, "crutches", sections=["recovery"]) == S(searcher, "section:recovery crutches") == {"29881", "27130"}


# -- exact wording beats the thesaurus ---------------------------------------------------------------

@pytest.mark.parametrize("typed, synonym", [("womb", "uterus"), ("oesophagus", "esophagus")])
def test_typed_word_outranks_its_synonym(tmp_path: Path, typed: str, synonym: str) -> None:
    corpus = tmp_path / "corpus"
    for code, word in (("99901", typed), ("99902", synonym)):
        write_page(corpus, code, f"Widget repair of the {word}", f"{word.title()} Widget Repair",
                   {"Summary": f"The {word} is repaired with a small widget.", "Recovery": "Rest for a week."})
    with Searcher.open(build(corpus, tmp_path / "ix")) as s:
        assert codes(s.search(typed)) == ["99901", "99902"]
        assert codes(s.search(synonym)) == ["99902", "99901"]
        assert codes(s.search(typed, expand=False)) == ["99901"]


def test_title_that_says_nothing_more_ranks_first(tmp_path: Path) -> None:
    """The diagnostic page says "lesion" more often, but its title names something the query
    does not ask for: the page whose title the query covers best comes first."""
    corpus = tmp_path / "corpus"
    write_page(corpus, "0NB00ZX", "Excision of Skull, Open Approach, Diagnostic", "",
               {"Summary": "A lesion of the skull is cut out. The lesion goes to the laboratory: a lesion biopsy."})
    write_page(corpus, "0NB00ZZ", "Excision of Skull, Open Approach", "",
               {"Summary": "A lesion of the skull bone is cut out and the wound is closed."})
    write_page(corpus, "0DT50ZZ", "Resection of Esophagus, Open Approach", "", {"Summary": "The esophagus is taken out."})
    with Searcher.open(build(corpus, tmp_path / "ix")) as s:
        assert codes(s.search("excision of lesion of skull"))[:2] == ["0NB00ZZ", "0NB00ZX"]
        assert codes(s.search("diagnostic excision of skull lesion"))[:1] == ["0NB00ZX"]


def test_unknown_adjective_finds_the_noun_in_titles(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_page(corpus, "99901", "Repair of Zorbus, Open Approach", "", {"Summary": "The zorbus is mended."})
    write_page(corpus, "99902", "Repair of Knee, Open Approach", "", {"Summary": "The knee is mended."})
    with Searcher.open(build(corpus, tmp_path / "ix")) as s:
        results = s.search("repair of zorbal tear")
        assert codes(results)[:1] == ["99901"]
        assert [(e.source, e.kind) for e in results.expansions if e.target.startswith("zorb")] == [("zorbal", "word part")]


def test_word_no_title_uses_counts_through_its_expansions(tmp_path: Path) -> None:
    """"humerus" is in no title (pages say "Humeral Head"), so its expansions count for more than
    when a title uses the word itself."""
    corpus = tmp_path / "corpus"
    write_page(corpus, "0PBD0ZZ", "Excision of Right Humeral Head, Open Approach", "",
               {"Summary": "Part of the right humeral head, the top of the humerus, is cut out."})
    write_page(corpus, "0NB10ZZ", "Excision of Frontal Bone, Open Approach", "",
               {"Summary": "Part of the frontal bone is cut out."})
    write_page(corpus, "0NBB0ZZ", "Excision of Nasal Bone, Open Approach", "",
               {"Summary": "Part of the nasal bone is cut out."})
    with Searcher.open(build(corpus, tmp_path / "ix")) as s:
        results = s.search("excision of bone for graft, humerus")
        scaled = {e.target: e.weight for e in results.expansions if e.source == "humerus"}
    write_page(corpus, "99901", "Humerus Widget Repair", "", {"Summary": "A widget mends the humerus."})
    with Searcher.open(build(corpus, tmp_path / "ix2")) as s:
        plain = {e.target: e.weight for e in s.search("humerus").expansions if e.source == "humerus"}
    assert scaled["humeral head"] > plain["humeral head"]


def test_multi_word_expansion_needs_its_rarest_word(tmp_path: Path) -> None:
    """"lid margin" expands to "upper eyelid": a page saying only "upper" is not a match."""
    corpus = tmp_path / "corpus"
    write_page(corpus, "08910ZZ", "Drainage of Right Upper Eyelid, Open Approach", "",
               {"Summary": "The eyelid is opened and drained."})
    write_page(corpus, "0Q870ZZ", "Division of Left Upper Femur, Open Approach", "",
               {"Summary": "The upper femur is divided."})
    write_page(corpus, "0Q880ZZ", "Division of Right Lower Femur, Open Approach", "",
               {"Summary": "The lower femur is divided."})
    with Searcher.open(build(corpus, tmp_path / "ix")) as s:
        results = s.search("lid margin")
        assert "upper eyelid" in {e.target for e in results.expansions}
        assert codes(results) == ["08910ZZ"]


def test_site_after_unspecified_is_not_searched(tmp_path: Path) -> None:
    """ICD-9-CM's "unspecified site" names no body part; "site" alone still searches."""
    corpus = tmp_path / "corpus"
    write_page(corpus, "02RH38M", "Replacement of Pulmonary Valve with Zooplastic Tissue, Native Site", "",
               {"Summary": "The valve is replaced at its native site."})
    write_page(corpus, "0NB10ZZ", "Excision of Frontal Bone, Open Approach", "", {"Summary": "Bone is cut out."})
    with Searcher.open(build(corpus, tmp_path / "ix")) as s:
        assert codes(s.search("excision of bone, unspecified site")) == ["0NB10ZZ"]
        assert codes(s.search("native site")) == ["02RH38M"]


def test_open_approach_first_unless_the_query_names_one(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_page(corpus, "0NB00ZZ", "Excision of Skull, Open Approach", "", {"Summary": "Part of the skull is cut out."})
    write_page(corpus, "0NB03ZZ", "Excision of Skull, Percutaneous Approach", "",
               {"Summary": "Part of the skull is cut out through a needle in the skull."})
    with Searcher.open(build(corpus, tmp_path / "ix")) as s:
        assert codes(s.search("excision of skull")) == ["0NB00ZZ", "0NB03ZZ"]
        assert codes(s.search("percutaneous excision of skull")) == ["0NB03ZZ", "0NB00ZZ"]
        assert codes(s.search("closed excision of skull")) == ["0NB03ZZ", "0NB00ZZ"]


def test_each_further_variant_of_a_procedure_scores_less(tmp_path: Path) -> None:
    """Four sides and approaches of one excision, worded alike: each further variant scores less
    (without the spreading they tie in pairs), so another procedure can come between them."""
    corpus = tmp_path / "corpus"
    frontal = ["0NB10ZZ", "0NB13ZZ", "0NB20ZZ", "0NB23ZZ"]
    for code, what in zip(frontal, ["Right Frontal Bone, Open", "Right Frontal Bone, Percutaneous",
                                     "Left Frontal Bone, Open", "Left Frontal Bone, Percutaneous"]):
        write_page(corpus, code, f"Excision of {what} Approach", "", {"Summary": "Bone is cut out."})
    for i, organ in enumerate("knee liver kidney spleen colon heart".split()):
        write_page(corpus, f"9990{i}", f"Repair of {organ.title()}, Open Approach", "", {"Summary": f"The {organ} is mended."})
    with Searcher.open(build(corpus, tmp_path / "ix")) as s:
        hits = s.search("excision of frontal bone").hits
    assert sorted(h.code for h in hits) == frontal
    scores = [h.score for h in hits]
    assert all(a > b for a, b in zip(scores, scores[1:]))


@pytest.mark.parametrize("text, kept", [
    ("closed reduction without internal fixation, phalanges of hand",
     ["closed", "reduction", "phalanges", "of", "hand"]),
    ("valvuloplasty without replacement", ["valvuloplasty"]),
    ("transfer of finger, except thumb", ["transfer", "of", "finger"]),
    ("graft without, skin", ["graft", "skin"]),
    ("repair (without graft) of knee", ["repair", "of", "knee"]),
])
def test_exclusion_runs_to_the_next_comma(text: str, kept: list[str]) -> None:
    words = [w for w in flatten(parse_query(text).root) if isinstance(w, Word)]
    assert drop_excluded(words) == kept


def test_words_after_without_are_not_searched(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_page(corpus, "99901", "Replacement of Widget Valve, Open Approach", "",
               {"Summary": "The widget valve is taken out and a replacement valve is sewn in: a replacement."})
    write_page(corpus, "99902", "Repair Widget Valve, Open Approach", "", {"Summary": "The widget valve is mended."})
    with Searcher.open(build(corpus, tmp_path / "ix")) as s:
        assert codes(s.search("widget valve replacement"))[:1] == ["99901"]
        assert codes(s.search("repair of widget valve without replacement, open"))[:1] == ["99902"]
        assert codes(s.search("widget valve, except replacement"))[:1] == ["99902"]


@pytest.fixture(scope="module")
def common_words_index(tmp_path_factory: pytest.TempPathFactory) -> str:
    """1,300 pages: "excision" on 100 of them (a common term), its synonym "resection" on 20."""
    tmp = tmp_path_factory.mktemp("common")
    for i in range(1300):
        op = "Excision" if i < 100 else "Resection" if i < 120 else "Inspection"
        write_page(tmp / "corpus", f"9{i:04d}", f"{op} of Part {i}, Open Approach", "", {"Summary": f"Part {i}: {op.lower()}."})
    return build(tmp / "corpus", tmp / "ix")


def test_typed_common_word_outranks_its_rarer_synonym(common_words_index: str) -> None:
    with Searcher.open(common_words_index) as s:
        assert all(h.title.startswith("Excision") for h in s.search("excision").hits)
        assert [h.title for h in s.search("excision of part 7").hits][:2] == [
            "Excision of Part 7, Open Approach", "Excision of Part 0, Open Approach"]


def test_query_of_only_very_common_words_has_results(common_words_index: str) -> None:
    with Searcher.open(common_words_index) as s:
        results = s.search("part")
        assert len(results.hits) == 10 and results.matched == 1300 and 10 < results.total <= 1300
        assert len(s.search("part", offset=results.total - 1).hits) == 1  # total is what paging reaches


# -- Whoosh regressions ------------------------------------------------------------------------------

@pytest.mark.parametrize("query, expected", [
    ("toradol", "J1885"),  # only in one page's Name
    ('"toradol"', "J1885"),
    ("name:toradol", "J1885"),
    ("(toradol)", "J1885"),
    ("toradol OR aflibercept", "J1885"),
    ("toradol OR aflibercept", "67028"),  # aflibercept: only in one page's Summary
    ("toradol AND injection", "J1885"),
    ('"toradol shot"', "J1885"),
    ("alopecia", "J3301"),  # only in one page's Indications
    ("alopecia OR toradol", "J3301"),
    ("indications:alopecia", "J3301"),
])
def test_word_in_one_field_only_scores_above_zero(searcher: Searcher, query: str, expected: str) -> None:
    """Whoosh's OrGroup scored 0.0 when only one query term was live in a field."""
    results = searcher.search(query)
    assert expected in codes(results)[:10]
    assert all(h.score > 0 for h in results.hits), [(h.code, h.score) for h in results.hits]


@pytest.mark.parametrize("query, kwargs", [
    ("knee system:CM", {}),
    ("knee", {"code_system": "ICD-10-CM"}),
    ('"knee replacement" system:ICD-10-CM', {}),
    ("knee OR hip", {"code_system": "ICD-10-CM"}),
    ("622*", {"code_system": "HCPCS"}),
    ("62273", {"code_system": "HCPCS"}),
    ("!!! system:CM", {}),
    ("", {"code_system": "ICD-10-CM"}),
    ("( )", {"code_system": "CPT"}),
    ("AND OR NOT", {}),
    ("system:CM", {}),
    ("section:recovery", {}),
    ("", {}),
    ("   ", {}),
])
def test_filters_and_queries_with_nothing_to_match(searcher: Searcher, query: str, kwargs: dict) -> None:
    """Filters over no pages and queries with no terms (Whoosh MultiFilter on empty input) give no hits."""
    results = searcher.search(query, **kwargs)
    assert isinstance(results, Results)
    assert results.hits == ()


@pytest.mark.parametrize("query", ['"*"', '"-"', '"!!"', '"( "', 'risks:"!!"', 'knee "?"', '"&" OR knee'])
def test_punctuation_only_phrase_does_not_raise(searcher: Searcher, query: str) -> None:
    results = searcher.search(query)
    assert isinstance(results, Results)
    if "knee" in query:
        assert "27447" in codes(results)


@pytest.mark.parametrize("query", ["knee NOT (hip (ankle NOT foot))", "NOT (a (b NOT c))", "-(x (y -z))"])
def test_nested_negation_does_not_raise(searcher: Searcher, query: str) -> None:
    assert isinstance(searcher.search(query), Results)


def test_ten_thousand_character_query(searcher: Searcher) -> None:
    results = searcher.search("knee replacement " * 600)
    assert codes(results)[:2] and set(codes(results)[:2]) == {"27447", "0SRC0J9"}
    assert isinstance(searcher.search("(" * 5000 + '"' * 5000), Results)


def test_control_characters_in_a_query(searcher: Searcher) -> None:
    assert isinstance(searcher.search("cata\x00ract"), Results)
    assert codes(searcher.search("\x00cataract\x1b"))[:2] == ["66984", "66821"]


# ==================================================================================================
# Phrase checks: candidates from the engine's posting lists, a bound on the pages one search reads
# ==================================================================================================

def _whoosh_docs_with_all(whoosh_searcher):
    from whoosh import query as wq

    return lambda field, words: whoosh_searcher.docs_for_query(wq.And([wq.Term(field, w) for w in words]))


@pytest.mark.parametrize("words", [["of", "the"], ["lumbar", "punctur"], ["knee", "replac"], ["the", "zzzz"], ["of"]])
def test_engine_candidates_equal_whoosh_intersection(searcher: Searcher, words: list[str]) -> None:
    from procsearch.index.schema import TEXT_FIELDS

    whoosh_docs = _whoosh_docs_with_all(searcher._searcher)
    for field in TEXT_FIELDS:
        assert searcher._engine.docs_with_all(field, words).tolist() == sorted(whoosh_docs(field, words)), field


def test_a_phrase_check_reads_at_most_its_budget_and_says_so(searcher: Searcher) -> None:
    """A phrase of words nearly every page has: with no bound every candidate is read (and the
    answer is the exact one); with a bound of 3 pages only 3 are read, the matches are among the
    exact ones, and the check says it was cut short."""
    from procsearch.index.schema import TEXT_FIELDS
    from procsearch.search.phrases import PhraseCheck, phrase_docs

    reader = searcher._searcher.reader()
    words = ["of", "the"]
    exact = PhraseCheck(reader, searcher._docs_with_all, budget=None).docs(words, TEXT_FIELDS)
    assert exact == phrase_docs(searcher._searcher, words, TEXT_FIELDS)
    assert len(exact) > 10
    bounded = PhraseCheck(reader, searcher._docs_with_all, budget=3)
    reads: list[int] = []
    record = bounded.records.json
    bounded.records.json = lambda doc: reads.append(doc) or record(doc)
    found = bounded.docs(words, TEXT_FIELDS)
    assert len(reads) == 3 and found <= exact and found
    assert bounded.cut_short and "more pages than one search reads" in bounded.note
    assert PhraseCheck(reader, searcher._docs_with_all).note is None


@pytest.mark.parametrize("word", ["knee", "lumbar", "cataract", "anesthesia"])
def test_a_phrase_within_an_and_reads_only_what_the_and_allows(searcher: Searcher, word: str) -> None:
    """The rest of an AND (or the kept side of an AND NOT) is answered first and the phrase read
    only on the pages it leaves: the answers equal the set algebra of the parts answered alone."""
    from whoosh import query as wq

    from procsearch.index.schema import TEXT_FIELDS
    from procsearch.search.phrases import PhraseCheck
    from procsearch.search.searcher import _matching

    ws = searcher._searcher

    def match(q) -> set[int]:
        check = PhraseCheck(ws.reader(), searcher._docs_with_all, budget=None)
        reads: list[int] = []
        record = check.records.json
        check.records.json = lambda doc: reads.append(doc) or record(doc)
        found = _matching(ws, q, check)
        match.reads = len(reads)
        return found

    phrase = wq.Or([wq.Phrase(f, ["of", "the"]) for f in TEXT_FIELDS])
    term = wq.Or([wq.Term(f, word) for f in TEXT_FIELDS])
    alone_phrase, phrase_reads = match(phrase), match.reads
    alone_term = match(term)
    assert alone_term
    assert match(wq.And([phrase, term])) == alone_phrase & alone_term
    assert match.reads <= len(alone_term) < phrase_reads
    assert match(wq.And([term, phrase])) == alone_phrase & alone_term
    assert match(wq.AndNot(term, phrase)) == alone_term - alone_phrase
    assert match(wq.AndNot(phrase, term)) == alone_phrase - alone_term


def test_code_listings_after_an_update_name_each_live_page_once(tmp_path) -> None:
    """Code prefixes and ranges are read off the term dictionary: after an update that changes a
    page (its old copy deleted, the new one in a new segment), deletes one and adds one, every
    listed page is the live page of its code, as Whoosh's own look-up finds it."""
    from procsearch.index import update_index

    from search_fixtures import bundled_page, copy_pages

    corpus = copy_pages(["62270", "62273", "62323", "27447", "29881", "43239"], tmp_path / "pages")
    index_dir = build(corpus, tmp_path / "ix")
    with Searcher.open(index_dir) as s:
        before = dict(s._engine.code_pages("62"))
    changed = corpus / bundled_page("62270").name
    changed.write_text(changed.read_text(encoding="utf-8").replace("</body>", "<p>One more line.</p></body>"),
                       encoding="utf-8")
    (corpus / bundled_page("29881").name).unlink()
    write_page(corpus, "62272", "Spinal puncture, therapeutic")
    update_index(None, index_dir)
    with Searcher.open(index_dir) as s:
        assert [h.code for h in s.search("62*", limit=50).hits] == ["62270", "62272", "62273", "62323"]
        assert [h.code for h in s.search("62270-62273", limit=50).hits] == ["62270", "62272", "62273"]
        assert [h.code for h in s.search("2*", limit=50).hits] == ["27447"]
        pages = s._engine.code_pages("")
        assert [c for c, _ in pages] == sorted({"62270", "62272", "62273", "62323", "27447", "43239"})
        assert dict(pages)["62270"] != before["62270"]  # the changed page's new copy
        assert all(s._searcher.document_number(code=code) == doc for code, doc in pages)
        from whoosh import query as wq

        for words in (["spinal", "punctur"], ["lumbar", "punctur"], ["punctur", "spinal"]):
            want = set(s._searcher.docs_for_query(wq.Phrase("title", words)))
            assert set(s._engine.docs_with_phrase("title", words)) == want, words


def test_phrases_in_header_fields_match_as_whoosh_positions_do(searcher: Searcher) -> None:
    """Every 2- and 3-word window of the bundled pages' titles, names and technical terms, and
    each reversed: the engine's positional check finds exactly the pages Whoosh's Phrase does."""
    from whoosh import query as wq

    from procsearch.index.analysis import terms
    from procsearch.index.schema import POSITION_FIELDS, field_texts

    ws = searcher._searcher
    reader = ws.reader()
    phrases = set()
    for doc in range(reader.doc_count_all()):
        record = searcher._searcher.stored_fields(doc)
        texts = field_texts(searcher.get(record["code"]))
        for field in POSITION_FIELDS:
            words = terms(texts.get(field, ""))
            for i in range(len(words) - 1):
                phrases.add((field, tuple(words[i:i + 2])))
                phrases.add((field, tuple(words[i:i + 3])))
                phrases.add((field, (words[i + 1], words[i])))
    assert len(phrases) > 300
    for field, words in sorted(phrases):
        want = set(ws.docs_for_query(wq.Phrase(field, list(words))))
        assert set(searcher._engine.docs_with_phrase(field, words)) == want, (field, words)
