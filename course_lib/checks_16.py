"""Checkers for the self-check quiz (exercises) of ``16_learning_path``.

Usage in the notebook::

    from course_lib import checks_16 as checks
    checks.conv2d_layer(conv2d_layer)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_lib.exercises import Case, ExerciseSet, Mistake, Wrong, compare_with_reference, describe

EXERCISES = ExerciseSet("16_learning_path")
summary = EXERCISES.summary


# --- Exercise 1: a Conv2D layer's output shape and parameters ---------------------------------

def _out(n: int, k: int, s: int, padding: str, plus_one: bool = True, same_floor: bool = False,
         torch_same: bool = False) -> int:
    if padding == "same":
        if torch_same:                          # PyTorch-style symmetric padding k // 2 on each side
            return (n + 2 * (k // 2) - k) // s + 1
        return n // s if same_floor else -(-n // s)
    return (n - k) // s + (1 if plus_one else 0)


def _conv2d_layer(h, w, c_in, filters, k, stride=1, padding="valid"):
    return ((_out(h, k, stride, padding), _out(w, k, stride, padding), filters), (k * k * c_in + 1) * filters)


def _conv_mistake(shape=None, params=None):
    def fn(h, w, c_in, filters, k, stride=1, padding="valid"):
        (ho, wo, f), p = _conv2d_layer(h, w, c_in, filters, k, stride, padding)
        if shape is not None:
            ho, wo, f = shape(h, w, c_in, filters, k, stride, padding)
        if params is not None:
            p = params(k, c_in, filters)
        return ((ho, wo, f), p)
    return fn


@EXERCISES.exercise(1, "a Conv2D layer: output shape and parameters")
def conv2d_layer(student: Any) -> str:
    """``conv2d_layer(h, w, c_in, filters, k, stride=1, padding="valid")`` -> ((h_out, w_out, filters), params)."""
    cases = [
        Case((28, 28, 1, 32, 3)), Case((13, 13, 32, 64, 3)), Case((8, 8, 1, 16, 3, 1, "same")),
        Case((32, 32, 3, 64, 5, 2, "valid")), Case((7, 9, 3, 8, 3, 2, "same")), Case((224, 224, 3, 64, 7, 2, "same")),
        Case((8, 8, 1, 4, 4, 1, "same")),       # an even kernel: 'same' still gives n / stride
    ]
    mistakes = [
        Mistake(_conv_mistake(params=lambda k, c, f: k * k * c * f),
                "the parameter count misses the biases: one bias per filter, (k·k·c_in + 1)·filters"),
        Mistake(_conv_mistake(params=lambda k, c, f: (k * k + 1) * f),
                "each filter spans all c_in input channels: (k·k·c_in + 1)·filters parameters"),
        Mistake(_conv_mistake(params=lambda k, c, f: k * k * c * f + c),
                "there is one bias per *output* channel (filter), not per input channel"),
        Mistake(_conv_mistake(shape=lambda h, w, c, f, k, s, p: (_out(h, k, s, p), _out(w, k, s, p), c)),
                "the output has `filters` channels, one feature map per filter, not c_in"),
        Mistake(_conv_mistake(shape=lambda h, w, c, f, k, s, p: (_out(h, k, s, "valid", False), _out(w, k, s, "valid", False), f)
                              if p == "valid" else (_out(h, k, s, p), _out(w, k, s, p), f)),
                "'valid' output size is floor((n - k) / stride) + 1: you forgot the + 1"),
        Mistake(_conv_mistake(shape=lambda h, w, c, f, k, s, p: (_out(h, k, s, "valid"), _out(w, k, s, "valid"), f)),
                "with padding='same' the output size is ceil(n / stride), whatever k is; you computed 'valid'"),
        Mistake(_conv_mistake(shape=lambda h, w, c, f, k, s, p: (_out(h, k, s, p, same_floor=True), _out(w, k, s, p, same_floor=True), f)),
                "'same' rounds *up*: ceil(n / stride) = -(-n // stride), not n // stride"),
        Mistake(_conv_mistake(shape=lambda h, w, c, f, k, s, p: (_out(w, k, s, p), _out(h, k, s, p), f)),
                "height and width are swapped: return (h_out, w_out, filters)"),
        Mistake(_conv_mistake(shape=lambda h, w, c, f, k, s, p: (_out(h, k, s, p, torch_same=True), _out(w, k, s, p, torch_same=True), f)),
                "(n + 2·(k // 2) − k) // stride + 1 is PyTorch's padding=k // 2; Keras' 'same' gives "
                "ceil(n / stride) positions whatever k is (the two differ for an even kernel size)"),
        Mistake(_conv_mistake(shape=lambda h, w, c, f, k, s, p: (_out(h, k, 1, p), _out(w, k, 1, p), f)),
                "the stride is ignored: the window moves `stride` pixels at a time, so 'valid' gives "
                "floor((n - k) / stride) + 1 positions and 'same' ceil(n / stride)"),
    ]
    return compare_with_reference(student, _conv2d_layer, cases, mistakes, name="conv2d_layer")


# --- Exercise 2: parameters of multi-head attention -------------------------------------------

def _mha_params(d_model, num_heads, key_dim):
    inner = num_heads * key_dim
    return 3 * (d_model * inner + inner) + (inner * d_model + d_model)


@EXERCISES.exercise(2, "parameters of multi-head attention")
def mha_params(student: Any) -> str:
    """``mha_params(d_model, num_heads, key_dim)`` -> parameters of ``keras.layers.MultiHeadAttention``."""
    cases = [Case((512, 8, 64)), Case((16, 2, 8)), Case((64, 4, 16)), Case((32, 1, 32)), Case((24, 3, 5))]
    mistakes = [
        Mistake(lambda d, h, k: 3 * (d * h * k + h * k),
                "you left out the output projection W^O, which maps the concatenated heads (h·key_dim) back to d_model"),
        Mistake(lambda d, h, k: 4 * d * h * k,
                "the biases are missing: each of Q, K, V has h·key_dim biases and the output projection d_model"),
        Mistake(lambda d, h, k: 3 * (d * k + k) + (k * d + d),
                "key_dim is the size of *one* head: each projection has num_heads·key_dim outputs"),
        Mistake(lambda d, h, k: 4 * (d * h * k + h * k),
                "the output projection has d_model biases (its outputs), not h·key_dim"),
        Mistake(lambda d, h, k: 4 * (d * d + d),
                "Keras' MultiHeadAttention projects to num_heads·key_dim, which need not equal d_model"),
    ]
    return compare_with_reference(student, _mha_params, cases, mistakes, name="mha_params")


# --- Exercise 3: parameters of an LSTM --------------------------------------------------------

def _lstm_params(n_in, units):
    return 4 * (units * (n_in + units) + units)


@EXERCISES.exercise(3, "parameters of an LSTM layer")
def lstm_params(student: Any) -> str:
    """``lstm_params(n_in, units)`` -> parameters of ``keras.layers.LSTM(units)`` on ``n_in`` features."""
    cases = [Case((64, 128)), Case((1, 1)), Case((10, 20)), Case((300, 512)), Case((7, 3))]
    mistakes = [
        Mistake(lambda n, u: u * (n + u) + u, "that is a SimpleRNN; an LSTM has four sets of weights (input, "
                "forget and output gates and the candidate cell), so multiply by 4"),
        Mistake(lambda n, u: 3 * (u * (n + u) + u), "three sets of weights is a GRU; an LSTM has four "
                "(input, forget, output gates and the candidate cell)"),
        Mistake(lambda n, u: 3 * (u * (n + u) + 2 * u), "that is Keras' GRU (reset_after=True, two biases); an LSTM has four "
                "sets of weights and one bias per gate"),
        Mistake(lambda n, u: 4 * (u * n + u), "the recurrent kernel is missing: each gate also sees h_{t-1}, "
                "units × units weights"),
        Mistake(lambda n, u: 4 * u * (n + u), "the biases are missing: units biases per gate"),
        Mistake(lambda n, u: 4 * (u * (n + u) + 2 * u), "Keras has one bias per gate; two (b_ih and b_hh) is "
                "PyTorch's layout"),
    ]
    return compare_with_reference(student, _lstm_params, cases, mistakes, name="lstm_params")


# --- Exercise 4: softmax with a temperature ---------------------------------------------------

def _softmax_t(scores, temperature=1.0):
    z = np.asarray(scores, dtype=float) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _naive_softmax(scores, temperature=1.0):
    e = np.exp(np.asarray(scores, dtype=float) / temperature)
    return e / e.sum(axis=-1, keepdims=True)


_RNG = np.random.default_rng(16)       # the checker's own generator: never touches global state
_SCORES = _RNG.normal(size=(3, 5)) * 3


@EXERCISES.exercise(4, "softmax with a temperature")
def softmax_t(student: Any) -> str:
    """``softmax_t(scores, temperature=1.0)`` -> softmax(scores / T) along the last axis."""
    cases = [
        Case((np.array([1.0, 2.0, 3.0]),)), Case((np.array([1.0, 2.0, 3.0]), 4.0)), Case((_SCORES,)),
        Case((_SCORES, 0.5)), Case((_SCORES, 10.0)), Case((np.array([1000.0, 1001.0, 1002.0]),)),
    ]
    mistakes = [
        Mistake(lambda s, t=1.0: _softmax_t(np.asarray(s) * t), "divide the scores by the temperature; "
                "multiplying makes a high temperature *sharper* instead of softer"),
        Mistake(lambda s, t=1.0: _softmax_t(s), "the temperature is ignored: softmax(scores / T)"),
        Mistake(lambda s, t=1.0: _softmax_t(np.asarray(s).T, t).T if np.ndim(s) == 2 else _softmax_t(s, t),
                "normalise along the *last* axis (each row sums to 1), not over the batch"),
        Mistake(lambda s, t=1.0: np.exp(np.asarray(s) / t), "the exponentials are not normalised: divide by their sum"),
        Mistake(_naive_softmax, "exp overflows for large scores (e^1000 = inf, inf/inf = nan): subtract the "
                "row's maximum before exp; softmax does not change when a constant is subtracted"),
        Mistake(lambda s, t=1.0: np.log(_softmax_t(s, t)), "that is the log-softmax; return the probabilities"),
    ]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return compare_with_reference(student, _softmax_t, cases, mistakes, name="softmax_t")


# --- Exercise 5: one Adam step ----------------------------------------------------------------

def _adam(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7, *, correct=True, eps_inside=False,
          t_shift=0, square=True, sign=-1.0, swap=False, keras_eps=False):
    w, g, m, v = (np.asarray(a, dtype=float) for a in (w, g, m, v))
    m = (1 - beta1) * m + beta1 * g if swap else beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * (g * g if square else g)
    tt = t + t_shift
    m_hat, v_hat = (m / (1 - beta1 ** tt), v / (1 - beta2 ** tt)) if correct else (m, v)
    step = m_hat / (np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps)
    if keras_eps:     # Keras: lr_t = lr·sqrt(1 - beta2^t)/(1 - beta1^t), w -= lr_t·m / (sqrt(v) + eps)
        step = np.sqrt(1 - beta2 ** tt) / (1 - beta1 ** tt) * m / (np.sqrt(v) + eps)
    return (w + sign * lr * step, m, v)


_W, _G = _RNG.normal(size=4), _RNG.normal(size=4)
_M, _V = _RNG.normal(size=4) * 0.1, np.abs(_RNG.normal(size=4)) * 0.01


@EXERCISES.exercise(5, "one Adam step")
def adam_step(student: Any) -> str:
    """``adam_step(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7)`` -> (w, m, v) after step t (from 1)."""
    zeros = np.zeros(4)
    cases = [
        Case((_W, _G, zeros, zeros, 1), {"lr": 0.1}),
        Case((_W, _G, _M, _V, 5), {"lr": 0.01}),
        Case((_W, _G, _M, _V, 100)),
        Case((_W, _G * 1e-3, _M * 1e-3, _V * 1e-6, 3), {"lr": 0.05, "eps": 0.1}),
        Case((_W, _G, _M, _V, 4), {"lr": 0.01, "beta1": 0.5, "beta2": 0.9}),   # every parameter honoured
    ]
    mistakes = [
        Mistake(lambda *a, **k: _adam(*a, **k, correct=False), "no bias correction: divide m by (1 - beta1^t) "
                "and v by (1 - beta2^t) before the update (they start at zero and are too small early on)"),
        Mistake(lambda *a, **k: _adam(*a, **k, t_shift=1), "the correction uses the step number t itself "
                "(t = 1 for the first step), not t + 1"),
        Mistake(lambda *a, **k: _adam(*a, **k, t_shift=-1), "the correction uses the step number t itself "
                "(t = 1 for the first step), not t - 1"),
        Mistake(lambda *a, **k: _adam(*a, **k, eps_inside=True), "epsilon goes outside the square root: "
                "m_hat / (sqrt(v_hat) + eps)"),
        Mistake(lambda *a, **k: _adam(*a, **k, keras_eps=True), "that is Keras' form (eps added to sqrt(v), lr "
                "scaled by sqrt(1 - beta2**t) / (1 - beta1**t)); this exercise asks for Algorithm 1: eps added to "
                "sqrt(v_hat). The two differ only by where eps sits, which shows when eps is not tiny next to "
                "sqrt(v_hat), as in the case with eps=0.1"),
        Mistake(lambda *a, **k: _adam(*a, **k, square=False), "v averages the *squared* gradient g², not g"),
        Mistake(lambda *a, **k: _adam(*a, **k, sign=1.0), "the step goes *against* the gradient: w - lr · ..."),
        Mistake(lambda *a, **k: _adam(*a, **k, swap=True), "m = beta1·m + (1 - beta1)·g: beta1 weighs the old "
                "average, (1 - beta1) the new gradient"),
    ]
    with np.errstate(invalid="ignore", divide="ignore"):
        return compare_with_reference(student, _adam, cases, mistakes, name="adam_step", rtol=1e-5, atol=1e-9)


# --- Exercise 6: a causal mask ----------------------------------------------------------------

def _causal_mask(t):
    return np.tril(np.ones((t, t), dtype=bool))


@EXERCISES.exercise(6, "a causal mask")
def causal_mask(student: Any) -> str:
    """``causal_mask(T)`` -> bool (T, T), True where query t may attend to key s (s <= t)."""
    cases = [Case((1,)), Case((2,)), Case((5,)), Case((8,))]
    mistakes = [
        Mistake(lambda t: np.triu(np.ones((t, t), dtype=bool)), "this lets each position see the *future*: "
                "query t (row) may attend to keys s <= t, the lower triangle"),
        Mistake(lambda t: np.tril(np.ones((t, t), dtype=bool), -1), "the diagonal is missing: a position may "
                "attend to itself (s <= t, not s < t)"),
        Mistake(lambda t: ~np.tril(np.ones((t, t), dtype=bool)), "inverted: True must mark the keys a query "
                "*may* attend to (Keras' attention_mask convention), not the blocked ones"),
        Mistake(lambda t: np.triu(np.ones((t, t), dtype=bool), 1), "inverted: True must mark the keys a query "
                "*may* attend to (Keras' attention_mask convention), not the blocked ones"),
    ]
    return compare_with_reference(student, _causal_mask, cases, mistakes, name="causal_mask")


# --- Exercise 7: how long does training take? -------------------------------------------------

def _training_days(n_params, n_tokens, n_gpus, peak_flops, utilization):
    return 6.0 * n_params * n_tokens / (n_gpus * peak_flops * utilization) / 86400.0


@EXERCISES.exercise(7, "training time from 6·N·D")
def training_days(student: Any) -> str:
    """``training_days(n_params, n_tokens, n_gpus, peak_flops, utilization)`` -> days of training."""
    cases = [
        Case((175e9, 300e9, 1024, 312e12, 0.4)), Case((1e9, 20e9, 8, 100e12, 0.5)),
        Case((7e9, 2e12, 512, 989e12, 0.35)), Case((125e6, 2.5e9, 1, 20e12, 0.3)),
    ]
    mistakes = [
        Mistake(lambda n, d, g, p, u: 2 * n * d / (g * p * u) / 86400, "2·N·D counts only the forward pass; "
                "training adds the backward pass (about twice the forward): 6·N·D"),
        Mistake(lambda n, d, g, p, u: 6 * n * d / (g * p) / 86400, "GPUs never run at their peak: divide by "
                "the utilization too (the fraction of peak FLOP/s actually reached)"),
        Mistake(lambda n, d, g, p, u: 6 * n * d / (g * p * u), "that is in seconds: divide by 86,400 for days"),
        Mistake(lambda n, d, g, p, u: 6 * n * d / (g * p * u) / 3600, "that is in hours: divide by 86,400 (not 3,600) for days"),
        Mistake(lambda n, d, g, p, u: 6 * n * d / (p * u) / 86400, "the work is shared by n_gpus devices: divide by their number"),
        Mistake(lambda n, d, g, p, u: 6 * n * d * u / (g * p) / 86400, "utilization < 1 makes training *slower*: "
                "divide by it, don't multiply"),
    ]
    return compare_with_reference(student, _training_days, cases, mistakes, name="training_days", rtol=1e-6)


# --- Exercise 8: migrating the Dense layer after a Flatten ------------------------------------

def _flatten_dense(weight, bias, channels, height, width):
    weight = np.asarray(weight)
    out = weight.shape[0]
    kernel = weight.reshape(out, channels, height, width).transpose(2, 3, 1, 0).reshape(height * width * channels, out)
    return (kernel, np.asarray(bias))


_C, _H, _WD, _O = 3, 4, 5, 6
_TW, _TB = _RNG.normal(size=(_O, _C * _H * _WD)), _RNG.normal(size=_O)
_TW2, _TB2 = _RNG.normal(size=(2, 2 * 3 * 3)), _RNG.normal(size=2)


@EXERCISES.exercise(8, "migrate the Dense after a Flatten from PyTorch")
def torch_flatten_dense_to_keras(student: Any) -> str:
    """``torch_flatten_dense_to_keras(weight, bias, channels, height, width)`` -> (kernel, bias) for Keras."""
    cases = [Case((_TW, _TB, _C, _H, _WD)), Case((_TW2, _TB2, 2, 3, 3))]
    mistakes = [
        Mistake(lambda w, b, c, h, wd: (np.asarray(w).T, b), "transposing is right for a plain nn.Linear, but "
                "here the features were flattened in PyTorch's (C, H, W) order and Keras flattens (H, W, C): "
                "reshape the weight to (out, C, H, W), reorder to (H, W, C, out), then flatten"),
        Mistake(lambda w, b, c, h, wd: (np.asarray(w).reshape(h * wd * c, -1), b), "a reshape does not transpose: "
                "the (out, in) weight must be reordered, not reinterpreted"),
        Mistake(lambda w, b, c, h, wd: (np.asarray(w).reshape(-1, c, h, wd).transpose(3, 2, 1, 0).reshape(h * wd * c, -1), b),
                "height and width are swapped: Keras flattens (H, W, C), so reorder the axes to (H, W, C, out)"),
        Mistake(lambda w, b, c, h, wd: (np.asarray(w).reshape(-1, c, h, wd).transpose(1, 2, 3, 0).reshape(h * wd * c, -1), b),
                "that keeps PyTorch's (C, H, W) feature order; Keras' Flatten of an NHWC map is (H, W, C)"),
    ]
    return compare_with_reference(student, _flatten_dense, cases, mistakes, name="torch_flatten_dense_to_keras")


# --- Exercise 9: conceptual questions ----------------------------------------------------------

#: question -> (right answer, {wrong answer: hint})
_CONCEPTS: dict[str, tuple[str, dict[str, str]]] = {
    "q1": ("b", {
        "a": "attention alone is permutation-invariant: shuffle the tokens and each output is shuffled the same way",
        "c": "softmax normalises the scores; it knows nothing of positions",
        "d": "layer normalisation rescales each vector on its own; it carries no order",
    }),
    "q2": ("c", {
        "a": "softmax already makes the weights sum to 1; the scaling is applied *before* it",
        "b": "one division costs nothing and saves nothing: the reason is statistical",
        "d": "a single head is scaled the same way: QKᵀ has variance d_k for unit-variance entries",
    }),
    "q3": ("c", {
        "a": "150 million is source 004's erratum (1.5亿); BERT-base alone has 110 million",
        "b": "1.5 billion is GPT-2",
        "d": "GPT-3 has about 175 billion parameters (Brown et al., 2020)",
    }),
    "q4": ("a", {
        "b": "a plain RNN has *fewer* parameters than an LSTM, yet it forgets sooner",
        "c": "the output layer is irrelevant: the gradient through many steps of h_t shrinks or blows up",
        "d": "RNNs run on GPUs (slowly, step by step); that is a speed problem, not a memory-of-the-past one",
    }),
    "q5": ("d", {
        "a": "the student has another architecture: it cannot copy the teacher's weights",
        "b": "the student is trained with its own gradients, on a loss built from the teacher's *outputs*",
        "c": "training on the same data alone is the baseline distillation is compared with",
    }),
    "q6": ("b", {
        "a": "float32 is 4 bytes, int8 is 1 byte: 4×, not 2× (that is float16)",
        "c": "float32 is 4 bytes, int8 is 1 byte: 4× (8× would be 4-bit weights)",
        "d": "float32 is 32 bits and int8 is 8 bits: 4×",
    }),
}


@EXERCISES.exercise(9, "conceptual questions")
def concept_answers(student: Any) -> str:
    """``concept_answers()`` -> {"q1": "a" | "b" | "c" | "d", ...} for the six questions."""
    if not callable(student):
        raise Wrong(f"expected a function, got {describe(student)}")
    answers = student()
    if not isinstance(answers, dict):
        raise Wrong(f"return a dict like {{'q1': 'b', ...}}, got {describe(answers)}")
    missing = [q for q in _CONCEPTS if q not in answers]
    if missing:
        raise Wrong(f"answer every question: {', '.join(missing)} missing")
    wrong = []
    for q, (right, hints) in _CONCEPTS.items():
        given = str(answers[q]).strip().lower()
        if given not in ("a", "b", "c", "d"):
            raise Wrong(f"{q}: answer with one letter 'a', 'b', 'c' or 'd', got {answers[q]!r}")
        if given != right:
            wrong.append(f"{q} ({given}): {hints[given]}")
    if wrong:
        raise Wrong(f"{len(_CONCEPTS) - len(wrong)} of {len(_CONCEPTS)} right; " + " | ".join(wrong))
    return f"all {len(_CONCEPTS)} right"
