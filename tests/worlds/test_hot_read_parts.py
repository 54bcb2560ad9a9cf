"""The parts the hot reads are made cheap with: plain query reading, values derived once."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from worldservice.api.query import query_params
from worldservice.held import DerivedOnce

QUERIES = [
    "",
    "strategy_id=s1&side=long",
    "side=long&strategy_id=s1",
    "strategy_id=s1&side=long&side=short",  # the last value wins, as request.GET.get gives it
    "strategy_id=&side=long",
    "strategy_id&side",
    "=x&a=1=2",
    "a=1&&b=2&",
    "at=2026-12-03T10:00:00Z",
    "strategy_id=s%31&side=long",  # escaped: Django reads it
    "strategy_id=a+b&side=long",  # '+' is a space to Django
    "strategy_id=caf%C3%A9&side=long",
    "a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9",  # many fields: Django reads it
]


@pytest.mark.parametrize("query", QUERIES)
def test_query_params__any_query__as_django_reads_it(query):
    request = RequestFactory().get("/worlds/w/activation", QUERY_STRING=query)

    assert dict(query_params(request)) == request.GET.dict()
    assert len(query_params(request)) == len(request.GET)


def test_query_params__raw_non_ascii__as_django_reads_it():
    request = RequestFactory().get("/worlds/w/activation")
    request.META["QUERY_STRING"] = "strategy_id=caf\xc3\xa9&side=long"  # WSGI's latin-1 text

    assert (
        dict(query_params(request))
        == request.GET.dict()
        == {
            "strategy_id": "café",
            "side": "long",
        }
    )


def test_query_params__read_twice__parsed_once(monkeypatch):
    request = RequestFactory().get("/worlds/w/activation", QUERY_STRING="side=long")
    first = query_params(request)
    request.META["QUERY_STRING"] = "side=short"

    assert query_params(request) is first


def test_derived_once__same_object__derived_once():
    derived = DerivedOnce[str]()
    source = {"a": 1}
    calls: list[int] = []

    def derive() -> str:
        calls.append(1)
        return "text"

    assert [derived.get(source, derive) for _ in range(3)] == ["text"] * 3
    assert len(calls) == 1


def test_derived_once__equal_but_other_object__derived_again():
    derived = DerivedOnce[int]()

    assert derived.get({"a": 1}, lambda: 1) == 1
    assert derived.get({"a": 1}, lambda: 2) == 2  # equal, but not the same object


def test_derived_once__other_tag__derived_again():
    derived = DerivedOnce[str]()
    source = ("entry",)

    assert derived.get(source, lambda: "for w1", ("w1",)) == "for w1"
    assert derived.get(source, lambda: "for w2", ("w2",)) == "for w2"
    assert derived.get(source, lambda: "again", ("w1",)) == "for w1"


def test_derived_once__full__starts_over_and_stays_bounded():
    derived = DerivedOnce[int](limit=4)
    sources = [object() for _ in range(10)]

    for number, source in enumerate(sources):
        derived.get(source, lambda number=number: number)

    assert derived.get(sources[-1], lambda: -1) == 9  # the newest is kept
    assert derived.get(sources[0], lambda: -1) == -1  # the oldest went
