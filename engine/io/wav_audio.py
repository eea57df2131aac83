"""A WAV file written live (``--audio wav:FILE``): for headless machines and a gig's audio.

A pacer thread plays the part of a sound card: it renders each block once the engine's
clock has passed it (plus a lag that covers the engine's lateness), so frame ``k`` of the
file is logical time ``k / rate``: every note starts on its exact sample. A second thread
writes the blocks: the pacer never waits on the disk. The header's sizes are brought up to
date with every write, so a SIGKILL leaves a valid file that ends at most a moment early.
16-bit stereo PCM. Only the file the performer named is written; a new engine after a
crash appends to it, the gap filled with silence so the file keeps the performance's time.
"""

from __future__ import annotations

import math
import os
import queue
import struct
import threading
import time
from typing import BinaryIO

import numpy as np

from engine.io.audio_base import RELEASE_WAIT, AudioOut, AudioUnavailable, SynthFactory

__all__ = ["WavAudioOut", "WAV_HEADER", "read_wav_header"]

BLOCK = 256
LAG = 0.02  # seconds behind the engine's clock: the engine's worst lateness, with room
WAV_HEADER = 44  # bytes of the canonical PCM header this module writes


def _header(rate: int, frames: int) -> bytes:
    data = frames * 4
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 2, rate, rate * 4, 4, 16)
        + b"data"
        + struct.pack("<I", data)
    )


def read_wav_header(head: bytes) -> int:
    """The sample rate of a file this module wrote; ValueError for anything else."""
    if len(head) < WAV_HEADER or head[:4] != b"RIFF" or head[8:16] != b"WAVEfmt ":
        raise ValueError("not a WAV file livecode wrote")
    _, fmt, channels, rate, _, _, bits = struct.unpack("<IHHIIHH", head[16:36])
    if (fmt, channels, bits) != (1, 2, 16) or head[36:40] != b"data":
        raise ValueError("not 16-bit stereo PCM as livecode writes it")
    return int(rate)


class WavAudioOut(AudioOut):
    """Renders in real time into ``path`` (created, or appended to when ``append``)."""

    kind = "wav"

    def __init__(
        self, synth_factory: SynthFactory, path: str, rate: int = 48000, append: bool = False
    ) -> None:
        self.path = os.path.abspath(os.path.expanduser(path))
        self.rate = rate
        self.period = BLOCK
        try:
            self.file = self._open(append)
        except (OSError, ValueError) as exc:
            raise AudioUnavailable(f"cannot write {path}: {exc}") from exc
        super().__init__(synth_factory(rate))
        self.name = self.path
        self.frames = (self.file.tell() - WAV_HEADER) // 4  # frames in the file so far
        self._next = self.frames  # the next frame the pacer renders
        self._blocks: queue.Queue[np.ndarray | None] = queue.Queue()
        self._stop = threading.Event()
        self._until = math.inf  # logical time to render up to before stopping
        self._pacer = threading.Thread(target=self._pace, name="wav-pacer", daemon=True)
        self._writer = threading.Thread(target=self._write, name="wav-writer", daemon=True)
        self._pacer.start()
        self._writer.start()

    def _open(self, append: bool) -> BinaryIO:
        f: BinaryIO
        if append and os.path.exists(self.path) and os.path.getsize(self.path) >= WAV_HEADER:
            f = open(self.path, "r+b")  # noqa: SIM115 - closed by the writer thread
            if read_wav_header(f.read(WAV_HEADER)) != self.rate:
                f.close()
                raise ValueError(f"its sample rate is not {self.rate}")
            size = os.path.getsize(self.path)
            f.seek(WAV_HEADER + (size - WAV_HEADER) // 4 * 4)  # whole frames only
            return f
        f = open(self.path, "wb")  # noqa: SIM115 - closed by the writer thread
        f.write(_header(self.rate, 0))
        return f

    def _pace(self) -> None:
        while not self._stop.is_set():
            clock = self._clock
            if clock is None:
                time.sleep(0.001)
                continue
            until = self._until
            ready = min(clock.now() - LAG, until)  # render frames up to this time
            end = math.floor(ready * self.rate)
            while self._next + BLOCK <= end:
                start = self._next
                self._blocks.put(self.render_block(start, BLOCK, self._frame_of))
                self._next = start + BLOCK
            if ready == until:  # closing, and the release tails are rendered
                break
            time.sleep(BLOCK / self.rate / 2)
        self._blocks.put(None)

    def _frame_of(self, t: float) -> int:
        return round(t * self.rate)

    def _write(self) -> None:
        f = self.file
        while (block := self._blocks.get()) is not None:
            pcm = np.clip(np.round(block * 32767.0), -32768, 32767).astype("<i2")
            f.write(pcm.tobytes())
            self.frames += len(block)
            if self._blocks.empty():  # keep the header true: a kill leaves a valid file
                end = f.tell()
                f.seek(0)
                f.write(_header(self.rate, self.frames))
                f.seek(end)
                f.flush()
        f.seek(0)
        f.write(_header(self.rate, self.frames))
        f.close()

    def close(self) -> None:
        """Render up to the release tails of the last notes, then finish the file."""
        clock = self._clock
        if clock is not None:
            self._until = clock.now() + RELEASE_WAIT
        else:
            self._stop.set()
        self._pacer.join(RELEASE_WAIT + LAG + 2.0)
        self._stop.set()
        self._pacer.join(1.0)
        self._writer.join(5.0)
        super().close()
