"""`data_currency` (is the data fresh?) and `sample` (is there enough evidence?)."""

from __future__ import annotations

from ..model import DataCurrency, Sample
from .reader import DocumentReader


def read_data_currency(read: DocumentReader, value: object, path: str) -> DataCurrency:
    section = read.mapping(value, path)
    if section is None:
        return DataCurrency()
    read.check_keys(section, path, ("max_lag", "min_history"))
    return DataCurrency(
        max_lag_seconds=read.duration_at(section, "max_lag", path),
        min_history_seconds=read.duration_at(section, "min_history", path),
    )


def read_sample(read: DocumentReader, value: object, path: str) -> Sample:
    section = read.mapping(value, path)
    if section is None:
        return Sample()
    read.check_keys(section, path, ("min_days", "min_trades", "min_bars"))
    return Sample(
        min_days=read.number_at(section, "min_days", path, minimum=0.0),
        min_trades=read.number_at(section, "min_trades", path, minimum=0.0),
        min_bars=read.number_at(section, "min_bars", path, minimum=0.0),
    )
