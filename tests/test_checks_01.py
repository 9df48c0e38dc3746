"""The chapter-01 checkers accept the worked solutions and reject the typical mistakes with hints."""

import math

import keras
import numpy as np
import pytest
from nbutils import load_tagged

from course_lib import checks_01 as checks
from course_lib.exercises import FAILED, PASSED

SOLUTIONS = load_tagged("01_what_is_a_large_model")
STUBS = load_tagged("01_what_is_a_large_model", tag="exercise", folder="notebooks")
NAMES = ["bert_params", "kv_cache_bytes", "compute_optimal_model", "accelerators_for_weights"]


def test_every_exercise_has_a_stub_and_a_solution():
    assert sorted(e.body.__name__ for e in checks.EXERCISES.exercises) == sorted(NAMES)
    for name in NAMES:
        assert callable(SOLUTIONS[name]) and callable(STUBS[name])


def _expect(checker, wrong, hint):
    result = checker.evaluate(wrong)
    assert result.status == FAILED and hint in result.message, result.message


# --- bert_params ---------------------------------------------------------------------------------

def test_bert_reference_matches_the_published_count_and_sizing():
    from course_lib import sizing

    assert checks._bert_params(30522, 512, 2, 768, 12, 12, 3072, True) == 109_482_240
    assert checks._bert_params(30522, 512, 2, 768, 12, 12, 3072, False) == 108_891_648
    for v, p, t, d, n, h, f, pool in [(100, 16, 1, 32, 2, 4, 48, True), (1000, 128, 3, 64, 3, 4, 256, False)]:
        config = sizing.TransformerConfig(vocab_size=v, context=p, width=d, layers=n, heads=h, ff_width=f,
                                          style="encoder", type_vocab_size=t, pooler=pool)
        assert checks._bert_params(v, p, t, d, n, h, f, pool) == sizing.transformer_params(config)


def test_bert_reference_matches_a_keras_encoder():
    v, p, t, d, n, h, f = 50, 12, 2, 16, 2, 4, 24
    ids = keras.Input((p,), dtype="int32")
    x = keras.layers.Embedding(v, d)(ids) + keras.layers.Embedding(p, d)(ids) + keras.layers.Embedding(t, d)(ids)
    x = keras.layers.LayerNormalization()(x)
    for _ in range(n):
        x = keras.layers.LayerNormalization()(x + keras.layers.MultiHeadAttention(h, d // h)(x, x))
        x = keras.layers.LayerNormalization()(x + keras.layers.Dense(d)(keras.layers.Dense(f, activation="gelu")(x)))
    pooled = keras.layers.Dense(d, activation="tanh")(x[:, 0])
    assert keras.Model(ids, pooled).count_params() == checks._bert_params(v, p, t, d, n, h, f, True)


_BERT = checks._bert_params


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda v, p, t, d, n, h, f, pool: _BERT(v, p, t, d, n, h, f, pool) - t * d, "token-type"),
        (lambda v, p, t, d, n, h, f, pool: _BERT(v, p, t, d, n, h, f, pool) - 2 * d, "LayerNorm on the embeddings"),
        (lambda v, p, t, d, n, h, f, pool: _BERT(v, p, t, d, n, h, f, pool) + 2 * d, "no final LayerNorm"),
        (lambda v, p, t, d, n, h, f, pool: _BERT(v, p, t, d, n, h, f, pool) + v * d, "no output projection"),
        (lambda v, p, t, d, n, h, f, pool: _BERT(v, p, t, d, n, h, f, pool) - n * 4 * d, "two LayerNorms"),
        (lambda v, p, t, d, n, h, f, pool: _BERT(v, p, t, d, n, h, f, pool) - n * (f + d), "feed-forward layers have biases"),
        (lambda v, p, t, d, n, h, f, pool: _BERT(v, p, t, d, n, h, f, pool) - p * d, "position embeddings"),
        (lambda v, p, t, d, n, h, f, pool: _BERT(v, p, t, d, n, h, 4 * d, pool), "use the ffn argument"),
        (lambda v, p, t, d, n, h, f, pool: _BERT(v, p, t, d, n, h, f, True), "only when pooler is true"),
        (lambda v, p, t, d, n, h, f, pool: _BERT(v, p, t, d, n, h, f, False), "pooler=True: add the pooler"),
        (lambda v, p, t, d, n, h, f, pool: 12 * n * d * d, "large-model approximation"),
        (lambda v, p, t, d, n, h, f, pool: float(_BERT(v, p, t, d, n, h, f, pool)), "expected the int"),
    ],
)
def test_bert_params_rejects(wrong, hint):
    _expect(checks.bert_params, wrong, hint)


# --- kv_cache_bytes ------------------------------------------------------------------------------

def test_kv_reference_matches_keras_keys_and_values():
    mha = keras.layers.MultiHeadAttention(num_heads=4, key_dim=8)
    x = np.zeros((3, 5, 32), "float32")
    mha(x, x)
    cached = int(np.prod(mha.key_dense(x).shape)) + int(np.prod(mha.value_dense(x).shape))
    assert checks._kv_cache_bytes(1, 4, 4, 32, 5, 3, 4) == 4 * cached


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda L, h, g, d, s, b, B: L * g * (d // h) * s * b * B, "multiply by 2"),
        (lambda L, h, g, d, s, b, B: 2 * L * h * (d // h) * s * b * B, "kv_heads x (width // heads)"),
        (lambda L, h, g, d, s, b, B: 2 * L * g * (d // g) * s * b * B, "kv_heads x (width // heads)"),
        (lambda L, h, g, d, s, b, B: 2 * L * g * (d // h) * s * B, "multiply by batch"),
        (lambda L, h, g, d, s, b, B: 2 * L * g * (d // h) * b * B, "multiply by context"),
        (lambda L, h, g, d, s, b, B: 2 * L * g * (d // h) * s * b * B * 8, "don't multiply by 8"),
        (lambda L, h, g, d, s, b, B: 2 * L * g * (d // h) * s * b, "multiply by bytes_per_value"),
        (lambda L, h, g, d, s, b, B: 2 * L * d * s * b * B, "kv_heads x (width // heads)"),
        (lambda L, h, g, d, s, b, B: 2 * L * g * (d / h) * s * b * B, "return an int"),
    ],
)
def test_kv_cache_bytes_rejects(wrong, hint):
    _expect(checks.kv_cache_bytes, wrong, hint)


# --- compute_optimal_model -------------------------------------------------------------------------

def test_compute_optimal_reference_reproduces_chinchilla():
    flops_per_day = 86_400 * 1024 * 312e12 * 0.4
    n, d = checks._compute_optimal_model(6 * 70e9 * 1.4e12 / flops_per_day, 1024, 312e12, 0.4, 20)
    assert math.isclose(n, 70e9, rel_tol=1e-9) and math.isclose(d, 1.4e12, rel_tol=1e-9)


def _optimal(t, a, p, u, r, cost=6, seconds=86_400):
    n = math.sqrt(t * seconds * a * p * u / (cost * r))
    return n, r * n


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda t, a, p, u, r: _optimal(t, a, p, u, r, cost=8), "not 8·N·D"),
        (lambda t, a, p, u, r: _optimal(t, a, p, u, r, cost=2), "only the forward pass"),
        (lambda t, a, p, u, r: _optimal(t, a, p, u, r, cost=1), "left out the 6"),
        (lambda t, a, p, u, r: (t * 86400 * a * p * u / (6 * r), t * 86400 * a * p * u / 6), "SQUARE ROOT"),
        (lambda t, a, p, u, r: (_optimal(t, a, p, u, r)[0], _optimal(t, a, p, u, r)[0] / r), "tokens PER parameter"),
        (lambda t, a, p, u, r: _optimal(t, a, p, u, r, seconds=1), "86,400 seconds per day"),
        (lambda t, a, p, u, r: _optimal(t, a, p, u, r, seconds=3600), "not 3,600"),
        (lambda t, a, p, u, r: _optimal(t, a, p, u / u, r), "utilization x peak_flops"),
        (lambda t, a, p, u, r: _optimal(t, 1, p, u, r), "multiply by n_accelerators"),
        (lambda t, a, p, u, r: _optimal(t, a, p, u, r)[::-1], "in that order"),
    ],
)
def test_compute_optimal_model_rejects(wrong, hint):
    _expect(checks.compute_optimal_model, wrong, hint)


def test_compute_optimal_model_accepts_a_list_and_numpy():
    def as_numpy(t, a, p, u, r):
        n = np.sqrt(np.float64(t) * 86_400 * a * p * u / (6 * r))
        return [n, r * n]

    assert checks.compute_optimal_model.evaluate(as_numpy).status == PASSED


BYTES = {"float64": 8, "float32": 4, "bfloat16": 2, "float16": 2, "int8": 1}


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda n, t, m: math.ceil(n * 8 * BYTES[t] / m), "bits, not bytes"),
        (lambda n, t, m: n * BYTES[t] // m, "rounding down"),
        (lambda n, t, m: math.ceil(n * 4 / m), "depend on the dtype"),
        (lambda n, t, m: n * BYTES[t] / m, "whole number"),
        (lambda n, t, m: math.ceil(n * BYTES[t] / m) + 1, "one device too many"),
    ],
)
def test_accelerators_for_weights_rejects(wrong, hint):
    result = checks.accelerators_for_weights.evaluate(wrong)
    assert result.status == FAILED and hint in result.message, result.message


def test_student_exception_is_reported_not_raised():
    def broken(v, p, t, d, n, h, f, pool):
        return undefined_name  # noqa: F821

    result = checks.bert_params.evaluate(broken)
    assert result.status == FAILED and "NameError" in result.message


def test_bert_params_requires_the_heads_to_split_hidden():
    def no_check(v, p, t, d, n, h, f, pool):
        return (v + p + t) * d + 2 * d + n * (4 * d * d + 4 * d + 2 * d * f + f + d + 4 * d) + (d * d + d if pool else 0)

    result = checks.bert_params.evaluate(no_check)
    assert result.status == FAILED and "ValueError" in result.message, result.message
