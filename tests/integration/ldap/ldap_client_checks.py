"""Checks of dirproxyd's LDAP front end with python3-ldap3 and raw PDUs.

Run by tests/integration/ldap_client_test.cpp against a dirproxyd it started
and filled (the data set is described there and in DATA below):

    python3 ldap_client_checks.py SCENARIO --port N --base DN \
        --service-dn DN --password PW [--pid PID] [--size-limit N]

Each scenario asserts exact outcomes itself and prints one JSON object:
{"failures": [...], "notes": {...}}; the exit code is 0 when there are no
failures, 1 otherwise (2: the script itself broke). The gtest asserts the
exit code and shows the JSON.

Python, not C++: ldap3 is a client real applications use (its paging and
its parsing of what the server sends are tested with it), and PDUs that no
client library sends are a few lines of BER in ldap_wire.py.
"""

import argparse
import json
import os
import re
import socket
import sys
import time
import traceback

import ldap3
from ldap3.core.exceptions import LDAPException

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ldap_wire as wire  # noqa: E402

# The people the gtest adds (besides BULK_COUNT users bulkNNN without a
# first or last name, in no group): username -> (first, last, email, groups).
DATA = {
    "alice": ("Alice", "Anderson", "alice@example.com", ["staff", "admins"]),
    "bob": ("Bob", "Brown", "bob@example.com", ["staff"]),
    "carol": ("Carol", "Clark", "carol@example.org", []),
    "dave": ("Dave", "Davis", "dave@example.com", []),
}
BULK_COUNT = 300

failures = []
notes = {}


def check(condition, what):
    if not condition:
        failures.append(what)
    return condition


def expect_equal(actual, expected, what):
    return check(actual == expected, "%s: expected %r, got %r" % (what, expected, actual))


class Setup:
    def __init__(self, args):
        self.args = args
        self.base = args.base
        self.people = "ou=people," + args.base
        self.groups = "ou=groups," + args.base
        self.server = ldap3.Server("127.0.0.1", port=args.port, get_info=ldap3.NONE)

    def user(self, name):
        return "uid=%s,%s" % (name, self.people)

    def group(self, name):
        return "cn=%s,%s" % (name, self.groups)

    def connect(self):
        connection = ldap3.Connection(self.server, user=self.args.service_dn, password=self.args.password,
                                      receive_timeout=60, raise_exceptions=False)
        if not connection.bind():
            raise RuntimeError("service bind failed: %r" % connection.result)
        return connection

    def raw(self, bound=True):
        client = wire.Client(self.args.port)
        if bound:
            client.send(wire.message(1, wire.bind(self.args.service_dn, self.args.password)))
            answer = client.receive()
            if answer is None or answer.code != 0:
                raise RuntimeError("raw service bind failed: %r" % answer)
        return client


def dns(connection):
    return sorted(r["dn"].lower() for r in connection.response if r.get("type") == "searchResEntry")


# Filters -------------------------------------------------------------------

def filters(s):
    c = s.connect()
    named = [s.user(n) for n in DATA]

    def search(base, flt, scope=ldap3.SUBTREE):
        ok = c.search(base, flt, search_scope=scope, attributes=["1.1"])
        code = c.result["result"]
        check(code == 0, "%s: result %r" % (flt, c.result))
        return dns(c)

    def expect(flt, expected, base=None):
        expect_equal(search(base or s.people, flt), sorted(d.lower() for d in expected), flt)

    expect("(&(objectClass=person)(|(uid=alice)(uid=bob)))", [s.user("alice"), s.user("bob")])
    expect("(&(objectClass=inetOrgPerson)(!(uid=bulk*)))", named)
    # An entry without uid does not match uid=bulk*: its NOT is True, so the
    # container ou=people is returned too.
    expect("(!(uid=bulk*))", named + [s.people])
    # An attribute type no schema knows is Undefined, and so is its NOT.
    expect("(!(noSuchAttribute=x))", [])
    expect("(mail=CAROL@EXAMPLE.ORG)", [s.user("carol")])
    expect("(uid=ALICE)", [s.user("alice")])
    expect("(cn=Ali*)", [s.user("alice")])
    expect("(cn=*ob B*)", [s.user("bob")])
    expect("(mail=*@example.org)", [s.user("carol")])
    expect("(sn=D*av*s)", [s.user("dave")])
    expect("(&(givenName=*)(objectClass=posixAccount))", named)
    expect("(sn~=brown)", [s.user("bob")])
    expect("(sn:caseIgnoreMatch:=BROWN)", [s.user("bob")])
    expect("(sn:2.5.13.2:=brown)", [s.user("bob")])
    # A rule the tree does not implement: Undefined, nothing matches.
    expect("(sn:1.2.3.4.5:=brown)", [])
    # :dn: matches the attributes of the entry's DN too.
    expect("(&(objectClass=posixAccount)(!(uid=bulk*))(ou:dn:=people))", named, base=s.base)
    expect("(&(objectClass=posixAccount)(ou:dn:=groups))", [], base=s.base)
    expect("(member=UID=Alice, OU=People, DC=example,DC=com)", [s.group("staff"), s.group("admins")], base=s.groups)
    expect("(memberUid=bob)", [s.group("staff")], base=s.groups)
    expect("(&(objectClass=posixGroup)(cn=st*))", [s.group("staff")], base=s.groups)
    expect("(memberOf=cn=admins,ou=groups,%s)" % s.base, [s.user("alice")])
    expect("(|(memberOf=cn=staff,ou=groups,%s)(uid=dave))" % s.base,
           [s.user("alice"), s.user("bob"), s.user("dave")])

    # Ordering on numbers: the uidNumbers are dirproxy's, so read them first.
    c.search(s.people, "(&(objectClass=posixAccount)(!(uid=bulk*)))", attributes=["uidNumber"])
    numbers = {r["dn"].lower(): int(r["raw_attributes"]["uidNumber"][0]) for r in c.response
               if r.get("type") == "searchResEntry"}
    expect_equal(len(numbers), len(DATA), "uidNumbers read")
    middle = sorted(numbers.values())[len(numbers) // 2]
    expect("(&(!(uid=bulk*))(uidNumber>=%d))" % middle, [d for d, n in numbers.items() if n >= middle])
    expect("(&(!(uid=bulk*))(uidNumber<=%d))" % middle, [d for d, n in numbers.items() if n <= middle])
    # Numbers compare as numbers, not as strings ("10003" >= "100020" as text).
    expect("(&(!(uid=bulk*))(uidNumber>=%d))" % (middle * 10), [])
    c.unbind()


# Attributes ----------------------------------------------------------------

def attributes(s):
    c = s.connect()
    alice = s.user("alice")

    def read(attrs, types_only=False):
        c.search(alice, "(objectClass=*)", search_scope=ldap3.BASE, attributes=attrs, types_only=types_only)
        entries = [r for r in c.response if r.get("type") == "searchResEntry"]
        check(len(entries) == 1, "base read of alice with %r: %d entries" % (attrs, len(entries)))
        # ldap3 gives None for an attribute without values (typesOnly).
        return {k.lower(): v or [] for k, v in entries[0]["raw_attributes"].items()} if entries else {}

    everything = read(["*"])
    for name in ["objectclass", "uid", "cn", "givenname", "sn", "mail", "uidnumber", "gidnumber",
                 "homedirectory", "loginshell"]:
        check(name in everything, "* lacks %s: %r" % (name, sorted(everything)))
    for name in ["memberof", "entryuuid", "createtimestamp"]:
        check(name not in everything, "* returned the operational %s" % name)
    operational = read(["+"])
    expect_equal(sorted(operational.get("memberof", [])),
                 sorted([s.group("admins").encode(), s.group("staff").encode()]), "+ memberOf")
    check("entryuuid" in operational, "+ lacks entryUUID: %r" % sorted(operational))
    check("uid" not in operational, "+ returned the user attribute uid")
    expect_equal(read(["1.1"]), {}, "1.1")
    expect_equal(sorted(read(["UID", "mail"]).items()),
                 [("mail", [b"alice@example.com"]), ("uid", [b"alice"])], "named attributes")
    both = read(["*", "+"])
    check("uid" in both and "memberof" in both, "* + : %r" % sorted(both))
    types = read(["uid", "mail", "memberOf"], types_only=True)
    expect_equal(sorted(types.items()), [("mail", []), ("memberof", []), ("uid", [])], "typesOnly")
    c.unbind()


# Clients' own searches -----------------------------------------------------

def applications(s):
    c = s.connect()
    # Keycloak's federation sync: everything created or changed since a date,
    # with paging.
    keycloak = "(&(objectClass=inetOrgPerson)(|(createTimestamp>=20200101000000Z)(modifyTimestamp>=20200101000000Z)))"
    found = c.extend.standard.paged_search(s.people, keycloak, attributes=["uid", "entryUUID"], paged_size=50,
                                           generator=False)
    uids = sorted(r["attributes"]["uid"][0] for r in found if r.get("type") == "searchResEntry")
    expected = sorted(list(DATA) + ["bulk%03d" % i for i in range(BULK_COUNT)])
    expect_equal(uids, expected, "Keycloak's timestamp filter")
    # Nextcloud reads a user by DN, base scope, for its UUID and groups.
    c.search(s.user("alice"), "(objectClass=inetOrgPerson)", search_scope=ldap3.BASE,
             attributes=["entryUUID", "memberOf", "dn", "uid", "mail"])
    entries = [r for r in c.response if r.get("type") == "searchResEntry"]
    if expect_equal(len(entries), 1, "Nextcloud's base read"):
        attrs = entries[0]["attributes"]
        uuid = attrs.get("entryUUID")
        uuid = uuid[0] if isinstance(uuid, list) else uuid
        check(isinstance(uuid, str) and re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", uuid.lower()),
              "entryUUID %r" % uuid)
        expect_equal(sorted(m.lower() for m in attrs.get("memberOf", [])),
                     sorted([s.group("admins"), s.group("staff")]), "Nextcloud memberOf")
        notes["alice_entryUUID"] = uuid
    # The same UUID pins the entry.
    if "alice_entryUUID" in notes:
        c.search(s.people, "(entryUUID=%s)" % notes["alice_entryUUID"], attributes=["1.1"])
        expect_equal(dns(c), [s.user("alice")], "search by entryUUID")
    c.unbind()


# Paging --------------------------------------------------------------------

def paged_page(c, base, flt, size, cookie):
    c.search(base, flt, search_scope=ldap3.LEVEL, attributes=["uid"], paged_size=size, paged_cookie=cookie)
    control = c.result.get("controls", {}).get(wire.PAGED_RESULTS, {})
    next_cookie = control.get("value", {}).get("cookie", b"") if control else None
    return c.result["result"], dns(c), next_cookie


def paging(s):
    size_limit = s.args.size_limit
    total = len(DATA) + BULK_COUNT
    flt = "(objectClass=inetOrgPerson)"
    c = s.connect()
    # Without paging, the size limit stops the search.
    c.search(s.people, flt, search_scope=ldap3.LEVEL, attributes=["1.1"])
    expect_equal((c.result["result"], len(dns(c))), (4, size_limit), "unpaged search over the size limit")

    # Cookie round trips: every entry once, pages of the size asked.
    for size in (7, size_limit * 3):
        seen, cookie, pages = [], b"", 0
        while True:
            code, page, cookie = paged_page(c, s.people, flt, size, cookie)
            pages += 1
            if not check(code == 0 and cookie is not None, "page %d of %d: %r" % (pages, size, c.result)):
                break
            check(len(page) <= min(size, size_limit), "page of %d entries for size %d" % (len(page), size))
            seen += page
            if not cookie or pages > total:
                break
        expect_equal((len(seen), len(set(seen))), (total, total), "entries paged %d at a time" % size)
        check(pages >= total // min(size, size_limit), "only %d pages of %d" % (pages, size))

    # The client's sizeLimit bounds the whole paged search, not each page.
    c.search(s.people, flt, search_scope=ldap3.LEVEL, attributes=["1.1"], size_limit=3, paged_size=10)
    expect_equal((c.result["result"], len(dns(c))), (4, 3), "sizeLimit 3, pages of 10")
    seen, cookie, codes = 0, b"", []
    for _ in range(5):
        c.search(s.people, flt, search_scope=ldap3.LEVEL, attributes=["1.1"], size_limit=12, paged_size=5,
                 paged_cookie=cookie)
        seen += len(dns(c))
        codes.append(c.result["result"])
        control = c.result.get("controls", {}).get(wire.PAGED_RESULTS)
        cookie = control["value"]["cookie"] if control else b""
        if not cookie:
            break
    expect_equal((seen, codes), (12, [0, 0, 4]), "sizeLimit 12 over pages of 5")

    # A size-0 request abandons the paged search: no entries, an empty
    # cookie, and the old cookie is gone.
    code, page, cookie = paged_page(c, s.people, flt, 5, b"")
    check(code == 0 and len(page) == 5 and cookie, "first page: %r %d" % (code, len(page)))
    code, page, empty = paged_page(c, s.people, flt, 0, cookie)
    expect_equal((code, page, empty), (0, [], b""), "size 0 with the cookie")
    code, page, _ = paged_page(c, s.people, flt, 5, cookie)
    check(code != 0 and not page, "the abandoned cookie was accepted: %r" % c.result)

    # A stale cookie (its page was already fetched) is refused.
    code, page, first = paged_page(c, s.people, flt, 5, b"")
    code, page, second = paged_page(c, s.people, flt, 5, first)
    check(code == 0 and second, "second page")
    code, page, _ = paged_page(c, s.people, flt, 5, first)
    check(code != 0 and not page, "a stale cookie was accepted: %r" % c.result)
    # A cookie of another search, of another connection, or made up: refused.
    code, page, _ = paged_page(c, s.people, "(uid=*)", 5, second)
    check(code != 0 and not page, "a cookie of another filter was accepted: %r" % c.result)
    other = s.connect()
    code, page, _ = paged_page(other, s.people, flt, 5, second)
    check(code != 0 and not page, "a foreign connection's cookie was accepted: %r" % other.result)
    code, page, _ = paged_page(other, s.people, flt, 5, b"\x00" * 16)
    check(code != 0 and not page, "a made-up cookie was accepted: %r" % other.result)
    # The owner's cookie still works after the others' attempts.
    code, page, _ = paged_page(c, s.people, flt, 5, second)
    check(code == 0 and len(page) == 5, "the owner's cookie after refusals: %r %d" % (c.result, len(page)))
    other.unbind()
    c.unbind()


# Concurrency on one connection ---------------------------------------------

def concurrency(s):
    client = s.raw()
    people = s.people
    # Four requests in one write: their answers may interleave, and each
    # carries its own message id.
    client.send(
        wire.message(10, wire.search(people, 2, wire.equality("uid", "alice"))),
        wire.message(11, wire.search(s.groups, 1, wire.present("objectClass"))),
        wire.message(12, wire.extended(wire.WHO_AM_I)),
        wire.message(13, wire.search(people, 1, wire.equality("mail", "carol@example.org"))),
        wire.message(14, wire.compare(s.group("staff"), "memberUid", "bob")),
    )
    done = {}
    entries = {10: [], 11: [], 13: []}
    while len(done) < 5:
        response = client.receive()
        if not check(response is not None, "connection ended with %r answered" % sorted(done)):
            break
        if response.tag == wire.SEARCH_ENTRY:
            check(response.message_id in entries, "an entry for id %d" % response.message_id)
            entries.setdefault(response.message_id, []).append(response.dn.lower())
        else:
            check(response.message_id not in done, "two answers for id %d" % response.message_id)
            done[response.message_id] = (response.tag, response.code)
    expect_equal(done, {10: (wire.SEARCH_DONE, 0), 11: (wire.SEARCH_DONE, 0), 12: (wire.EXTENDED_RESPONSE, 0),
                        13: (wire.SEARCH_DONE, 0), 14: (wire.COMPARE_RESPONSE, 6)}, "answers by id")
    expect_equal(entries, {10: [s.user("alice")], 11: sorted([s.group("staff"), s.group("admins")]),
                           13: [s.user("carol")]}, "entries by id")

    # Abandon of a long search: 300 users a page of 1 at a time is long
    # enough. After Abandon, the search sends nothing more: nothing of it
    # may come after the answer to the next request.
    client.send(wire.message(20, wire.search(people, 1, wire.present("objectClass"), attributes=("*", "+")),
                             controls=[wire.control(wire.PAGED_RESULTS, False, wire.paged_value(1000))]),
                wire.message(21, wire.abandon(20)),
                wire.message(22, wire.search(people, 2, wire.equality("uid", "bob"))))
    got = client.until(22, (wire.SEARCH_DONE,))
    after = got[[i for i, r in enumerate(got) if r.message_id == 22][-1] + 1:] if any(
        r.message_id == 22 for r in got) else []
    done22 = [r for r in got if r.message_id == 22]
    expect_equal([(r.tag, r.dn or r.code) for r in done22], [(wire.SEARCH_ENTRY, s.user("bob")),
                                                             (wire.SEARCH_DONE, 0)], "the request after Abandon")
    check(not any(r.message_id == 21 for r in got), "Abandon was answered")
    notes["entries_before_abandon"] = sum(1 for r in got if r.message_id == 20 and r.tag == wire.SEARCH_ENTRY)
    late = client.receive(timeout=1.0)
    check(late is None or late.message_id != 20, "the abandoned search sent %r after the next answer" % late)
    check(not after, "messages after the answer: %r" % after)

    # The same once the search is under way: Abandon after its first entry.
    client.send(wire.message(23, wire.search(people, 1, wire.present("objectClass"), attributes=("*", "+")),
                             controls=[wire.control(wire.PAGED_RESULTS, False, wire.paged_value(1000))]))
    first = client.receive()
    check(first is not None and (first.message_id, first.tag) == (23, wire.SEARCH_ENTRY),
          "the first answer of search 23: %r" % first)
    client.send(wire.message(24, wire.abandon(23)), wire.message(25, wire.extended(wire.WHO_AM_I)))
    got = client.until(25, (wire.EXTENDED_RESPONSE,))
    check(got and got[-1].message_id == 25 and got[-1].code == 0, "Who am I after Abandon: %r" % got[-1:])
    check(all(r.message_id in (23, 25) for r in got), "answers after Abandon: %r" % got)
    late = client.receive(timeout=1.0)
    check(late is None, "search 23 sent %r after the next answer" % late)
    notes["entries_after_abandon"] = sum(1 for r in got if r.message_id == 23)

    # A Bind while a search runs: the search is abandoned, the Bind answers
    # (RFC 4511 §4.2.1), and the connection goes on as the new identity.
    client.send(wire.message(30, wire.search(people, 1, wire.present("objectClass"), attributes=("*", "+")),
                             controls=[wire.control(wire.PAGED_RESULTS, False, wire.paged_value(1000))]),
                wire.message(31, wire.bind(s.user("alice"), "alice password 1")),
                wire.message(32, wire.extended(wire.WHO_AM_I)))
    got = client.until(32, (wire.EXTENDED_RESPONSE,))
    binds = [(r.tag, r.code) for r in got if r.message_id == 31]
    expect_equal(binds, [(wire.BIND_RESPONSE, 0)], "the Bind during a search")
    whoami = [r for r in got if r.message_id == 32]
    check(len(whoami) == 1 and whoami[0].code == 0, "Who am I after the Bind: %r" % whoami)
    at_bind = [i for i, r in enumerate(got) if r.message_id == 31]
    if at_bind:
        check(not any(r.message_id == 30 for r in got[at_bind[0]:]), "the search went on after the Bind")
    notes["entries_before_bind"] = sum(1 for r in got if r.message_id == 30 and r.tag == wire.SEARCH_ENTRY)

    # A message id used again once its request has been answered is fine.
    for _ in range(2):
        client.send(wire.message(40, wire.search(s.user("alice"), 0, wire.present("objectClass"))))
        got = client.until(40, (wire.SEARCH_DONE,))
        expect_equal([(r.tag, r.code) for r in got], [(wire.SEARCH_ENTRY, None), (wire.SEARCH_DONE, 0)],
                     "message id 40 again")
    client.close()


SCENARIOS = {f.__name__: f for f in [filters, attributes, applications, paging, concurrency]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--base", required=True)
    parser.add_argument("--service-dn", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--size-limit", type=int, default=0)
    parser.add_argument("--pid", type=int, default=0)
    args = parser.parse_args()
    try:
        SCENARIOS[args.scenario](Setup(args))
    except Exception:  # the script broke: say where
        print(json.dumps({"failures": failures, "notes": notes, "error": traceback.format_exc()}, indent=1))
        return 2
    print(json.dumps({"failures": failures, "notes": notes}, indent=1))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
