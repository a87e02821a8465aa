"""docs/settings.md documents every setting, and the README names only settings that exist."""

from __future__ import annotations

import re
from pathlib import Path

from modelplaza.config import Settings

ROOT = Path(__file__).resolve().parents[2]
# A table row whose first cell is a setting's variable: | `PLAZA_DATA_DIR` | ...
ROW = re.compile(r"^\| `(PLAZA_[A-Z0-9_]+)` \|", re.MULTILINE)
# Settings of the plaza's processes only; the CLI's and the tests' variables are listed apart.
REFERENCE_TABLE_END = "## Variables that are not plaza settings"


def variables() -> set[str]:
    return {f"PLAZA_{name.upper()}" for name in Settings.model_fields}


def documented(path: Path) -> set[str]:
    text = path.read_text().split(REFERENCE_TABLE_END)[0]
    return set(ROW.findall(text))


def test_every_setting_is_in_the_reference_and_nothing_else():
    reference = documented(ROOT / "docs" / "settings.md")
    missing, stale = sorted(variables() - reference), sorted(reference - variables())
    assert not missing, f"Settings fields missing from docs/settings.md: {missing}"
    assert not stale, f"docs/settings.md documents settings that Settings no longer has: {stale}"


def test_the_reference_gives_each_settings_toml_key():
    text = (ROOT / "docs" / "settings.md").read_text()
    without_key = [
        name for name in Settings.model_fields if f"| `PLAZA_{name.upper()}` | `{name}` |" not in text
    ]
    assert not without_key, f"docs/settings.md rows without their plaza.toml key: {without_key}"


def test_the_readme_names_only_existing_settings_and_links_the_reference():
    readme = ROOT / "README.md"
    stale = sorted(documented(readme) - variables())
    assert not stale, f"README.md names settings that Settings no longer has: {stale}"
    assert "docs/settings.md" in readme.read_text()
