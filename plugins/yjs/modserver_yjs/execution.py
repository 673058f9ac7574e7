"""Running a notebook cell on the server: the kernel's answers written into the shared cell.

``POST /api/kernels/{kernel_id}/execute`` (the collaboration frontend's server-side
execution) sends the cell's source to the kernel through the public ``Kernels`` service
and writes outputs, ``clear_output``, ``update_display_data``, the execution count and the
cell's execution state into the room's document as they come. The run belongs to the
plugin's task group, not to the request: a browser closed mid-run loses nothing, and every
client of the room sees the outputs live; the file gets them with the next save.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import uuid
from datetime import datetime, timezone
from typing import Any

import anyio
from modserver.api.kernels import KernelMessage, Kernels
from pycrdt import Array, Map, Text

from modserver_yjs.document import DocumentRoom
from modserver_yjs.room_ids import CellNotFound

log = logging.getLogger("modserver.yjs")


def find_cell(room: DocumentRoom, cell_id: str) -> Map[Any]:
    """The shared code cell ``cell_id`` of the room's notebook (CellNotFound if none)."""
    for ycell in room.document.ycells:  # type: ignore[attr-defined]
        if ycell.get("id") == cell_id and ycell.get("cell_type") == "code":
            cell: Map[Any] = ycell
            return cell
    raise CellNotFound(cell_id)


class CellRun:
    """One execution of one cell; ``run`` sends it and writes the answers, ``done`` is set after."""

    def __init__(self, kernels: Kernels, kernel_id: str, room: DocumentRoom, cell_id: str) -> None:
        self.kernels = kernels
        self.kernel_id = kernel_id
        self.room = room
        self.cell_id = cell_id
        self.session = uuid.uuid4().hex  # this run's replies come to this listener only
        self.msg_id = uuid.uuid4().hex
        self.done = anyio.Event()
        self.status = "error"
        self._display_ids: dict[str, list[Map[Any]]] = {}
        self._clear_pending = False

    def request(self, source: str) -> KernelMessage:
        """The ``execute_request`` for ``source``, carrying the cell id as the lab does."""
        header = {
            "msg_id": self.msg_id,
            "msg_type": "execute_request",
            "username": "modserver",
            "session": self.session,
            "date": datetime.now(timezone.utc).isoformat(),
            "version": "5.3",
        }
        content = {
            "code": source,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        return KernelMessage(
            channel="shell",
            header=header,
            parent_header={},
            metadata=json.dumps({"cellId": self.cell_id}).encode(),
            content=json.dumps(content).encode(),
        )

    async def run(self) -> None:
        """Execute the cell and write every answer into it; sets ``done`` however it ends."""
        send, receive = anyio.create_memory_object_stream[KernelMessage](math.inf)

        def listener(message: KernelMessage) -> None:
            if message.parent_header.get("msg_id") == self.msg_id:
                send.send_nowait(message)

        try:
            cell = find_cell(self.room, self.cell_id)
            source = str(cell["source"])
            with self.room.doc.transaction():
                cell["outputs"].clear()
                cell["execution_count"] = None
                cell["execution_state"] = "busy"
            unsubscribe = self.kernels.subscribe(self.kernel_id, listener, session=self.session)
            try:
                await self.kernels.send(self.kernel_id, self.request(source), session=self.session)
                idle = replied = False
                async with receive:
                    while not (idle and replied):
                        message = await receive.receive()
                        if message.channel == "shell" and message.msg_type == "execute_reply":
                            replied = True
                            self._reply(message.content_json())
                        elif message.channel == "iopub":
                            idle = self._iopub(message) or idle
            finally:
                unsubscribe()
        except CellNotFound:
            log.info("cell %s went away before it ran", self.cell_id)
        except Exception:
            log.exception("running cell %s failed", self.cell_id)
        finally:
            self._set_idle()
            self.done.set()

    def _set_idle(self) -> None:
        with contextlib.suppress(CellNotFound):
            find_cell(self.room, self.cell_id)["execution_state"] = "idle"

    def _reply(self, content: dict[str, Any]) -> None:
        self.status = str(content.get("status", "error"))
        count = content.get("execution_count")
        if isinstance(count, int):
            find_cell(self.room, self.cell_id)["execution_count"] = count

    def _iopub(self, message: KernelMessage) -> bool:
        """Write one iopub message into the cell; True when the kernel went idle."""
        kind = message.msg_type
        content = message.content_json()
        if kind == "status":
            return bool(content.get("execution_state") == "idle")
        cell = find_cell(self.room, self.cell_id)
        outputs: Array[Any] = cell["outputs"]
        if kind == "clear_output":
            if content.get("wait"):
                self._clear_pending = True
            else:
                self._clear(outputs)
            return False
        if kind == "execute_input":
            count = content.get("execution_count")
            if isinstance(count, int):
                cell["execution_count"] = count
            return False
        if kind == "update_display_data":
            display_id = (content.get("transient") or {}).get("display_id")
            for shown in self._display_ids.get(str(display_id), []):
                shown["data"] = content.get("data", {})
                shown["metadata"] = content.get("metadata", {})
            return False
        if kind not in ("stream", "display_data", "execute_result", "error"):
            return False
        if self._clear_pending:
            self._clear(outputs)
        with self.room.doc.transaction():
            if kind == "stream":
                self._stream(outputs, content)
            elif kind == "error":
                outputs.append(
                    Map(
                        {
                            "output_type": "error",
                            "ename": content.get("ename", ""),
                            "evalue": content.get("evalue", ""),
                            "traceback": content.get("traceback", []),
                        }
                    )
                )
            else:
                output: dict[str, Any] = {
                    "output_type": kind,
                    "data": content.get("data", {}),
                    "metadata": content.get("metadata", {}),
                }
                if kind == "execute_result":
                    output["execution_count"] = content.get("execution_count")
                youtput: Map[Any] = Map(output)
                outputs.append(youtput)
                display_id = (content.get("transient") or {}).get("display_id")
                if isinstance(display_id, str):
                    self._display_ids.setdefault(display_id, []).append(youtput)
        return False

    def _clear(self, outputs: Array[Any]) -> None:
        outputs.clear()
        self._display_ids.clear()
        self._clear_pending = False

    def _stream(self, outputs: Array[Any], content: dict[str, Any]) -> None:
        name, text = content.get("name", "stdout"), str(content.get("text", ""))
        if len(outputs):
            last = outputs[len(outputs) - 1]
            if last.get("output_type") == "stream" and last.get("name") == name:
                existing = last.get("text")
                if isinstance(existing, Text):
                    existing.insert(len(existing), text)
                else:
                    last["text"] = Text(str(existing or "") + text)
                return
        outputs.append(Map({"output_type": "stream", "name": name, "text": Text(text)}))
