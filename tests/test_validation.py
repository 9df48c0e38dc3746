"""Regression tests of issue 14: bad arguments that hung, passed silently or failed obscurely.

Each case names the argument in a ValueError/TypeError raised at the function's boundary. The
property-based sweep over every public function is in test_properties.py.
"""

import math
import time

import numpy as np
import pytest

from course_lib import (_validate, applications, attention, deployment, distribute, generators, gradients,
                        language, multiworker, pathway, responsible, rl, sequences)

NAN, INF = float("nan"), float("inf")


# --- hangs -------------------------------------------------------------------------------------

@pytest.mark.parametrize("timeout_s", [NAN, INF, -1.0, 0, 10**9, True, "5"])
def test_launch_refuses_a_timeout_that_never_ends(timeout_s):
    start = time.perf_counter()
    with pytest.raises(ValueError, match="timeout_s"):
        multiworker.launch("course_lib.multiworker_worker", timeout_s=timeout_s)
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("kwargs, match", [
    ({"num_workers": 10**6}, "num_workers"), ({"poll_s": NAN}, "poll_s"), ({"args": "--x"}, "args"),
    ({"env": {"A": 1}}, "env"), ({"log_dir": 3}, "log_dir"),
])
def test_launch_checks_its_other_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        multiworker.launch("course_lib.multiworker_worker", **kwargs)


def test_make_corpus_refuses_more_sentences_than_it_can_make_in_bounded_time():
    start = time.perf_counter()
    with pytest.raises(ValueError, match="n_train"):
        language.make_corpus(n_train=10**9, n_test=1)
    with pytest.raises(ValueError, match=r"n_train \+ n_test <= 100,000"):
        language.make_corpus(n_train=99_999, n_test=2)
    with pytest.raises(ValueError, match="seed"):
        language.make_corpus(5, 2, seed=-1)
    assert time.perf_counter() - start < 2


def test_make_corpus_draws_are_bounded(monkeypatch):
    monkeypatch.setattr(language, "generate_sentence", lambda rng: "the cat sleeps .")  # a grammar of one
    with pytest.raises(ValueError, match="found only 1 distinct sentences"):
        language.make_corpus(n_train=3, n_test=1)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_train": 10**9}, "n_train"), ({"n_train": 0}, "n_train"), ({"n_train": -5}, "n_train"),
    ({"n_train": 2.5}, "n_train"), ({"n_train": True}, "n_train"), ({"n_val": -1}, "n_val"),
    ({"n_test": 1.0}, "n_test"), ({"n_train": 100_000, "n_val": 100_000, "n_test": 100_000}, r"<= 200,000"),
    ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"),
])
def test_review_sentiment_sizes(kwargs, match):
    start = time.perf_counter()
    with pytest.raises((ValueError, TypeError), match=match):
        generators.review_sentiment(**kwargs)
    assert time.perf_counter() - start < 2


def test_review_sentiment_zero_val_and_test_are_allowed():
    header, rows = generators.review_sentiment(n_train=4, n_val=0, n_test=0)
    assert len(rows) == 4 and {r[-1] for r in rows} == {"train"}


def test_review_sentiment_draws_are_bounded(monkeypatch):
    monkeypatch.setattr(generators, "_review_clause", lambda rng: (["the", "movie", "was", "good"], 1))
    with pytest.raises(ValueError, match="unique reviews in"):
        generators.review_sentiment(n_train=10, n_val=0, n_test=0)


def test_simulate_cpu_replicas_bounds_the_count():
    for n in (10**9, 65, 0, True, 2.0):
        with pytest.raises(ValueError, match=r"expected n to be an int >= 1 \(and <= 64\)"):
            distribute.simulate_cpu_replicas(n)


def test_measure_latency_bounds_the_counts():
    for kwargs in ({"repeats": 10**12}, {"warmup": 10**12}):
        with pytest.raises(ValueError, match=list(kwargs)[0]):
            pathway.measure_latency(lambda: None, **kwargs)
    with pytest.raises(ValueError, match="fn"):
        pathway.measure_latency(None)


@pytest.mark.parametrize("kwargs, match", [
    ({"lengths": [10**6]}, "batch \\* n\\*\\*2"), ({"repeats": 10**9}, "repeats"), ({"depth": 10**9}, "depth"),
    ({"batch": 10**6, "lengths": [64]}, "batch"), ({"seed": -1}, "seed"), ({"attention_fn": None}, "attention_fn"),
])
def test_measure_attention_cost_bounds_the_work(kwargs, match):
    args = {"attention_fn": attention.scaled_dot_product_attention, "lengths": [2, 4], **kwargs}
    start = time.perf_counter()
    with pytest.raises((ValueError, TypeError), match=match):
        attention.measure_attention_cost(**args)
    assert time.perf_counter() - start < 2


# --- silent garbage ----------------------------------------------------------------------------

def test_encode_tokens_refuses_a_vocabulary_whose_id_0_is_a_real_token():
    with pytest.raises(ValueError, match=r"vocabulary\[0\] = 'a' is a token of the text 'a b'.*padding"):
        sequences.encode_tokens(["a b"], ["a", "b"])
    np.testing.assert_array_equal(sequences.encode_tokens(["a b"], ["<pad>", "a", "b"]), [[1, 2]])


@pytest.mark.parametrize("vocabulary, error, match", [
    ("<pad> a b", TypeError, "vocabulary"), (["<pad>", "a", "a"], ValueError, "once"), ([], ValueError, "vocabulary"),
    (None, TypeError, "vocabulary"), (["<pad>", 3], TypeError, "vocabulary"),
])
def test_encode_and_decode_check_the_vocabulary(vocabulary, error, match):
    with pytest.raises(error, match=match):
        sequences.encode_tokens(["a"], vocabulary)
    with pytest.raises(error, match=match):
        sequences.decode_tokens([1], vocabulary)


def test_encode_tokens_bounds_max_len():
    with pytest.raises(ValueError, match="max_len"):
        sequences.encode_tokens(["a"], ["<pad>", "a"], max_len=10**12)
    with pytest.raises(TypeError, match="max_len"):
        sequences.encode_tokens(["a"], ["<pad>", "a"], max_len=True)


def test_decode_tokens_refuses_fractional_and_boolean_ids():
    with pytest.raises(ValueError, match="integer ids"):
        sequences.decode_tokens([1.5], ["<pad>", "a"])
    with pytest.raises(TypeError, match="ids"):
        sequences.decode_tokens([True], ["<pad>", "a"])
    assert sequences.decode_tokens(np.array([1.0, 0.0]), ["<pad>", "a"]) == "a"


def test_build_vocabulary_refuses_a_lone_reserved_string():
    with pytest.raises(TypeError, match="expected reserved to be a list of strings, got str '<pad>'"):
        sequences.build_vocabulary(["a b"], reserved="<pad>")
    with pytest.raises(ValueError, match="reserved"):
        sequences.build_vocabulary(["a b"], reserved=["<pad>", "<pad>"])
    assert sequences.build_vocabulary(["b a"], reserved=["<pad>", "<unk>"]) == ["<pad>", "<unk>", "a", "b"]


def test_char_task_decode_refuses_ids_outside_the_alphabet():
    task = sequences.load_number_chars(max_train=5)
    with pytest.raises(ValueError, match=r"expected ids in \[0, "):
        task.decode([-1])
    with pytest.raises(ValueError, match="ids in"):
        task.decode([len(task.alphabet)])
    assert task.decode(task.encode("one")) == "one"


def _table(p=1.0, r=1.0, s2=1):
    return {0: {0: [(p, s2, r, True)]}, 1: {0: [(1.0, 1, 0.0, True)]}}


@pytest.mark.parametrize("table, match", [
    (_table(p=1.5), r"probability in \[0, 1\], got 1.5"), (_table(p=-0.5), "probability"),
    (_table(p=NAN), "probability"), (_table(r=NAN), "finite reward"), (_table(r=INF), "finite reward"),
    (_table(s2=7), "next state in 0 … 1"), (_table(s2=-1), "next state"),
    ({0: {0: [(1.0, 0)]}}, "tuples"),
])
def test_tabular_mdp_refuses_bad_probabilities_rewards_and_states(table, match):
    with pytest.raises(ValueError, match=match):
        rl.tabular_mdp(table)


def test_tabular_mdp_refuses_probabilities_that_only_sum_to_one():
    table = {0: {0: [(1.5, 0, 0.0, False), (-0.5, 1, 0.0, True)]}, 1: {0: [(1.0, 1, 0.0, True)]}}
    with pytest.raises(ValueError, match="probability"):
        rl.tabular_mdp(table)


@pytest.mark.parametrize("limit", ["min_accuracy", "max_params", "max_latency_ms"])
def test_choose_model_refuses_nan_limits(limit):
    candidates = [pathway.Candidate("a", 10, 0.5, 1.0), pathway.Candidate("b", 100, 0.9, 9.0)]
    with pytest.raises(ValueError, match=f"{limit}.*(NaN|nan)"):
        pathway.choose_model(candidates, **{limit: NAN})


@pytest.mark.parametrize("kwargs, match", [
    ({"noise": NAN}, "noise"), ({"noise": INF}, "noise"), ({"noise": -1}, "noise"),
    ({"n_users": 10**9}, "n_users"), ({"rank": 10**6}, "rank"), ({"seed": -3}, "seed"),
    ({"n_users": 50_000, "n_items": 50_000}, r"n_users \* n_items"),
])
def test_make_ratings_refuses_nan_noise_and_huge_sizes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        applications.make_ratings(**kwargs)


@pytest.mark.parametrize("kwargs, match", [
    ({"snr_db": NAN}, "snr_db"), ({"duration": 10**6}, "duration"), ({"duration": NAN}, "duration"),
    ({"n_per_word": 10**9}, "n_per_word"), ({"sample_rate": 10**9}, "sample_rate"), ({"seed": 2**40}, "seed"),
])
def test_make_tone_words_refuses_nan_and_huge_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        applications.make_tone_words(**kwargs)


def test_make_series_and_lending_data_bounds():
    with pytest.raises(ValueError, match="n_days"):
        applications.make_series(n_days=10**12)
    with pytest.raises(ValueError, match="n"):
        responsible.make_lending_data(n=10**12)
    with pytest.raises(ValueError, match="flip_rate"):
        responsible.make_lending_data(flip_rate=NAN)
    with pytest.raises(ValueError, match="seed"):
        responsible.make_lending_data(seed=-1)


@pytest.mark.parametrize("eps", [1e-20, 1e-300, 0.0, -1e-6, NAN, INF, True])
def test_numerical_gradient_refuses_a_step_that_cannot_change_x(eps):
    x = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match="eps"):
        gradients.numerical_gradient(lambda v: float(v @ v), x, eps=eps)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_numerical_gradient_still_works_near_zero_and_checks_f():
    grad = gradients.numerical_gradient(lambda v: float(v @ v), np.array([0.0, 3.0]), eps=1e-6)
    np.testing.assert_allclose(grad, [0.0, 6.0], atol=1e-6)
    with pytest.raises(TypeError, match="f"):
        gradients.numerical_gradient(None, np.array([1.0]))
    with pytest.raises(ValueError, match="x"):
        gradients.numerical_gradient(lambda v: 0.0, np.zeros(10**6))


@pytest.mark.parametrize("hyper", [{"lr": NAN}, {"lr": INF}, {"layers": [1, -INF]}])
def test_write_run_record_refuses_nan_hyperparameters(tmp_path, hyper):
    with pytest.raises(ValueError, match="hyperparameters must be finite"):
        deployment.write_run_record(tmp_path / "r.json", name="r", hyperparameters=hyper,
                                    metrics={"acc": 0.9}, data_sha256="a" * 64)
    assert not (tmp_path / "r.json").exists()


def test_write_run_record_checks_path_and_notes(tmp_path):
    kwargs = dict(name="r", hyperparameters={}, metrics={"acc": 0.9}, data_sha256="a" * 64)
    with pytest.raises(TypeError, match="expected path to be a path"):
        deployment.write_run_record(None, **kwargs)
    with pytest.raises(TypeError, match="notes"):
        deployment.write_run_record(tmp_path / "r.json", notes=None, **kwargs)


# --- the shared checks -------------------------------------------------------------------------

def test_argument_type_error_is_both_type_and_value_error():
    with pytest.raises(TypeError):
        _validate.check_int("3", "n")
    with pytest.raises(ValueError):
        _validate.check_int("3", "n")


@pytest.mark.parametrize("check, value, match", [
    (lambda v: _validate.check_int(v, "count", 1, 10), True, "count to be an int in \\[1, 10\\], got bool"),
    (lambda v: _validate.check_int(v, "count", 1, 10), 11, "got 11"),
    (lambda v: _validate.check_float(v, "rate", 0, 1), NAN, "rate to be a finite number in \\[0, 1\\]"),
    (lambda v: _validate.check_seed(v), 2**32, "seed"),
    (lambda v: _validate.check_bool(v, "flag"), "False", "flag to be True or False, got str"),
    (lambda v: _validate.check_path(v, "path"), 3, "expected path to be a path \\(str or pathlib.Path\\), got int"),
    (lambda v: _validate.check_strings(v, "names"), "abc", "names to be a list of strings, got str"),
    (lambda v: _validate.check_array(v, "x", ndim=2), [1, 2], "x to be 2-D"),
    (lambda v: _validate.check_array(v, "x"), ["a"], "x to hold numbers"),
    (lambda v: _validate.check_array(v, "x", finite=True), [NAN], "x to hold finite numbers"),
])
def test_shared_checks_name_the_argument(check, value, match):
    with pytest.raises((ValueError, TypeError), match=match):
        check(value)
