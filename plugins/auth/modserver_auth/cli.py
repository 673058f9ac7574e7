"""``modserver password``: hash a password (or make a user token) into the config file.

Writes ``[auth] password_hash`` for the owner, or ``[auth.users.<name>]`` with
``--user``; ``--print`` shows the TOML instead of writing it. Only hashes are stored; a
new token is printed once. The server makes a new cookie secret at its next start, so
cookies issued under the old password stop working.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from modserver.cli import Command

USAGE_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modserver password",
        description="Set the owner's password, or a user's password or token, in the config file.",
    )
    parser.add_argument("--user", help="a user of the [auth.users] table (default: the owner)")
    parser.add_argument(
        "--role", choices=["owner", "editor", "viewer"], help="the user's role (with --user)"
    )
    parser.add_argument(
        "--token", action="store_true", help="make a random token for --user instead"
    )
    parser.add_argument(
        "--config", type=Path, default=Path("modserver.toml"), help="file to update"
    )
    parser.add_argument("--print", action="store_true", help="print the TOML, change no file")
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin (scripts)"
    )
    return parser


def _ask_password(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        print("modserver password: error: the passwords differ", file=sys.stderr)
        return None
    return first


def run_password(argv: list[str]) -> int:
    """Entry point of ``modserver password``."""
    from modserver_auth.passwords import hash_password
    from modserver_auth.settings import OWNER, USERNAME
    from modserver_auth.tokens import hash_token, new_token

    args = _parser().parse_args(argv)
    if args.user is not None and (args.user == OWNER or not USERNAME.fullmatch(args.user)):
        print(f"modserver password: error: invalid user name {args.user!r}", file=sys.stderr)
        return USAGE_ERROR
    if (args.token or args.role) and args.user is None:
        print("modserver password: error: --token and --role need --user", file=sys.stderr)
        return USAGE_ERROR
    values: dict[str, Any] = {}
    if args.token:
        token = new_token()
        values["token_hash"] = hash_token(token)
        print(f"token for {args.user} (shown once; only its hash is stored): {token}")
    else:
        password = _ask_password(args.password_stdin)
        if password is None:
            return USAGE_ERROR
        if not password:
            print("modserver password: error: the password is empty", file=sys.stderr)
            return USAGE_ERROR
        values["password_hash"] = hash_password(password)
    if args.role:
        values["role"] = args.role
    if args.print:
        import tomli_w

        auth = values if args.user is None else {"users": {args.user: values}}
        print(tomli_w.dumps({"auth": auth}), end="")
        return 0
    return _update_config(args.config, args.user, values)


def _update_config(path: Path, user: str | None, values: dict[str, Any]) -> int:
    import tomli_w

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        print(f"modserver password: error: cannot read {path}: {exc}", file=sys.stderr)
        return USAGE_ERROR
    auth = data.setdefault("auth", {})
    if user is None:
        auth.update(values)
    else:
        entry = auth.setdefault("users", {}).setdefault(user, {})
        entry.update(values)
        entry.setdefault("role", "viewer")
    # Rewritten whole (comments are not kept); created readable by its owner only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(tomli_w.dumps(data))
    who = f"user {user!r}" if user else "the owner"
    print(f"updated {path}: credentials of {who} (restart the server to apply)")
    return 0


def password_command() -> Command:
    """The ``password`` subcommand for the core CLI."""
    return Command(
        name="password", help="set a password or user token in the config file", run=run_password
    )
