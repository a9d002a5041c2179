"""Ranking over whole pages: every section searched, specific words before generic ones, partial
codes, one scorer for structured queries, the ranking configuration and --explain.

Bundled-corpus checks use the shared index; behaviours that need a controlled corpus (a word on
every page, ICD-10-CM codes) build a small one of written pages in a temp dir.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from benchmarks.questions import QUESTIONS, evaluate
from procsearch.index.boosts import RankingConfig, load_ranking
from procsearch.ingest.errors import ProcsearchError
from procsearch.search.searcher import Searcher
from search_fixtures import build, bundled_index, codes, searcher, write_page  # noqa: F401  (fixtures)

# ==================================================================================================
# The project's question set (benchmarks/questions.py)
# ==================================================================================================


def test_question_set_success_at_3(searcher: Searcher) -> None:
    per_kind, failed = evaluate(lambda text: codes(searcher.search(text, limit=3)))
    assert set(per_kind) == {"lay", "clinical", "abbreviation", "typo", "code", "section"}
    hits = sum(s for s, _ in per_kind.values())
    total = sum(n for _, n in per_kind.values())
    assert total == len(QUESTIONS) >= 100
    missed = [(q.text, got) for q, got in failed]
    assert hits / total >= 0.97, missed
    for kind, (s, n) in per_kind.items():
        assert s / n >= 0.90, (kind, missed)


# ==================================================================================================
# Every section is searched
# ==================================================================================================


def test_a_word_only_in_risks_finds_its_pages_with_a_risks_snippet(searcher: Searcher) -> None:
    results = searcher.search("seroma")
    assert set(codes(results)) == {"49505", "19303"}
    for hit in results.hits:
        assert hit.snippets[0].section == "Risks and Complications"
        assert "seroma" in hit.snippets[0].text.lower()


def test_a_section_question_shows_the_section_that_answers(searcher: Searcher) -> None:
    hit = searcher.search("soft collar after neck fusion").hits[0]
    assert hit.code == "22551"
    assert any(s.section == "Recovery" and "collar" in s.text.lower() for s in hit.snippets)


def test_a_word_in_the_title_outweighs_the_same_word_in_a_late_section(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_page(corpus, "99901", "Widget Repair", "", {"Summary": "Mending a widget.", "Recovery": "Rest."})
    write_page(corpus, "99902", "Gadget Repair", "", {"Summary": "Mending a gadget.",
                                                      "Alternatives": "A widget can be mended instead."})
    with Searcher.open(build(corpus, tmp_path / "ix")) as s:
        assert codes(s.search("widget")) == ["99901", "99902"]


@pytest.fixture(scope="module")
def everyday_index(tmp_path_factory: pytest.TempPathFactory) -> str:
    """120 pages that all speak of the patient and of pain in their sections (never in a title),
    and whose titles all say "Surgery"; one page speaks of driving in its Recovery."""
    tmp = tmp_path_factory.mktemp("everyday")
    for i in range(120):
        part = f"part{i:03d}"
        recovery = "The patient may feel pain for a week."
        if i == 7:
            recovery += " Driving is possible after six weeks in a sling."
        write_page(tmp / "corpus", f"8{i:04d}", f"Surgery of the {part.title()}", "",
                   {"Summary": f"An operation on the {part}: the patient is asleep.", "Recovery": recovery})
    return build(tmp / "corpus", tmp / "ix")


@pytest.mark.parametrize("word", ["patient", "pain"])
def test_a_single_common_word_returns_its_pages(everyday_index: str, word: str) -> None:
    with Searcher.open(everyday_index) as s:
        results = s.search(word, limit=5)
        assert results.total == 120 and len(results.hits) == 5
        assert all(h.score > 0 for h in results.hits)
        for hit in s.search(word, limit=3, explain=True).hits:
            assert {w for w, _, _ in hit.contributions} == {word}
            assert sum(v for _, _, v in hit.contributions) == pytest.approx(hit.score, rel=0.01, abs=0.01)


def test_rare_words_of_a_question_beat_a_generic_title_word(everyday_index: str) -> None:
    with Searcher.open(everyday_index) as s:
        assert codes(s.search("surgery driving in a sling", limit=3))[:1] == ["80007"]
        assert codes(s.search("how long after surgery before I can drive", limit=3))[:1] == ["80007"]


# ==================================================================================================
# Partial codes
# ==================================================================================================


def test_a_partial_code_lists_the_codes_it_starts_in_code_order(searcher: Searcher) -> None:
    assert codes(searcher.search("6227")) == ["62270", "62273"]
    assert codes(searcher.search("6227*")) == ["62270", "62273"]
    assert codes(searcher.search("0FT4")) == ["0FT44ZZ"]
    assert codes(searcher.search("G01")) == ["G0105", "G0121"]
    assert codes(searcher.search("J1")) == ["J1885"]


def test_a_letter_with_a_star_lists_that_letter_s_codes(searcher: Searcher) -> None:
    assert codes(searcher.search("J*")) == ["J1885", "J3301"]


def test_a_partial_code_with_words_filters_and_ranks(searcher: Searcher) -> None:
    found = codes(searcher.search("6227 lumbar"))
    assert found[:1] == ["62270"] and set(found) <= {"62270", "62273"}
    assert codes(searcher.search("4538 biopsy"))[:1] == ["45380"]


def test_a_number_no_code_starts_with_is_a_word(searcher: Searcher) -> None:
    results = searcher.search("9999")
    assert results.hits == () and results.total == 0


@pytest.fixture(scope="module")
def diagnosis_index(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("cm")
    for code, title in [("E11.9", "Type 2 diabetes mellitus without complications"),
                        ("E11.65", "Type 2 diabetes mellitus with hyperglycemia"),
                        ("E10.9", "Type 1 diabetes mellitus without complications"),
                        ("J18.9", "Pneumonia, unspecified organism")]:
        write_page(tmp / "corpus", code, title, "", {"Summary": title + "."}, system_line="ICD-10-CM code",
                   filename=code.replace(".", "") + ".txt")
    return build(tmp / "corpus", tmp / "ix")


@pytest.mark.parametrize("query", ["E11.*", "E11.", "E11", "e11*"])
def test_icd10cm_category_lists_its_codes(diagnosis_index: str, query: str) -> None:
    with Searcher.open(diagnosis_index) as s:
        assert codes(s.search(query)) == ["E1165", "E119"]


def test_exact_code_comes_first(diagnosis_index: str) -> None:
    with Searcher.open(diagnosis_index) as s:
        assert codes(s.search("E11.9"))[:1] == ["E119"]
        assert codes(s.search("E1*")) == ["E109", "E1165", "E119"]


# ==================================================================================================
# One ranking model for every query
# ==================================================================================================

ENDOSCOPIC_NOT_COLONOSCOPY = {"47562", "0FT44ZZ", "44970", "0DTJ4ZZ", "66984", "0DB68ZX", "43262"}


def test_expansions_do_not_satisfy_a_required_clause(searcher: Searcher) -> None:
    found = set(codes(searcher.search("colonoscopy NOT screening", limit=100)))
    assert found and not found & ENDOSCOPIC_NOT_COLONOSCOPY
    assert not found & {"G0105", "G0121"}
    both = codes(searcher.search("colonoscopy AND biopsy", limit=100))
    assert "38221" not in both and "50200" not in both
    assert both[:1] == ["45380"]


def test_structured_queries_are_ranked_like_free_text(searcher: Searcher) -> None:
    free = searcher.search("colonoscopy biopsy", limit=5)
    required = searcher.search("colonoscopy AND biopsy", limit=5)
    assert codes(free)[:1] == codes(required)[:1] == ["45380"]
    assert free.hits[0].score == pytest.approx(required.hits[0].score)


def test_a_phrase_ranks_with_the_shared_scorer(searcher: Searcher) -> None:
    hits = searcher.search('"blood patch" headache').hits
    assert hits[0].code == "62273" and hits[0].score > 0
    assert all(h.score > 0 for h in hits)


def test_a_scoped_word_restricts_to_its_section(searcher: Searcher) -> None:
    found = set(codes(searcher.search("risks:seroma")))
    assert found == {"49505", "19303"}
    assert set(codes(searcher.search("recovery:seroma"))) < found | set()


# ==================================================================================================
# Ranking configuration
# ==================================================================================================


def test_ranking_config_is_frozen_and_complete() -> None:
    cfg = load_ranking()
    assert isinstance(cfg, RankingConfig)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.k1 = 2.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        cfg.fields["title"] = 1.0  # type: ignore[index]
    assert cfg.fields["title"] > cfg.fields["summary"] > cfg.fields["risks"]
    assert {"risks", "recovery", "preparation", "alternatives"} <= set(cfg.default_fields)


def test_a_user_ranking_file_overrides_some_settings(tmp_path: Path, bundled_index: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text("[ranking]\nk1 = 2.0\n[fields]\nrisks = 5.0\n", encoding="utf-8")
    cfg = load_ranking(path)
    assert cfg.k1 == 2.0 and cfg.fields["risks"] == 5.0 and cfg.b == load_ranking().b
    with Searcher.open(bundled_index, ranking=str(path)) as s, Searcher.open(bundled_index) as plain:
        assert s.ranking.fields["risks"] == 5.0
        assert s.search("seroma").hits[0].score > plain.search("seroma").hits[0].score


def test_every_ranking_constant_comes_from_the_bundled_file() -> None:
    """Expansion weights and the compiler's and engine's constants are settings, not module globals."""
    import tomllib

    from procsearch.index.boosts import DEFAULT_BOOSTS_FILE
    from procsearch.search import compiler, engine, thesaurus

    data = tomllib.loads(DEFAULT_BOOSTS_FILE.read_text(encoding="utf-8"))
    cfg = load_ranking()
    assert dict(cfg.expansion_weights) == data["expansion"] == thesaurus.WEIGHTS
    assert set(cfg.expansion_weights) == {"abbreviation", "synonym", "spelling", "word part"}
    for name, value in data["ranking"].items():
        assert getattr(cfg, name) == value
    assert cfg.page_df_fields == tuple(data["search"]["page_df_fields"])
    for gone in ("MAX_STEM_WORDS", "MIN_MIXED_PREFIX", "PAGE_DF_FIELDS"):
        assert not hasattr(compiler, gone) and not hasattr(engine, gone)


def test_a_user_file_changes_expansion_weights_and_compiler_settings(tmp_path: Path, bundled_index: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('[expansion]\nabbreviation = 0.35\n[ranking]\nmin_mixed_prefix = 5\n', encoding="utf-8")
    with Searcher.open(bundled_index, ranking=str(path)) as s, Searcher.open(bundled_index) as plain:
        mine = {e.target: e.weight for e in s.search("EBP").expansions if e.kind == "abbreviation"}
        usual = {e.target: e.weight for e in plain.search("EBP").expansions if e.kind == "abbreviation"}
        assert mine and mine.keys() == usual.keys()
        assert all(mine[t] == pytest.approx(usual[t] / 2) for t in mine)
        # "6227 lumbar": a 4-character prefix among words filters by default, not under a minimum of 5
        assert {h.code[:4] for h in plain.search("6227 lumbar").hits} == {"6227"}
        assert {h.code[:4] for h in s.search("6227 lumbar").hits} != {"6227"}


def test_an_unknown_search_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[search]\ndefault_feilds = ["title"]\n', encoding="utf-8")
    with pytest.raises(ProcsearchError, match="default_feilds"):
        load_ranking(path)


@pytest.mark.parametrize("text", ["[ranking]\nnot_a_setting = 1\n", "[ranking]\nk1 = \"big\"\n", "[ranking\n"])
def test_a_bad_ranking_file_is_one_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProcsearchError, match="bad.toml"):
        load_ranking(path)


# ==================================================================================================
# --explain
# ==================================================================================================


@pytest.mark.parametrize("query", ["colonoscopy", "spinal headache after epidural", "colonoscopy AND biopsy",
                                   '"blood patch"', "62273", "seroma"])
def test_explanations_add_up_to_the_score(searcher: Searcher, query: str) -> None:
    results = searcher.search(query, limit=5, explain=True)
    assert results.hits
    for hit in results.hits:
        assert hit.explanation and hit.contributions
        assert sum(v for _, v in hit.explanation) == pytest.approx(hit.score, rel=0.01, abs=0.01)
        assert sum(v for _, _, v in hit.contributions) == pytest.approx(hit.score, rel=0.01, abs=0.01)


def test_explanations_speak_the_user_s_words(searcher: Searcher) -> None:
    results = searcher.search("colonoscopy", limit=3, explain=True)
    assert all(e.source == "colonoscopy" for e in results.expansions)
    words = {w for h in results.hits for w, _, _ in h.contributions}
    assert "colonoscopy" in words and "colonoscopi" not in words
    expansion_words = {w for e in results.expansions for w in e.target.split()}
    assert words <= {"colonoscopy"} | expansion_words
