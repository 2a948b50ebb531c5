"""The suite starts no flake8-plugin daemons of its own accord: every flake8 run under
test analyses in its own process unless a test asks for a daemon (tests/test_daemon.py),
and no background process outlives the suite."""

import os

os.environ["DBCHECK_NO_DAEMON"] = "1"


import pytest  # noqa: E402 - after the environment is set


@pytest.fixture()
def saas(tmp_path):
    """A fresh copy of the example multi-tenant project (fixtures/saas)."""
    from tests.helpers import copy_fixture

    return copy_fixture("saas", tmp_path)
