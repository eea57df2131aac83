"""OSC load for benchmarks: send messages at a steady rate, and match them to what the engine did.

``send_load(port, rate, seconds)`` sends ``rate`` messages a second (paced on an absolute
schedule, so a late send is caught up, not dropped) and returns each send's
``time.perf_counter()`` reading. ``perf_counter`` is CLOCK_MONOTONIC on Linux, shared by
every process, so the times compare directly with the engine's (``epoch + sent`` of an
event). Run it in another process for a fair figure::

    python -m livecode.oscload --port 8000 --rate 1000 --seconds 10 --address /neuron/probe/fire

:func:`fire_latencies` matches fires of one neuron to its ``note_on`` events.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from collections.abc import Callable, Sequence

from pythonosc.osc_message_builder import OscMessageBuilder

__all__ = ["send_load", "fire_latencies", "percentiles", "osc_message"]


def osc_message(address: str, *args: object) -> bytes:
    builder = OscMessageBuilder(address)
    for a in args:
        builder.add_arg(a)  # type: ignore[arg-type]
    return builder.build().dgram


def send_load(
    port: int,
    rate: float,
    seconds: float,
    host: str = "127.0.0.1",
    address: str = "/neuron/probe/fire",
    make: Callable[[int], bytes] | None = None,
) -> list[float]:
    """Send ``rate`` datagrams a second for ``seconds`` to ``host:port``; return the send times.

    Each datagram is ``make(i)`` if given, else a message to ``address`` with no argument.
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    fixed = osc_message(address)
    count = int(rate * seconds)
    sent: list[float] = []
    start = time.perf_counter() + 0.01
    try:
        for i in range(count):
            due = start + i / rate
            left = due - time.perf_counter()
            if left > 0.0003:
                time.sleep(left - 0.0002)
            while time.perf_counter() < due:
                pass
            data = make(i) if make is not None else fixed
            sent.append(time.perf_counter())
            sock.sendto(data, (host, port))
    finally:
        sock.close()
    return sent


def fire_latencies(
    sends: Sequence[float], events: Sequence[dict], neuron: str, epoch: float
) -> list[float]:
    """Seconds from each fire's send to its ``note_on`` leaving the engine (in send order).

    ``events`` are ``--events`` records; only ``neuron``'s note-ons count, so it must fire
    on nothing else (rate 0, no input) and sound every time (prob 1, not muted).
    """
    ons = [e for e in events if e["type"] == "note_on" and e["neuron"] == neuron]
    return [epoch + e["sent"] - s for s, e in zip(sends, ons, strict=False)]


def percentiles(values: Sequence[float], qs: Sequence[float] = (0.5, 0.99, 1.0)) -> dict:
    """``{"p50": ..., "p99": ..., "max": ...}`` of ``values`` (nearest rank), in the same unit."""
    data = sorted(values)
    out = {}
    for q in qs:
        key = "max" if q == 1.0 else f"p{q * 100:g}"
        out[key] = data[min(len(data) - 1, int(q * (len(data) - 1)))] if data else float("nan")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m livecode.oscload", description="send OSC at a steady rate (for benchmarks)"
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--rate", type=float, default=1000.0, help="messages per second")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--address", default="/neuron/probe/fire")
    args = p.parse_args(argv)
    sends = send_load(args.port, args.rate, args.seconds, args.host, args.address)
    for t in sends:
        sys.stdout.write(f"{t:.9f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
