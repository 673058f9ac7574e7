"""Kernel commands and environments: nothing from the notebook folder runs at startup,
nothing of the server's reaches the kernel."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from modserver.child_env import child_environment
from modserver_kernels.launch import BOOTSTRAP, safe_kernel_command


def test_python_dash_m_kernels_start_through_the_bootstrap():
    argv = ["/usr/bin/python3.11", "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "c"]
    assert safe_kernel_command(argv) == [
        "/usr/bin/python3.11",
        "-Xfrozen_modules=off",
        "-c",
        BOOTSTRAP,
        "ipykernel_launcher",
        "-f",
        "c",
    ]
    assert safe_kernel_command(["python", "-X", "dev", "-m", "k"])[3:5] == ["-c", BOOTSTRAP]


def test_other_kernel_commands_are_left_alone():
    for argv in (
        ["R", "--slave", "-e", "IRkernel::main()", "--args", "{connection_file}"],
        ["python3", "/opt/kernel.py", "-f", "c"],
        ["/usr/bin/julia", "-m", "x"],
        [],
    ):
        assert safe_kernel_command(argv) == argv


def test_the_bootstrap_ignores_modules_planted_in_the_working_folder(tmp_path: Path):
    notebooks, lib = tmp_path / "notebooks", tmp_path / "lib"
    notebooks.mkdir()
    lib.mkdir()
    for name in ("runpy", "target"):
        (notebooks / f"{name}.py").write_text(f"raise SystemExit('planted {name} ran')\n")
    (lib / "target.py").write_text("import sys\nprint(sys.argv)\n")
    command = safe_kernel_command([sys.executable, "-m", "target", "-f", "x"])
    result = subprocess.run(
        command, cwd=notebooks, capture_output=True, text=True, env={"PYTHONPATH": str(lib)}
    )
    # The module runs as ``-m`` would run it (argv[0] is its file), from the real path.
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr([str(lib / "target.py"), "-f", "x"])


def test_children_get_no_server_variable():
    base = {"PATH": "/bin", "MODSERVER_TOKEN": "t", "modserver_auth__token": "t", "HOME": "/h"}
    extra = {"JPY_SESSION_NAME": "a.ipynb", "MODSERVER_AUTH__PASSWORD_HASH": "h"}
    assert child_environment(extra, base=base) == {
        "PATH": "/bin",
        "HOME": "/h",
        "JPY_SESSION_NAME": "a.ipynb",
    }
