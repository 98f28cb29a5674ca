"""Which MongoDB server answers mean "not now" (retry: 503, the batch comes again) and which
mean "no" (the caller's error, or poison for a consumer)."""

from __future__ import annotations

import pytest
from pymongo.errors import BulkWriteError, OperationFailure, WriteError

from shared.eventstore.port import StoreUnavailable
from shared.mongo import unavailable

BUSY = (
    "[collection.go:177 sqlite.(*collection).UpdateAll.func1] database is locked (5) (SQLITE_BUSY)"
)


@pytest.mark.parametrize(
    "error",
    [
        OperationFailure("not primary", 10107),
        # What FerretDB 1.24 on SQLite answers when another connection holds the lock: seen
        # dead-lettering a booking from the site board under load before it counted as busy.
        WriteError(BUSY, 1, {"errmsg": BUSY, "code": 1, "codeName": "InternalError"}),
        OperationFailure(BUSY, 1, {"errmsg": BUSY, "code": 1, "codeName": "InternalError"}),
        BulkWriteError({"writeErrors": [{"index": 0, "code": 1, "errmsg": BUSY}]}),
    ],
)
def test_a_busy_or_stepping_down_server_is_unavailable(error: OperationFailure) -> None:
    with pytest.raises(StoreUnavailable), unavailable():
        raise error


def test_any_other_refusal_stays_what_it_is() -> None:
    refusal = OperationFailure("document too large", 10334)
    with pytest.raises(OperationFailure) as raised, unavailable():
        raise refusal
    assert raised.value is refusal
