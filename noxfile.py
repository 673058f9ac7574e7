"""Developer tasks. ``python3 -m nox`` runs lint, typecheck, tests and e2e (the CI command)."""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "tests", "e2e"]
nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True

FIXTURE_PLUGIN = "./tests/fixtures/modserver-hello"
# A third-party kernel provisioner (jupyter_client entry point), for tests/kernels.
FIXTURE_PROVISIONER = "./tests/fixtures/recording-provisioner"
# Bytecode caches on, whatever the machine says (an empty value unsets Python's flag): with
# PYTHONDONTWRITEBYTECODE set, every test worker and every server a test starts compiled
# every module again (3-6 CPU-s per worker, ~0.14 s per server start).
BYTECODE = {"PYTHONDONTWRITEBYTECODE": ""}


@nox.session
def tests(session: nox.Session) -> None:
    """Unit and end-to-end tests against the real server (installs the sample plugin)."""
    session.install("-e", ".[test]")
    session.install(FIXTURE_PLUGIN, FIXTURE_PROVISIONER)
    # One worker more than cores: the tests wait on servers and kernels starting, and a
    # third worker fills those gaps on 2 cores (docs/testing.md, "Time"). A test file stays
    # on one worker (its module servers start once). The browser tests have their own
    # session (e2e), so they do not run twice.
    session.run(
        "pytest",
        "-n",
        str((os.cpu_count() or 1) + 1),
        "--dist",
        "loadfile",
        "--ignore=tests/e2e",
        *session.posargs,
        env=BYTECODE,
    )


@nox.session
def e2e(session: nox.Session) -> None:
    """JupyterLab 4 and Notebook 7 on modserver in a real browser (needs apt's chromium).

    See docs/e2e-tests.md; artifacts (endpoints, timings, failure screenshots) land in
    tests/e2e/artifacts. The test extras bring jupyter-collaboration's frontend
    (jupyter-docprovider, jupyter-collaboration-ui: labextensions only, no Python
    dependencies); ``E2E_COLLABORATION=all`` runs every scenario with it on.
    """
    session.install("-e", ".[test]")
    session.run("pytest", "tests/e2e", *session.posargs, env=BYTECODE)


@nox.session
def e2e_reference(session: nox.Session) -> None:
    """The same browser tests against jupyter_server (jupyter lab), to compare (not in CI)."""
    session.install("-e", ".[test]", "jupyterlab", "notebook")
    jupyter = str(Path(session.bin) / "jupyter")
    session.run(
        "pytest",
        "tests/e2e",
        *session.posargs,
        env={"E2E_TARGET": "jupyter", "E2E_JUPYTER": jupyter},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the core and the built-in plugins (their dependencies come with ".")."""
    session.install("-e", ".", "mypy", "types-PyYAML")
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Side-by-side benchmarks against jupyter_server; results in benchmarks/results/*.json.

    The browser suite compares with ``jupyter lab``: jupyterlab is installed at the version
    of the jupyterlab-js that modserver's lab plugin serves, so both servers send the same
    JupyterLab build (the two wheels install the same files under share/jupyter/lab).
    """
    session.install("-e", ".[test]", "jupyter_server")
    lab_version = session.run_install(
        "python",
        "-c",
        "import importlib.metadata as m; print(m.version('jupyterlab-js'))",
        silent=True,
    )
    if isinstance(lab_version, str):
        session.install(f"jupyterlab=={lab_version.strip().rsplit('.post', 1)[0]}")
    session.run("python", "-m", "benchmarks", *session.posargs)
