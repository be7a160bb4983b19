"""Routing: which staff answer for a submission, decided from the directory alone (pure, no I/O)."""

from __future__ import annotations

from minqing.directory import Directory, Rule

ANY = "*"


def route(
    directory: Directory,
    *,
    kind: str,
    community: str | None,
    category: str,
    uscc: str | None = None,
) -> tuple[str, ...]:
    """Staff ids to notify, most responsible first, without duplicates.

    An enterprise's 包保 official comes first; then the assignees of every rule sharing the highest
    specificity; with no matching rule, the community's fallback; with nobody at all, the street's;
    then the staff of every matching `also` rule.
    """
    assignees: list[str] = []
    if kind == "enterprise" and uscc is not None:
        official = directory.enterprise_assignments.get(uscc)
        if official is not None:
            assignees.append(official)

    matched = _most_specific([r for r in directory.rules if not r.also], kind, community, category)
    for rule in matched:
        assignees.extend(rule.assignees)
    copied = [r for r in directory.rules if r.also and _specificity(r, kind, community, category) is not None]

    if not matched:
        known = directory.communities.get(community) if community is not None else None
        if known is not None and known.fallback is not None:
            assignees.append(known.fallback)
    if not assignees:
        assignees.extend(directory.street.fallback)
    for rule in copied:
        assignees.extend(rule.assignees)
    return tuple(dict.fromkeys(assignees))


def _most_specific(rules: list[Rule], kind: str, community: str | None, category: str) -> list[Rule]:
    scored = [(_specificity(rule, kind, community, category), rule) for rule in rules]
    scored = [(score, rule) for score, rule in scored if score is not None]
    if not scored:
        return []
    top = max(score for score, _ in scored)
    return [rule for score, rule in scored if score == top]


def _specificity(rule: Rule, kind: str, community: str | None, category: str) -> int | None:
    """How exactly a rule matches (kind outweighs community outweighs category), or None if it doesn't."""
    return match_score(((4, rule.kind, kind), (2, rule.community, community), (1, rule.category, category)))


def match_score(checks) -> int | None:
    """Sum of the weights of exact matches in (weight, wanted, actual) checks; None if any wanted value
    other than `*` differs. Shared by routing rules and SLA limits."""
    score = 0
    for weight, wanted, actual in checks:
        if wanted == ANY:
            continue
        if wanted != actual:
            return None
        score += weight
    return score
