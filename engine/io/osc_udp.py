"""OSC over UDP: the socket the server listens on, the feedback target, address helpers.

:class:`UdpIn` asks the kernel for each datagram's arrival time (``SO_TIMESTAMPNS``)
where it can, so a measured latency includes the time a datagram waited in the socket.
:class:`UdpOut` sends without ever blocking the engine's loop.
"""

from __future__ import annotations

import platform
import socket
import struct
import sys
import time

from engine.errors import OscError
from engine.io.osc_base import Datagram, OscIn, OscOut

__all__ = ["UdpIn", "UdpOut", "OscError", "parse_hostport", "resolve", "RCVBUF"]

RCVBUF = 4 << 20  # room for bursts (a 10,000-packet flood) while a note is being played
# Python does not export SO_TIMESTAMPNS; 35 is its value on Linux's common architectures
_SO_TIMESTAMPNS = getattr(
    socket,
    "SO_TIMESTAMPNS",
    35
    if sys.platform.startswith("linux")
    and platform.machine() in ("x86_64", "aarch64", "i686", "armv7l")
    else None,
)
_TIMESPEC = struct.Struct("@qq")


def parse_hostport(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """``"HOST:PORT"`` (or ``"PORT"``) as ``(host, port)``; OscError if it is not one."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = default_host, text
    try:
        number = int(port)
    except ValueError:
        raise OscError(f"an OSC target is HOST:PORT, e.g. 127.0.0.1:9000, got {text!r}") from None
    if not 1 <= number <= 65535:
        raise OscError(f"a UDP port must be in range 1..65535, got {number}")
    return host.strip("[]") or default_host, number


def resolve(host: str, port: int) -> tuple[int, tuple]:
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        raise OscError(f"cannot resolve OSC host {host!r}: {exc}") from None
    family, _, _, _, sockaddr = info[0]
    return family, sockaddr


class UdpIn(OscIn):
    """A non-blocking UDP socket bound to ``host:port`` (port 0: any free port)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8000) -> None:
        family, sockaddr = resolve(host, port)
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
            except OSError:
                pass  # keep the system's default buffer
            self.sock.bind(sockaddr)
        except OSError as exc:
            self.sock.close()
            raise OscError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        self.sock.setblocking(False)
        self.stamped = False
        if _SO_TIMESTAMPNS is not None:
            try:  # the kernel's arrival time: latency then includes time queued in the socket
                self.sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
                self.stamped = True
            except OSError:
                pass
        self.host, self.port = self.sock.getsockname()[:2]

    def fileno(self) -> int:
        return self.sock.fileno()

    def receive(self) -> Datagram | None:
        try:
            if self.stamped:
                data, anc, _flags, addr = self.sock.recvmsg(65536, 64)
                arrival = _arrival(anc, time.time() - time.perf_counter())
            else:
                data, addr = self.sock.recvfrom(65536)
                arrival = time.perf_counter()
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            return None  # e.g. an ICMP error queued on the socket: nothing to read now
        return Datagram(data, addr[0], arrival)

    def close(self) -> None:
        self.sock.close()


class UdpOut(OscOut):
    """Sends OSC to one target (TouchOSC listens on 9000) without ever blocking the loop."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__()
        family, self.target = resolve(host, port)
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setblocking(False)

    def _send(self, dgram: bytes) -> None:
        self.sock.sendto(dgram, self.target)

    def close(self) -> None:
        self.sock.close()


def _arrival(ancdata: list, wall_offset: float) -> float:
    """The kernel's arrival stamp (CLOCK_REALTIME) as a ``perf_counter`` reading."""
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            sec, nsec = _TIMESPEC.unpack_from(data)
            stamp = sec + nsec * 1e-9 - wall_offset
            now = time.perf_counter()
            if now - 1.0 < stamp <= now + 0.001:  # a wall clock step would make it nonsense
                return stamp
            return now
    return time.perf_counter()
