"""Hostile input against dirproxyd's LDAP front end, over raw sockets.

Run by tests/integration/ldap_client_test.cpp (the same arguments and JSON
output as ldap_client_checks.py). After each attack, a second client binds
and searches, and must be answered.
"""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ldap_client_checks as checks  # noqa: E402
import ldap_wire as wire  # noqa: E402
from ldap_client_checks import check, expect_equal, notes  # noqa: E402

PROTOCOL_ERROR = 2
UNAVAILABLE_CRITICAL_EXTENSION = 12
BUSY = 51

# The limits the gtest configures (ldap_server.limits).
MAX_ANONYMOUS = 262143
MAX_BOUND = 4194303


def others_still_answered(s, after):
    client = s.raw()
    client.send(wire.message(2, wire.search(s.people, 2, wire.equality("uid", "alice"))))
    got = client.until(2, (wire.SEARCH_DONE,))
    expect_equal([(r.tag, r.dn, r.code) for r in got],
                 [(wire.SEARCH_ENTRY, s.user("alice"), None), (wire.SEARCH_DONE, None, 0)],
                 "another client's search after %s" % after)
    client.close()


def ends_with_notice(client, what, code=PROTOCOL_ERROR):
    """The server answers only a Notice of Disconnection, then closes."""
    got = client.rest()
    expect_equal([(r.is_notice(), r.code) for r in got], [(True, code)], what)
    check(client.closed, "%s: the connection stayed open" % what)


def pdu_header(length):
    return b"\x30\x84" + length.to_bytes(4, "big")


def malformed(s):
    # A truncated PDU, then EOF: the server closes without answering a request.
    client = s.raw(bound=False)
    whole = wire.message(1, wire.search("", 0))
    client.send(whole[:len(whole) - 5])
    client.sock.shutdown(socket.SHUT_WR)
    got = client.rest()
    check(all(r.is_notice() for r in got), "truncated PDU: answered %r" % got)
    check(client.closed, "truncated PDU: the connection stayed open")
    client.close()
    others_still_answered(s, "a truncated PDU")

    # Garbage that is not BER.
    client = s.raw(bound=False)
    client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    ends_with_notice(client, "garbage")
    client.close()
    others_still_answered(s, "garbage")

    # A SEQUENCE whose contents are not an LDAPMessage; a message id that is
    # not an INTEGER; an indefinite length.
    for what, pdu in [("not an LDAPMessage", b"\x30\x05\x04\x03abc"),
                      ("message id an OCTET STRING", wire.sequence(wire.octets("1"), wire.extended(wire.WHO_AM_I))),
                      ("indefinite length", b"\x30\x80\x02\x01\x01\x42\x00\x00\x00"),
                      ("negative message id", wire.message(-5, wire.extended(wire.WHO_AM_I)))]:
        client = s.raw(bound=False)
        client.send(pdu)
        ends_with_notice(client, what)
        client.close()
    others_still_answered(s, "malformed envelopes")

    # A filter nested 40,000 deep (within the anonymous size limit): refused
    # before any recursion can exhaust a stack.
    deep = wire.present("objectClass")
    for _ in range(40000):
        deep = wire.tlv(0xA2, deep)
    client = s.raw(bound=False)
    client.send(wire.message(3, wire.search("", 0, deep)))
    ends_with_notice(client, "a filter nested 40,000 deep")
    client.close()
    others_still_answered(s, "a deeply nested filter")

    # An operation tag no LDAP operation has ([APPLICATION 30]).
    client = s.raw()
    client.send(wire.message(5, wire.sequence(wire.octets("x"), tag=0x7E)))
    ends_with_notice(client, "an unknown operation tag")
    client.close()
    others_still_answered(s, "an unknown operation")


def oversized(s):
    # Before binding: a length over max_request_bytes_anonymous is refused
    # as soon as the length is read, before the contents arrive.
    client = s.raw(bound=False)
    client.send(pdu_header(MAX_ANONYMOUS + 1) + b"\x02\x01\x01")
    ends_with_notice(client, "an oversized PDU before bind")
    client.close()
    others_still_answered(s, "an oversized PDU")

    # Once bound, the larger limit: a 300 KB search is answered...
    client = s.raw()
    big = wire.message(7, wire.search(s.people, 2, wire.equality("description", "x" * 300000)))
    check(MAX_ANONYMOUS < len(big) < MAX_BOUND, "the big PDU's size")
    client.send(big)
    got = client.until(7, (wire.SEARCH_DONE,))
    expect_equal([(r.tag, r.code) for r in got], [(wire.SEARCH_DONE, 0)], "a 300 KB search once bound")
    # ... and a PDU over max_request_bytes is not.
    client.send(pdu_header(MAX_BOUND + 1) + b"\x02\x01\x08")
    ends_with_notice(client, "an oversized PDU after bind")
    client.close()
    others_still_answered(s, "an oversized PDU after bind")


def controls(s):
    bogus = wire.control("1.2.3.4.5.6", True, b"\x30\x00")
    client = s.raw()
    requests = [
        (wire.search(s.people, 2, wire.equality("uid", "alice")), wire.SEARCH_DONE),
        (wire.modify(s.user("alice"), "mail", "a@example.com"), wire.MODIFY_RESPONSE),
        (wire.add("uid=zed," + s.people, [("objectClass", ["inetOrgPerson"]), ("uid", ["zed"])]), wire.ADD_RESPONSE),
        (wire.delete(s.user("bob")), wire.DELETE_RESPONSE),
        (wire.modify_dn(s.user("bob"), "uid=bobby"), wire.MODIFY_DN_RESPONSE),
        (wire.compare(s.group("staff"), "memberUid", "bob"), wire.COMPARE_RESPONSE),
        (wire.extended(wire.WHO_AM_I), wire.EXTENDED_RESPONSE),
        (wire.bind(s.args.service_dn, s.args.password), wire.BIND_RESPONSE),
    ]
    for index, (operation, response_tag) in enumerate(requests):
        message_id = 100 + index
        client.send(wire.message(message_id, operation, controls=[bogus]))
        got = client.until(message_id, (response_tag,))
        expect_equal([(r.message_id, r.tag, r.code) for r in got],
                     [(message_id, response_tag, UNAVAILABLE_CRITICAL_EXTENSION)],
                     "an unknown critical control on request tag 0x%x" % operation[0])
    # The refused Bind left the connection bound as it was? RFC 4511 §4.2.1:
    # a failed Bind leaves it anonymous. Either way, it still answers.
    client.send(wire.message(120, wire.extended(wire.WHO_AM_I)))
    got = client.until(120, (wire.EXTENDED_RESPONSE,))
    check(len(got) == 1 and got[0].code == 0, "Who am I after the refusals: %r" % got)
    # A non-critical unknown control is ignored, on a search and a bind.
    ignored = wire.control("1.2.3.4.5.6", False, b"junk")
    client.send(wire.message(121, wire.bind(s.args.service_dn, s.args.password), controls=[ignored]))
    got = client.until(121, (wire.BIND_RESPONSE,))
    expect_equal([(r.tag, r.code) for r in got], [(wire.BIND_RESPONSE, 0)], "a bind with a non-critical control")
    client.send(wire.message(122, wire.search(s.people, 2, wire.equality("uid", "alice")), controls=[ignored]))
    got = client.until(122, (wire.SEARCH_DONE,))
    expect_equal([(r.tag, r.dn, r.code) for r in got],
                 [(wire.SEARCH_ENTRY, s.user("alice"), None), (wire.SEARCH_DONE, None, 0)],
                 "a search with a non-critical control")
    client.close()
    # Nothing was changed by the refused writes.
    probe = s.raw()
    probe.send(wire.message(2, wire.search(s.people, 2, wire.present("uid"), attributes=("mail",))))
    got = probe.until(2, (wire.SEARCH_DONE,))
    mails = {r.dn: r.attributes.get("mail") for r in got if r.tag == wire.SEARCH_ENTRY}
    expect_equal(mails.get(s.user("alice")), [b"alice@example.com"], "alice's mail after a refused Modify")
    check(s.user("bob") in mails and "uid=zed," + s.people not in mails, "refused Add/Delete changed the tree")
    probe.close()


def message_ids(s):
    # Message id reuse while the first request may still run: the server may
    # answer both, or end the connection with protocolError; it must not
    # answer one id with another's results, nor stop serving others.
    client = s.raw()
    search = wire.message(9, wire.search(s.people, 2, wire.equality("uid", "alice")))
    client.send(search + search)
    got = client.rest(timeout=15.0) if True else []
    ids = sorted({r.message_id for r in got})
    check(ids in ([9], [0, 9], [0]), "message ids answered: %r" % ids)
    notices = [r for r in got if r.is_notice()]
    if notices:
        expect_equal(notices[0].code, PROTOCOL_ERROR, "the notice for a reused id")
    notes["reused_id_answers"] = [repr(r) for r in got]
    client.close()
    others_still_answered(s, "a reused message id")


def rss_kib(pid):
    if pid == 0:  # not asked for (a sanitizer build keeps freed memory)
        return 0
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def never_reads(s):
    """A client that sends many requests and never reads its answers."""
    pid = s.args.pid
    before = rss_kib(pid)
    greedy = s.raw()
    greedy.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    greedy.sock.setblocking(False)
    request = wire.search(s.people, 1, wire.present("objectClass"), attributes=("*", "+"))
    sent_requests, sent_bytes, message_id = 0, 0, 1
    pending = b""
    deadline = time.monotonic() + 20
    stalled_since = None
    while time.monotonic() < deadline:
        if not pending:
            message_id = message_id % 2000000000 + 1
            pending = wire.message(message_id + 1, request)
        try:
            n = greedy.sock.send(pending)
            pending = pending[n:]
            sent_bytes += n
            if not pending:
                sent_requests += 1
            stalled_since = None
        except BlockingIOError:
            # The server stopped reading from us: that is the point.
            if stalled_since is None:
                stalled_since = time.monotonic()
            elif time.monotonic() - stalled_since > 3:
                break
            time.sleep(0.05)
    notes["greedy_requests_sent"] = sent_requests
    notes["greedy_bytes_sent"] = sent_bytes
    # Others are still answered while it holds its answers back.
    for round_ in range(3):
        others_still_answered(s, "a client that never reads (round %d)" % round_)
    after = rss_kib(pid)
    notes["rss_kib_before"] = before
    notes["rss_kib_after"] = after
    # Bounded: at most 64 requests run per connection and each waits once
    # 256 KiB are queued; the whole process may not grow by 256 MiB.
    if pid != 0:
        check(after - before < 256 * 1024, "dirproxyd grew from %d KiB to %d KiB" % (before, after))
    check(sent_requests < 1000000, "the server read %d requests without answering any" % sent_requests)
    greedy.close()
    others_still_answered(s, "the greedy client left")


SCENARIOS = {f.__name__: f for f in [malformed, oversized, controls, message_ids, never_reads]}

if __name__ == "__main__":
    checks.SCENARIOS = SCENARIOS
    sys.exit(checks.main())
