# SPDX-License-Identifier: MIT
"""TCP services on the host's loopback for guests on QEMU's user network.

QEMU forwards a guest's connections to 10.0.2.100:5001 and :5002 to these
services with `guestfwd=` (slirp; `restrict=on` keeps the guest off every
other host and outside address). guestfwd's target is a character device
that QEMU opens once, at start, and keeps open: a guest's EOF never reaches
the service, so the transfer service is framed. Used by
tests/integration/test_net_traffic.py and bench/netbench.py.

- xfer (guest port 5001): a header line `NETTOOL <bytes>`, then that many
  bytes; answers `<bytes> <crc32>` (zlib's CRC-32, 8 hex digits) computed
  over what arrived, and remembers (bytes, crc32) in `received`. Requests
  may follow one another on the one connection.
- echo (guest port 5002): sends back whatever arrives.
"""
import socket
import threading
import zlib

XFER_PORT = 5001
ECHO_PORT = 5002
MAX_BYTES = 1 << 32


class HostServices:
    """Listening on 127.0.0.1 (ports chosen by the kernel) until close()."""

    def __init__(self):
        self.received = []          # (bytes, crc32) per finished transfer
        self.errors = []
        self._socks = []
        self._listeners = []
        self.xfer_port = self._serve(self._xfer)
        self.echo_port = self._serve(self._echo)

    def netdev(self, netdev_id: str) -> str:
        """The -netdev value: a restricted user network with both forwards."""
        return (f"user,id={netdev_id},restrict=on,"
                f"guestfwd=tcp:10.0.2.100:{XFER_PORT}-tcp:127.0.0.1:{self.xfer_port},"
                f"guestfwd=tcp:10.0.2.100:{ECHO_PORT}-tcp:127.0.0.1:{self.echo_port}")

    def _serve(self, handler) -> int:
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(4)
        self._listeners.append(lsock)

        def accept_loop():
            while True:
                try:
                    conn, _ = lsock.accept()
                except OSError:
                    return
                self._socks.append(conn)
                threading.Thread(target=self._guard, args=(handler, conn), daemon=True).start()

        threading.Thread(target=accept_loop, daemon=True).start()
        return lsock.getsockname()[1]

    def _guard(self, handler, conn):
        try:
            handler(conn)
        except OSError as e:
            if self._listeners:     # not closing: a real error
                self.errors.append(repr(e))
        except ValueError as e:
            self.errors.append(repr(e))
            conn.close()

    def _xfer(self, conn):
        f = conn.makefile("rb")
        while True:
            head = f.readline()
            if not head:
                return
            words = head.split()
            if len(words) != 2 or words[0] != b"NETTOOL" or not words[1].isdigit() or int(words[1]) > MAX_BYTES:
                raise ValueError(f"bad xfer header {head[:80]!r}")
            want, got, crc = int(words[1]), 0, 0
            while got < want:
                chunk = f.read1(min(1 << 20, want - got))
                if not chunk:
                    raise ValueError(f"xfer: connection closed after {got} of {want} bytes")
                crc = zlib.crc32(chunk, crc)
                got += len(chunk)
            self.received.append((got, crc))
            conn.sendall(b"%d %08x\n" % (got, crc))

    @staticmethod
    def _echo(conn):
        while True:
            data = conn.recv(65536)
            if not data:
                return
            conn.sendall(data)

    def close(self):
        listeners, self._listeners = self._listeners, []
        for s in listeners + self._socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
