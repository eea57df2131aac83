"""An engine process playing audio into a JACK recorder: the rig of the live audio tests."""

from __future__ import annotations

import multiprocessing
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from engine.protocol import Batch, Notice, Status
from engine.runtime.child import engine_main
from engine.runtime.options import EngineOptions, EngineStart


class AudioRecorder:
    """A JACK client whose two inputs keep every frame they receive, by JACK frame."""

    def __init__(self, name: str = "lcaudiorec") -> None:
        import jack

        self.client = jack.Client(name, no_start_server=True)
        self.ports = [self.client.inports.register(side) for side in ("left", "right")]
        self.rate = self.client.samplerate
        self.period = self.client.blocksize
        self._blocks: list[tuple[int, np.ndarray]] = []
        self._lock = threading.Lock()
        self.xrun_frames: list[int] = []  # JACK's estimate of the frame at each xrun
        self.client.set_process_callback(self._process)
        self.client.set_xrun_callback(lambda delay: self.xrun_frames.append(self.client.frame_time))
        self.client.activate()

    def near_xrun(self, frames: np.ndarray, periods: int = 4) -> np.ndarray:
        """True for each frame within ``periods`` periods of an xrun the server reported: a
        cycle lost there is the machine's, not the engine's."""
        near = np.zeros(len(frames), dtype=bool)
        for x in list(self.xrun_frames):
            near |= np.abs(frames - x) <= periods * self.period
        return near

    def _process(self, frames: int) -> None:
        block = np.stack([p.get_array().copy() for p in self.ports], axis=1)
        with self._lock:
            self._blocks.append((self.client.last_frame_time, block))

    def connect_from(self, client_name: str) -> None:
        for side, port in zip(("left", "right"), self.ports, strict=True):
            self.client.connect(f"{client_name}:{side}", port)

    def frames(self) -> tuple[int, np.ndarray]:
        """(JACK frame of the first sample, every recorded frame in order; gaps as zeros)."""
        with self._lock:
            blocks = list(self._blocks)
        if not blocks:
            return 0, np.zeros((0, 2), dtype=np.float32)
        first = blocks[0][0]
        end = blocks[-1][0] + len(blocks[-1][1])
        out = np.zeros((end - first, 2), dtype=np.float32)
        for start, block in blocks:
            out[start - first : start - first + len(block)] = block
        return first, out

    def recorded(self) -> tuple[int, np.ndarray]:
        """(JACK frame of the first sample, True for each frame a cycle was recorded for):
        a cycle this client missed (the test process was late) is no one else's fault."""
        with self._lock:
            blocks = [(start, len(block)) for start, block in self._blocks]
        if not blocks:
            return 0, np.zeros(0, dtype=bool)
        first = blocks[0][0]
        mask = np.zeros(blocks[-1][0] + blocks[-1][1] - first, dtype=bool)
        for start, n in blocks:
            mask[start - first : start - first + n] = True
        return first, mask

    def now_frame(self) -> int:
        with self._lock:
            return self._blocks[-1][0] if self._blocks else 0

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


@dataclass
class EngineRun:
    """An engine process started with ``engine_main`` and a test's synth; messages kept."""

    options: EngineOptions
    initial: Batch | None = None
    synth_factory: object = None
    messages: list[object] = field(default_factory=list)

    def start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=engine_main,
            args=(child, self.options, EngineStart(initial=self.initial)),
            kwargs={"synth_factory": self.synth_factory},
            daemon=True,
        )
        self.process.start()
        child.close()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                self.messages.append(self.conn.recv())
            except (EOFError, OSError):
                return

    def notices(self) -> list[str]:
        return [m.text for m in list(self.messages) if isinstance(m, Notice)]

    def last_status(self) -> dict | None:
        statuses = [m.data for m in list(self.messages) if isinstance(m, Status)]
        return statuses[-1] if statuses else None

    def send(self, msg: object) -> None:
        self.conn.send(msg)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.is_alive():
            try:
                self.conn.send("quit")
            except OSError:
                pass
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())
