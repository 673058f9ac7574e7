"""One modserver with the lab plugin per test module, and the files it discovers.

The module's server runs in the test process (``serve_in_process``); the startup URL
that ``modserver run`` prints is tested on the real process (test_startup_url.py).

The Jupyter data path gets two prebuilt labextensions made here (``JUPYTER_PATH``): one
enabled, one disabled through ``labconfig/page_config.json`` (``JUPYTER_CONFIG_PATH``), as
``jupyter labextension disable`` would write it. ``jupyterlab_pygments`` (a test extra from
PyPI) is found in the environment's own ``share/jupyter/labextensions``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from tests.conftest import RunningServer, serve_in_process

ENABLED_EXT = "@modserver-test/enabled-ext"
DISABLED_EXT = "modserver-test-disabled-ext"
ENTRY = "static/remoteEntry.0123456789abcdef0123.js"


def make_labextension(labextensions: Path, name: str) -> Path:
    """A prebuilt labextension as the extension builder leaves it: package.json + static/."""
    folder = labextensions.joinpath(*name.split("/"))
    (folder / "static").mkdir(parents=True)
    package = {
        "name": name,
        "version": "1.0.0",
        "jupyterlab": {
            "_build": {"load": ENTRY, "extension": "./extension", "style": "./style"},
        },
    }
    (folder / "package.json").write_text(json.dumps(package))
    (folder / ENTRY).write_text("var _JUPYTERLAB = {}; // " + "x" * 2000)
    (folder / "static" / "style.js").write_text("/* style */")
    (folder / "static" / "lib" / "static").mkdir(parents=True)
    (folder / "static" / "lib" / "static" / "deep.js").write_text("/* deep */")
    theme = folder / "themes" / name
    theme.mkdir(parents=True)
    (theme / "index.css").write_text(
        ".a { background: url('images/dot.svg'); }\n.b { src: url(https://cdn.example/f.woff); }\n"
    )
    (theme / "images").mkdir()
    (theme / "images" / "dot.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    return folder


@pytest.fixture(scope="module")
def jupyter_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for a server: a data path with two labextensions, one disabled."""
    base = tmp_path_factory.mktemp("jupyter")
    data = base / "data"
    make_labextension(data / "labextensions", ENABLED_EXT)
    make_labextension(data / "labextensions", DISABLED_EXT)
    labconfig = base / "config" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {DISABLED_EXT: True}})
    )
    return {"JUPYTER_PATH": str(data), "JUPYTER_CONFIG_PATH": str(base / "config")}


@pytest.fixture(scope="module")
def lab_server(
    tmp_path_factory: pytest.TempPathFactory, jupyter_dirs: dict[str, str]
) -> Iterator[RunningServer]:
    """modserver with the lab plugin (and what it requires), serving a few files."""
    root = tmp_path_factory.mktemp("lab") / "root"
    root.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), root / "analysis.ipynb")
    (root / "notes.txt").write_text("hello\n")
    (root / "data").mkdir()
    server = serve_in_process(root, plugins="lab", env=jupyter_dirs)
    yield server
    server.stop()
