"""The thesaurus: its file format, abbreviations, synonym groups, word parts, user files, UK spellings."""

from __future__ import annotations

from pathlib import Path

import pytest

from procsearch.ingest.errors import ProcsearchError
from procsearch.search.searcher import Searcher
from procsearch.search.thesaurus import (THESAURUS_DIR, Entry, Thesaurus, key_of, load_thesaurus, split_axes, thesaurus_files,
                              words_of)
from search_fixtures import bundled_index, codes, searcher  # noqa: F401  (fixtures)


def targets(entries) -> set[str]:
    return {e.target for e in entries}


def part_targets(th: Thesaurus, word: str) -> set[str]:
    """Targets of a compound's word parts (flat, whether grouped per part or not)."""
    out: set[str] = set()
    for item in th.word_parts(word):
        for e in (item if isinstance(item, list) else [item]):
            assert isinstance(e, Entry) and e.kind == "word part"
            out.add(e.target)
    return out


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def bundled() -> Thesaurus:
    return Thesaurus(sorted(THESAURUS_DIR.glob("*.txt")))


# -- file format ------------------------------------------------------------------------------------

def test_file_format_one_way_groups_comments(tmp_path: Path) -> None:
    path = write(tmp_path / "mine.txt", "\n".join([
        "# a comment line",
        "",
        "gizmo = widget | gadget thing   # trailing comment",
        "sprocket | cog = toothed wheel",
        "flurb ~ blorft ~ zindle",
        "   ",
    ]))
    th = Thesaurus([path])
    assert targets(th.phrases[("gizmo",)]) == {"widget", "gadget thing"}
    assert ("widget",) not in th.phrases  # one way only
    assert targets(th.phrases[("sprocket",)]) == targets(th.phrases[("cog",)]) == {"toothed wheel"}
    assert targets(th.phrases[key_of("flurb")]) == {"blorft", "zindle"}
    assert targets(th.phrases[key_of("zindle")]) == {"flurb", "blorft"}
    assert all(e.kind == "synonym" for e in th.phrases[("gizmo",)])
    assert all(0 < e.weight < 1 for entries in th.phrases.values() for e in entries)


def test_alternatives_on_several_axes_are_split_per_axis(tmp_path: Path) -> None:
    th = Thesaurus([write(tmp_path / "synonyms.txt", "\n".join([
        "gizmoectomy = resection | gallbladder | bile duct | percutaneous endoscopic",
        "whatsit = resection | excision",
    ]))])
    plain, groups = split_axes(th.phrases[("gizmoectomi",)])
    assert plain == []
    assert [targets(g) for g in groups] == [{"resection"}, {"gallbladder", "bile duct"}, {"percutaneous endoscopic"}]
    sole, shared = groups[0][0].weight, groups[1][0].weight
    assert sole > shared > 0  # one of two alternatives on an axis weighs less than a sole one
    plain, groups = split_axes(th.phrases[("whatsit",)])
    assert targets(plain) == {"resection", "excision"} and groups == []


def test_axis_split_ranks_the_page_naming_every_axis(tmp_path: Path, bundled_index: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # As alternatives of one concept, the best single one counts and the CPT knee arthroplasty
    # page wins; split per axis, the page naming the operation, the body part and the approach does.
    mine = write(tmp_path / "synonyms.txt", "zorbplasty = replacement | knee | open\n")
    monkeypatch.setenv("PROCSEARCH_THESAURUS", str(mine))
    with Searcher.open(bundled_index) as s:
        results = s.search("zorbplasty")
        assert codes(results)[:2] == ["0SRC0J9", "27447"]
        assert {"replacement", "knee", "open"} <= {e.target for e in results.expansions}


def test_multi_word_terms_match_in_any_order(tmp_path: Path) -> None:
    th = Thesaurus([write(tmp_path / "synonyms.txt", "above knee amputation = detachment | upper leg\n")])
    keys = [key_of(w)[0] for w in ["amputation", "above", "knee"]]
    [(start, end, entries)] = th.lookup(keys, ["amputation", "above", "knee"])
    assert (start, end) == (0, 3) and targets(entries) == {"detachment", "upper leg"}
    assert th.lookup([key_of(w)[0] for w in ["knee", "pain"]], ["knee", "pain"]) == []


def test_small_words_inside_a_query_term_are_skipped(tmp_path: Path) -> None:
    th = Thesaurus([write(tmp_path / "body_parts.txt",
                          "upper limb vessel = axillary artery\ncircle of willis = intracranial artery\n")])

    def spans(text: str) -> list[tuple[int, int]]:
        words = text.split()
        return [(a, b) for a, b, _ in th.lookup([(key_of(w)[:1] or (w,))[0] for w in words], words)]

    assert spans("vessels of upper limb") == [(0, 4)]
    assert spans("circle of willis") == [(0, 3)]
    assert spans("of upper limb vessel") == [(1, 4)]
    assert spans("upper limb of vessel of") == [(0, 4)]


def test_kinds_follow_the_file_name_and_capitals(tmp_path: Path) -> None:
    abbrev = write(tmp_path / "abbreviations.txt", "QZX = quite zany xylophone\n")
    other = write(tmp_path / "custom.txt", "BLRG = big lumpy red growth\nbump = growth\n")
    th = Thesaurus([abbrev, other])
    assert [e.kind for e in th.phrases[("qzx",)]] == ["abbreviation"]
    assert [e.kind for e in th.phrases[("blrg",)]] == ["abbreviation"]  # upper case single word
    assert [e.kind for e in th.phrases[("bump",)]] == ["synonym"]


@pytest.mark.parametrize("bad", [
    "just some words",
    "gizmo =",
    "gizmo = ",
    " = widget",
    "gizmo = |",
    "gizmo == widget",
    "gizmo = widget ~ gadget",  # the README: one `=` or `~`s, never both
])
def test_bad_line_names_file_and_line(tmp_path: Path, bad: str) -> None:
    path = write(tmp_path / "mine.txt", "# header\ngood = fine\n" + bad + "\nalso = fine\n")
    with pytest.raises(ProcsearchError) as info:
        Thesaurus([path])
    assert f"{path}:3" in str(info.value)


def test_unreadable_file_is_a_procsearch_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\xe9 = coffee\n".encode("latin-1"))
    with pytest.raises(ProcsearchError) as info:
        Thesaurus([path])
    assert str(path) in str(info.value)


def test_bundled_files_load_and_are_all_used(bundled: Thesaurus) -> None:
    names = {p.name for p in thesaurus_files()}
    assert {"abbreviations.txt", "synonyms.txt", "word_parts.txt", "spellings.txt"} <= names
    assert len(bundled.phrases) > 1000 and bundled.prefixes and bundled.suffixes


# -- abbreviations ----------------------------------------------------------------------------------

def test_abbreviation_expands(searcher: Searcher, bundled: Thesaurus) -> None:
    assert {"epidural blood patch", "blood patch"} <= targets(bundled.phrases[("ebp",)])
    results = searcher.search("EBP")
    assert {(e.source, e.target, e.kind) for e in results.expansions} >= {
        ("EBP", "epidural blood patch", "abbreviation")}


@pytest.mark.parametrize("word", ["pad", "pet", "Pad"])
def test_common_lower_case_words_are_not_abbreviations(searcher: Searcher, bundled: Thesaurus, word: str) -> None:
    key = words_of(word)
    assert key in bundled.abbreviations  # PAD and PET are abbreviations...
    assert bundled.lookup(list(key), [word]) == []  # ...but not when typed as the ordinary word
    assert bundled.lookup(list(key), [word.upper()]) != []
    assert not any(e.source.lower() == word.lower() for e in searcher.search(f"{word} scan").expansions)
    assert any(e.source == word.upper() for e in searcher.search(f"{word.upper()} scan").expansions)


def test_uncommon_lower_case_abbreviation_still_expands(searcher: Searcher) -> None:
    assert any(e.target == "epidural blood patch" for e in searcher.search("ebp").expansions)
    assert codes(searcher.search("ebp"))[:1] == ["62273"]


# -- synonym groups ---------------------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [("spinal tap", "lumbar puncture"), ("womb", "uterus"),
                                  ("oesophagus", "esophagus")])
def test_synonym_groups_work_both_ways(searcher: Searcher, a: str, b: str) -> None:
    assert b in {e.target for e in searcher.search(a).expansions}
    assert a in {e.target for e in searcher.search(b).expansions}


# -- word parts -------------------------------------------------------------------------------------

def test_word_parts_of_salpingo_oophorectomy(bundled: Thesaurus) -> None:
    found = part_targets(bundled, "salpingo-oophorectomy")
    assert {"fallopian tube", "ovary"} <= found
    assert found & {"excision", "resection"}


def test_word_parts_of_cholecystectomy(bundled: Thesaurus) -> None:
    found = part_targets(bundled, "cholecystectomy")
    assert "gallbladder" in found and found & {"excision", "resection"}


@pytest.mark.parametrize("word, parts", [
    ("rectovaginal", [{"rectum"}, {"vagina"}]),
    ("gastroesophageal", [{"stomach"}, {"esophagus"}]),
    ("perirenal", [{"kidney"}]),  # the position prefix names no body part
    ("renal", []),  # one root: left to the synonym files
])
def test_word_parts_of_adjectives(bundled: Thesaurus, word: str, parts: list[set[str]]) -> None:
    assert [targets(group) for group in bundled.word_parts(word)] == parts


def test_sub_compounds_keep_one_root_and_the_ending(bundled: Thesaurus) -> None:
    assert "thyroidectomy" in bundled.sub_compounds("hemithyroidectomy")
    assert {"salpingectomy", "oophorectomy"} <= set(bundled.sub_compounds("salpingo-oophorectomy"))
    assert {"gastroscopy", "esophagoscopy"} <= set(bundled.sub_compounds("esophagogastroduodenoscopy"))
    assert bundled.sub_compounds("appendectomy") == []  # one root: nothing shorter to find


def test_sub_compounds_the_pages_do_not_use_are_not_searched(searcher: Searcher) -> None:
    targets = {e.target for e in searcher.search("hemithyroidectomy").expansions if e.kind == "word part"}
    assert "thyroidectomy" in targets and "hemiectomy" not in targets


def test_word_parts_of_a_plain_word_are_empty(bundled: Thesaurus) -> None:
    assert part_targets(bundled, "knee") == set()
    assert part_targets(bundled, "xyzectomy") == set()  # no known root


@pytest.mark.parametrize("word, parts, expected", [
    ("oophorosalpingectomy", {"ovary", "fallopian tube"}, "58661"),
    ("tonsilloadenoidectomy", {"tonsils", "adenoids"}, "42820"),
    ("nephrolithotripsy", {"kidney"}, "50590"),
    ("cholecystoscopy", {"gallbladder"}, "0FT44ZZ"),
])
def test_unseen_compound_is_split_and_finds_the_page(searcher: Searcher, bundled: Thesaurus, word: str,
                                                      parts: set[str], expected: str) -> None:
    assert key_of(word) not in bundled.phrases  # listed nowhere: only the splitter knows it
    assert parts <= part_targets(bundled, word)
    results = searcher.search(word)
    assert {e.kind for e in results.expansions} == {"word part"}
    assert codes(results)[:1] == [expected]
    assert results.corrected_query is None  # a split compound is not a typo


# -- user files -------------------------------------------------------------------------------------

def test_user_file_from_environment_changes_results(tmp_path: Path, bundled_index: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with Searcher.open(bundled_index) as plain:
        assert "66984" not in codes(plain.search("zorblax"))
    mine = write(tmp_path / "hospital-terms.txt", "zorblax = cataract\n")
    monkeypatch.setenv("PROCSEARCH_THESAURUS", str(mine))
    assert mine in load_thesaurus().files
    with Searcher.open(bundled_index) as s:
        results = s.search("zorblax")
        assert set(codes(results)[:2]) == {"66984", "66821"}
        assert [(e.source, e.target) for e in results.expansions] == [("zorblax", "cataract")]


def test_user_files_colon_separated_and_option(tmp_path: Path, bundled_index: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    one = write(tmp_path / "one.txt", "zorblax = cataract\n")
    two = write(tmp_path / "two.txt", "quibbit ~ hammertoe\n")
    monkeypatch.setenv("PROCSEARCH_THESAURUS", f"{one}:{two}")
    with Searcher.open(bundled_index) as s:
        assert set(codes(s.search("zorblax"))[:2]) == {"66984", "66821"}
        assert codes(s.search("quibbit"))[:1] == ["28285"]
    monkeypatch.delenv("PROCSEARCH_THESAURUS")
    with Searcher.open(bundled_index, thesaurus_files=[str(two)]) as s:
        assert codes(s.search("quibbit"))[:1] == ["28285"]
        assert "66984" not in codes(s.search("zorblax"))


def test_missing_user_file_is_reported(tmp_path: Path, bundled_index: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCSEARCH_THESAURUS", str(tmp_path / "missing.txt"))
    with pytest.raises(ProcsearchError) as info:
        Searcher.open(bundled_index)
    assert "missing.txt" in str(info.value)


def test_bad_user_file_names_its_line(tmp_path: Path, bundled_index: str) -> None:
    bad = write(tmp_path / "bad.txt", "zorblax = cataract\nthis line has no operator\n")
    with pytest.raises(ProcsearchError) as info:
        Searcher.open(bundled_index, thesaurus_files=[str(bad)])
    assert f"{bad}:2" in str(info.value)


# -- UK and US spellings ----------------------------------------------------------------------------

@pytest.mark.parametrize("uk, us", [
    ("appendicectomy", "appendectomy"),
    ("caesarean", "cesarean"),
    ("oesophagus", "esophagus"),
    ("oesophageal", "esophageal"),
    ("anaesthesia", "anesthesia"),
    ("haematoma", "hematoma"),
    ("tumour", "tumor"),
])
def test_uk_spelling_finds_the_same_pages_as_us(searcher: Searcher, uk: str, us: str) -> None:
    uk_codes, us_codes = codes(searcher.search(uk, limit=200)), codes(searcher.search(us, limit=200))
    assert us_codes, us
    assert sorted(uk_codes) == sorted(us_codes), f"only {uk}: {set(uk_codes) - set(us_codes)}; " \
                                                 f"only {us}: {set(us_codes) - set(uk_codes)}"


@pytest.mark.parametrize("uk, us", [("appendicectomy", "appendectomy"), ("oesophagus", "esophagus"),
                                    ("caesarean", "cesarean"), ("anaesthesia", "anesthesia")])
def test_uk_spelling_ranks_the_same_best_pages(searcher: Searcher, uk: str, us: str) -> None:
    assert codes(searcher.search(uk))[:2] == codes(searcher.search(us))[:2]


# -- the packed cache -------------------------------------------------------------------------------

def _cached_twice(files: list[Path]) -> tuple[Thesaurus, Thesaurus]:
    """(parsed, then loaded from the cache the parse wrote)."""
    from procsearch.search import thesaurus as thesaurus_mod

    key = (tuple(files), tuple(f.stat().st_mtime for f in files))
    thesaurus_mod._load_cached.cache_clear()
    parsed = thesaurus_mod._load_cached(*key)
    thesaurus_mod._load_cached.cache_clear()
    return parsed, thesaurus_mod._load_cached(*key)


def test_cached_thesaurus_answers_like_the_parse(tmp_path: Path, tmp_home: Path) -> None:
    path = write(tmp_path / "mine.txt", "\n".join([
        "gizmo | doohickey = widget | gadget thing",
        "flurb ~ blorft ~ zindle",
        "same ~ same",  # a phrase whose only alternative is itself: an empty bucket
        "zorp | = | x",  # odd spacing
        "ileo- = ileum",
        "-ostomy = opening",
        "Sjögren test = sjogren check",
        "wid|get ~ thing",  # a member holding the one-way separator of the other form
    ]))
    parsed, loaded = _cached_twice([path])
    assert list((tmp_home / "cache").glob("thesaurus-*.json"))
    assert loaded.phrases == parsed.phrases and loaded.unordered == parsed.unordered
    assert set(loaded.phrases) == set(parsed.phrases) and len(loaded.phrases) == len(parsed.phrases)
    assert ("gizmo",) in loaded.phrases and ("nothing",) not in loaded.phrases and "gizmo" not in loaded.phrases
    assert loaded.phrases.get(("nothing",)) is None and loaded.phrases.get(["gizmo"]) is None
    assert loaded.phrases[key_of("same")] == [] and loaded.phrases[key_of("wid|get")] == parsed.phrases[key_of("wid|get")]
    words = ["gadget", "thing"]
    assert loaded.lookup(words, words) == parsed.lookup(words, words)
    assert loaded.word_parts("ileostomy") == parsed.word_parts("ileostomy")
    assert loaded.vocabulary() == parsed.vocabulary() and loaded.abbreviations == parsed.abbreviations


def test_damaged_cache_entry_names_the_cache_file(tmp_path: Path, tmp_home: Path) -> None:
    import json

    path = write(tmp_path / "mine.txt", "gizmo = widget | gadget\n")
    _cached_twice([path])
    cache = next((tmp_home / "cache").glob("thesaurus-*.json"))
    data = json.loads(cache.read_text(encoding="utf-8"))
    data["phrases"] = {k: "widget\u2028not a weight" for k in data["phrases"]}
    cache.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    from procsearch.search import thesaurus as thesaurus_mod

    thesaurus_mod._load_cached.cache_clear()
    loaded = thesaurus_mod._load_cached((path,), (path.stat().st_mtime,))
    with pytest.raises(ProcsearchError, match=f"{cache.name}: damaged entry for 'gizmo'; delete the file"):
        loaded.phrases[("gizmo",)]


def test_a_cache_that_is_not_the_packed_form_is_parsed_again(tmp_path: Path, tmp_home: Path) -> None:
    path = write(tmp_path / "mine.txt", "gizmo = widget | gadget\n")
    _cached_twice([path])
    cache = next((tmp_home / "cache").glob("thesaurus-*.json"))
    cache.write_text('{"phrases": [[["gizmo"], []]], "unordered": {}, "abbreviations": [], "prefixes": {}, '
                     '"suffixes": {}, "files": [], "words": ""}', encoding="utf-8")
    from procsearch.search import thesaurus as thesaurus_mod

    thesaurus_mod._load_cached.cache_clear()
    loaded = thesaurus_mod._load_cached((path,), (path.stat().st_mtime,))
    assert targets(loaded.phrases[("gizmo",)]) == {"widget", "gadget"}
