"""Notebooks are written byte for byte as nbformat writes them, so diffs stay clean."""

from __future__ import annotations

from pathlib import Path

import nbformat
import orjson
import pytest
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


LINE_PIECES = ["a", "\n", "\\", "n", '"', "\r", "\r\n", "é", "\x0b", "\x0c", "\x1c", "\x1d"]
LINE_PIECES += ["\x1e", "\x85", "\u2028", "\u2029", "\t", "\x01", "\\n", "\n\n", "\U0001f600"]


def test_every_kind_of_line_break_is_written_as_nbformat_writes_it() -> None:
    import random

    rnd = random.Random(7)
    for _ in range(300):
        texts = ["".join(rnd.choices(LINE_PIECES, k=rnd.randint(0, 10))) for _ in range(5)]
        nb = new_notebook()
        nb.cells.append(new_markdown_cell(texts[0]))
        code = new_code_cell(texts[1])
        code.outputs = [
            new_output("stream", name="stdout", text=texts[2]),
            new_output("display_data", data={"text/plain": texts[3], "image/svg+xml": texts[4]}),
        ]
        nb.cells.append(code)
        expected = nbformat.writes(nb) + "\n"
        assert notebooks.dumps(orjson.loads(orjson.dumps(nb))).decode() == expected, texts


def test_validation_agrees_with_nbformat() -> None:
    assert_validation_agrees_with_nbformat()


def test_checks_kept_in_the_cache_for_the_next_start_agree_with_nbformat_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    notebooks._compile_dispatching.cache_clear()
    try:
        assert_validation_agrees_with_nbformat()  # compiled, and kept
        kept = list((tmp_path / "modserver" / "notebook-checks").iterdir())
        assert kept
        notebooks._compile_dispatching.cache_clear()  # as in a new process
        assert_validation_agrees_with_nbformat()  # read back
        assert sorted((tmp_path / "modserver" / "notebook-checks").iterdir()) == sorted(kept)
    finally:
        notebooks._compile_dispatching.cache_clear()


def assert_validation_agrees_with_nbformat() -> None:
    nb = orjson.loads(orjson.dumps(tricky_notebook()))
    assert notebooks.validation_message(nb) is None
    broken = [
        ("cells", 0, "cell_type", "nope"),
        ("cells", 1, "outputs", 0, "output_type", "nope"),
        ("cells", 1, "outputs", 0, "name", 3),
        ("cells", 1, "outputs", 1, "extra", 1),
        ("cells", 2, "source", 5),
        ("cells", 1, "execution_count", "x"),
        ("metadata", "kernelspec", {"name": 1}),
        ("cells", 0, "attachments", "i.png", 3),
    ]
    for *where, value in broken:
        bad = orjson.loads(orjson.dumps(nb))
        target = bad
        for key in where[:-1]:
            target = target[key]
        target[where[-1]] = value
        message = notebooks.validation_message(bad)
        assert message is not None and message.startswith("Notebook validation failed"), where
        try:
            nbformat.validate(orjson.loads(orjson.dumps(bad)))
        except nbformat.ValidationError:
            pass
        else:
            raise AssertionError(f"nbformat accepts {where}")


def test_the_fast_checks_use_the_schema_nbformat_validates_with() -> None:
    """The fast path reads nbformat's schema files without importing nbformat (which
    imports jsonschema): it must see the same current version and the same schemas."""
    from nbformat.validator import get_validator

    assert notebooks._current_minor() == nbformat.current_nbformat_minor
    for minor in range(nbformat.current_nbformat_minor + 1):
        validator = get_validator(version=4, version_minor=minor)  # type: ignore[no-untyped-call]
        assert notebooks._schema(minor) == validator._schema
