"""Fixtures for the reference-data tests: settings in a temporary folder, small publisher files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tipaudit.refdata import ReferenceData
from tipaudit.settings import Settings

GOODS_2024 = """<?xml version="1.0" encoding="UTF-8"?>
<Goods>
  <Good>
    <Good_Name>Hazelnuts</Good_Name>
    <Good_Sector>Agriculture</Good_Sector>
    <Countries>
      <Country>
        <Country_Name>Turkey (Türkiye)</Country_Name>
        <Country_Region>Europe and Eurasia</Country_Region>
        <Child_Labor>Yes</Child_Labor>
        <Forced_Labor>Yes</Forced_Labor>
        <Forced_Child_Labor>No</Forced_Child_Labor>
        <Derived_Labor_Exploitation>No</Derived_Labor_Exploitation>
        <Derived_Country>No</Derived_Country>
      </Country>
    </Countries>
  </Good>
  <Good>
    <Good_Name>Solar Modules</Good_Name>
    <Good_Sector>Manufacturing</Good_Sector>
    <Countries>
      <Country>
        <Country_Name>China</Country_Name>
        <Country_Region>Indo-Pacific</Country_Region>
        <Child_Labor>No</Child_Labor>
        <Forced_Labor>No</Forced_Labor>
        <Forced_Child_Labor>No</Forced_Child_Labor>
        <Derived_Labor_Exploitation>Yes</Derived_Labor_Exploitation>
        <Derived_Country>China</Derived_Country>
      </Country>
    </Countries>
  </Good>
</Goods>
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose data folder is empty: only the bundled data exists."""
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def registry(settings: Settings) -> ReferenceData:
    return ReferenceData(settings)


def write(folder: Path, name: str, content: str | bytes) -> Path:
    """Write a file for an import test and return its path."""
    path = folder / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path
