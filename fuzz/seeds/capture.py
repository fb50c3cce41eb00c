#!/usr/bin/env python3
"""Captures real DNS traffic to seed the fuzz corpora and the test fixtures.

Starts a knotd on 127.0.0.1 high ports serving the zones in seeds/zones
(example. signed with NSEC, example.org. with NSEC3, child.example. unsigned),
puts a recording proxy in front of it, and drives dig, kdig and knsupdate
through the proxy. Writes:

  proto/tests/fuzz_support/zones/<zone>.axfr  AXFR streams (TCP framing) the
                                               fuzz checks build their zones from
  proto/tests/fuzz_support/zones/<zone>.ixfr  the serial asked (u32), then the
                                               IXFR stream from it after a change
  fuzz/corpus/query/     queries as dig/kdig/knsupdate/knotd sent them
  fuzz/corpus/message/   those queries and knotd's responses
  fuzz/corpus/xfr/       SOA, AXFR and IXFR response streams

Corpus file layouts are those of proto/tests/fuzz_support (one mode byte,
then the packet; xfr: mode byte, serial, TCP-framed messages). Run from the
repository root: python3 fuzz/seeds/capture.py
"""

import hashlib
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ZONES_DIR = os.path.join(ROOT, "fuzz", "seeds", "zones")
FIXTURES = os.path.join(ROOT, "proto", "tests", "fuzz_support", "zones")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
ZONES = ["example.", "example.org.", "child.example."]

# Mode bytes of the fuzz targets (see proto/tests/fuzz_support).
QUERY_MODES = [0x00, 0x01, 0x04, 0x06, 0x0B, 0x23, 0x42, 0x81]
XFR_AXFR, XFR_IXFR, XFR_SOA = 0x00, 0x01, 0x02
XFR_TIGHT_LIMITS = 0x0C


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def save(target, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, hashlib.sha1(data).hexdigest())
    with open(path, "wb") as f:
        f.write(data)


def wire_name(text):
    out = b""
    for label in text.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def query(qid, name, qtype, authority=b"", nscount=0, opcode=0):
    flags = opcode << 11
    header = struct.pack(">HHHHHH", qid, flags, 1, 0, nscount, 0)
    return header + wire_name(name) + struct.pack(">HH", qtype, 1) + authority


def soa_rr(zone, serial):
    rdata = wire_name("ns1." + zone) + wire_name("hostmaster." + zone)
    rdata += struct.pack(">IIIII", serial, 3600, 900, 604800, 300)
    return wire_name(zone) + struct.pack(">HHIH", 6, 1, 0, len(rdata)) + rdata


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def tcp_exchange(port, message, idle=0.4):
    """Sends one framed message, returns the framed responses until idle."""
    stream = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(struct.pack(">H", len(message)) + message)
        sock.settimeout(idle)
        try:
            while True:
                length = read_exact(sock, 2)
                stream += length + read_exact(sock, struct.unpack(">H", length)[0])
        except (socket.timeout, EOFError):
            pass
    return stream


def udp_exchange(port, message):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(1)
        sock.sendto(message, ("127.0.0.1", port))
        return sock.recv(65535)


def soa_serial(port, zone):
    return parse_first_soa_serial(udp_exchange(port, query(1, zone, 6)))


def skip_name(msg, pos):
    while True:
        length = msg[pos]
        if length >= 0xC0:
            return pos + 2
        if length == 0:
            return pos + 1
        pos += 1 + length


def parse_first_soa_serial(msg):
    pos = skip_name(msg, 12) + 4
    ancount = struct.unpack(">H", msg[6:8])[0]
    for _ in range(ancount):
        pos = skip_name(msg, pos)
        rtype, _, _, rdlen = struct.unpack(">HHIH", msg[pos : pos + 10])
        pos += 10
        if rtype == 6:
            return struct.unpack(">I", msg[pos + rdlen - 20 : pos + rdlen - 16])[0]
        pos += rdlen
    return None


class Proxy:
    """Records every query and response passing between clients and knotd."""

    def __init__(self, port):
        self.upstream = None
        self.port = port
        self.queries = []
        self.responses = []
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.tcp = socket.socket()
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(8)
        for loop in (self.udp_loop, self.tcp_loop):
            threading.Thread(target=loop, daemon=True).start()

    def udp_loop(self):
        while True:
            data, client = self.udp.recvfrom(65535)
            self.queries.append(data)
            opcode = (data[2] >> 3) & 0xF if len(data) > 2 else 0
            if opcode == 4:
                # A NOTIFY from knotd: acknowledge it so knotd stops retrying.
                reply = data[:2] + bytes([data[2] | 0x84, 0]) + data[4:]
                self.udp.sendto(reply, client)
                continue
            if self.upstream is None:
                continue
            try:
                reply = udp_exchange(self.upstream, data)
            except socket.timeout:
                continue
            self.responses.append(reply)
            self.udp.sendto(reply, client)

    def tcp_loop(self):
        while True:
            conn, _ = self.tcp.accept()
            threading.Thread(target=self.tcp_client, args=(conn,), daemon=True).start()

    def tcp_client(self, conn):
        with conn:
            try:
                length = struct.unpack(">H", read_exact(conn, 2))[0]
                data = read_exact(conn, length)
            except (EOFError, OSError):
                return
            self.queries.append(data)
            try:
                stream = tcp_exchange(self.upstream, data)
            except OSError:
                return
            pos = 0
            while pos + 2 <= len(stream):
                n = struct.unpack(">H", stream[pos : pos + 2])[0]
                self.responses.append(stream[pos + 2 : pos + 2 + n])
                pos += 2 + n
            conn.sendall(stream)


KNOT_CONF = """
server:
    listen: 127.0.0.1@{port}
    rundir: {dir}
database:
    storage: {dir}/db
log:
  - target: {dir}/knot.log
    any: info
key:
  - id: fuzz-key
    algorithm: hmac-sha256
    secret: c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I=
remote:
  - id: recorder
    address: 127.0.0.1@{proxy}
acl:
  - id: open
    address: 127.0.0.0/8
    action: [transfer, update]
policy:
  - id: nsec
    algorithm: ecdsap256sha256
    nsec3: off
  - id: nsec3
    algorithm: ecdsap256sha256
    nsec3: on
    nsec3-iterations: 1
    nsec3-salt-length: 4
    nsec3-opt-out: on
template:
  - id: default
    storage: {dir}
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: difference-no-serial
    journal-content: all
    serial-policy: increment
    acl: open
    notify: recorder
zone:
  - domain: example.
    dnssec-signing: on
    dnssec-policy: nsec
  - domain: example.org.
    dnssec-signing: on
    dnssec-policy: nsec3
  - domain: child.example.
"""


def start_knot(workdir, proxy_port):
    port = free_port()
    for zone in ZONES:
        shutil.copy(os.path.join(ZONES_DIR, zone + "zone"), workdir)
    conf = os.path.join(workdir, "knot.conf")
    with open(conf, "w") as f:
        f.write(KNOT_CONF.format(port=port, dir=workdir, proxy=proxy_port))
    os.makedirs(os.path.join(workdir, "db"), exist_ok=True)
    knot = subprocess.Popen(["knotd", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if knot.poll() is not None:
            sys.exit(f"knotd exited; see `knotc -c {conf} conf-check`")
        try:
            if all(soa_serial(port, z) for z in ZONES):
                return knot, port, conf
        except (OSError, IndexError, struct.error):
            pass
        time.sleep(0.1)
    knot.kill()
    sys.exit("knotd did not come up")


CLIENT_COMMANDS = [
    "dig @127.0.0.1 -p {p} www.example. A",
    "dig @127.0.0.1 -p {p} www.EXAMPLE. AAAA +dnssec",
    "dig @127.0.0.1 -p {p} chain.example. A +dnssec +nsid",
    "dig @127.0.0.1 -p {p} x.y.wild.example. TXT +dnssec",
    "dig @127.0.0.1 -p {p} sub.wild.example. A +dnssec",
    "dig @127.0.0.1 -p {p} nope.example. A +dnssec +bufsize=512",
    "dig @127.0.0.1 -p {p} b.ent.example. A +dnssec",
    "dig @127.0.0.1 -p {p} www.redirect.example. A",
    "dig @127.0.0.1 -p {p} a.inzone.example. A",
    "dig @127.0.0.1 -p {p} host.deleg.example. A +dnssec +norecurse",
    "dig @127.0.0.1 -p {p} child.example. DS +dnssec",
    "dig @127.0.0.1 -p {p} big.example. TXT +ignore",
    "dig @127.0.0.1 -p {p} big.example. TXT +tcp",
    "dig @127.0.0.1 -p {p} example. ANY",
    "dig @127.0.0.1 -p {p} example. DNSKEY +dnssec +bufsize=4096",
    "dig @127.0.0.1 -p {p} example.org. NSEC3PARAM +dnssec",
    "dig @127.0.0.1 -p {p} nothing.example.org. A +dnssec",
    "dig @127.0.0.1 -p {p} x.wild.example.org. AAAA +dnssec",
    "dig @127.0.0.1 -p {p} www.example.org. MX +dnssec",
    "dig @127.0.0.1 -p {p} host.insecure.example.org. A +dnssec",
    "dig @127.0.0.1 -p {p} a.b.example.net. A",
    "dig @127.0.0.1 -p {p} id.server. TXT CH",
    "dig @127.0.0.1 -p {p} version.bind. TXT CH",
    "dig @127.0.0.1 -p {p} www.example. A +edns=1 +noednsneg",
    "dig @127.0.0.1 -p {p} www.example. A +cookie +subnet=192.0.2.0/24",
    "dig @127.0.0.1 -p {p} example. SOA +tcp +keepalive +padding=128",
    "dig @127.0.0.1 -p {p} example. AXFR",
    "dig @127.0.0.1 -p {p} example. IXFR=1",
    "dig @127.0.0.1 -p {p} -y hmac-sha256:fuzz-key:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I= www.example. A",
    "kdig @127.0.0.1 -p {p} www.example. A +nsid +dnssec",
    "kdig @127.0.0.1 -p {p} _sip._udp.example. SRV +tcp",
    "kdig @127.0.0.1 -p {p} mx.example. TYPE65534",
    "kdig @127.0.0.1 -p {p} -t IXFR=2024010101 example.",
    "kdig @127.0.0.1 -p {p} example.org. AXFR",
    "kdig @127.0.0.1 -p {p} WwW.ExAmPlE.OrG. A +bufsize=1232 +do",
    "kdig @127.0.0.1 -p {p} -y hmac-sha256:fuzz-key:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I= example. AXFR",
]

NSUPDATE = """server 127.0.0.1 {p}
zone child.example.
update add new.child.example. 300 A 192.0.2.99
send
"""


def run_clients(proxy_port):
    for command in CLIENT_COMMANDS:
        args = command.format(p=proxy_port).split() + ["+tries=1", "+time=2"]
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["knsupdate"], input=NSUPDATE.format(p=proxy_port).encode(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def frame(messages):
    return b"".join(struct.pack(">H", len(m)) + m for m in messages)


def capture_transfers(port, conf, workdir):
    """AXFR fixtures, SOA answers, and IXFR after a change to each zone."""
    os.makedirs(FIXTURES, exist_ok=True)
    serials = {}
    for qid, zone in enumerate(ZONES, start=100):
        stream = tcp_exchange(port, query(qid, zone, 252))
        with open(os.path.join(FIXTURES, zone + "axfr"), "wb") as f:
            f.write(stream)
        save("xfr", bytes([XFR_AXFR]) + bytes(4) + stream)
        save("xfr", bytes([XFR_AXFR | XFR_TIGHT_LIMITS]) + bytes(4) + stream)
        soa = udp_exchange(port, query(qid, zone, 6))
        save("xfr", bytes([XFR_SOA]) + bytes(4) + frame([soa]))
        serials[zone] = soa_serial(port, zone)
    change_zones(workdir)
    subprocess.run(["knotc", "-c", conf, "zone-reload"], stdout=subprocess.DEVNULL)
    for _ in range(100):
        if all(soa_serial(port, z) != serials[z] for z in ZONES):
            break
        time.sleep(0.1)
    for qid, zone in enumerate(ZONES, start=200):
        old = serials[zone]
        for asked in (old, soa_serial(port, zone), old - 1):
            ixfr = query(qid, zone, 251, soa_rr(zone, asked), nscount=1)
            stream = tcp_exchange(port, ixfr)
            if asked == old:
                with open(os.path.join(FIXTURES, zone + "ixfr"), "wb") as f:
                    f.write(struct.pack(">I", asked) + stream)
            mode = bytes([XFR_IXFR]) + struct.pack(">I", asked)
            save("xfr", mode + stream)
            save("query", bytes([0x01]) + ixfr)
            save("message", ixfr)


def change_zones(workdir):
    edits = {
        "example.": [("www         A       192.0.2.80", "www         A       192.0.2.8"),
                     ("mail        A       192.0.2.25", "mail        A       192.0.2.25\nnew         A       192.0.2.26")],
        "example.org.": [("www         A       198.51.100.80", "www         A       198.51.100.8\nnew  TXT \"added\"")],
        "child.example.": [("host        A       192.0.2.55", "host        A       192.0.2.56")],
    }
    for zone, replacements in edits.items():
        path = os.path.join(workdir, zone + "zone")
        with open(path) as f:
            text = f.read()
        for old, new in replacements:
            text = text.replace(old, new)
        with open(path, "w") as f:
            f.write(text)


def main():
    workdir = tempfile.mkdtemp(prefix="understudy-capture-")
    knot = None
    try:
        # The proxy listens first: knotd sends its NOTIFYs there at start.
        proxy = Proxy(free_port())
        knot, port, conf = start_knot(workdir, proxy.port)
        proxy.upstream = port
        run_clients(proxy.port)
        capture_transfers(port, conf, workdir)
        time.sleep(1)
        for data in proxy.queries:
            save("message", data)
            for mode in QUERY_MODES:
                save("query", bytes([mode]) + data)
        for data in proxy.responses:
            save("message", data)
        print(f"{len(proxy.queries)} queries, {len(proxy.responses)} responses captured")
    finally:
        if knot is not None:
            knot.terminate()
            knot.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
