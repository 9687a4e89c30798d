from __future__ import annotations

import pytest

from tests.notify.receiver import Receiver


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()
