"""Real files that are not tables (a DCAT catalog page, a live XML feed) are refused clearly, not mangled."""

from __future__ import annotations

from pathlib import Path

import pytest

from urbandata.errors import InvalidInput
from urbandata.ingest.pipeline import IngestOptions, stage_file

SHARED = Path(__file__).parents[3] / "shared" / "data" / "real"


@pytest.mark.parametrize("name", ["rostock_opendata_hro_catalog_page1.rdf", "kaiserslautern/pls_2021-07-13.xml"])
def test_non_tabular_real_files_get_a_clear_error(name: str, tmp_path: Path) -> None:
    path = SHARED / name
    if not path.exists():
        pytest.skip("shared data not beside the checkout")
    with pytest.raises(InvalidInput) as exc:
        stage_file(path, IngestOptions(display_name=path.name), tmp_path / "work")
    assert exc.value.code == "unknown_format" and path.name in exc.value.message
