"""A fake engine handle for REPL tests: records every batch and acknowledges it."""

from __future__ import annotations

from engine.protocol import Ack, Batch
from engine.runtime.process import EngineDown


class FakeEngine:
    """Stands in for ``EngineHandle``: keeps every batch sent, answers with ``ok``."""

    def __init__(self, ok: bool = True, down: bool = False) -> None:
        self.batches: list[Batch] = []
        self.ok = ok
        self.down = down
        self.restarts = 0
        self.last_status: dict | None = None

    def alive(self) -> bool:
        return not self.down

    def send(self, batch: Batch) -> int:
        if self.down:
            raise EngineDown("the engine is not running; it is being restarted")
        self.batches.append(batch)
        return len(self.batches)

    def request(self, batch: Batch, timeout: float = 2.0) -> Ack:
        batch_id = self.send(batch)
        return Ack(batch_id, self.ok, 0.0, "" if self.ok else "refused by the fake")

    def ops(self) -> list:
        return [op for b in self.batches for op in b.ops]
