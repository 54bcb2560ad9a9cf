"""The expression language: comparisons (gates) and arithmetic (scores), by our own parser."""

from __future__ import annotations

import pytest

from policies.dsl import (
    BinaryOp,
    Call,
    Comparison,
    ExpressionError,
    ExpressionScore,
    MetricRef,
    Negate,
    Number,
    expression_metrics,
    is_metric_name,
    parse_comparison,
    parse_expression,
    parse_score_expression,
    render_expression,
)
from policies.dsl.limits import MAX_EXPRESSION_CHARS, MAX_EXPRESSION_DEPTH


def comparison_error(text: str) -> str:
    with pytest.raises(ExpressionError) as caught:
        parse_comparison(text)
    return str(caught.value)


def expression_error(text: str) -> str:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text)
    return str(caught.value)


# --- comparisons -------------------------------------------------------------------------------


@pytest.mark.parametrize("op", [">=", "<=", ">", "<", "==", "!="])
def test_parse_comparison__each_operator__parses(op: str) -> None:
    assert parse_comparison(f"sharpe {op} 0.6") == Comparison("sharpe", op, 0.6)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("x >= 1", 1.0),
        ("x >= -1", -1.0),
        ("x >= +2", 2.0),
        ("x >= - 0.5", -0.5),
        ("x >= 0.25", 0.25),
        ("x >= .5", 0.5),
        ("x >= 5.", 5.0),
        ("x >= 1e3", 1000.0),
        ("x >= 1E-3", 0.001),
        ("x >= -2.5e+2", -250.0),
    ],
)
def test_parse_comparison__number_forms__read_as_floats(text: str, value: float) -> None:
    assert parse_comparison(text).value == value


@pytest.mark.parametrize("text", ["sharpe>=0.6", "  sharpe   >=   0.6  ", "sharpe\t>=\t0.6"])
def test_parse_comparison__spacing__does_not_matter(text: str) -> None:
    assert parse_comparison(text) == Comparison("sharpe", ">=", 0.6)


@pytest.mark.parametrize(
    "name", ["sharpe", "_x", "returns.sharpe", "alpha_performance.car_mdd", "a1"]
)
def test_parse_comparison__metric_names__keep_dots_and_underscores(name: str) -> None:
    assert parse_comparison(f"{name} < 3").metric == name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty; write a comparison such as 'sharpe >= 0.6'"),
        ("sharpe", "needs an operator after 'sharpe': one of >= <= > < == !="),
        ("sharpe >=", "comparison needs a number on the right of '>='"),
        ("sharpe >= -", "comparison needs a number on the right of '>='"),
        (
            "sharpe >= win_rate",
            "expected a number after '>=' at column 11, found 'win_rate'; a comparison is "
            "'<metric> <operator> <number>'",
        ),
        (
            "0.6 <= sharpe",
            "a comparison starts with a metric name, such as 'sharpe >= 0.6'; found '0.6' at "
            "column 1",
        ),
        ("sharpe + 1", "expected an operator (>= <= > < == !=) at column 8, found '+'"),
        (
            "sharpe = 1",
            "'=' at column 8 is not an operator; write '==' to test equality, or '>=' / '<='",
        ),
        ("sharpe => 1", "'=>' at column 8 is not an operator here; write '>='"),
        ("sharpe =< 1", "'=<' at column 8 is not an operator here; write '<='"),
        ("sharpe ≥ 1", "'≥' at column 8 is not an operator here; write '>='"),
        (
            "sharpe >= 1 and win_rate > 0.5",
            "unexpected 'and' at column 13; a comparison is '<metric> <operator> <number>' "
            "(combine comparisons with and/or lists)",
        ),
        ("sharpe >= 1e", "'1e' at column 11 is not a valid number"),
        ("sharpe >= 1.2.3", "'1.2.3' at column 11 is not a valid number"),
        ("sharpe >= 1e999", "the number '1e999' at column 11 is too large"),
        (
            "sharpe >= inf",
            "expected a number after '>=' at column 11, found 'inf'; a "
            "comparison is '<metric> <operator> <number>'",
        ),
        ("sharpe >= 1 $", "unexpected character '$' at column 13"),
        ("sharpe >= 1\x00", "unexpected character '\\x00' at column 12"),
    ],
)
def test_parse_comparison__bad_text__explains_the_problem(text: str, message: str) -> None:
    assert comparison_error(text) == message


def test_parse_comparison__too_long__refused() -> None:
    text = "x >= " + "1" * MAX_EXPRESSION_CHARS

    assert comparison_error(text) == (
        f"is too long ({len(text)} characters; at most {MAX_EXPRESSION_CHARS})"
    )


def test_parse_comparison__metric_name_too_long__refused() -> None:
    assert comparison_error("x" * 200 + " > 1") == (
        "the metric name at column 1 is too long (at most 128 characters)"
    )


def test_parse_comparison__python_code__is_refused_not_run() -> None:
    assert comparison_error("__import__('os').system('true') > 1") == (
        'unexpected character "\'" at column 12'
    )


# --- score expressions -------------------------------------------------------------------------


def test_parse_expression__spec_score__has_usual_precedence() -> None:
    expr = parse_expression("sharpe + 0.1 * win_rate - 0.2 * ulcer")

    assert expr == BinaryOp(
        "-",
        BinaryOp("+", MetricRef("sharpe"), BinaryOp("*", Number(0.1), MetricRef("win_rate"))),
        BinaryOp("*", Number(0.2), MetricRef("ulcer")),
    )


def test_parse_expression__same_precedence__groups_from_the_left() -> None:
    assert parse_expression("a - b - c") == BinaryOp(
        "-", BinaryOp("-", MetricRef("a"), MetricRef("b")), MetricRef("c")
    )
    assert parse_expression("a / b * c") == BinaryOp(
        "*", BinaryOp("/", MetricRef("a"), MetricRef("b")), MetricRef("c")
    )


def test_parse_expression__parentheses__override_precedence() -> None:
    assert parse_expression("(a + b) * c") == BinaryOp(
        "*", BinaryOp("+", MetricRef("a"), MetricRef("b")), MetricRef("c")
    )


def test_parse_expression__unary_minus__negates_and_binds_tightest() -> None:
    assert parse_expression("-a * b") == BinaryOp("*", Negate(MetricRef("a")), MetricRef("b"))
    assert parse_expression("-(a + b)") == Negate(BinaryOp("+", MetricRef("a"), MetricRef("b")))
    assert parse_expression("--a") == Negate(Negate(MetricRef("a")))


def test_parse_expression__minus_before_number__is_a_negative_number() -> None:
    assert parse_expression("-0.2 * ulcer") == BinaryOp("*", Number(-0.2), MetricRef("ulcer"))
    assert parse_expression("a - -1") == BinaryOp("-", MetricRef("a"), Number(-1.0))


def test_parse_expression__unary_plus__is_dropped() -> None:
    assert parse_expression("+a") == MetricRef("a")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abs(a)", Call("abs", (MetricRef("a"),))),
        ("log(a)", Call("log", (MetricRef("a"),))),
        ("sqrt(a)", Call("sqrt", (MetricRef("a"),))),
        ("min(a, 1)", Call("min", (MetricRef("a"), Number(1.0)))),
        ("max(a, b, c)", Call("max", (MetricRef("a"), MetricRef("b"), MetricRef("c")))),
    ],
)
def test_parse_expression__functions__parse_to_calls(text: str, expected: Call) -> None:
    assert parse_expression(text) == expected


def test_parse_expression__function_name_without_parentheses__is_a_metric() -> None:
    assert parse_expression("abs + 1") == BinaryOp("+", MetricRef("abs"), Number(1.0))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty; write an expression such as 'sharpe - 0.5 * ulcer'"),
        (
            "exp(sharpe)",
            "unknown function 'exp' at column 1; the functions are abs, min, max, log and sqrt",
        ),
        ("abs(a, b)", "abs takes exactly 1 argument (found 2) at column 1"),
        ("sqrt()", "sqrt takes exactly 1 argument (found 0) at column 1"),
        ("1 + log()", "log takes exactly 1 argument (found 0) at column 5"),
        ("min(a)", "min needs at least 2 arguments (found 1) at column 1"),
        ("max()", "max needs at least 2 arguments (found 0) at column 1"),
        ("min(a b)", "expected ',' or ')' at column 7, found 'b'"),
        ("(a + b", "missing ')' to close the '(' at column 1"),
        ("max(a, b", "missing ')' to close the '(' at column 4"),
        ("a + b)", "unexpected ')' at column 6 without a '('"),
        ("a +", "ends too early: expected a number, a metric name or '(' after '+'"),
        ("a * * b", "expected a number, a metric name or '(' at column 5, found '*'"),
        ("a b", "expected an operator (+ - * /) at column 3, found 'b'"),
        (
            "sharpe >= 1",
            "a score cannot contain the comparison '>=' (column 8); comparisons belong in gates",
        ),
        ("a ^ 2", "unexpected character '^' at column 3"),
        ("a, b", "expected an operator (+ - * /) at column 2, found ','"),
        ("a × 2", "'×' at column 3 is not an operator here; write '*'"),
        (
            "__import__(os)",
            "unknown function '__import__' at column 1; the functions are abs, min, max, log "
            "and sqrt",
        ),
        ("a + 'b'", 'unexpected character "\'" at column 5'),
    ],
)
def test_parse_expression__bad_text__explains_the_problem(text: str, message: str) -> None:
    assert expression_error(text) == message


@pytest.mark.parametrize(
    "text",
    [
        "-" * (MAX_EXPRESSION_DEPTH + 1) + "a",
        "(" * (MAX_EXPRESSION_DEPTH + 1) + "a" + ")" * (MAX_EXPRESSION_DEPTH + 1),
        " + ".join(["a"] * (MAX_EXPRESSION_DEPTH + 2)),
        "abs(" * (MAX_EXPRESSION_DEPTH + 1) + "a" + ")" * (MAX_EXPRESSION_DEPTH + 1),
    ],
    ids=["unary-chain", "parentheses", "long-sum", "nested-calls"],
)
def test_parse_expression__too_deep__refused(text: str) -> None:
    assert expression_error(text) == (
        f"is too complex (more than {MAX_EXPRESSION_DEPTH} levels of nested operations)"
    )


def test_parse_expression__deep_up_to_the_limit__accepted() -> None:
    text = " + ".join(["a"] * MAX_EXPRESSION_DEPTH)

    assert expression_metrics(parse_expression(text)) == ("a",)


def test_parse_expression__too_long__refused() -> None:
    text = "a" + " " * MAX_EXPRESSION_CHARS

    assert expression_error(text) == (
        f"is too long ({len(text)} characters; at most {MAX_EXPRESSION_CHARS})"
    )


# --- canonical text ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("sharpe+0.1*win_rate-0.2*ulcer", "sharpe + 0.1 * win_rate - 0.2 * ulcer"),
        ("((a))", "a"),
        ("(a * b) + c", "a * b + c"),
        ("a * (b + c)", "a * (b + c)"),
        ("a - (b - c)", "a - (b - c)"),
        ("a - (b + c)", "a - (b + c)"),
        ("(a - b) - c", "a - b - c"),
        ("a + (b + c)", "a + (b + c)"),
        ("a / (b * c)", "a / (b * c)"),
        ("-(a + b)", "-(a + b)"),
        ("-(1)", "-(1)"),
        ("- -1", "-(-1)"),
        ("-abs(a)", "-abs(a)"),
        ("max(a,b , 1.50)", "max(a, b, 1.5)"),
        ("1e20 * a", "1e+20 * a"),
        ("0.00001 * a", "1e-05 * a"),
        ("2.0 * a", "2 * a"),
    ],
)
def test_render_expression__any_spelling__gives_canonical_text(text: str, canonical: str) -> None:
    expr = parse_expression(text)

    assert render_expression(expr) == canonical
    assert parse_expression(canonical) == expr


def test_render_expression__negated_negative_number__keeps_its_meaning() -> None:
    expr = Negate(Number(-1.0))

    assert parse_expression(render_expression(expr)) == expr


def test_parse_score_expression__any_spelling__source_is_canonical() -> None:
    assert parse_score_expression(" sharpe*2 ") == ExpressionScore(
        expr=BinaryOp("*", MetricRef("sharpe"), Number(2.0)), source="sharpe * 2"
    )


def test_expression_metrics__expression__lists_metrics_in_order_once() -> None:
    expr = parse_expression("b + max(a, b) * -c / abs(d - a)")

    assert expression_metrics(expr) == ("b", "a", "c", "d")


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("sharpe", True),
        ("a.b_c1", True),
        ("_", True),
        ("1a", False),
        ("a-b", False),
        ("", False),
        ("é", False),
        ("a" * 129, False),
        (3, False),
    ],
)
def test_is_metric_name__candidates__match_the_metric_grammar(name: object, valid: bool) -> None:
    assert is_metric_name(name) is valid
