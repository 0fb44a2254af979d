"""Resource limits for the restricted evaluator."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Upper bounds that keep a hostile expression from exhausting memory or CPU.

    The defaults are far above what Flamenco's own job types need (their
    longest `eval` is ~130 characters, ~30 nodes, nesting depth ~8).
    """

    # Length of the expression source text.
    max_expression_chars: int = 2000
    # Number of AST nodes (operators and load contexts not counted).
    max_nodes: int = 500
    # Nesting depth of the AST; also bounds the evaluator's recursion.
    max_depth: int = 50
    # Largest str / bytes / path length and largest "logical size" of a
    # list/tuple/set/dict (elements counted recursively, strings by length),
    # for every intermediate value. Checked *before* repetition, padding,
    # replace/join and format widths so huge values are never allocated.
    max_size: int = 100_000
    # Largest int (in bits) any intermediate value may have; checked before
    # `*`, `**` and `<<` so e.g. 9**9**9 is never computed.
    max_int_bits: int = 4096
    # Total element visits spent measuring container sizes during one
    # evaluation, so adversarial expressions stay O(limit) in time.
    max_work: int = 1_000_000
