"""Raw LDAPv3 PDUs for the LDAP front end's integration scripts.

A tiny BER writer and reader, so that a test can send exactly the bytes it
means (several requests in one write, a reused message id, a control no
library sends, a truncated or oversized PDU) and see every message the
server answers with its message id. Only what the scripts need: no library
client lets a test do these things.
"""

import socket
import time

# Response operation tags (RFC 4511 §4.2 and on).
BIND_RESPONSE = 0x61
SEARCH_ENTRY = 0x64
SEARCH_DONE = 0x65
MODIFY_RESPONSE = 0x67
ADD_RESPONSE = 0x69
DELETE_RESPONSE = 0x6B
MODIFY_DN_RESPONSE = 0x6D
COMPARE_RESPONSE = 0x6F
EXTENDED_RESPONSE = 0x78

NOTICE_OF_DISCONNECTION = "1.3.6.1.4.1.1466.20036"
WHO_AM_I = "1.3.6.1.4.1.4203.1.11.3"
PAGED_RESULTS = "1.2.840.113556.1.4.319"


def length(n):
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag, content):
    return bytes([tag]) + length(len(content)) + content


def integer(n, tag=0x02):
    return tlv(tag, n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=True))


def octets(value, tag=0x04):
    return tlv(tag, value.encode() if isinstance(value, str) else value)


def boolean(value):
    return tlv(0x01, b"\xff" if value else b"\x00")


def sequence(*items, tag=0x30):
    return tlv(tag, b"".join(items))


def control(oid, critical, value=None):
    items = [octets(oid)]
    if critical:
        items.append(boolean(True))
    if value is not None:
        items.append(octets(value))
    return sequence(*items)


def message(message_id, operation, controls=()):
    items = [integer(message_id), operation]
    if controls:
        items.append(sequence(*controls, tag=0xA0))
    return sequence(*items)


# Requests ------------------------------------------------------------------

def bind(dn, password):
    return sequence(integer(3), octets(dn), octets(password, tag=0x80), tag=0x60)


def present(attribute):
    return octets(attribute, tag=0x87)


def equality(attribute, value):
    return sequence(octets(attribute), octets(value), tag=0xA3)


def search(base, scope=2, filter_=None, attributes=("1.1",), size_limit=0):
    return sequence(
        octets(base),
        integer(scope, tag=0x0A),
        integer(0, tag=0x0A),
        integer(size_limit),
        integer(0),
        boolean(False),
        filter_ if filter_ is not None else present("objectClass"),
        sequence(*[octets(a) for a in attributes]),
        tag=0x63,
    )


def modify(dn, attribute, value):
    change = sequence(integer(2, tag=0x0A), sequence(octets(attribute), sequence(octets(value), tag=0x31)))
    return sequence(octets(dn), sequence(change), tag=0x66)


def add(dn, attributes):
    return sequence(
        octets(dn),
        sequence(*[sequence(octets(k), sequence(*[octets(v) for v in vs], tag=0x31)) for k, vs in attributes]),
        tag=0x68,
    )


def delete(dn):
    return octets(dn, tag=0x4A)


def modify_dn(dn, new_rdn):
    return sequence(octets(dn), octets(new_rdn), boolean(True), tag=0x6C)


def compare(dn, attribute, value):
    return sequence(octets(dn), sequence(octets(attribute), octets(value)), tag=0x6E)


def extended(oid, value=None):
    items = [octets(oid, tag=0x80)]
    if value is not None:
        items.append(octets(value, tag=0x81))
    return sequence(*items, tag=0x77)


def abandon(message_id):
    return integer(message_id, tag=0x50)


def paged_value(size, cookie=b""):
    return sequence(integer(size), octets(cookie))


# Responses -----------------------------------------------------------------

def read_tlv(data, at):
    """(tag, content, next offset) of the TLV at `at`, or None when incomplete."""
    if at + 2 > len(data):
        return None
    tag = data[at]
    first = data[at + 1]
    at += 2
    if first & 0x80:
        count = first & 0x7F
        if at + count > len(data):
            return None
        n = int.from_bytes(data[at:at + count], "big")
        at += count
    else:
        n = first
    if at + n > len(data):
        return None
    return tag, data[at:at + n], at + n


def children(content):
    items, at = [], 0
    while at < len(content):
        tag, value, at = read_tlv(content, at)
        items.append((tag, value))
    return items


class Response:
    """One LDAPMessage from the server."""

    def __init__(self, pdu):
        _, body, _ = read_tlv(pdu, 0)
        parts = children(body)
        self.message_id = int.from_bytes(parts[0][1], "big", signed=True)
        self.tag, content = parts[1]
        self.controls = parts[2][1] if len(parts) > 2 else b""
        fields = children(content) if self.tag & 0x20 else []
        self.code = None
        self.dn = None
        self.response_name = None
        self.attributes = {}
        if self.tag == SEARCH_ENTRY:
            self.dn = fields[0][1].decode()
            for _, attribute in children(fields[1][1]):
                pair = children(attribute)
                self.attributes[pair[0][1].decode()] = [v for _, v in children(pair[1][1])]
        elif fields:
            self.code = int.from_bytes(fields[0][1], "big")
            self.diagnostic = fields[2][1].decode(errors="replace") if len(fields) > 2 else ""
            for tag, value in fields[3:]:
                if tag == 0x8A:
                    self.response_name = value.decode()

    def is_notice(self):
        return self.message_id == 0 and self.tag == EXTENDED_RESPONSE and self.response_name == NOTICE_OF_DISCONNECTION

    def __repr__(self):
        return "Response(id=%d tag=0x%x code=%s dn=%s name=%s)" % (
            self.message_id, self.tag, self.code, self.dn, self.response_name)


class Client:
    """One raw connection."""

    def __init__(self, port, timeout=30.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""
        self.closed = False

    def send(self, *pdus):
        self.sock.sendall(b"".join(pdus))

    def receive(self, timeout=30.0):
        """The next message; None when the server closed (or `timeout` passed)."""
        deadline = time.monotonic() + timeout
        while True:
            parsed = read_tlv(self.buffer, 0)
            if parsed is not None:
                end = parsed[2]
                pdu, self.buffer = self.buffer[:end], self.buffer[end:]
                return Response(pdu)
            if self.closed:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.closed = True
            self.buffer += chunk

    def until(self, message_id, done_tags, timeout=30.0):
        """Every message up to and including the one of `message_id` whose tag
        is in `done_tags`; the list ends early when the server closes."""
        return self.rest(timeout, lambda r: r.message_id == message_id and r.tag in done_tags)

    def rest(self, timeout=30.0, last=lambda response: False):
        """Every message until the server closes (or one for which `last` is true)."""
        got = []
        while True:
            response = self.receive(timeout)
            if response is None:
                return got
            got.append(response)
            if last(response):
                return got

    def close(self):
        self.sock.close()
