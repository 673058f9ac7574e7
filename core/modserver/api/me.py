"""What every identity plugin's ``GET /api/me`` shares, in jupyter_server's shapes.

The caller asks ``?permissions={"resource": ["action", ...]}`` and gets back, per resource,
the actions it holds. ``parse_permissions`` reads the argument (400 when it is not such a
JSON object) and ``granted_permissions`` asks the ``Authorizer`` about each action.
"""

from __future__ import annotations

from modserver.api.auth import ACTIONS, Authorizer, User
from modserver.errors import http_error
from modserver.jsonbody import InvalidJSON, loads


def _bad_permissions(raw: str) -> Exception:
    return http_error(
        400, f'permissions should be a JSON dict of {{"resource": ["action",]}}, got {raw!r}'
    )


def parse_permissions(raw: str) -> dict[str, list[str]]:
    """The ``permissions`` query argument: ``{"resource": ["action", ...]}``; 400 if not."""
    if not raw:
        return {}
    try:
        asked = loads(raw)
    except InvalidJSON:
        raise _bad_permissions(raw) from None
    if not isinstance(asked, dict):
        raise _bad_permissions(raw)
    for actions in asked.values():
        if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
            raise _bad_permissions(raw)
    return asked


async def granted_permissions(
    authorizer: Authorizer, user: User, asked: dict[str, list[str]]
) -> dict[str, list[str]]:
    """For each asked resource, the asked actions ``user`` holds.

    Unknown action names are simply not granted, as in jupyter_server.
    """
    return {
        resource: [
            action
            for action in actions
            if action in ACTIONS and await authorizer.is_authorized(user, action, resource)
        ]
        for resource, actions in asked.items()
    }
