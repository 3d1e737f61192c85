"""The paper's Tables 3 and 4 are the first test of the ranking core."""

import math

import pytest

from recommender.ranking import TagMatrix, cosine, profile_from_songs, rank, shared_tags

C, W, K, A, I = "Cheerful", "Wild", "Keyboard", "Absolute Music", "Internet"

# Table 3: the three typical songs of the Happy library and their labels.
TYPICAL = {"Back wave": [C, W, K, A, I], "Rise": [K, A, I], "Lanterns": [C, K, A, I]}

# Table 4, as printed: label columns and cosine.
TABLE_4 = {
    "Brass": ([C, K, A, I], 0.972),
    "Rise": ([C, K, A, I], 0.972),
    "PDD": ([C, K, A], 0.816),
    "Higher": ([C, A], 0.625),
    "All in": ([C, A], 0.625),
    "Adventures": ([A], 0.531),
}


def test_it_builds_the_papers_profile_from_three_typical_songs():
    profile = profile_from_songs(TYPICAL.values())
    assert dict(profile) == {K: 3, A: 3, I: 3, C: 2, W: 1}


@pytest.mark.parametrize("name", list(TABLE_4))
def test_it_reproduces_table_4_cosines(name):
    profile = profile_from_songs(TYPICAL.values())
    tags, printed = TABLE_4[name]
    # Printed to three places; Adventures is 3/sqrt(32) = 0.5303, printed 0.531.
    assert cosine(profile, dict.fromkeys(tags, 1)) == pytest.approx(printed, abs=1e-3)


def test_it_notes_the_papers_slip_on_temptation_and_light():
    # Table 4 prints 0.177 beside a Cheerful-only row, but Cheerful alone gives 2/sqrt(32).
    profile = profile_from_songs(TYPICAL.values())
    assert cosine(profile, {C: 1}) == pytest.approx(2 / math.sqrt(32))
    assert round(2 / math.sqrt(32), 3) == 0.354
    # 0.177 is what a single weight-1 tag such as Wild gives: 1/sqrt(32).
    assert round(cosine(profile, {W: 1}), 3) == 0.177


def test_it_ranks_highest_first_and_respects_top():
    profile = profile_from_songs(TYPICAL.values())
    candidates = {name: tags for name, (tags, _) in TABLE_4.items()}
    candidates["Temptation"] = [C]
    ranked = rank(profile, candidates)
    assert [song for song, _ in ranked] == ["Brass", "Rise", "PDD", "Higher", "All in", "Adventures", "Temptation"]
    assert [score for _, score in ranked] == sorted((s for _, s in ranked), reverse=True)
    assert rank(profile, candidates, top=2) == ranked[:2]


def test_it_scores_disjoint_and_empty_vectors_zero():
    assert cosine({"a": 1}, {"b": 1}) == 0.0
    assert cosine({}, {"b": 1}) == 0.0
    assert rank({}, {"x": ["a"]}) == [("x", 0.0)]


def test_it_accepts_weighted_candidates():
    assert cosine({"a": 1, "b": 1}, {"a": 2.0}) == pytest.approx(1 / math.sqrt(2))


def test_it_explains_a_score_by_shared_tags_strongest_first():
    profile = profile_from_songs(TYPICAL.values())
    assert shared_tags(profile, [W, C, "Jazz"]) == [C, W]


def test_the_sparse_matrix_agrees_with_the_plain_formula():
    profile = profile_from_songs(TYPICAL.values())
    candidates = {name: tags for name, (tags, _) in TABLE_4.items()}
    candidates["Other"] = ["Jazz"]
    matrix = TagMatrix(candidates)
    assert [(s, round(v, 5)) for s, v in matrix.rank(profile)] == \
        [(s, round(v, 5)) for s, v in rank(profile, candidates)]
    assert [s for s, _ in matrix.rank(profile, top=3)] == ["Brass", "Rise", "PDD"]
    # Restricting to a subset of rows ranks only those.
    rows = [matrix.index["Adventures"], matrix.index["PDD"]]
    assert [s for s, _ in matrix.rank(profile, rows=rows)] == ["PDD", "Adventures"]
