"""deploy/prometheus/statbot-alerts.yml: valid for Prometheus, its alerts fire on the metric
names statbot exports (promtool from Debian's prometheus; scripts/install-test-system.sh)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from statbot.ops.metrics import Metrics

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool missing: scripts/install-test-system.sh installs Debian's prometheus")
    return found


def test_the_rules_check_and_their_unit_tests_pass() -> None:
    for args in (
        ["check", "rules", "statbot-alerts.yml"],
        ["test", "rules", "statbot-alerts.test.yml"],
    ):
        result = subprocess.run(
            [_promtool(), *args], cwd=RULES, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_every_statbot_metric_an_alert_uses_is_exported() -> None:
    exported = Metrics().render().decode()
    used = set(re.findall(r"\b(statbot_[a-z_]+)", (RULES / "statbot-alerts.yml").read_text()))
    missing = {
        name for name in used if f"\n{name}" not in exported and f"# TYPE {name}" not in exported
    }
    assert not missing, missing
