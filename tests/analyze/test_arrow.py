from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from shipyard.analyze._arrow import from_numpy, to_numpy
from shipyard.htmlpage import _plotly_js


@pytest.mark.parametrize("type_", [pa.float64(), pa.int64(), pa.int32()], ids=str)
def test_to_numpy_matches_pyarrow_over_chunks_slices_and_nulls(type_):
    values = [1, None, 3, 4, None, 6, 7, 8, 9, 10, None]
    fill = -1
    col = pa.chunked_array(
        [pa.array(values, type=type_).slice(3), pa.array([], type=type_), pa.array([5], type_)]
    )
    expected = np.array([fill if v is None else v for v in [*values[3:], 5]])
    got = to_numpy(col, fill)
    assert got.dtype == type_.to_pandas_dtype() and got.tolist() == expected.tolist()
    got[0] = 99  # a copy: writing does not touch Arrow memory
    assert col.chunk(0)[0].as_py() == 4


def test_to_numpy_refuses_nulls_without_a_fill_and_other_types():
    with pytest.raises(TypeError, match="nulls"):
        to_numpy(pa.array([1.0, None]))
    with pytest.raises(TypeError, match="float64, int64 or int32"):
        to_numpy(pa.array(["a"]))


def test_from_numpy_builds_timestamps_with_their_zone():
    arr = from_numpy(np.array([0, 86_400_000_000]), pa.timestamp("us", tz="UTC"))
    assert arr.to_pylist()[1] == dt.datetime(1970, 1, 2, tzinfo=dt.UTC)


def test_reports_embed_the_same_plotly_bundle_as_plotly_offline():
    from plotly.offline import get_plotlyjs

    assert _plotly_js() == get_plotlyjs()
