"""``/nbconvert/{format}/{path}`` and ``/api/nbconvert`` against real nbconvert.

Each export is compared with what nbconvert itself makes of the same notebook file
(``Exporter.from_filename``), as "Save and Export Notebook As" in JupyterLab asks for it.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from modserver_auth.tokens import hash_token
from nbconvert.exporters.base import get_exporter

from tests.conftest import RunningServer, start_server

EDITOR_TOKEN = "editor-token-aaaaaaaaaaaaaaaaaaaa"
VIEWER_TOKEN = "viewer-token-bbbbbbbbbbbbbbbbbbbb"
USERS = {
    "ed": {"role": "editor", "token_hash": hash_token(EDITOR_TOKEN)},
    "vi": {"role": "viewer", "token_hash": hash_token(VIEWER_TOKEN)},
}
PNG = base64.b64encode(bytes.fromhex("89504e470d0a1a0a")).decode()


def write_notebooks(root: Path) -> None:
    notebook = nbformat.v4.new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {
                "name": "python",
                "file_extension": ".py",
                "mimetype": "text/x-python",
            },
        },
        cells=[
            nbformat.v4.new_markdown_cell(
                "# Analysis\n\nSome *text* and a [link](https://jupyter.org)."
            ),
            nbformat.v4.new_code_cell(
                "print(6 * 7)",
                execution_count=1,
                outputs=[nbformat.v4.new_output("stream", name="stdout", text="42\n")],
            ),
        ],
    )
    nbformat.write(notebook, root / "analysis.ipynb")
    pictured = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "plot()",
                execution_count=1,
                outputs=[nbformat.v4.new_output("display_data", data={"image/png": PNG})],
            )
        ]
    )
    nbformat.write(pictured, root / "pictured.ipynb")
    (root / "notes.txt").write_text("plain text")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("nbconvert") / "root"
    root.mkdir()
    write_notebooks(root)
    # No pandoc and no LaTeX on the server's PATH, whatever this machine has.
    tools = root.parent / "bin"
    tools.mkdir()
    running = start_server(
        root,
        "--set",
        f"auth.users={json.dumps(USERS)}",
        plugins="nbconvert",
        env={"PATH": str(tools)},
    )
    yield running
    running.stop()


def nbconvert_output(server: RunningServer, format: str, name: str = "analysis.ipynb") -> str:
    """What nbconvert makes of the notebook file, run here in the test."""
    output, _resources = get_exporter(format)().from_filename(str(server.root_dir / name))
    return str(output)


@pytest.mark.parametrize(
    ("format", "filename", "mimetype"),
    [
        ("html", "analysis.html", "text/html"),
        ("markdown", "analysis.md", "text/markdown"),
        ("script", "analysis.py", "text/x-python"),
        ("notebook", "analysis.ipynb", "application/json"),
    ],
)
def test_save_and_export_as_downloads_what_nbconvert_makes(
    server: RunningServer, format: str, filename: str, mimetype: str
):
    with server.client() as client:
        response = client.get(f"nbconvert/{format}/analysis.ipynb", params={"download": "true"})
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert response.headers["content-type"] == f"{mimetype}; charset=utf-8"
    assert response.text == nbconvert_output(server, format)


def test_an_export_without_download_is_shown_inline_in_a_sandbox(server: RunningServer):
    with server.client() as client:
        response = client.get("nbconvert/html/analysis.ipynb")
    assert response.status_code == 200
    assert "content-disposition" not in response.headers
    assert "sandbox" in response.headers["content-security-policy"]
    assert "<title>analysis</title>" in response.text
    assert "42" in response.text


def test_an_export_with_images_comes_as_a_zip(server: RunningServer):
    with server.client() as client:
        response = client.get("nbconvert/markdown/pictured.ipynb", params={"download": "true"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == 'attachment; filename="pictured.zip"'
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "pictured.md" in names
    assert any(name.endswith(".png") for name in names)


def test_the_format_list_has_jupyter_servers_shape_and_only_usable_formats(server: RunningServer):
    with server.client() as client:
        response = client.get("api/nbconvert")
    assert response.status_code == 200
    formats = response.json()
    assert formats["html"] == {"output_mimetype": "text/html"}
    assert formats["markdown"] == {"output_mimetype": "text/markdown"}
    assert {"script", "notebook", "python"} <= set(formats)
    # pandoc and xelatex are not on the server's PATH: JupyterLab must not offer them.
    assert "pdf" not in formats
    assert "latex" not in formats


def test_an_unknown_format_is_a_404_naming_it(server: RunningServer):
    with server.client() as client:
        response = client.get("nbconvert/nosuchformat/analysis.ipynb")
    assert response.status_code == 404
    assert response.json()["message"] == "No exporter for format: nosuchformat"


@pytest.mark.parametrize(("format", "tool"), [("pdf", "pandoc"), ("latex", "pandoc")])
def test_a_format_whose_tool_is_missing_is_a_422_naming_the_tool(
    server: RunningServer, format: str, tool: str
):
    with server.client() as client:
        response = client.get(f"nbconvert/{format}/analysis.ipynb", params={"download": "true"})
    assert response.status_code == 422
    assert tool in response.json()["message"]


def test_a_missing_notebook_is_a_404(server: RunningServer):
    with server.client() as client:
        response = client.get("nbconvert/html/missing.ipynb")
    assert response.status_code == 404
    assert "message" in response.json()


def test_a_file_that_is_no_notebook_redirects_to_files(server: RunningServer):
    with server.client() as client:
        response = client.get("nbconvert/html/notes.txt")
    assert response.status_code == 302
    assert response.headers["location"] == "/files/notes.txt"


@pytest.mark.parametrize("token", [EDITOR_TOKEN, VIEWER_TOKEN])
def test_every_role_may_export_what_it_may_read(server: RunningServer, token: str):
    with server.client(token=token) as client:
        assert client.get("api/nbconvert").status_code == 200
        response = client.get("nbconvert/script/analysis.ipynb", params={"download": "true"})
    assert response.status_code == 200
    assert response.text == nbconvert_output(server, "script")


def test_no_export_without_authentication(server: RunningServer):
    with server.client(token="") as client:
        assert client.get("nbconvert/html/analysis.ipynb").status_code in (401, 403)
        assert client.get("api/nbconvert").status_code in (401, 403)
