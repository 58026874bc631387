"""Streamlit's websocket protocol spoken from Python: an annotator's browser tab without the
browser. The frontend's messages (BackMsg protobufs: a rerun with the widget triggered) go out,
the server's (ForwardMsg: deltas, then "script finished") come back; fragment reruns are
followed as the frontend follows them. Used by bench/app_load.py (60 sessions from one loop)
and by the app tests that check what a click reruns.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

TIMEOUT = 60.0


@dataclass
class Page:
    """What one rerun left on screen: buttons (label -> widget id, fragment id), texts."""

    buttons: dict[str, tuple[str, str]] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    exception: bool = False
    kinds: list[str] = field(default_factory=list)  # every element the rerun sent, in order

    def progress(self) -> str | None:
        return next((t for t in self.texts if " labeled" in t and " of " in t), None)


class Session:
    """One annotator's browser tab, as Streamlit's frontend speaks to the server."""

    def __init__(self, url: str, token: str):
        self.url, self.token = url, token
        self.ws: websockets.ClientConnection | None = None
        self.page = Page()

    async def open(self) -> float:
        ws_url = self.url.replace("http://", "ws://") + "/_stcore/stream"
        self.ws = await websockets.connect(
            ws_url,
            subprotocols=["streamlit"],
            origin=self.url,
            max_size=None,
            ping_interval=None,
            open_timeout=TIMEOUT,
        )
        return await self._rerun(None)

    async def click(self, label: str) -> float:
        widget, fragment = self.page.buttons[label]
        return await self._rerun((widget, fragment))

    async def _rerun(self, trigger: tuple[str, str] | None) -> float:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = f"token={self.token}"
        if trigger is not None:
            widget = state.widget_states.widgets.add()
            widget.id, widget.trigger_value = trigger[0], True
            state.fragment_id = trigger[1]
        start = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        fragment_run = bool(trigger and trigger[1])
        page = Page(dict(self.page.buttons) if fragment_run else {})
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await asyncio.wait_for(self.ws.recv(), TIMEOUT))
            kind = fwd.WhichOneof("type")
            if kind == "delta":
                _read_delta(fwd.delta, page)
            elif kind == "script_finished":
                if fwd.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue
                self.page = page
                return (time.perf_counter() - start) * 1000

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


def _read_delta(delta, page: Page) -> None:
    if delta.WhichOneof("type") != "new_element":
        return
    el = delta.new_element
    kind = el.WhichOneof("type")
    page.kinds.append(kind)
    if kind == "button":
        page.buttons[el.button.label] = (el.button.id, delta.fragment_id)
    elif kind == "progress":
        page.texts.append(el.progress.text)
    elif kind == "alert":
        page.texts.append(el.alert.body)
    elif kind == "exception":
        page.exception = True
