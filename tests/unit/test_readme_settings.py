"""The README's configuration table lists every setting, so no knob stays undocumented."""

from __future__ import annotations

import re
from pathlib import Path

from analytics_pipeline.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_has_a_row_in_the_readme_table():
    documented = set(re.findall(r"^\| `ANALYTICS_([A-Z0-9_]+)` \|", README.read_text(), flags=re.MULTILINE))
    expected = {name.upper() for name in Settings.model_fields}
    assert expected - documented == set(), "settings missing from the README table"
    assert documented - expected == set(), "README rows for settings that do not exist"
