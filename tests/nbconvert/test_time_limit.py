"""An export is bounded in time: past ``nbconvert.timeout`` the client gets a 504 JSON."""

from __future__ import annotations

from pathlib import Path

import nbformat

from tests.conftest import RunningServer


def test_an_export_slower_than_the_time_limit_is_a_504_and_the_server_goes_on(
    app_factory, root_dir: Path
):
    nbformat.write(nbformat.v4.new_notebook(), root_dir / "slow.ipynb")
    # No HTML export (templates, nbconvert's first import) finishes within a millisecond.
    server: RunningServer = app_factory("--set", "nbconvert.timeout=0.001", plugins="nbconvert")
    with server.client() as client:
        response = client.get("nbconvert/html/slow.ipynb")
        assert response.status_code == 504
        assert "nbconvert.timeout" in response.json()["message"]
        assert client.get("api/contents/slow.ipynb").status_code == 200
