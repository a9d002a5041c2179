"""Relevance metrics over a ranked list of codes.

A query's ``relevant`` list holds codes or code prefixes ("0W0F" stands for every code under it),
so a returned code is relevant when it equals or starts with one of the entries. Every metric is
computed per query over the top ``k`` codes and then averaged per query kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

K = 10


def matches(code: str, entry: str) -> bool:
    """Whether a returned code is covered by one relevant entry (equal, or under the prefix)."""
    return code.upper().startswith(entry.upper())


def is_relevant(code: str, relevant: Iterable[str]) -> bool:
    return any(matches(code, entry) for entry in relevant)


def first_relevant_rank(codes: Sequence[str], relevant: Sequence[str], k: int = K) -> int | None:
    """1-based rank of the first relevant code within the top k, or None."""
    for rank, code in enumerate(codes[:k], 1):
        if is_relevant(code, relevant):
            return rank
    return None


def success_at(codes: Sequence[str], relevant: Sequence[str], k: int) -> float:
    """1.0 when at least one of the top k codes is relevant, else 0.0."""
    return 1.0 if first_relevant_rank(codes, relevant, k) is not None else 0.0


def reciprocal_rank(codes: Sequence[str], relevant: Sequence[str], k: int = K) -> float:
    """1 / rank of the first relevant code in the top k (0.0 when there is none): MRR@k per query."""
    rank = first_relevant_rank(codes, relevant, k)
    return 1.0 / rank if rank else 0.0


def recall_at(codes: Sequence[str], relevant: Sequence[str], k: int = K) -> float:
    """Fraction of the distinct relevant entries matched by at least one of the top k codes.

    An entry that is a prefix counts once however many of its codes are returned, so a query whose
    answer is one prefix reaches 1.0 with a single hit, while a query listing 30 exact codes
    cannot exceed 10/30 at k=10.
    """
    entries = list(dict.fromkeys(e.upper() for e in relevant))
    if not entries:
        return 0.0
    top = codes[:k]
    found = sum(1 for entry in entries if any(matches(code, entry) for code in top))
    return found / len(entries)


@dataclass(frozen=True)
class QueryScore:
    """The four metrics of one query."""

    success_at_1: float
    success_at_10: float
    mrr_at_10: float
    recall_at_10: float


def score_query(codes: Sequence[str], relevant: Sequence[str]) -> QueryScore:
    return QueryScore(
        success_at_1=success_at(codes, relevant, 1),
        success_at_10=success_at(codes, relevant, K),
        mrr_at_10=reciprocal_rank(codes, relevant, K),
        recall_at_10=recall_at(codes, relevant, K),
    )


def summarize(scored: Iterable[tuple[str, QueryScore]]) -> dict[str, dict[str, float]]:
    """Mean of each metric per query kind, plus "all" over every query; each with its query count ``n``."""
    groups: dict[str, list[QueryScore]] = {}
    for kind, score in scored:
        groups.setdefault(kind, []).append(score)
        groups.setdefault("all", []).append(score)
    out: dict[str, dict[str, float]] = {}
    for kind in sorted(groups, key=lambda k: (k == "all", k)):
        scores = groups[kind]
        means = {name: sum(getattr(s, name) for s in scores) / len(scores) for name in asdict(scores[0])}
        out[kind] = {"n": len(scores), **means}
    return out
