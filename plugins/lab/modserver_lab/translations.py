"""Language packs: installed distributions that declare a ``jupyterlab.languagepack``
entry point named after their locale (``fr_FR = jupyterlab_language_pack_fr_FR``).

A pack's data are the JSON files (one per gettext domain, e.g. ``jupyterlab.json``) in its
package folder; packages declaring a ``jupyterlab.locale`` entry point add their own
domain for a locale (``<package>/locale/<locale>/LC_MESSAGES/<name>.json``). Packages are
located without importing them, and looked up on every request, so a pack installed while
the server runs is offered at once, as with jupyterlab_server. ``schema_translator``
translates settings schemas' titles and descriptions with a pack's gettext catalogues.
"""

from __future__ import annotations

import gettext
import importlib.util
import json
import locale
import logging
import re
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

log = logging.getLogger("modserver.lab")

LANGUAGE_PACK_GROUP = "jupyterlab.languagepack"
PACKAGE_LOCALE_GROUP = "jupyterlab.locale"
DEFAULT_LOCALE = "en"
#: JupyterLab's pseudo-language for translators; not a real locale, but allowed.
PSEUDO_LANGUAGE = "ach_UG"

_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8}){0,3}")


def is_valid_locale(name: str) -> bool:
    """True for a locale code such as ``fr``, ``pt_BR`` or ``zh-Hans-CN``."""
    return name == PSEUDO_LANGUAGE or bool(_LOCALE.fullmatch(name))


def system_locale() -> str:
    """The server's locale, the meaning of ``default``."""
    name = locale.getlocale()[0]
    return name if name and is_valid_locale(name) else DEFAULT_LOCALE


def _package_folders(group: str) -> dict[str, Path]:
    """Entry-point name -> folder of the module it names, without importing the module."""
    found: dict[str, Path] = {}
    for entry_point in entry_points(group=group):
        try:
            spec = importlib.util.find_spec(entry_point.module)
        except (ImportError, ValueError):
            spec = None
        if spec is None or spec.origin is None:
            log.warning(
                "%s entry point %r: module %s not found",
                group,
                entry_point.name,
                entry_point.module,
            )
            continue
        found[entry_point.name] = Path(spec.origin).parent
    return found


def display_names(code: str) -> dict[str, str]:
    """``displayName`` (in English) and ``nativeName`` of a locale.

    Names come from Babel when it is installed (jupyterlab_server's choice); otherwise the
    locale code stands for itself, which the language menu shows just as well.
    """
    if code == PSEUDO_LANGUAGE:
        return {"displayName": "Pseudo-language", "nativeName": "to translate the UI"}
    try:
        import babel  # type: ignore[import-not-found,unused-ignore]

        parsed = babel.Locale.parse(code.replace("-", "_"))
        english = parsed.get_display_name(DEFAULT_LOCALE) or code
        native = parsed.get_display_name(parsed) or code
    except Exception:  # Babel missing, or a locale it does not know
        english = native = "English" if code == DEFAULT_LOCALE else code
    return {
        "displayName": english[:1].upper() + english[1:],
        "nativeName": native[:1].upper() + native[1:],
    }


def language_packs() -> tuple[dict[str, dict[str, str]], str]:
    """The installed packs by locale (English always), and a message naming invalid ones."""
    packs = {DEFAULT_LOCALE: display_names(DEFAULT_LOCALE)}
    invalid = []
    for code in sorted(_package_folders(LANGUAGE_PACK_GROUP)):
        if is_valid_locale(code):
            packs[code] = display_names(code)
        else:
            invalid.append(code)
    message = f"The following locales are invalid: {invalid}!" if invalid else ""
    return packs, message


def language_pack(code: str) -> tuple[dict[str, Any], str]:
    """The translation data of locale ``code``, by domain, and a message when there is none."""
    if code == "default":
        code = system_locale()
    if not is_valid_locale(code):
        return {}, f"Language pack '{code}' not valid!"
    folder = _package_folders(LANGUAGE_PACK_GROUP).get(code)
    data: dict[str, Any] = {}
    problems: list[str] = []
    if folder is not None:
        for path in sorted(folder.rglob("*.json")):
            _load_into(data, path.stem, path, problems)
        for name, package in _package_folders(PACKAGE_LOCALE_GROUP).items():
            if name not in data:
                path = package / "locale" / code / "LC_MESSAGES" / f"{name}.json"
                if path.is_file():
                    _load_into(data, name, path, problems)
    if not data and not problems:
        return {}, f"Language pack '{code}' not installed!"
    return data, "\n".join(problems)


def _load_into(data: dict[str, Any], domain: str, path: Path, problems: list[str]) -> None:
    try:
        data[domain] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(f"Could not read {path.name}: {exc}")


#: Where a schema keeps text to translate (paths as /key/key, list items as key[i]), and
#: the gettext context of each, as JupyterLab's language packs were extracted.
_SCHEMA_TEXT = {
    "properties/.*/title": "settings",
    "properties/.*/description": "settings",
    "definitions/.*/properties/.*/title": "settings",
    "definitions/.*/properties/.*/description": "settings",
    "title": "schema",
    "description": "schema",
    r"jupyter\.lab\.setting-icon-label": "settings",
    r"jupyter\.lab\.menus/.*/label": "menu",
    r"jupyter\.lab\.toolbars/.*/label": "toolbar",
}
_I18N_KEY = "jupyter.lab.internationalization"

SchemaTranslator = Callable[[dict[str, Any]], None]


def schema_translator(code: str) -> SchemaTranslator | None:
    """A function translating a schema's titles and descriptions in place into ``code``.

    None when there is nothing to translate: English, or no pack installed for ``code``.
    Messages come from the pack's gettext catalogues
    (``<pack>/locale/<code>/LC_MESSAGES/<domain>.mo``); the domain is the schema's
    ``jupyter.lab.internationalization.domain``, else ``jupyterlab``.
    """
    if code == "default":
        code = system_locale()
    if code == DEFAULT_LOCALE or not is_valid_locale(code):
        return None
    folder = _package_folders(LANGUAGE_PACK_GROUP).get(code)
    if folder is None:
        return None
    localedir = str(folder / "locale")

    def translate(schema: dict[str, Any]) -> None:
        i18n = schema.get(_I18N_KEY)
        i18n = i18n if isinstance(i18n, dict) else {}
        domain = str(i18n.get("domain") or "jupyterlab").replace("-", "_")
        catalogue = gettext.translation(domain, localedir, languages=[code], fallback=True)
        patterns = [(re.compile(f"/{key}"), context) for key, context in _SCHEMA_TEXT.items()]
        selectors = i18n.get("selectors")
        if isinstance(selectors, list):
            patterns += [
                (re.compile(f"/{key}"), "schema") for key in selectors if isinstance(key, str)
            ]
        _translate_texts(schema, "", patterns, catalogue)

    return translate


def _translate_texts(
    node: dict[str, Any],
    prefix: str,
    patterns: list[tuple[re.Pattern[str], str]],
    catalogue: gettext.NullTranslations,
) -> None:
    for key, value in node.items():
        path = f"{prefix}/{key}"
        if isinstance(value, str):
            context = next((ctx for pattern, ctx in patterns if pattern.fullmatch(path)), None)
            if context is not None:
                node[key] = catalogue.pgettext(context, value)
        elif isinstance(value, dict):
            _translate_texts(value, path, patterns, catalogue)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    _translate_texts(item, f"{path}[{index}]", patterns, catalogue)
