"""The local file store: every contents operation on disk, synchronous, one call per request.

``LocalContents`` (service.py) runs each public method here in a worker thread as one
unit, so a request costs one thread hop however many system calls it makes. Paths come
in as API paths and are resolved and checked by ``paths.Resolver`` before any disk access.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fnmatch
import hashlib
import os
import re
import shutil
import stat
from typing import Any

from modserver import atomic
from modserver.api.contents import ContentsError
from modserver.confined import OutsideRoot, confined_entry, confined_path

from modserver_contents import naming, notebooks, trash, uploads
from modserver_contents.checkpoints import FileCheckpoints
from modserver_contents.large_body import LargeContent
from modserver_contents.models import ContentsModel, WriteAccess, base_model, listing_model
from modserver_contents.paths import Resolver, is_hidden_path, within
from modserver_contents.settings import ContentsSettings

_UF_HIDDEN = getattr(stat, "UF_HIDDEN", 0)


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _parent(api_path: str) -> str:
    return api_path.rsplit("/", 1)[0] if "/" in api_path else ""


def _missing(api_path: str) -> ContentsError:
    return ContentsError(404, f"file or directory does not exist: {api_path!r}")


def _hash(data: bytes) -> dict[str, str]:
    return {"hash": hashlib.sha256(data).hexdigest(), "hash_algorithm": "sha256"}


_READ_FLAGS = os.O_RDONLY | sum(
    getattr(os, flag, 0) for flag in ("O_NONBLOCK", "O_CLOEXEC", "O_BINARY")
)


def _read_small(disk_path: str, size: int) -> bytes:
    """The bytes of a regular file of about ``size`` bytes: open, one read, close.

    Three system calls where ``open().read()`` makes seven; each is a moment the worker
    thread gives up the GIL and must win it back from the event loop. Non-blocking, so a
    file swapped for a FIFO since its ``stat`` cannot hang the thread.
    """
    fd = os.open(disk_path, _READ_FLAGS)
    try:
        data = os.read(fd, size + 1)
        if len(data) <= size:
            return data  # all of it: a short read of a regular file is its end
        parts = [data]  # it grew since the stat: read on to the end
        while chunk := os.read(fd, 64 * 1024):
            parts.append(chunk)
        return b"".join(parts)
    finally:
        os.close(fd)


def _read(disk_path: str) -> bytes:
    # Unbuffered: one read to the end, no buffer object, no isatty() probe.
    with open(disk_path, "rb", buffering=0) as handle:
        return handle.readall()


#: Characters encoded and written at a time when saving a file: a large save holds its
#: content once (as the parsed string), not again as one block of bytes.
_WRITE_CHARS = 4 * 1024 * 1024


def _write_content(target: str, content: Any, fmt: Any, api_path: str) -> None:
    """Atomically write a file model's ``content`` in format ``text`` or ``base64``.

    Encoded piece by piece straight into the temporary file, so a 200 MB save does not
    hold another 200 MB of bytes beside the string it came in. ``LargeContent`` (still
    encoded in the request body) is decoded piece by piece the same way.
    """
    if isinstance(content, LargeContent) and fmt in ("text", "base64"):
        with atomic.replacing(target) as handle:
            content.write_to(handle, fmt, api_path)
        return
    if fmt == "base64" and isinstance(content, str) and not _has_whitespace(content):
        step = _WRITE_CHARS  # a multiple of 4: each piece decodes on its own
        with atomic.replacing(target) as handle:
            for start in range(0, len(content), step):
                handle.write(_encode(content[start : start + step], fmt, api_path))
        return
    if fmt != "text" or not isinstance(content, str):
        atomic.write_bytes(target, _encode(content, fmt, api_path))
        return
    with atomic.replacing(target) as handle:
        for start in range(0, len(content), _WRITE_CHARS):
            handle.write(content[start : start + _WRITE_CHARS].encode("utf-8", "surrogateescape"))


def _has_whitespace(text: str) -> bool:
    # base64 with line breaks would not split into independently decodable pieces.
    return "\n" in text or "\r" in text or " " in text or "\t" in text


def _encode(content: Any, fmt: Any, api_path: str) -> bytes:
    """The bytes of a file model's content in format ``text`` or ``base64``."""
    if fmt not in ("text", "base64"):
        raise ContentsError(400, "Must specify format of file contents as 'text' or 'base64'")
    if not isinstance(content, str):
        raise ContentsError(400, f"File content of {api_path!r} must be a string")
    if fmt == "text":
        return content.encode("utf-8", errors="surrogateescape")
    try:
        return base64.b64decode(content.encode("ascii"), validate=False)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ContentsError(400, f"Encoding error saving {api_path}: {exc}") from None


class FileStore:
    """Files, folders, notebooks and checkpoints under one root folder."""

    def __init__(self, root: str, settings: ContentsSettings) -> None:
        self.resolver = Resolver(os.path.realpath(root))
        self.settings = settings
        self.access = WriteAccess()
        self.checkpoints = FileCheckpoints(settings.checkpoint_dir, self.resolver.root)
        globs = [fnmatch.translate(glob) for glob in settings.hide_globs]
        # One compiled pattern for every glob: listings test each name once.
        self._hidden_names = re.compile("|".join(globs)) if globs else None

    # -- checks -----------------------------------------------------------------------

    def _refuse_hidden(self, api_path: str) -> bool:
        return not self.settings.allow_hidden and is_hidden_path(api_path)

    def _visible(self, path: str) -> tuple[str, str]:
        """Resolve ``path`` for reading; hidden paths are reported missing."""
        api_path, disk_path = self.resolver.resolve(path)
        if self._refuse_hidden(api_path):
            raise _missing(api_path)
        return api_path, disk_path

    def _writable(self, path: str, verb: str) -> tuple[str, str]:
        """Resolve ``path`` for a change; hidden paths are refused with 400."""
        api_path, disk_path = self.resolver.resolve(path)
        if self._refuse_hidden(api_path):
            raise ContentsError(400, f"Cannot {verb} file or directory {api_path!r}")
        return api_path, disk_path

    # -- reading ----------------------------------------------------------------------

    def exists(self, path: str) -> bool:
        """True if something exists at ``path``."""
        return os.path.exists(self.resolver.resolve(path)[1])

    def resolve_existing(self, path: str) -> str | None:
        """The API path of an existing, visible file or folder named by ``path``, else None.

        ``path`` is an API path, or an absolute or ``~`` path on this disk inside the root.
        """
        if "\x00" in path:
            return None
        if path.startswith("~") or os.path.isabs(path):
            disk = os.path.realpath(os.path.expanduser(path))
            if not within(disk, self.resolver.root):
                return None
            path = os.path.relpath(disk, self.resolver.root).replace(os.sep, "/")
            if path == ".":
                path = ""
        try:
            api_path, disk_path = self.resolver.resolve(path)
        except ContentsError:
            return None
        if self._refuse_hidden(api_path) or not os.path.exists(disk_path):
            return None
        return api_path

    def dir_exists(self, path: str) -> bool:
        """True if a folder exists at ``path``."""
        return os.path.isdir(self.resolver.resolve(path)[1])

    def file_exists(self, path: str) -> bool:
        """True if a file (not a folder) exists at ``path``."""
        return os.path.isfile(self.resolver.resolve(path)[1])

    def get(
        self,
        path: str,
        content: bool = True,
        type: str | None = None,
        format: str | None = None,
        require_hash: bool = False,
    ) -> ContentsModel:
        """The model at ``path``, as ``Contents.get`` documents."""
        model = self._get(path, content, type, format, require_hash, None)
        assert model is not None  # no limit: always a model
        return model

    def get_small(
        self,
        path: str,
        content: bool,
        type: str | None,
        format: str | None,
        require_hash: bool,
        limit: int,
    ) -> ContentsModel | None:
        """As ``get``, or None if that means listing a folder or reading over ``limit`` bytes.

        Lets the service answer most requests with short calls (see ``batch``) and give
        the long ones a worker thread of their own.
        """
        return self._get(path, content, type, format, require_hash, limit)

    def _get(
        self,
        path: str,
        content: bool,
        type: str | None,
        format: str | None,
        require_hash: bool,
        limit: int | None,
    ) -> ContentsModel | None:
        api_path, disk_path = self._visible(path)
        try:
            info = os.stat(disk_path)
        except (FileNotFoundError, NotADirectoryError):
            raise _missing(api_path) from None
        except PermissionError:
            raise ContentsError(403, f"Permission denied: {api_path!r}") from None
        if stat.S_ISDIR(info.st_mode):
            if type not in (None, "directory"):
                raise ContentsError(400, f"{api_path} is a directory, not a {type}")
            if content and limit is not None:
                return None
            model = base_model(api_path, info, self.access, "directory")
            if content:
                model["content"] = self._list(api_path, disk_path)
                model["format"] = "json"
            return model
        if type == "directory":
            raise ContentsError(400, f"{api_path} is not a directory")
        if limit is not None and (content or require_hash) and info.st_size > limit:
            return None
        if type == "notebook" or (type is None and api_path.endswith(".ipynb")):
            return self._notebook_model(api_path, disk_path, info, content, require_hash)
        return self._file_model(api_path, disk_path, info, content, format, require_hash)

    def _notebook_model(
        self,
        api_path: str,
        disk_path: str,
        info: os.stat_result,
        content: bool,
        require_hash: bool,
    ) -> ContentsModel:
        model = base_model(api_path, info, self.access, "notebook")
        if content or require_hash:
            data = _read(disk_path)
            if content:
                nb, problem = notebooks.parse(data, api_path)
                model["content"] = nb
                model["format"] = "json"
                if problem:
                    model["message"] = problem
            if require_hash:
                model.update(_hash(data))
        return model

    def _file_model(
        self,
        api_path: str,
        disk_path: str,
        info: os.stat_result,
        content: bool,
        fmt: str | None,
        require_hash: bool,
    ) -> ContentsModel:
        model = base_model(api_path, info, self.access, "file")
        if content or require_hash:
            data = _read(disk_path)
            if content:
                text: str | None = None
                if fmt != "base64":
                    try:
                        text = data.decode("utf-8")
                    except UnicodeDecodeError:
                        if fmt == "text":
                            raise ContentsError(400, f"{api_path} is not UTF-8 encoded") from None
                if text is not None:
                    model.update(content=text, format="text")
                    model["mimetype"] = model["mimetype"] or "text/plain"
                else:
                    model.update(content=base64.b64encode(data).decode("ascii"), format="base64")
                    model["mimetype"] = model["mimetype"] or "application/octet-stream"
            if require_hash:
                model.update(_hash(data))
        return model

    def _list(self, api_dir: str, disk_dir: str) -> list[ContentsModel]:
        """Models of a folder's children: one scandir, one stat per entry, no file read."""
        allow_hidden = self.settings.allow_hidden
        hidden_names = self._hidden_names
        root = self.resolver.root
        writable = self.access.writable
        prefix = f"{api_dir}/" if api_dir else ""
        children: list[ContentsModel] = []
        with os.scandir(disk_dir) as entries:
            for entry in entries:
                name = entry.name
                if not allow_hidden and name.startswith("."):
                    continue
                if hidden_names is not None and hidden_names.match(name):
                    continue
                try:
                    if entry.is_symlink() and not within(os.path.realpath(entry.path), root):
                        continue  # a link out of the root is neither listed nor served
                    info = entry.stat()
                except OSError:
                    continue  # broken link, permission denied: Jupyter skips these too
                if not allow_hidden and getattr(info, "st_flags", 0) & _UF_HIDDEN:
                    continue
                model = listing_model(prefix, name, info, writable(info))
                if model is not None:
                    children.append(model)
        return children

    # -- writing ----------------------------------------------------------------------

    def save(self, model: ContentsModel, path: str) -> ContentsModel:
        """Write ``model`` at ``path`` atomically; the new model without content."""
        api_path, disk_path = self._writable(path, "create")
        if not api_path and model.get("type") != "directory":
            raise ContentsError(400, "Cannot save over the root folder")
        kind = model.get("type")
        if not kind:
            raise ContentsError(400, "No file type provided")
        if "content" not in model and kind != "directory":
            raise ContentsError(400, "No file content provided")
        folder = os.path.dirname(disk_path)
        if not os.path.isdir(folder):
            raise ContentsError(404, f"No such directory: {_parent(api_path)!r}")
        # Write through a symlink to its target, which must be in the root.
        target = confined_path(self.resolver.root, disk_path)
        problem: str | None = None
        try:
            if kind == "notebook":
                problem = self._save_notebook(model.get("content"), api_path, target, disk_path)
            elif kind == "file":
                chunk = model.get("chunk")
                if chunk is None:
                    _write_content(target, model.get("content"), model.get("format"), api_path)
                    return self._saved(api_path, None)
                data = _encode(model.get("content"), model.get("format"), api_path)
                if not isinstance(chunk, int) or isinstance(chunk, bool):
                    raise ContentsError(400, f"Invalid chunk number {chunk!r}")
                elif not uploads.write_chunk(self.resolver.root, target, api_path, data, chunk):
                    return self._upload_progress(api_path, target)
            elif kind == "directory":
                if not os.path.lexists(disk_path):
                    os.mkdir(disk_path)
                elif not os.path.isdir(disk_path):
                    raise ContentsError(400, f"Not a directory: {api_path!r}")
            else:
                raise ContentsError(400, f"Unhandled contents type: {kind}")
        except PermissionError:
            raise ContentsError(403, f"Permission denied: {api_path!r}") from None
        except IsADirectoryError:
            raise ContentsError(400, f"{api_path!r} is a directory") from None
        return self._saved(api_path, problem)

    def _saved(self, api_path: str, problem: str | None) -> ContentsModel:
        saved = self.get(api_path, content=False)
        if problem:
            saved["message"] = problem
        return saved

    def _save_notebook(self, nb: Any, api_path: str, target: str, disk_path: str) -> str | None:
        if not isinstance(nb, dict):
            raise ContentsError(400, f"Notebook content of {api_path!r} must be a JSON object")
        problem = notebooks.validation_message(nb)
        data = notebooks.dumps(nb)
        if problem and not notebooks.readable(data):
            # Jupyter keeps notebooks that break the schema, so the user can repair them;
            # one it could not even read back would only answer errors from now on.
            raise ContentsError(400, f"{problem} (not saved: the notebook could not be read)")
        atomic.write_bytes(target, data)
        # Like Jupyter: a notebook always has a checkpoint to revert to, when its name
        # leaves room for the checkpoint's and the checkpoint folder is in the root (the
        # notebook is saved either way; POST .../checkpoints reports why there is none).
        if not self.checkpoints.list(disk_path):
            with contextlib.suppress(ContentsError, OutsideRoot):
                self.checkpoints.create(disk_path, api_path)
        return problem

    def _upload_progress(self, api_path: str, target: str) -> ContentsModel:
        """The model during a chunked upload: the target if it exists, else the partial."""
        try:
            info = os.stat(target)
        except FileNotFoundError:
            info = os.stat(uploads.partial_path(target))
        return base_model(api_path, info, self.access, "file")

    def create(self, model: ContentsModel, path: str) -> ContentsModel:
        """Create ``path`` (a PUT of a new name): defaults fill what the model leaves out."""
        return self.save(self.new_model(model, path), path)

    @staticmethod
    def new_model(model: ContentsModel, path: str) -> ContentsModel:
        """``model`` with the defaults of a new file: an empty file or notebook."""
        model = dict(model)
        model.setdefault("type", "notebook" if path.endswith(".ipynb") else "file")
        if "content" not in model and model["type"] != "directory":
            if model["type"] == "notebook":
                model.update(content=notebooks.new_notebook(), format="json")
            else:
                model.update(content="", format="text", type="file")
        return model

    def new_untitled(self, path: str, type: str, ext: str) -> ContentsModel:
        """Create an untitled file, notebook or folder in folder ``path``."""
        return self.create(*self.untitled_model(path, type, ext))

    def untitled_model(self, path: str, type: str, ext: str) -> tuple[ContentsModel, str]:
        """The model and the free path for an untitled item in folder ``path``."""
        api_dir, disk_dir = self._writable(path, "create")
        if not os.path.isdir(disk_dir):
            raise ContentsError(404, f"No such directory: {api_dir}")
        kind = type or ("notebook" if ext == ".ipynb" else "file")
        if kind not in ("file", "notebook", "directory"):
            raise ContentsError(400, f"Unexpected model type: {kind!r}")
        name = naming.untitled_name(
            kind, ext, lambda candidate: os.path.lexists(os.path.join(disk_dir, candidate))
        )
        target = _join(api_dir, name)
        return self.new_model({"type": kind}, target), target

    def copy(self, from_path: str, to_path: str | None) -> ContentsModel:
        """Copy a file or folder into folder ``to_path`` (as ``name-CopyN``) or to a new name."""
        api_from, disk_from, api_target = self.copy_target(from_path, to_path)
        disk_target = confined_path(self.resolver.root, self.resolver.join(api_target))
        try:
            if os.path.isdir(disk_from):
                if within(disk_target, os.path.realpath(disk_from)):
                    raise ContentsError(400, f"Cannot copy {api_from!r} into itself")
                self._check_folder_size(disk_from, api_from)
                shutil.copytree(disk_from, disk_target, symlinks=True)
            else:
                atomic.copy_file(disk_from, disk_target)
        except PermissionError:
            raise ContentsError(403, f"Permission denied: {api_target!r}") from None
        return self.get(api_target, content=False)

    def copy_target(self, from_path: str, to_path: str | None) -> tuple[str, str, str]:
        """Where a copy of ``from_path`` goes: the source's API and disk paths, the target's
        API path (``name-CopyN`` in folder ``to_path``, or ``to_path`` itself)."""
        api_from, disk_from = self._writable(from_path, "copy")
        if not api_from or not os.path.exists(disk_from):
            raise _missing(api_from)
        from_dir, from_name = _parent(api_from), api_from.rsplit("/", 1)[-1]
        api_to, disk_to = self._writable(from_dir if to_path is None else to_path, "copy")
        if os.path.isdir(disk_to):
            name = naming.copy_name(
                from_name, lambda candidate: os.path.lexists(os.path.join(disk_to, candidate))
            )
            api_target = _join(api_to, name)
        elif to_path is not None:
            if not os.path.isdir(os.path.dirname(disk_to)):
                raise ContentsError(
                    404, f"No such parent directory: {_parent(api_to)} to copy file in"
                )
            api_target = api_to
        else:
            raise ContentsError(404, f"No such directory: {api_to}")
        return api_from, disk_from, api_target

    def _check_folder_size(self, disk_path: str, api_path: str) -> None:
        limit = self.settings.max_copy_folder_size_mb * 1024 * 1024
        total = 0
        for folder, _dirs, files in os.walk(disk_path):
            for name in files:
                try:
                    total += os.lstat(os.path.join(folder, name)).st_size
                except OSError:
                    continue
                if total > limit:
                    raise ContentsError(
                        400,
                        f"Folder {api_path!r} is larger than "
                        f"{self.settings.max_copy_folder_size_mb} MB and cannot be copied",
                    )

    def rename(self, old_path: str, new_path: str) -> None:
        """Rename or move ``old_path`` to ``new_path`` (409 if that exists)."""
        api_old, disk_old = self._writable(old_path, "rename")
        api_new, disk_new = self.resolver.resolve(new_path)
        if api_old == api_new:
            return
        if self._refuse_hidden(api_new):
            raise ContentsError(400, f"Cannot rename file or directory {api_old!r}")
        if not api_old or not api_new:
            raise ContentsError(400, "Cannot rename the root folder")
        if not os.path.lexists(disk_old):
            raise ContentsError(404, f"File or directory does not exist: {api_old}")
        if os.path.lexists(disk_new) and not os.path.samefile(disk_old, disk_new):
            raise ContentsError(409, f"File already exists: {api_new}")
        if api_new.startswith(api_old + "/"):
            raise ContentsError(400, f"Cannot move {api_old!r} into itself")
        if not os.path.isdir(os.path.dirname(disk_new)):
            raise ContentsError(404, f"No such directory: {_parent(api_new)!r}")
        is_file = not os.path.isdir(disk_old)
        root = self.resolver.root
        disk_old, disk_new = confined_entry(root, disk_old), confined_entry(root, disk_new)
        try:
            shutil.move(disk_old, disk_new)
        except PermissionError:
            raise ContentsError(403, f"Permission denied: {api_old!r}") from None
        if is_file:
            self.checkpoints.move_all(disk_old, disk_new)

    def delete(self, path: str) -> None:
        """Delete ``path`` (to the trash if configured) and its checkpoint."""
        api_path, disk_path = self._writable(path, "delete")
        if not api_path:
            raise ContentsError(400, "Can't delete root")
        if not os.path.lexists(disk_path):
            raise _missing(api_path)
        is_file = not os.path.isdir(disk_path)
        trash.delete(
            confined_entry(self.resolver.root, disk_path),
            api_path,
            to_trash=self.settings.delete_to_trash,
            always_delete_dir=self.settings.always_delete_dir,
            checkpoint_dir=self.settings.checkpoint_dir,
            writable=os.access(disk_path, os.W_OK),
        )
        if is_file:
            self.checkpoints.delete_all(disk_path)

    # -- checkpoints ------------------------------------------------------------------

    def _checkpointed(self, path: str) -> tuple[str, str]:
        api_path, disk_path = self._visible(path)
        if not os.path.exists(disk_path):
            raise _missing(api_path)
        return api_path, disk_path

    def create_checkpoint(self, path: str) -> dict[str, str]:
        """Checkpoint the file at ``path``."""
        api_path, disk_path = self._checkpointed(path)
        return self.checkpoints.create(disk_path, api_path)

    def list_checkpoints(self, path: str) -> list[dict[str, str]]:
        """The checkpoints of ``path``: none for a file that does not exist (yet).

        JupyterLab asks right after renaming a new notebook on its first save, and may ask
        for the old name; jupyter_server answers ``[]`` there, not 404.
        """
        return self.checkpoints.list(self._visible(path)[1])

    def restore_checkpoint(self, path: str, checkpoint_id: str) -> None:
        """Restore ``path`` from checkpoint ``checkpoint_id``."""
        api_path, disk_path = self._checkpointed(path)
        self.checkpoints.restore(disk_path, api_path, checkpoint_id)

    def delete_checkpoint(self, path: str, checkpoint_id: str) -> None:
        """Delete checkpoint ``checkpoint_id`` of ``path``."""
        api_path, disk_path = self._checkpointed(path)
        self.checkpoints.delete(disk_path, api_path, checkpoint_id)

    # -- raw files (the /files route) -----------------------------------------------------

    def open_for_download(
        self, path: str, read_limit: int
    ) -> tuple[str, str, os.stat_result, bytes | None]:
        """``(api_path, disk_path, stat, bytes)`` of a visible regular file at ``path``.

        The bytes are read here, in the same worker-thread call, when the file is no larger
        than ``read_limit``; bigger files are left for a streaming response (bytes None).
        """
        api_path, disk_path, info = self.resolver.resolve_with_stat(path)
        if self._refuse_hidden(api_path):
            raise _missing(api_path)
        try:
            info = info or os.stat(disk_path)
        except OSError:
            raise _missing(api_path) from None
        if not stat.S_ISREG(info.st_mode):
            raise _missing(api_path)
        data = None
        if info.st_size <= read_limit:
            try:
                data = _read_small(disk_path, info.st_size)
            except PermissionError:
                raise ContentsError(403, f"Permission denied: {api_path!r}") from None
            except FileNotFoundError:
                raise _missing(api_path) from None
        return api_path, disk_path, info, data
