"""Checkers for the exercises of ``01_what_is_a_large_model``.

Usage in the notebook::

    from course_lib import checks_01 as checks
    checks.dense_params(dense_params)
"""

from __future__ import annotations

import math
from typing import Any

from course_lib.exercises import Case, ExerciseSet, Mistake, compare_with_reference

EXERCISES = ExerciseSet("01_what_is_a_large_model")
summary = EXERCISES.summary

SECONDS_PER_DAY = 86_400
BYTES_PER_PARAM = {"float64": 8, "float32": 4, "bfloat16": 2, "float16": 2, "int8": 1}


# --- Exercise 1 ------------------------------------------------------------------------------

def _bert_params(vocab_size: int, max_positions: int, type_vocab_size: int, hidden: int, layers: int,
                 heads: int, ffn: int, pooler: bool) -> int:
    if hidden % heads:
        raise ValueError("hidden must be divisible by heads")
    d, f = hidden, ffn
    embeddings = (vocab_size + max_positions + type_vocab_size) * d + 2 * d   # + the embedding LayerNorm
    block = (4 * d * d + 4 * d) + (2 * d * f + f + d) + 2 * (2 * d)             # attention, FFN, 2 LayerNorms
    return embeddings + layers * block + (d * d + d if pooler else 0)


def _bert_with(**changes: Any) -> Any:
    """A wrong variant of the reference: ``changes`` adds or removes named pieces."""

    def wrong(v: int, p: int, t: int, d: int, n: int, h: int, f: int, pool: bool) -> int:
        total = _bert_params(v, p, t, d, n, h, f, pool)
        for piece, sign in changes.items():
            total += sign * {
                "types": t * d, "embedding_ln": 2 * d, "pooler": d * d + d, "final_ln": 2 * d,
                "output": v * d, "block_ln": n * 4 * d, "ffn_biases": n * (f + d), "attention_biases": n * 4 * d,
                "positions": p * d,
            }[piece]
        return total

    return wrong


@EXERCISES.exercise(1, "BERT-base from its configuration")
def bert_params(student: Any) -> str:
    """``bert_params(vocab_size, max_positions, type_vocab_size, hidden, layers, heads, ffn, pooler)`` -> int."""
    cases = [
        Case((30522, 512, 2, 768, 12, 12, 3072, True)),      # BERT-base, as released: 109,482,240
        Case((30522, 512, 2, 768, 12, 12, 3072, False)),     # without the pooler: 108,891,648
        Case((30522, 512, 2, 1024, 24, 16, 4096, True)),     # BERT-large
        Case((100, 16, 1, 32, 2, 4, 48, True)),              # one segment type, ffn != 4 * hidden
        Case((100, 16, 3, 32, 2, 8, 64, False)),             # other heads, same count
        Case((50, 8, 2, 16, 0, 2, 64, True)),                # no blocks: embeddings and pooler only
        Case((1000, 128, 2, 64, 3, 4, 256, True)),
        Case((100, 16, 2, 36, 2, 8, 64, True)),               # 36 features can't be split into 8 heads
    ]
    mistakes = [
        Mistake(_bert_with(types=-1), "you forgot the token-type (segment) embeddings: type_vocab_size x hidden"),
        Mistake(_bert_with(embedding_ln=-1), "you forgot the LayerNorm on the embeddings (2 x hidden: a scale "
                "and a shift per feature)"),
        Mistake(_bert_with(final_ln=+1), "a BERT encoder has no final LayerNorm after the blocks (that is "
                "GPT-2's pre-LayerNorm layout); its LayerNorms are one on the embeddings and two per block"),
        Mistake(_bert_with(output=+1), "the released BERT has no output projection to the vocabulary: "
                "count only the encoder (and the pooler, if pooler is true)"),
        Mistake(_bert_with(block_ln=-1), "each block has two LayerNorms (after attention and after the "
                "feed-forward network), 2 x hidden each"),
        Mistake(_bert_with(ffn_biases=-1), "the feed-forward layers have biases: ffn + hidden per block"),
        Mistake(_bert_with(attention_biases=-1), "the query, key, value and output projections have biases: "
                "4 x hidden per block"),
        Mistake(_bert_with(positions=-1), "you forgot the learned position embeddings: max_positions x hidden"),
        Mistake(lambda v, p, t, d, n, h, f, pool: _bert_params(v, p, t, d, n, h, 4 * d, pool),
                "use the ffn argument for the feed-forward width: it need not be 4 x hidden"),
        Mistake(lambda v, p, t, d, n, h, f, pool: _bert_params(v, p, t, d, n, h, f, True),
                "add the pooler (hidden x hidden + hidden) only when pooler is true"),
        Mistake(lambda v, p, t, d, n, h, f, pool: _bert_params(v, p, t, d, n, h, f, False),
                "pooler=True: add the pooler, a hidden x hidden dense layer with hidden biases"),
        Mistake(lambda v, p, t, d, n, h, f, pool: 12 * n * d * d, "12 x layers x hidden^2 is only the "
                "large-model approximation of the blocks: count every piece exactly, embeddings too"),
    ]
    return compare_with_reference(student, _bert_params, cases, mistakes, name="bert_params")


# --- Exercise 2 ------------------------------------------------------------------------------

def _kv_cache_bytes(layers: int, heads: int, kv_heads: int, width: int, context: int, batch: int,
                    bytes_per_value: int) -> int:
    if heads % kv_heads or width % heads:
        raise ValueError("kv_heads must divide heads and heads must divide width")
    return 2 * layers * kv_heads * (width // heads) * context * batch * bytes_per_value


@EXERCISES.exercise(2, "the KV cache of a batch")
def kv_cache_bytes(student: Any) -> str:
    """``kv_cache_bytes(layers, heads, kv_heads, width, context, batch, bytes_per_value)`` -> int bytes."""
    cases = [
        Case((80, 64, 8, 8192, 4096, 1, 2)),       # Llama-2-70B-like, grouped-query attention
        Case((96, 96, 96, 12288, 2048, 1, 2)),     # GPT-3: ordinary multi-head attention
        Case((12, 12, 12, 768, 1024, 8, 4)),       # GPT-2 small, float32, a batch of 8
        Case((32, 32, 1, 4096, 2048, 4, 2)),       # multi-query attention
        Case((2, 8, 4, 64, 10, 3, 1)),             # int8 cache
        Case((4, 16, 2, 512, 0, 2, 2)),            # nothing generated yet: an empty cache
    ]
    mistakes = [
        Mistake(lambda L, h, g, d, s, b, B: L * g * (d // h) * s * b * B, "the cache holds a key AND a value "
                "per token, layer and KV head: multiply by 2"),
        Mistake(lambda L, h, g, d, s, b, B: 2 * L * d * s * b * B, "you cached width numbers per layer for keys "
                "(and for values), i.e. one head per query head, or KV heads of width // kv_heads. Only the "
                "kv_heads key/value heads are cached, each of width width // heads: kv_heads x (width // heads) "
                "per layer"),
        Mistake(lambda L, h, g, d, s, b, B: 2 * L * g * (d // h) * s * B, "every sequence of the batch has its "
                "own cache: multiply by batch"),
        Mistake(lambda L, h, g, d, s, b, B: 2 * L * g * (d // h) * b * B, "the cache grows with every token: "
                "multiply by context"),
        Mistake(lambda L, h, g, d, s, b, B: 2 * L * g * (d // h) * s * b * B * 8, "bytes_per_value is already "
                "in bytes: don't multiply by 8"),
        Mistake(lambda L, h, g, d, s, b, B: 2 * L * g * (d // h) * s * b, "multiply by bytes_per_value: the "
                "count so far is of values, not bytes"),
        Mistake(lambda L, h, g, d, s, b, B: 2 * L * g * (d / h) * s * b * B, "return an int: use width // heads"),
    ]
    return compare_with_reference(student, _kv_cache_bytes, cases, mistakes, name="kv_cache_bytes")


# --- Exercise 3 ------------------------------------------------------------------------------

def _compute_optimal_model(days: float, n_accelerators: int, peak_flops: float, utilization: float,
                           tokens_per_param: float) -> tuple[float, float]:
    compute = days * SECONDS_PER_DAY * n_accelerators * peak_flops * utilization
    n_params = math.sqrt(compute / (6 * tokens_per_param))
    return n_params, tokens_per_param * n_params


def _optimal_with(cost: float = 6, seconds: float = SECONDS_PER_DAY, use_u: bool = True, use_a: bool = True):
    def wrong(t: float, a: int, p: float, u: float, r: float) -> tuple[float, float]:
        c = t * seconds * (a if use_a else 1) * p * (u if use_u else 1)
        n = math.sqrt(c / (cost * r))
        return n, r * n
    return wrong


@EXERCISES.exercise(3, "a compute-optimal model for a budget")
def compute_optimal_model(student: Any) -> str:
    """``compute_optimal_model(days, n_accelerators, peak_flops, utilization, tokens_per_param)`` -> (N, D)."""
    cases = [
        Case((30, 1024, 312e12, 0.4, 20)), Case((1, 8, 989e12, 0.35, 20)), Case((90, 2048, 275e12, 0.45, 20)),
        Case((7, 64, 312e12, 0.5, 100)), Case((0.5, 1, 312e12, 0.3, 1)),
        Case((1 / 86_400, 1, 1e10, 0.5, 20)),   # one second of a 10 GFLOP/s CPU: a 6,455-parameter model
    ]
    mistakes = [
        Mistake(_optimal_with(cost=8), "training costs about 6·N·D FLOPs (forward 2 + backward 4 per parameter "
                "and token), not 8·N·D"),
        Mistake(_optimal_with(cost=2), "2·N·D is only the forward pass; training costs 6·N·D"),
        Mistake(_optimal_with(cost=1), "you left out the 6 of C = 6·N·D: with D = r·N, C = 6·r·N², so "
                "N = sqrt(C / (6·r))"),
        Mistake(lambda t, a, p, u, r: (t * 86400 * a * p * u / (6 * r), t * 86400 * a * p * u / 6),
                "C = 6·N·D with D = r·N gives C = 6·r·N²: N is the SQUARE ROOT of C / (6·r)"),
        Mistake(lambda t, a, p, u, r: (lambda n: (n, n / r))(math.sqrt(t * 86400 * a * p * u / (6 * r))),
                "tokens_per_param is tokens PER parameter: D = tokens_per_param x N, not N / tokens_per_param"),
        Mistake(_optimal_with(seconds=1), "the budget is in days: multiply by 86,400 seconds per day"),
        Mistake(_optimal_with(seconds=3600), "a day has 86,400 seconds, not 3,600"),
        Mistake(_optimal_with(use_u=False), "the devices run at utilization x peak_flops, not at their peak"),
        Mistake(_optimal_with(use_a=False), "all n_accelerators devices add to the compute: multiply by n_accelerators"),
        Mistake(lambda t, a, p, u, r: tuple(reversed(_compute_optimal_model(t, a, p, u, r))),
                "return (n_params, n_tokens) in that order"),
    ]
    return compare_with_reference(student, _compute_optimal_model, cases, mistakes, name="compute_optimal_model",
                                  rtol=1e-6)


# --- Exercise 4 ------------------------------------------------------------------------------

def _accelerators_for_weights(n_params: int, dtype: str, memory_bytes: int) -> int:
    if dtype not in BYTES_PER_PARAM:
        raise ValueError(dtype)
    return math.ceil(n_params * BYTES_PER_PARAM[dtype] / memory_bytes)


@EXERCISES.exercise(4, "accelerators needed to hold the weights")
def accelerators_for_weights(student: Any) -> str:
    """``accelerators_for_weights(n_params, dtype, memory_bytes)`` -> the fewest devices holding the weights."""
    gb80 = 80 * 10**9
    cases = [
        Case((174_604_259_328, "bfloat16", gb80)), Case((174_604_259_328, "float32", gb80)),
        Case((174_604_259_328, "int8", gb80)), Case((7_000_000_000, "float16", 24 * 10**9)),
        Case((124_439_808, "float32", 16 * 10**9)), Case((70_000_000_000, "float64", gb80)),
        Case((40_000_000_000, "bfloat16", gb80)), Case((174_604_259_328, "bfloat16", 40 * 10**9)),
        Case((7_000_000_000, "float32", 16 * 10**9)),    # 28 GB: 2 devices of 16 GB (1 of 80 GB)
    ]
    bits = {k: 8 * v for k, v in BYTES_PER_PARAM.items()}
    mistakes = [
        Mistake(lambda n, t, m: math.ceil(n * bits[t] / m), "you counted bits, not bytes: a float32 weight "
                "takes 32 bits = 4 bytes, bfloat16 and float16 2 bytes, int8 1 byte"),
        Mistake(lambda n, t, m: n * BYTES_PER_PARAM[t] // m, "rounding down leaves part of the weights "
                "without a device: round up (math.ceil)"),
        Mistake(lambda n, t, m: round(n * BYTES_PER_PARAM[t] / m), "round up, not to the nearest: "
                "1.2 devices' worth of weights needs 2 devices (math.ceil)"),
        Mistake(lambda n, t, m: math.ceil(n * 4 / m), "the bytes per parameter depend on the dtype: "
                "float32 4, bfloat16/float16 2, int8 1"),
        Mistake(lambda n, t, m: n * BYTES_PER_PARAM[t] / m, "a number of devices is a whole number: "
                "round up with math.ceil"),
        Mistake(lambda n, t, m: math.ceil(n * BYTES_PER_PARAM[t] / m) + 1, "one device too many: "
                "math.ceil already rounds up"),
    ]
    return compare_with_reference(student, _accelerators_for_weights, cases, mistakes,
                                  name="accelerators_for_weights")
