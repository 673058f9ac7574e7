"""Notebooks are written byte for byte as nbformat writes them, so diffs stay clean."""

from __future__ import annotations

import nbformat
import orjson
from modserver_contents import notebooks
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output


def tricky_notebook() -> nbformat.NotebookNode:
    nb = new_notebook(metadata={'we"ird': {"a\\b": [1, 2.5, 'x", "y'], "e": {}}, "l": []})
    nb.cells.append(
        new_markdown_cell(
            'a",\nb\\",\\"c\n\n\x01abc:0\n',
            attachments={"i.png": {"image/png": "AAA\nBBB", "text/plain": "x\ny"}},
        )
    )
    code = new_code_cell("", execution_count=None)
    code.metadata["trusted"] = True  # transient: never written
    code.outputs = [
        new_output("stream", name="stdout", text=""),
        new_output(
            "display_data",
            data={
                "text/html": '<b>","</b>\n\n',
                "application/json": {"k": ["a\nb"]},
                "image/svg+xml": "<svg>\n</svg>",
            },
            metadata={"x": {"y": "z"}},
        ),
        new_output("error", ename="E", evalue="é\x1b[0m", traceback=["l1\n", "l2"]),
    ]
    nb.cells.append(code)
    nb.cells.append(new_code_cell("\n"))
    nb.cells.append(new_markdown_cell("ünïcode, one line"))
    return nb


def test_saved_bytes_equal_nbformat_writes() -> None:
    nb = tricky_notebook()
    expected = nbformat.writes(nb) + "\n"
    assert notebooks.dumps(orjson.loads(orjson.dumps(nb))).decode() == expected


def test_reading_back_gives_what_nbformat_reads() -> None:
    text = nbformat.writes(tricky_notebook())
    parsed, problem = notebooks.parse(text.encode(), "t.ipynb")
    assert problem is None
    assert parsed == nbformat.reads(text, as_version=4)
