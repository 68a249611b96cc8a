"""String similarity for name matching, in the standard library only; pure.

`indel_ratio` is the normalised Indel similarity (what rapidfuzz calls `fuzz.ratio`, over 1
instead of 100): twice the longest common subsequence over the summed lengths. The common
subsequence is counted with the bit-parallel algorithm of Allison-Dix / Hyyrö: one pass over
the second string, a few integer operations per character whatever the first string's length.
"""

from __future__ import annotations


def lcs_length(a: str, b: str) -> int:
    """Length of the longest common subsequence of two strings."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for position, char in enumerate(a):
        masks[char] = masks.get(char, 0) | (1 << position)
    full = (1 << len(a)) - 1
    row = full
    for char in b:
        matches = row & masks.get(char, 0)
        row = ((row + matches) | (row - matches)) & full
    return len(a) - row.bit_count()


def indel_ratio(a: str, b: str) -> float:
    """1.0 for equal strings, 0.0 for strings with no character in common (or one empty)."""
    if a == b:
        return 1.0
    total = len(a) + len(b)
    return 2 * lcs_length(a, b) / total if total else 1.0


def deletions(word: str) -> set[str]:
    """Every string one character shorter: two words one edit apart share one of these."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}
