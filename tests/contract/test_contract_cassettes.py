"""Checks on the contract suite's cassettes (cassettes/contract/, see cassettes.py)."""

from __future__ import annotations

import re

from tests.contract import test_contract
from tests.contract.cassettes import AIHUB_TOKEN, CONTRACT_CASSETTES, NOT_REPLAYED, SCALE_KEY


def test_contract_cassettes_hold_no_credentials() -> None:
    """No recorded token, key or Authorization header is left in any contract cassette."""
    files = sorted(CONTRACT_CASSETTES.glob("*.yaml"))
    assert files, "cassettes/contract/ is empty: record it (see tests/contract/cassettes.py)"
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert AIHUB_TOKEN not in text, path
        assert SCALE_KEY not in text, path
        assert not re.search(r"(?i)authorization", text), path
        assert not re.search(r"Bearer\s+\S{8,}|Basic\s+[A-Za-z0-9+/=]{8,}", text), path


def test_every_exclusion_names_a_scenario() -> None:
    """An excluded scenario that was renamed or removed would silently stay excluded."""
    assert all(callable(getattr(test_contract, name, None)) for name in NOT_REPLAYED)
