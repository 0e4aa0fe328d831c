"""One pipeline, two engines: DuckDB and Spark give identical registers."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from tests.conftest import SHARED
from tipaudit.procurement.engine import spark_available
from tipaudit.procurement.screening import RESULTS

from .conftest import Screen
from .test_screening import DEMO

pytestmark = [
    pytest.mark.skipif(not spark_available(), reason="PySpark is not installed"),
    # py4j leaves its gateway sockets to the garbage collector, and ibis' PySpark backend
    # passes pandas 3 an argument it has deprecated: neither is ours to fix.
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
]


def test_spark_and_duckdb_give_the_same_results(run_screen: Screen) -> None:
    """Register, factors, uncertainties and supplier roll-up are equal row for row."""
    inputs = [DEMO]
    extra = SHARED / "data" / "ocds" / "sample-data-real-examples" / "moldova"
    if extra.exists():
        inputs.append(extra)
    duck = run_screen(*inputs, on_error="skip")
    spark = run_screen(*inputs, on_error="skip", engine="spark")
    for name in RESULTS:
        expected = pq.read_table(duck.result(name))
        actual = pq.read_table(spark.result(name))
        assert expected.column_names == actual.column_names, name
        assert expected.num_rows == actual.num_rows, name
        assert expected.to_pylist() == actual.to_pylist(), name
    assert duck.summary["levels"] == spark.summary["levels"]
