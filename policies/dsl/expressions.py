"""The expression language: comparisons in gates and arithmetic in scores.

A small hand-written tokenizer and recursive-descent parser; nothing here ever evaluates text as
Python. Grammar (lowest precedence first):

    comparison := metric ( ">=" | "<=" | ">" | "<" | "==" | "!=" ) ["-" | "+"] number
    sum        := product ( ("+" | "-") product )*
    product    := unary ( ("*" | "/") unary )*
    unary      := "-" unary | "+" unary | primary
    primary    := number | metric | function "(" sum ("," sum)* ")" | "(" sum ")"

A minus sign written directly before a number is part of the number (`-0.2` is the number −0.2,
not "minus 0.2"). `render_expression` writes a tree back with as few parentheses as keep its
meaning, so parsing the rendering gives the same tree again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .limits import MAX_EXPRESSION_CHARS, MAX_EXPRESSION_DEPTH, MAX_METRIC_NAME_CHARS
from .model import (
    BinaryOp,
    Call,
    Comparison,
    ComparisonOp,
    Expr,
    ExpressionScore,
    MetricRef,
    Negate,
    Number,
    format_number,
)

FunctionName = Literal["abs", "min", "max", "log", "sqrt"]
ArithmeticOp = Literal["+", "-", "*", "/"]

COMPARISON_OPS: dict[str, ComparisonOp] = {
    ">=": ">=",
    "<=": "<=",
    ">": ">",
    "<": "<",
    "==": "==",
    "!=": "!=",
}
ARITHMETIC_OPS: dict[str, ArithmeticOp] = {"+": "+", "-": "-", "*": "*", "/": "/"}

# name -> (least, most) number of arguments; None: no upper bound.
FUNCTIONS: dict[FunctionName, tuple[int, int | None]] = {
    "abs": (1, 1),
    "log": (1, 1),
    "sqrt": (1, 1),
    "min": (2, None),
    "max": (2, None),
}
FUNCTION_NAMES: dict[str, FunctionName] = {name: name for name in FUNCTIONS}

METRIC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_WORD_TAIL = re.compile(r"[A-Za-z0-9_.]*")
_PUNCTUATION = ("(", ")", ",")
_TWO_CHAR_OPS = (">=", "<=", "==", "!=")
_ONE_CHAR_OPS = (">", "<", "+", "-", "*", "/")
_LOOKALIKES = {
    "≥": ">=",
    "≤": "<=",
    "≠": "!=",
    "−": "-",
    "×": "*",
    "÷": "/",
    "=>": ">=",
    "=<": "<=",
}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
_UNARY_PRECEDENCE = 3
_ATOM_PRECEDENCE = 4


class ExpressionError(ValueError):
    """An expression that cannot be parsed; the message is written for the document's author."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: Literal["number", "name", "op", "end"]
    text: str
    column: int  # counted from 1
    value: float = 0.0

    def describe(self) -> str:
        return "the end of the text" if self.kind == "end" else f"'{self.text}'"


def is_metric_name(name: object) -> bool:
    """Whether `name` is a valid metric name (`sharpe`, `returns.sharpe`)."""
    return (
        isinstance(name, str)
        and len(name) <= MAX_METRIC_NAME_CHARS
        and METRIC_NAME.fullmatch(name) is not None
    )


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens, ending with an `end` token."""
    tokens: list[Token] = []
    index = 0
    while index < len(text):
        if text[index] in " \t\r\n":
            index += 1
            continue
        token, index = _next_token(text, index)
        tokens.append(token)
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _next_token(text: str, index: int) -> tuple[Token, int]:
    """The token starting at `index`, and the index after it; raises on anything unreadable."""
    for read in (_read_number, _read_name, _read_operator):
        found = read(text, index)
        if found is not None:
            return found
    raise _unexpected_character(text[index], index + 1)


def _read_number(text: str, index: int) -> tuple[Token, int] | None:
    """A number; letters run on to it (`1e5x`, `2sharpe`) make it invalid, not two tokens."""
    number = _NUMBER.match(text, index)
    if number is None:
        return None
    column = index + 1
    word = _WORD_TAIL.match(text, number.end())
    end = word.end() if word is not None else number.end()
    literal = text[index:end]
    if end != number.end():
        raise ExpressionError(f"'{literal}' at column {column} is not a valid number")
    value = float(literal)
    if not math.isfinite(value):
        raise ExpressionError(f"the number '{literal}' at column {column} is too large")
    return Token("number", literal, column, value), end


def _read_name(text: str, index: int) -> tuple[Token, int] | None:
    """A metric or function name."""
    name = METRIC_NAME.match(text, index)
    if name is None:
        return None
    return Token("name", name.group(), index + 1), name.end()


def _read_operator(text: str, index: int) -> tuple[Token, int] | None:
    """An operator or punctuation; a look-alike (`≥`, `=>`, a lone `=`) is refused with a hint."""
    column = index + 1
    char = text[index]
    pair = text[index : index + 2]
    if pair in _TWO_CHAR_OPS:
        return Token("op", pair, column), index + 2
    _refuse_lookalike(pair, char, column)
    if char in _ONE_CHAR_OPS or char in _PUNCTUATION:
        return Token("op", char, column), index + 1
    return None


def _refuse_lookalike(pair: str, char: str, column: int) -> None:
    if pair in _LOOKALIKES or char in _LOOKALIKES:
        written = pair if pair in _LOOKALIKES else char
        raise ExpressionError(
            f"'{written}' at column {column} is not an operator here; write "
            f"'{_LOOKALIKES[written]}'"
        )
    if char == "=":
        raise ExpressionError(
            f"'=' at column {column} is not an operator; write '==' to test equality, "
            "or '>=' / '<='"
        )


def _unexpected_character(char: str, column: int) -> ExpressionError:
    shown = char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
    quoted = f'"{shown}"' if shown == "'" else f"'{shown}'"
    return ExpressionError(f"unexpected character {quoted} at column {column}")


class _Parser:
    def __init__(self, text: str) -> None:
        if len(text) > MAX_EXPRESSION_CHARS:
            raise ExpressionError(
                f"is too long ({len(text)} characters; at most {MAX_EXPRESSION_CHARS})"
            )
        self.tokens = tokenize(text)
        self.position = 0
        self.nesting = 0

    def peek(self) -> Token:
        return self.tokens[self.position]

    def advance(self) -> Token:
        token = self.tokens[self.position]
        if token.kind != "end":
            self.position += 1
        return token

    def previous(self) -> Token | None:
        return self.tokens[self.position - 1] if self.position else None

    # --- comparisons ---------------------------------------------------------------------------

    def comparison(self) -> Comparison:
        metric = self.advance()
        if metric.kind == "end":
            raise ExpressionError("is empty; write a comparison such as 'sharpe >= 0.6'")
        if metric.kind != "name":
            raise ExpressionError(
                f"a comparison starts with a metric name, such as 'sharpe >= 0.6'; found "
                f"{metric.describe()} at column {metric.column}"
            )
        _check_metric_length(metric)
        op = self.advance()
        if op.kind == "end":
            raise ExpressionError(
                f"needs an operator after '{metric.text}': one of >= <= > < == !="
            )
        if op.text not in COMPARISON_OPS:
            raise ExpressionError(
                f"expected an operator (>= <= > < == !=) at column {op.column}, found "
                f"{op.describe()}"
            )
        sign = 1.0
        number = self.advance()
        if number.text in ("-", "+"):
            sign = -1.0 if number.text == "-" else 1.0
            number = self.advance()
        if number.kind == "end":
            raise ExpressionError(f"comparison needs a number on the right of '{op.text}'")
        if number.kind != "number":
            raise ExpressionError(
                f"expected a number after '{op.text}' at column {number.column}, found "
                f"{number.describe()}; a comparison is '<metric> <operator> <number>'"
            )
        rest = self.peek()
        if rest.kind != "end":
            raise ExpressionError(
                f"unexpected {rest.describe()} at column {rest.column}; a comparison is "
                "'<metric> <operator> <number>' (combine comparisons with and/or lists)"
            )
        return Comparison(metric.text, COMPARISON_OPS[op.text], sign * number.value)

    # --- arithmetic ----------------------------------------------------------------------------

    def expression(self) -> Expr:
        if self.peek().kind == "end":
            raise ExpressionError("is empty; write an expression such as 'sharpe - 0.5 * ulcer'")
        expr, _ = self.sum()
        token = self.peek()
        if token.kind != "end":
            raise self.unexpected(token, "an operator (+ - * /)")
        return expr

    def sum(self) -> tuple[Expr, int]:
        return self.binary(self.product, ("+", "-"))

    def product(self) -> tuple[Expr, int]:
        return self.binary(self.unary, ("*", "/"))

    def binary(
        self, operand: Callable[[], tuple[Expr, int]], ops: tuple[str, ...]
    ) -> tuple[Expr, int]:
        left, height = operand()
        while self.peek().kind == "op" and self.peek().text in ops:
            op = self.advance()
            right, right_height = operand()
            left = BinaryOp(ARITHMETIC_OPS[op.text], left, right)
            height = self.checked_height(max(height, right_height) + 1)
        return left, height

    def unary(self) -> tuple[Expr, int]:
        self.nesting += 1
        try:
            self.checked_height(self.nesting)
            token = self.peek()
            if token.kind == "op" and token.text == "-":
                self.advance()
                following = self.peek()
                if following.kind == "number":
                    self.advance()
                    return Number(-following.value), 1
                operand, height = self.unary()
                return Negate(operand), self.checked_height(height + 1)
            if token.kind == "op" and token.text == "+":
                self.advance()
                return self.unary()
            return self.primary()
        finally:
            self.nesting -= 1

    def primary(self) -> tuple[Expr, int]:
        token = self.peek()
        if token.kind == "number":
            self.advance()
            return Number(token.value), 1
        if token.kind == "name":
            self.advance()
            if self.peek().text == "(" and self.peek().kind == "op":
                return self.call(token)
            _check_metric_length(token)
            return MetricRef(token.text), 1
        if token.kind == "op" and token.text == "(":
            self.advance()
            inner, height = self.sum()
            self.expect_close(token, "')'")
            return inner, height
        raise self.unexpected(token, "a number, a metric name or '('")

    def call(self, name: Token) -> tuple[Expr, int]:
        function = FUNCTION_NAMES.get(name.text)
        if function is None:
            raise ExpressionError(
                f"unknown function '{name.text}' at column {name.column}; the functions are "
                "abs, min, max, log and sqrt"
            )
        opening = self.advance()
        args, height = self.arguments()
        self.expect_close(opening, "',' or ')'")
        _check_arity(function, len(args), name)
        return Call(function, tuple(args)), self.checked_height(height)

    def arguments(self) -> tuple[list[Expr], int]:
        """The comma-separated arguments up to (not including) the `)`, and the call's height."""
        args: list[Expr] = []
        height = 1
        if self.peek().kind == "op" and self.peek().text == ")":
            return args, height
        while True:
            arg, arg_height = self.sum()
            args.append(arg)
            height = max(height, arg_height + 1)
            if not (self.peek().kind == "op" and self.peek().text == ","):
                return args, height
            self.advance()

    def expect_close(self, opening: Token, expected: str) -> None:
        token = self.peek()
        if token.kind == "op" and token.text == ")":
            self.advance()
            return
        if token.kind == "end":
            raise ExpressionError(f"missing ')' to close the '(' at column {opening.column}")
        raise self.unexpected(token, expected)

    def unexpected(self, token: Token, expected: str) -> ExpressionError:
        if token.kind == "op" and token.text in COMPARISON_OPS:
            return ExpressionError(
                f"a score cannot contain the comparison '{token.text}' (column {token.column}); "
                "comparisons belong in gates"
            )
        if token.kind == "end":
            before = self.previous()
            after = f" after '{before.text}'" if before is not None else ""
            return ExpressionError(f"ends too early: expected {expected}{after}")
        if token.kind == "op" and token.text == ")":
            return ExpressionError(f"unexpected ')' at column {token.column} without a '('")
        return ExpressionError(
            f"expected {expected} at column {token.column}, found {token.describe()}"
        )

    @staticmethod
    def checked_height(height: int) -> int:
        if height > MAX_EXPRESSION_DEPTH:
            raise ExpressionError(
                f"is too complex (more than {MAX_EXPRESSION_DEPTH} levels of nested operations)"
            )
        return height


def _check_arity(function: FunctionName, count: int, name: Token) -> None:
    least, most = FUNCTIONS[function]
    if most is not None and least == most and count != least:
        raise ExpressionError(
            f"{function} takes exactly {least} argument{'s' if least != 1 else ''} "
            f"(found {count}) at column {name.column}"
        )
    if count < least:
        raise ExpressionError(
            f"{function} needs at least {least} arguments (found {count}) at column {name.column}"
        )


def _check_metric_length(token: Token) -> None:
    if len(token.text) > MAX_METRIC_NAME_CHARS:
        raise ExpressionError(
            f"the metric name at column {token.column} is too long "
            f"(at most {MAX_METRIC_NAME_CHARS} characters)"
        )


def parse_comparison(text: str) -> Comparison:
    """Parse `<metric> <op> <number>`, e.g. `sharpe >= 0.6`; raises `ExpressionError`."""
    return _Parser(text).comparison()


def parse_expression(text: str) -> Expr:
    """Parse a score expression such as `sharpe + 0.1 * win_rate`; raises `ExpressionError`."""
    return _Parser(text).expression()


def render_expression(expr: Expr) -> str:
    """The canonical text of an expression tree; `parse_expression` reads it back unchanged."""
    if isinstance(expr, Number):
        return format_number(expr.value)
    if isinstance(expr, MetricRef):
        return expr.name
    if isinstance(expr, Call):
        return f"{expr.function}({', '.join(render_expression(arg) for arg in expr.args)})"
    if isinstance(expr, Negate):
        inner = render_expression(expr.operand)
        # `-(1)` keeps a negated number apart from the number −1, which is written `-1`.
        if isinstance(expr.operand, Number | BinaryOp):
            return f"-({inner})"
        return f"-{inner}"
    precedence = _PRECEDENCE[expr.op]
    left = render_expression(expr.left)
    if _precedence_of(expr.left) < precedence:
        left = f"({left})"
    right = render_expression(expr.right)
    if _precedence_of(expr.right) <= precedence:
        right = f"({right})"
    return f"{left} {expr.op} {right}"


def _precedence_of(expr: Expr) -> int:
    if isinstance(expr, BinaryOp):
        return _PRECEDENCE[expr.op]
    if isinstance(expr, Negate) or (isinstance(expr, Number) and _is_negative(expr.value)):
        return _UNARY_PRECEDENCE
    return _ATOM_PRECEDENCE


def _is_negative(value: float) -> bool:
    return format_number(value).startswith("-")


def expression_score(expr: Expr) -> ExpressionScore:
    """An `ExpressionScore` for `expr`, with its canonical `source`."""
    return ExpressionScore(expr=expr, source=render_expression(expr))


def parse_score_expression(text: str) -> ExpressionScore:
    """Parse a score expression into an `ExpressionScore` with canonical `source`."""
    return expression_score(parse_expression(text))


def expression_metrics(expr: Expr) -> tuple[str, ...]:
    """The metric names an expression reads, in order of first use."""
    names: dict[str, None] = {}
    pending: list[Expr] = [expr]
    while pending:
        node = pending.pop()
        if isinstance(node, MetricRef):
            names.setdefault(node.name, None)
        elif isinstance(node, Negate):
            pending.append(node.operand)
        elif isinstance(node, BinaryOp):
            pending.extend((node.right, node.left))
        elif isinstance(node, Call):
            pending.extend(reversed(node.args))
    return tuple(names)
