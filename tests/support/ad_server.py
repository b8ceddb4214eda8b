#!/usr/bin/python3
"""A scripted LDAP server that answers as Active Directory does, for the
requests dirproxy's AD support makes and slapd cannot answer the AD way.

Messages are decoded and encoded with pyasn1 and python3-ldap3's RFC 4511
definitions (ldap3.protocol.rfc4511); the server speaks LDAPS only (TLS from
the first byte, Python's ssl module), since AD takes passwords only over an
encrypted connection. What it reproduces, and from which Microsoft document:

- Range retrieval (MS-ADTS 3.1.1.3.1.3.3 "Range Retrieval of Attribute
  Values"): a multi-valued attribute with more than MAX_VAL_RANGE values is
  returned as "member;range=0-1499"; a request for "member;range=1500-*"
  returns the next values, the last range ending in "*".
- LDAP_MATCHING_RULE_IN_CHAIN (MS-ADTS 3.1.1.3.4.4.4, OID
  1.2.840.113556.1.4.1941) in extensibleMatch filters: the groups whose
  member attribute reaches the value through any chain of nested groups.
- unicodePwd (MS-ADTS 3.1.1.3.1.5 "unicodePwd"): the value must be the
  password in double quotes as UTF-16LE; a Modify that deletes the old value
  and adds the new one is a change, checked against the old password
  (00000056 when it does not match) and the history; a replace is a reset.
  A password shorter than MIN_LENGTH characters breaks the complexity rule
  (constraintViolation, 0000052D, MS-ADTS 3.1.1.3.1.5 and MS-SAMR 3.1.1.7.1).
- userAccountControl (MS-ADTS 2.2.16, 3.1.1.8.1): an account cannot be
  enabled (ACCOUNTDISABLE cleared) while it has no password
  (unwillingToPerform, 0000052D); a disabled account cannot bind (data 533).
- Referential integrity of member on delete (MS-ADTS 3.1.1.5.5.1.3).

Requests other than bind, search, modify, add, delete, unbind and abandon
are refused with unwillingToPerform. Controls are ignored (paged results
are not needed for the test data). Filters: and, or, equality,
presence, substrings, and extensibleMatch with the in-chain rule; names and
values compare case-insensitively.

Usage: ad_server.py --data FILE --cert FILE --key FILE --log FILE [--port N]
FILE (--data) is JSON: {"entries": [{"dn": ..., "attributes": {name: [values]},
"password": optional}], "service": {"dn": ..., "password": ...}}. Every
request is appended to --log as one JSON line ({"op": ..., ...}), and the
state after each write is written to STATE (--state) as JSON, for the test to
check. Prints "ad_server ready port=PORT" once listening; SIGTERM stops it.
"""

import argparse
import json
import os
import signal
import socket
import socketserver
import ssl
import sys
import threading

from pyasn1.codec.ber import decoder, encoder
from ldap3.protocol import rfc4511
from ldap3.protocol.rfc4511 import (AddResponse, BindResponse, DelResponse, LDAPMessage, ModifyResponse,
                                    PartialAttribute, PartialAttributeList, ProtocolOp, SearchResultDone,
                                    SearchResultEntry, Vals)



def repair_recursive_filter():
    """ldap3 only encodes filters, and its Filter's "and" and "or"
    alternatives were instantiated before their component types were set,
    so pyasn1 cannot decode a nested filter with them; give those instances
    their component types. ("not" stays undecodable: dirproxy's requests
    here never use it.)"""
    alternatives = rfc4511.Filter.componentType
    for name, component in (("and", rfc4511.Filter()), ("or", rfc4511.Filter())):
        instance = alternatives.getTypeByPosition(alternatives.getPositionByName(name))
        instance.__dict__["componentType"] = component
        if hasattr(instance, "_readOnly"):
            instance._readOnly["componentType"] = component


repair_recursive_filter()

MAX_VAL_RANGE = 1500          # AD's default MaxValRange (MS-ADTS 3.1.1.3.4.6 LDAP policies)
MIN_LENGTH = 14               # the test domain's minimum length, above dirproxy's own (10)
HISTORY = 3                   # passwords remembered for the history rule
IN_CHAIN = "1.2.840.113556.1.4.1941"
ACCOUNTDISABLE = 0x2

SUCCESS, CONSTRAINT_VIOLATION, NO_SUCH_OBJECT, INVALID_CREDENTIALS = 0, 19, 32, 49
UNWILLING, ALREADY_EXISTS, NO_SUCH_ATTRIBUTE = 53, 68, 16

# AD's diagnostics, as Windows Server and Samba word them.
WEAK = ("0000052D: Constraint violation - check_password_restrictions: "
        "the password does not meet the complexity requirements")
IN_HISTORY = ("0000052D: Constraint violation - check_password_restrictions: "
              "the password was already used (in history)")
WRONG_OLD = ("00000056: AtrErr: DSID-03190F80, #1:\n\t0: 00000056: DSID-03190F80, problem 1005 "
             "(CONSTRAINT_ATT_TYPE), data 0, Att 9005a (unicodePwd)\n")
BAD_FORMAT = "0000001F: SvcErr: DSID-031A12D2, problem 5003 (WILL_NOT_PERFORM), data 0\n"
NO_PASSWORD = "0000052D: SvcErr: DSID-031A12D2, problem 5003 (WILL_NOT_PERFORM), data 0\n"
BIND_FAILED = "80090308: LdapErr: DSID-0C09042A, comment: AcceptSecurityContext error, data {}, v4563"


def norm_dn(dn):
    return ",".join(part.strip().lower() for part in dn.split(","))


class Directory:
    def __init__(self, data, state_file):
        self.lock = threading.Lock()
        self.state_file = state_file
        self.entries = {}    # norm dn -> {"dn": dn, "attrs": {lower: (Name, [bytes])}}
        self.passwords = {}  # norm dn -> [current, older, ...]
        for entry in data["entries"]:
            attrs = {}
            for name, values in entry["attributes"].items():
                attrs[name.lower()] = (name, [v.encode() for v in values])
            self.entries[norm_dn(entry["dn"])] = {"dn": entry["dn"], "attrs": attrs}
            if entry.get("password"):
                self.passwords[norm_dn(entry["dn"])] = [entry["password"]]
        service = data["service"]
        self.service = norm_dn(service["dn"])
        self.passwords[self.service] = [service["password"]]

    def save(self):
        state = {"entries": {}, "passwords": {}}
        for key, entry in self.entries.items():
            state["entries"][entry["dn"]] = {name: [v.decode(errors="replace") for v in values]
                                             for name, values in entry["attrs"].values()}
        for key, history in self.passwords.items():
            state["passwords"][key] = history[0]
        temporary = self.state_file + ".tmp"
        with open(temporary, "w") as out:
            json.dump(state, out)
        os.replace(temporary, self.state_file)

    def values(self, entry, name):
        return entry["attrs"].get(name.lower(), (name, []))[1]

    # --- filters ---------------------------------------------------------

    def groups_reaching(self, value):
        """The groups whose member reaches `value` through nested groups."""
        found, frontier = set(), {norm_dn(value)}
        while frontier:
            next_frontier = set()
            for key, entry in self.entries.items():
                if key in found:
                    continue
                members = {norm_dn(m.decode()) for m in self.values(entry, "member")}
                if members & frontier:
                    found.add(key)
                    next_frontier.add(key)
            frontier = next_frontier
        return found

    def matches(self, key, entry, flt):
        kind = flt.getName()
        inner = flt.getComponent()
        if kind == "and":
            return all(self.matches(key, entry, part) for part in inner)
        if kind == "or":
            return any(self.matches(key, entry, part) for part in inner)
        if kind == "notFilter":
            return not self.matches(key, entry, inner["innerNotFilter"])
        if kind == "present":
            return bool(self.values(entry, str(inner)))
        if kind == "equalityMatch":
            wanted = bytes(inner["assertionValue"]).lower()
            name = str(inner["attributeDesc"])
            values = self.values(entry, name)
            if name.lower() == "member":
                return any(norm_dn(v.decode()) == norm_dn(wanted.decode()) for v in values)
            return any(v.lower() == wanted for v in values)
        if kind == "substringFilter":
            values = [v.decode().lower() for v in self.values(entry, str(inner["type"]))]
            parts = [(s.getName(), bytes(s.getComponent()).decode().lower()) for s in inner["substrings"]]
            return any(all((p == "initial" and v.startswith(t)) or (p == "final" and v.endswith(t)) or
                           (p == "any" and t in v) for p, t in parts) for v in values)
        if kind == "extensibleMatch":
            rule = str(inner["matchingRule"]) if inner["matchingRule"].hasValue() else ""
            if rule != IN_CHAIN or str(inner["type"]).lower() != "member":
                raise Unsupported("extensibleMatch other than member:" + IN_CHAIN)
            return key in self.groups_reaching(bytes(inner["matchValue"]).decode())
        raise Unsupported("filter " + kind)

    # --- search ----------------------------------------------------------

    def search(self, request):
        base = norm_dn(str(request["baseObject"]))
        scope = int(request["scope"])
        if base and base not in self.entries:
            return NO_SUCH_OBJECT, "0000208D: NameErr: DSID-03100241, problem 2001 (NO_OBJECT)", []
        found = []
        for key, entry in self.entries.items():
            if scope == 0 and key != base:
                continue
            if scope == 1 and (not key.endswith("," + base) or key.count(",") != base.count(",") + 1):
                continue
            if scope == 2 and not (key == base or key.endswith("," + base) or not base):
                continue
            if self.matches(key, entry, request["filter"]):
                found.append(entry)
        requested = [str(a) for a in request["attributes"]]
        return SUCCESS, "", [(entry["dn"], self.selected(entry, requested)) for entry in found]

    def selected(self, entry, requested):
        """The attributes of `entry` a search returns, AD's ranges applied."""
        if requested == ["1.1"]:
            return []
        everything = not requested or "*" in requested
        wanted = {}
        for description in requested:
            name, _, options = description.partition(";")
            if name in ("*", "1.1"):
                continue
            first, last = 0, None
            if options.lower().startswith("range="):
                low, _, high = options[6:].partition("-")
                first, last = int(low), (None if high == "*" else int(high))
            wanted[name.lower()] = (first, last)
        result = []
        for lower, (name, values) in entry["attrs"].items():
            if lower == "unicodepwd" or (not everything and lower not in wanted):
                continue
            first, last = wanted.get(lower, (0, None))
            result.append(self.ranged(name, values, first, last, ranged_request=lower in wanted and
                                      (first, last) != (0, None)))
        return [r for r in result if r is not None]

    @staticmethod
    def ranged(name, values, first, last, ranged_request):
        """MS-ADTS 3.1.1.3.1.3.3: at most MAX_VAL_RANGE values at a time."""
        if not ranged_request and len(values) <= MAX_VAL_RANGE:
            return (name, values)
        end = len(values) - 1
        if last is not None:
            end = min(end, last)
        end = min(end, first + MAX_VAL_RANGE - 1)
        part = values[first:end + 1]
        high = "*" if end >= len(values) - 1 else str(end)
        return ("{};range={}-{}".format(name, first, high), part)

    # --- writes ----------------------------------------------------------

    def modify(self, dn, changes):
        key = norm_dn(dn)
        entry = self.entries.get(key)
        if entry is None:
            return NO_SUCH_OBJECT, ""
        password_changes = [c for c in changes if c[1].lower() == "unicodepwd"]
        if password_changes:
            return self.modify_password(key, password_changes)
        attrs = {k: (n, list(v)) for k, (n, v) in entry["attrs"].items()}
        for operation, name, values in changes:
            lower = name.lower()
            current = attrs.get(lower, (name, []))[1]
            if operation == "replace":
                current = list(values)
            elif operation == "add":
                current = current + [v for v in values if v not in current]
            elif operation == "delete":
                if not values:
                    current = []
                else:
                    for value in values:
                        if value not in current:
                            return NO_SUCH_ATTRIBUTE, ""
                    current = [v for v in current if v not in values]
            if lower == "useraccountcontrol" and current and not int(current[0]) & ACCOUNTDISABLE and \
                    key not in self.passwords:
                return UNWILLING, NO_PASSWORD
            if current:
                attrs[lower] = (name, current)
            else:
                attrs.pop(lower, None)
        entry["attrs"] = attrs
        return SUCCESS, ""

    def modify_password(self, key, changes):
        def decoded(value):
            text = value.decode("utf-16-le", errors="strict") if len(value) % 2 == 0 else ""
            if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
                return None
            return text[1:-1]

        operations = [c[0] for c in changes]
        if operations == ["replace"] and len(changes[0][2]) == 1:
            new, old = decoded(changes[0][2][0]), None
        elif operations == ["delete", "add"] and len(changes[0][2]) == 1 and len(changes[1][2]) == 1:
            old, new = decoded(changes[0][2][0]), decoded(changes[1][2][0])
            if old is None:
                return UNWILLING, BAD_FORMAT
        else:
            return UNWILLING, BAD_FORMAT
        if new is None:
            return UNWILLING, BAD_FORMAT
        history = self.passwords.get(key, [])
        if old is not None:
            if not history or history[0] != old:
                return CONSTRAINT_VIOLATION, WRONG_OLD
            if new in history[:HISTORY]:
                return CONSTRAINT_VIOLATION, IN_HISTORY
        if len(new) < MIN_LENGTH:
            return CONSTRAINT_VIOLATION, WEAK
        self.passwords[key] = [new] + history[:HISTORY - 1]
        return SUCCESS, ""

    def add(self, dn, attributes):
        key = norm_dn(dn)
        if key in self.entries:
            return ALREADY_EXISTS, "00002071: UpdErr: DSID-030503A6, problem 6005 (ENTRY_EXISTS), data 0\n"
        attrs = {name.lower(): (name, values) for name, values in attributes}
        if any(name.lower() == "unicodepwd" for name, _ in attributes):
            return UNWILLING, "the scripted server takes unicodePwd in a Modify only"
        flags = attrs.get("useraccountcontrol", ("", [b"512"]))[1]
        if not int(flags[0]) & ACCOUNTDISABLE:
            # No password yet: AD refuses an enabled account.
            return UNWILLING, NO_PASSWORD
        self.entries[key] = {"dn": dn, "attrs": attrs}
        return SUCCESS, ""

    def delete(self, dn):
        key = norm_dn(dn)
        if key not in self.entries:
            return NO_SUCH_OBJECT, ""
        del self.entries[key]
        self.passwords.pop(key, None)
        for entry in self.entries.values():
            members = entry["attrs"].get("member")
            if members:
                kept = [m for m in members[1] if norm_dn(m.decode()) != key]
                entry["attrs"]["member"] = (members[0], kept)
        return SUCCESS, ""

    def bind(self, dn, password):
        if not dn and not password:
            return SUCCESS, ""
        key = norm_dn(dn)
        if self.passwords.get(key, [None])[0] != password or not password:
            return INVALID_CREDENTIALS, BIND_FAILED.format("52e")
        entry = self.entries.get(key)
        flags = self.values(entry, "userAccountControl") if entry else []
        if flags and int(flags[0]) & ACCOUNTDISABLE:
            return INVALID_CREDENTIALS, BIND_FAILED.format("533")
        return SUCCESS, ""


class Unsupported(Exception):
    pass


def message(message_id, name, operation):
    envelope = LDAPMessage()
    envelope["messageID"] = message_id
    choice = ProtocolOp()
    choice.setComponentByName(name, operation)
    envelope["protocolOp"] = choice
    return encoder.encode(envelope)


def result(kind, code, diagnostic=""):
    answer = kind()
    answer["resultCode"] = code
    answer["matchedDN"] = ""
    answer["diagnosticMessage"] = diagnostic
    return answer


def search_entry(dn, attributes):
    entry = SearchResultEntry()
    entry["object"] = dn
    listed = PartialAttributeList()
    for i, (name, values) in enumerate(attributes):
        attribute = PartialAttribute()
        attribute["type"] = name
        vals = Vals()
        for j, value in enumerate(values):
            vals.setComponentByPosition(j, value)
        attribute["vals"] = vals
        listed.setComponentByPosition(i, attribute)
    entry["attributes"] = listed
    return entry


def pdu_length(buffer):
    """The length of the whole BER element at the start of `buffer`, or None."""
    if len(buffer) < 2:
        return None
    first = buffer[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if len(buffer) < 2 + count:
        return None
    return 2 + count + int.from_bytes(buffer[2:2 + count], "big")


class Handler(socketserver.BaseRequestHandler):
    def log(self, record):
        with self.server.log_lock:
            with open(self.server.log_file, "a") as out:
                out.write(json.dumps(record) + "\n")

    def handle(self):
        buffer = b""
        while True:
            length = pdu_length(buffer)
            while length is None or len(buffer) < length:
                try:
                    chunk = self.request.recv(65536)
                except (OSError, ssl.SSLError):
                    return
                if not chunk:
                    return
                buffer += chunk
                length = pdu_length(buffer)
            pdu, buffer = buffer[:length], buffer[length:]
            request, _ = decoder.decode(pdu, asn1Spec=LDAPMessage())
            try:
                if not self.answer(request):
                    return
            except (OSError, ssl.SSLError):
                return

    def answer(self, request):
        message_id = int(request["messageID"])
        operation = request["protocolOp"]
        kind = operation.getName()
        body = operation.getComponent()
        directory = self.server.directory
        send = self.request.sendall
        if kind == "unbindRequest":
            return False
        if kind == "abandonRequest":
            return True
        with directory.lock:
            if kind == "bindRequest":
                dn = str(body["name"])
                password = bytes(body["authentication"].getComponent()).decode(errors="replace")
                code, diagnostic = directory.bind(dn, password)
                self.log({"op": "bind", "dn": dn, "result": code})
                send(message(message_id, "bindResponse", result(BindResponse, code, diagnostic)))
            elif kind == "searchRequest":
                filter_kind = body["filter"].getName()
                record = {"op": "search", "base": str(body["baseObject"]), "filter": filter_kind,
                          "attributes": [str(a) for a in body["attributes"]]}
                if filter_kind == "and":
                    record["filter_parts"] = [part.getName() for part in body["filter"].getComponent()]
                self.log(record)
                try:
                    code, diagnostic, found = directory.search(body)
                except Unsupported as why:
                    code, diagnostic, found = UNWILLING, str(why), []
                out = b"".join(message(message_id, "searchResEntry", search_entry(dn, attributes))
                               for dn, attributes in found)
                send(out + message(message_id, "searchResDone", result(SearchResultDone, code, diagnostic)))
            elif kind == "modifyRequest":
                dn = str(body["object"])
                changes = [(str(c["operation"]), str(c["modification"]["type"]),
                            [bytes(v) for v in c["modification"]["vals"]]) for c in body["changes"]]
                code, diagnostic = directory.modify(dn, changes)
                record = {"op": "modify", "dn": dn, "result": code,
                          "changes": [[operation, name] for operation, name, _ in changes]}
                for operation, name, values in changes:
                    if name.lower() == "useraccountcontrol":
                        record["userAccountControl"] = values[0].decode() if values else ""
                self.log(record)
                directory.save()
                send(message(message_id, "modifyResponse", result(ModifyResponse, code, diagnostic)))
            elif kind == "addRequest":
                dn = str(body["entry"])
                attributes = [(str(a["type"]), [bytes(v) for v in a["vals"]]) for a in body["attributes"]]
                code, diagnostic = directory.add(dn, attributes)
                record = {"op": "add", "dn": dn, "result": code}
                for name, values in attributes:
                    if name.lower() == "useraccountcontrol":
                        record["userAccountControl"] = values[0].decode()
                self.log(record)
                directory.save()
                send(message(message_id, "addResponse", result(AddResponse, code, diagnostic)))
            elif kind == "delRequest":
                dn = str(body)
                code, diagnostic = directory.delete(dn)
                self.log({"op": "delete", "dn": dn, "result": code})
                directory.save()
                send(message(message_id, "delResponse", result(DelResponse, code, diagnostic)))
            else:
                self.log({"op": kind})
                return False
        return True


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, directory, context, log_file):
        self.directory = directory
        self.context = context
        self.log_file = log_file
        self.log_lock = threading.Lock()
        super().__init__(address, Handler)

    def get_request(self):
        connection, address = self.socket.accept()
        return self.context.wrap_socket(connection, server_side=True), address


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--port", type=int, default=0)
    options = parser.parse_args()
    with open(options.data) as data_file:
        directory = Directory(json.load(data_file), options.state)
    directory.save()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(options.cert, options.key)
    server = Server(("127.0.0.1", options.port), directory, context, options.log)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print("ad_server ready port={}".format(server.server_address[1]), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
