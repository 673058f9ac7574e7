"""Developer tasks. ``python3 -m nox`` runs lint, typecheck and tests (the CI command)."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True

FIXTURE_PLUGIN = "./tests/fixtures/modserver-hello"


@nox.session
def tests(session: nox.Session) -> None:
    """Unit and end-to-end tests against the real server (installs the sample plugin)."""
    session.install("-e", ".[test]")
    session.install(FIXTURE_PLUGIN)
    # One worker per core; a test file stays on one worker (its module servers start once).
    session.run("pytest", "-n", "auto", "--dist", "loadfile", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy on the core."""
    session.install("-e", ".", "mypy", "types-PyYAML")
    session.run("mypy")


@nox.session
def bench(session: nox.Session) -> None:
    """Side-by-side benchmarks against jupyter_server; results in benchmarks/results/*.json."""
    session.install("-e", ".[test]", "jupyter_server")
    session.run("python", "-m", "benchmarks", *session.posargs)
