import pytest

from bench.load import LoadResult, percentile


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]

    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile(values, 0.1) == 1


def test_percentile_returns_a_value_that_occurred() -> None:
    # Interpolation would say 15 ms; no request took 15 ms.
    assert percentile([10.0, 20.0], 50) == 10.0
    assert percentile([10.0, 20.0], 99) == 20.0


def test_percentile_of_nothing_is_zero() -> None:
    assert percentile([], 99) == 0.0


@pytest.mark.parametrize("p", [0, -1, 101])
def test_percentile_refuses_out_of_range(p: float) -> None:
    with pytest.raises(ValueError, match="percentile"):
        percentile([1.0], p)


def test_result_rate_and_failures() -> None:
    result = LoadResult("wrk", 64, 2.0, 1000, 990, 4, 3, 3, 1.0, 2.0)

    assert result.requests_per_s == 500
    assert result.failures == 10
