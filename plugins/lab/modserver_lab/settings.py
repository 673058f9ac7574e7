"""Settings of the ``[lab]`` section (documented in docs/settings.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from modserver.settings import PluginSettings
from pydantic import Field


class LabApiSettings(PluginSettings):
    """Where the lab API keeps users' files; the ``[lab]`` section's model extends this one."""

    user_settings_dir: Path | None = Field(
        None,
        description="Users' settings; default: env JUPYTERLAB_SETTINGS_DIR, else "
        "<jupyter config dir>/lab/user-settings (JupyterLab's folder). Users other than "
        "the owner get a subfolder _users/<name>.",
    )
    workspaces_dir: Path | None = Field(
        None,
        description="Saved workspaces; default: env JUPYTERLAB_WORKSPACES_DIR, else "
        "<jupyter config dir>/lab/workspaces. Users other than the owner get _users/<name>.",
    )
    app_settings_dir: Path | None = Field(
        None,
        description="Folder of overrides.json (administrators' defaults for settings); "
        "default: <JupyterLab application dir>/settings.",
    )
    max_document_kb: int = Field(
        4096, gt=0, description="Largest settings or workspace document a PUT may send."
    )


class LabSettings(LabApiSettings):
    """Which page ``/`` opens, where frontends and labextensions are found, what is disabled."""

    default_page: Literal["lab", "tree"] = Field(
        "lab", description="Page that / redirects to: JupyterLab (lab) or Notebook 7 (tree)."
    )
    app_dir: Path | None = Field(
        None,
        description="JupyterLab application folder (with static/, schemas/, themes/); "
        "default: the one the jupyterlab-js package installed.",
    )
    extra_labextensions_path: list[Path] = Field(
        default_factory=list,
        description="Folders searched for prebuilt labextensions before the Jupyter data path.",
    )
    disabled_extensions: list[str] = Field(
        default_factory=list,
        description="Labextensions (package names) or plugin ids to disable, added to the "
        "disabledExtensions of labconfig/page_config.json.",
    )
    locked_plugins: list[str] = Field(
        default_factory=list,
        description="Plugin ids (package:plugin) or labextension names that users may not "
        "enable or disable in the Extension and Plugin Managers.",
    )
    lock_all_plugins: bool = Field(
        False,
        description="Users may not enable or disable any labextension or plugin from the "
        "browser (the managers only list them).",
    )
    expose_app_in_browser: bool = Field(
        False, description="Expose the application as window.jupyterapp (for browser tests)."
    )
    notebook_starts_kernel: bool = Field(True, description="Opening a notebook starts its kernel.")
    mathjax_url: str = Field(
        "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/MathJax.js",
        description="MathJax 2 URL for the page config (JupyterLab 4 bundles MathJax 3).",
    )
