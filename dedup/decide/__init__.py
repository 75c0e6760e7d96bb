"""Decisions: candidate pairs verified on exact Jaccard, the rules (run rule, inner repeats, scope)."""
