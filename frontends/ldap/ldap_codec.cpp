#include "frontends/ldap/ldap_codec.hpp"

#include <lber.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

#include "core/result.hpp"

namespace dirproxy::ldap {
namespace {

// Bounds on what one PDU may make us build: liblber bounds the bytes, these
// bound the objects (an empty string costs us 32 bytes and BER 2) and the
// recursion of the filter decoder.
constexpr std::size_t kMaxListItems = 10000;        // attributes, values, changes, controls: each list
constexpr std::size_t kMaxElementsPerPdu = 100000;  // all list items of one PDU together
constexpr int kMaxFilterDepth = 64;
constexpr std::size_t kMaxFilterItems = 10000;

// RFC 4511's tags (class, constructed bit and number in one octet).
namespace tag {
constexpr ber_tag_t bind_request = 0x60;
constexpr ber_tag_t bind_response = 0x61;
constexpr ber_tag_t unbind_request = 0x42;
constexpr ber_tag_t search_request = 0x63;
constexpr ber_tag_t search_entry = 0x64;
constexpr ber_tag_t search_done = 0x65;
constexpr ber_tag_t modify_request = 0x66;
constexpr ber_tag_t modify_response = 0x67;
constexpr ber_tag_t add_request = 0x68;
constexpr ber_tag_t add_response = 0x69;
constexpr ber_tag_t delete_request = 0x4a;
constexpr ber_tag_t delete_response = 0x6b;
constexpr ber_tag_t modify_dn_request = 0x6c;
constexpr ber_tag_t modify_dn_response = 0x6d;
constexpr ber_tag_t compare_request = 0x6e;
constexpr ber_tag_t compare_response = 0x6f;
constexpr ber_tag_t abandon_request = 0x50;
constexpr ber_tag_t extended_request = 0x77;
constexpr ber_tag_t extended_response = 0x78;

constexpr ber_tag_t controls = 0xa0;
constexpr ber_tag_t auth_simple = 0x80;
constexpr ber_tag_t auth_sasl = 0xa3;
constexpr ber_tag_t new_superior = 0x80;
constexpr ber_tag_t request_name = 0x80;
constexpr ber_tag_t request_value = 0x81;
constexpr ber_tag_t response_name = 0x8a;
constexpr ber_tag_t response_value = 0x8b;

constexpr ber_tag_t filter_and = 0xa0;
constexpr ber_tag_t filter_or = 0xa1;
constexpr ber_tag_t filter_not = 0xa2;
constexpr ber_tag_t filter_equality = 0xa3;
constexpr ber_tag_t filter_substrings = 0xa4;
constexpr ber_tag_t filter_greater_or_equal = 0xa5;
constexpr ber_tag_t filter_less_or_equal = 0xa6;
constexpr ber_tag_t filter_present = 0x87;
constexpr ber_tag_t filter_approx = 0xa8;
constexpr ber_tag_t filter_extensible = 0xa9;
constexpr ber_tag_t substring_initial = 0x80;
constexpr ber_tag_t substring_any = 0x81;
constexpr ber_tag_t substring_final = 0x82;
constexpr ber_tag_t extensible_rule = 0x81;
constexpr ber_tag_t extensible_type = 0x82;
constexpr ber_tag_t extensible_value = 0x83;
constexpr ber_tag_t extensible_dn_attributes = 0x84;

// RFC 3062's Password Modify request and response.
constexpr ber_tag_t password_user_identity = 0x80;
constexpr ber_tag_t password_old = 0x81;
constexpr ber_tag_t password_new = 0x82;
constexpr ber_tag_t password_generated = 0x80;
}  // namespace tag

Unexpected malformed(std::string message) { return fail(ErrorCode::bad_request, std::move(message)); }

struct BerElementFree {
  void operator()(BerElement* ber) const { ber_free(ber, /*freebuf=*/0); }
};
// For a BerElement that owns its buffer (the encoder's, ber_get_next's).
struct BerElementFreeWithBuffer {
  void operator()(BerElement* ber) const { ber_free(ber, /*freebuf=*/1); }
};
struct SockbufFree {
  void operator()(Sockbuf* sockbuf) const { ber_sockbuf_free(sockbuf); }
};
using BerReadElementPtr = std::unique_ptr<BerElement, BerElementFree>;
using BerElementPtr = std::unique_ptr<BerElement, BerElementFreeWithBuffer>;
using SockbufPtr = std::unique_ptr<Sockbuf, SockbufFree>;

// ----------------------------------------------------------------------------
// Decoding

// Reads one BER element tree with ber_peek_tag/ber_scanf, checking each
// element's tag before reading it (ber_scanf's conversions do not) and that
// every constructed element ends exactly where its length says (ber_scanf
// checks an element against the end of the PDU, not of its parent). A
// position is the number of bytes of the PDU left after it.
class BerCursor {
 public:
  using End = ber_len_t;

  explicit BerCursor(std::string_view bytes) : storage_(bytes.begin(), bytes.end()), ber_(ber_alloc_t(0)) {
    if (!ber_) throw std::bad_alloc();
    // ber_scanf's 'm' terminates a string in place, writing the byte after
    // it: the last one needs a byte past the PDU.
    storage_.push_back('\0');
    berval contents{bytes.size(), storage_.data()};
    ber_init2(ber_.get(), &contents, /*options=*/0);
  }

  ber_len_t remaining() const {
    ber_len_t left = 0;
    ber_get_option(ber_.get(), LBER_OPT_BER_REMAINING_BYTES, &left);
    return left;
  }
  bool more(End end) const { return remaining() > end; }

  // The tag of the next element (LBER_DEFAULT at the end, or when the
  // element does not fit in the PDU) and the length of its contents.
  ber_tag_t peek(ber_len_t& length) { return ber_peek_tag(ber_.get(), &length); }
  ber_tag_t peek() {
    ber_len_t length = 0;
    return peek(length);
  }

  // Steps into a constructed element; `end` is where it ends.
  Result<void> enter(ber_tag_t expected, End& end, const char* what) {
    ber_len_t length = 0;
    if (peek(length) != expected || ber_scanf(ber_.get(), "{") == LBER_ERROR) return malformed(expected_message(what));
    end = remaining() - length;
    return {};
  }
  Result<void> leave(End end, const char* what) {
    if (remaining() != end) return malformed(std::string("the elements of ") + what + " do not fill it");
    return {};
  }

  Result<void> octets(ber_tag_t expected, std::string& out, const char* what) {
    berval value{};
    if (peek() != expected || ber_scanf(ber_.get(), "m", &value) == LBER_ERROR)
      return malformed(expected_message(what));
    out.assign(value.bv_val, value.bv_len);
    return {};
  }
  Result<void> octets(ber_tag_t expected, std::optional<std::string>& out, const char* what) {
    return octets(expected, out.emplace(), what);
  }
  Result<void> octets(std::string& out, const char* what) { return octets(LBER_OCTETSTRING, out, what); }

  // INTEGER and ENUMERATED: at most 32 bits (liblber refuses more).
  Result<void> integer(ber_tag_t expected, int& out, const char* what) {
    ber_len_t length = 0;
    ber_int_t value = 0;
    if (peek(length) != expected || length == 0 || ber_scanf(ber_.get(), "i", &value) == LBER_ERROR) {
      return malformed(expected_message(what));
    }
    out = value;
    return {};
  }
  Result<void> boolean(ber_tag_t expected, bool& out, const char* what) {
    ber_len_t length = 0;
    ber_int_t value = 0;
    if (peek(length) != expected || length != 1 || ber_scanf(ber_.get(), "b", &value) == LBER_ERROR) {
      return malformed(expected_message(what));
    }
    out = value != 0;
    return {};
  }
  Result<void> null(ber_tag_t expected, const char* what) {
    if (peek() != expected || ber_scanf(ber_.get(), "n") == LBER_ERROR) return malformed(expected_message(what));
    return {};
  }

  // Reads a whole value that is one SEQUENCE (an LDAPMessage, a control's
  // value): `contents` reads what is inside, up to `end`; nothing may follow.
  template <typename ReadContents>
  Result<void> whole_sequence(const char* what, ReadContents&& contents) {
    End end = 0;
    RETURN_IF_ERROR(enter(LBER_SEQUENCE, end, what));
    if (end != 0) return malformed(std::string("bytes after the ") + what);
    RETURN_IF_ERROR(contents(end));
    return leave(end, what);
  }

  // Calls `item` for each element of a SEQUENCE OF or SET OF; `item` reads
  // exactly one element. At most kMaxListItems of them, and every list of
  // the PDU together at most kMaxElementsPerPdu.
  template <typename ReadItem>
  Result<void> each(ber_tag_t expected, const char* what, ReadItem&& item) {
    ber_len_t list_length = 0;
    if (peek(list_length) != expected) return malformed(expected_message(what));
    ber_len_t length = 0;
    char* last = nullptr;
    ber_tag_t next = ber_first_element(ber_.get(), &length, &last);
    if (last == nullptr) return malformed(expected_message(what));
    const End end = remaining() - list_length;
    // ber_next_element stops at `last`, the end of the list: an item that
    // ran past it, or one that is not a whole element, fails at leave().
    for (std::size_t count = 1; next != LBER_DEFAULT; next = ber_next_element(ber_.get(), &length, last), ++count) {
      if (count > kMaxListItems || ++elements_ > kMaxElementsPerPdu) {
        return malformed(std::string("too many elements in ") + what);
      }
      RETURN_IF_ERROR(item());
    }
    return leave(end, what);
  }

 private:
  static std::string expected_message(const char* what) { return std::string("malformed ") + what; }

  std::string storage_;
  BerReadElementPtr ber_;
  std::size_t elements_ = 0;
};

Result<void> decode_filter(BerCursor& in, Filter& out, int depth, std::size_t& items);

Result<void> decode_filter_set(BerCursor& in, ber_tag_t set_tag, Filter& out, int depth, std::size_t& items) {
  // An empty and/or is RFC 4526's absolute true/false: the tree decides.
  return in.each(set_tag, "filter set",
                 [&]() -> Result<void> { return decode_filter(in, out.children.emplace_back(), depth + 1, items); });
}

Result<void> decode_assertion(BerCursor& in, ber_tag_t item_tag, Filter& out) {
  BerCursor::End end = 0;
  RETURN_IF_ERROR(in.enter(item_tag, end, "attribute value assertion"));
  RETURN_IF_ERROR(in.octets(out.attribute, "assertion attribute"));
  RETURN_IF_ERROR(in.octets(out.value, "assertion value"));
  return in.leave(end, "attribute value assertion");
}

Result<void> decode_substrings(BerCursor& in, Filter& out, std::size_t& items) {
  BerCursor::End end = 0;
  RETURN_IF_ERROR(in.enter(tag::filter_substrings, end, "substrings filter"));
  RETURN_IF_ERROR(in.octets(out.attribute, "substrings attribute"));
  std::size_t components = 0;
  RETURN_IF_ERROR(in.each(LBER_SEQUENCE, "substrings", [&]() -> Result<void> {
    if (++items > kMaxFilterItems) return malformed("filter has too many items");
    const ber_tag_t component = in.peek();
    // initial only first, final only last (RFC 4511 §4.5.1.7.2).
    if (out.final) return malformed("substring after final");
    ++components;
    switch (component) {
      case tag::substring_initial:
        if (components != 1) return malformed("initial substring not first");
        return in.octets(component, out.initial, "initial substring");
      case tag::substring_any: return in.octets(component, out.any.emplace_back(), "any substring");
      case tag::substring_final: return in.octets(component, out.final, "final substring");
      default: return malformed("unknown substring choice");
    }
  }));
  if (components == 0) return malformed("substrings filter without a substring");
  return in.leave(end, "substrings filter");
}

Result<void> decode_extensible(BerCursor& in, Filter& out) {
  BerCursor::End end = 0;
  RETURN_IF_ERROR(in.enter(tag::filter_extensible, end, "extensible match"));
  if (in.more(end) && in.peek() == tag::extensible_rule) {
    RETURN_IF_ERROR(in.octets(tag::extensible_rule, out.matching_rule, "matching rule"));
  }
  if (in.more(end) && in.peek() == tag::extensible_type) {
    RETURN_IF_ERROR(in.octets(tag::extensible_type, out.attribute, "extensible match attribute"));
  }
  // RFC 4511 §4.5.1.7.7: without a matching rule the type must be there.
  if (out.matching_rule.empty() && out.attribute.empty()) return malformed("extensible match without rule or type");
  RETURN_IF_ERROR(in.octets(tag::extensible_value, out.value, "extensible match value"));
  if (in.more(end) && in.peek() == tag::extensible_dn_attributes) {
    RETURN_IF_ERROR(in.boolean(tag::extensible_dn_attributes, out.dn_attributes, "dnAttributes"));
  }
  return in.leave(end, "extensible match");
}

Result<void> decode_filter(BerCursor& in, Filter& out, int depth, std::size_t& items) {
  if (depth > kMaxFilterDepth) return malformed("filter nested too deeply");
  if (++items > kMaxFilterItems) return malformed("filter has too many items");
  const ber_tag_t choice = in.peek();
  switch (choice) {
    case tag::filter_and: out.kind = Filter::Kind::and_; return decode_filter_set(in, choice, out, depth, items);
    case tag::filter_or: out.kind = Filter::Kind::or_; return decode_filter_set(in, choice, out, depth, items);
    case tag::filter_not: {
      out.kind = Filter::Kind::not_;
      BerCursor::End end = 0;
      RETURN_IF_ERROR(in.enter(choice, end, "not filter"));
      RETURN_IF_ERROR(decode_filter(in, out.children.emplace_back(), depth + 1, items));
      return in.leave(end, "not filter");
    }
    case tag::filter_equality:
    case tag::filter_greater_or_equal:
    case tag::filter_less_or_equal:
    case tag::filter_approx:
      out.kind = choice == tag::filter_equality           ? Filter::Kind::equality
                 : choice == tag::filter_greater_or_equal ? Filter::Kind::greater_or_equal
                 : choice == tag::filter_less_or_equal    ? Filter::Kind::less_or_equal
                                                          : Filter::Kind::approx;
      return decode_assertion(in, choice, out);
    case tag::filter_substrings: out.kind = Filter::Kind::substrings; return decode_substrings(in, out, items);
    case tag::filter_present:
      out.kind = Filter::Kind::present;
      return in.octets(choice, out.attribute, "present filter");
    case tag::filter_extensible: out.kind = Filter::Kind::extensible; return decode_extensible(in, out);
    default: return malformed("unknown filter choice");
  }
}

Result<void> decode_string_list(BerCursor& in, ber_tag_t list_tag, std::vector<std::string>& out, const char* what) {
  return in.each(list_tag, what, [&]() -> Result<void> { return in.octets(out.emplace_back(), what); });
}

// PartialAttribute and Attribute: SEQUENCE { type, vals SET OF value }.
Result<void> decode_attribute(BerCursor& in, Attribute& out) {
  BerCursor::End end = 0;
  RETURN_IF_ERROR(in.enter(LBER_SEQUENCE, end, "attribute"));
  RETURN_IF_ERROR(in.octets(out.type, "attribute type"));
  RETURN_IF_ERROR(decode_string_list(in, LBER_SET, out.values, "attribute values"));
  return in.leave(end, "attribute");
}

Result<void> decode_bind(BerCursor& in, BindRequest& out) {
  BerCursor::End end = 0;
  RETURN_IF_ERROR(in.enter(tag::bind_request, end, "bind request"));
  RETURN_IF_ERROR(in.integer(LBER_INTEGER, out.version, "bind version"));
  RETURN_IF_ERROR(in.octets(out.name, "bind name"));
  switch (in.peek()) {
    case tag::auth_simple:
      out.simple = true;
      RETURN_IF_ERROR(in.octets(tag::auth_simple, out.password, "simple password"));
      break;
    case tag::auth_sasl: {
      out.simple = false;
      BerCursor::End sasl_end = 0;
      RETURN_IF_ERROR(in.enter(tag::auth_sasl, sasl_end, "SASL credentials"));
      RETURN_IF_ERROR(in.octets(out.sasl_mechanism, "SASL mechanism"));
      if (in.more(sasl_end)) {
        std::string credentials;  // no SASL mechanism is offered: read, not kept
        RETURN_IF_ERROR(in.octets(credentials, "SASL credentials"));
      }
      RETURN_IF_ERROR(in.leave(sasl_end, "SASL credentials"));
      break;
    }
    default: return malformed("unknown authentication choice");
  }
  return in.leave(end, "bind request");
}

Result<void> decode_search(BerCursor& in, SearchRequest& out) {
  BerCursor::End end = 0;
  RETURN_IF_ERROR(in.enter(tag::search_request, end, "search request"));
  RETURN_IF_ERROR(in.octets(out.base, "search base"));
  int scope = 0;
  RETURN_IF_ERROR(in.integer(LBER_ENUMERATED, scope, "search scope"));
  if (scope < 0 || scope > 2) return malformed("unknown search scope");
  out.scope = static_cast<SearchRequest::Scope>(scope);
  RETURN_IF_ERROR(in.integer(LBER_ENUMERATED, out.deref_aliases, "derefAliases"));
  if (out.deref_aliases < 0 || out.deref_aliases > 3) return malformed("unknown derefAliases");
  int size_limit = 0;
  int time_limit = 0;
  RETURN_IF_ERROR(in.integer(LBER_INTEGER, size_limit, "size limit"));
  RETURN_IF_ERROR(in.integer(LBER_INTEGER, time_limit, "time limit"));
  if (size_limit < 0 || time_limit < 0) return malformed("negative search limit");
  out.size_limit = size_limit;
  out.time_limit = time_limit;
  RETURN_IF_ERROR(in.boolean(LBER_BOOLEAN, out.types_only, "typesOnly"));
  std::size_t filter_items = 0;
  RETURN_IF_ERROR(decode_filter(in, out.filter, /*depth=*/1, filter_items));
  RETURN_IF_ERROR(decode_string_list(in, LBER_SEQUENCE, out.attributes, "attribute selection"));
  return in.leave(end, "search request");
}

Result<void> decode_modify(BerCursor& in, ModifyRequest& out) {
  BerCursor::End end = 0;
  RETURN_IF_ERROR(in.enter(tag::modify_request, end, "modify request"));
  RETURN_IF_ERROR(in.octets(out.object, "modify object"));
  RETURN_IF_ERROR(in.each(LBER_SEQUENCE, "modifications", [&]() -> Result<void> {
    ModifyRequest::Change& change = out.changes.emplace_back();
    BerCursor::End change_end = 0;
    RETURN_IF_ERROR(in.enter(LBER_SEQUENCE, change_end, "modification"));
    int operation = 0;
    RETURN_IF_ERROR(in.integer(LBER_ENUMERATED, operation, "modify operation"));
    if (operation < 0 || operation > 2) return malformed("unknown modify operation");
    change.operation = static_cast<ModifyRequest::Change::Operation>(operation);
    RETURN_IF_ERROR(decode_attribute(in, change.modification));
    return in.leave(change_end, "modification");
  }));
  return in.leave(end, "modify request");
}

Result<void> decode_add(BerCursor& in, AddRequest& out) {
  BerCursor::End end = 0;
  RETURN_IF_ERROR(in.enter(tag::add_request, end, "add request"));
  RETURN_IF_ERROR(in.octets(out.entry, "add entry"));
  RETURN_IF_ERROR(in.each(LBER_SEQUENCE, "attribute list",
                          [&]() -> Result<void> { return decode_attribute(in, out.attributes.emplace_back()); }));
  return in.leave(end, "add request");
}

Result<void> decode_modify_dn(BerCursor& in, ModifyDnRequest& out) {
  BerCursor::End end = 0;
  RETURN_IF_ERROR(in.enter(tag::modify_dn_request, end, "modify DN request"));
  RETURN_IF_ERROR(in.octets(out.entry, "modify DN entry"));
  RETURN_IF_ERROR(in.octets(out.new_rdn, "new RDN"));
  RETURN_IF_ERROR(in.boolean(LBER_BOOLEAN, out.delete_old_rdn, "deleteoldrdn"));
  if (in.more(end)) RETURN_IF_ERROR(in.octets(tag::new_superior, out.new_superior, "new superior"));
  return in.leave(end, "modify DN request");
}

Result<void> decode_compare(BerCursor& in, CompareRequest& out) {
  BerCursor::End end = 0;
  RETURN_IF_ERROR(in.enter(tag::compare_request, end, "compare request"));
  RETURN_IF_ERROR(in.octets(out.entry, "compare entry"));
  BerCursor::End assertion_end = 0;
  RETURN_IF_ERROR(in.enter(LBER_SEQUENCE, assertion_end, "compare assertion"));
  RETURN_IF_ERROR(in.octets(out.attribute, "compare attribute"));
  RETURN_IF_ERROR(in.octets(out.value, "compare value"));
  RETURN_IF_ERROR(in.leave(assertion_end, "compare assertion"));
  return in.leave(end, "compare request");
}

Result<void> decode_extended(BerCursor& in, ExtendedRequest& out) {
  BerCursor::End end = 0;
  RETURN_IF_ERROR(in.enter(tag::extended_request, end, "extended request"));
  RETURN_IF_ERROR(in.octets(tag::request_name, out.name, "extended request name"));
  if (in.more(end)) RETURN_IF_ERROR(in.octets(tag::request_value, out.value, "extended request value"));
  return in.leave(end, "extended request");
}

Result<void> decode_controls(BerCursor& in, std::vector<Control>& out) {
  return in.each(tag::controls, "controls", [&]() -> Result<void> {
    Control& control = out.emplace_back();
    BerCursor::End end = 0;
    RETURN_IF_ERROR(in.enter(LBER_SEQUENCE, end, "control"));
    RETURN_IF_ERROR(in.octets(control.type, "control type"));
    if (in.more(end) && in.peek() == LBER_BOOLEAN)
      RETURN_IF_ERROR(in.boolean(LBER_BOOLEAN, control.critical, "criticality"));
    if (in.more(end)) RETURN_IF_ERROR(in.octets(LBER_OCTETSTRING, control.value, "control value"));
    return in.leave(end, "control");
  });
}

// The protocolOp.
Result<void> decode_operation(BerCursor& in, Operation& out) {
  switch (in.peek()) {
    case tag::bind_request: return decode_bind(in, out.emplace<BindRequest>());
    case tag::unbind_request: out.emplace<UnbindRequest>(); return in.null(tag::unbind_request, "unbind request");
    case tag::search_request: return decode_search(in, out.emplace<SearchRequest>());
    case tag::modify_request: return decode_modify(in, out.emplace<ModifyRequest>());
    case tag::add_request: return decode_add(in, out.emplace<AddRequest>());
    case tag::delete_request:
      return in.octets(tag::delete_request, out.emplace<DeleteRequest>().entry, "delete request");
    case tag::modify_dn_request: return decode_modify_dn(in, out.emplace<ModifyDnRequest>());
    case tag::compare_request: return decode_compare(in, out.emplace<CompareRequest>());
    case tag::abandon_request: {
      AbandonRequest& abandon = out.emplace<AbandonRequest>();
      RETURN_IF_ERROR(in.integer(tag::abandon_request, abandon.message_id, "abandon request"));
      if (abandon.message_id < 0) return malformed("negative message id to abandon");
      return {};
    }
    case tag::extended_request: return decode_extended(in, out.emplace<ExtendedRequest>());
    default: return malformed("unknown operation");
  }
}

// ----------------------------------------------------------------------------
// Encoding

// A BerElement for one LDAPMessage, written with ber_printf in DER.
class BerWriter {
 public:
  BerWriter() : ber_(ber_alloc_t(LBER_USE_DER)) {
    if (!ber_) throw std::bad_alloc();
  }

  // ber_printf, whose only failure is memory.
  template <typename... Args>
  BerWriter& print(const char* format, Args... args) {
    if (ber_printf(ber_.get(), format, args...) == -1) throw std::bad_alloc();
    return *this;
  }
  BerWriter& octets(std::string_view value) {
    return print("o", value.empty() ? "" : value.data(), static_cast<ber_len_t>(value.size()));
  }
  BerWriter& octets(ber_tag_t tag, std::string_view value) {
    return print("to", tag, value.empty() ? "" : value.data(), static_cast<ber_len_t>(value.size()));
  }
  BerWriter& integer(std::int64_t value) {
    return print("i", static_cast<ber_int_t>(std::clamp<std::int64_t>(value, INT_MIN, INT_MAX)));
  }
  // Opens the LDAPMessage and its protocolOp.
  BerWriter& begin_message(int message_id, ber_tag_t operation) {
    return print("{it{", static_cast<ber_int_t>(message_id), operation);
  }
  BerWriter& ldap_result(const LdapResult& result) {
    print("e", static_cast<ber_int_t>(result.code));
    return octets(result.matched_dn).octets(result.diagnostic);
  }

  std::string finish() {
    berval flat{};
    if (ber_flatten2(ber_.get(), &flat, /*alloc=*/0) == -1) throw std::bad_alloc();
    return std::string(flat.bv_val, flat.bv_len);
  }

 private:
  BerElementPtr ber_;
};

ber_tag_t response_tag(ResponseType type) {
  switch (type) {
    case ResponseType::bind: return tag::bind_response;
    case ResponseType::search_done: return tag::search_done;
    case ResponseType::modify: return tag::modify_response;
    case ResponseType::add: return tag::add_response;
    case ResponseType::delete_: return tag::delete_response;
    case ResponseType::modify_dn: return tag::modify_dn_response;
    case ResponseType::compare: return tag::compare_response;
  }
  return tag::extended_response;
}

// ----------------------------------------------------------------------------
// Framing

// The bytes fed to a PduReader, read by ber_get_next through a Sockbuf.
struct InputBuffer {
  std::string bytes;
  std::size_t read_position = 0;  // the next byte handed to liblber

  // Sockbuf_IO's read: what is buffered, or -1 with EWOULDBLOCK (as a
  // non-blocking socket) when nothing is; never 0, which liblber takes for
  // the end of the stream. Reads of a PDU's tag and length (up to 8 bytes)
  // get one byte at a time: liblber reads 8 ahead for them and fails when a
  // short PDU ends within them, as a 7-byte unbind followed by more does.
  static ber_slen_t read(Sockbuf_IO_Desc* sbiod, void* out, ber_len_t length) {
    auto& input = *static_cast<InputBuffer*>(sbiod->sbiod_pvt);
    const std::size_t available = input.bytes.size() - input.read_position;
    if (available == 0) {
      errno = EWOULDBLOCK;
      return -1;
    }
    std::size_t count = std::min<std::size_t>(available, length);
    if (length <= 8) count = 1;
    std::memcpy(out, input.bytes.data() + input.read_position, count);
    input.read_position += count;
    return static_cast<ber_slen_t>(count);
  }
  static int setup(Sockbuf_IO_Desc* sbiod, void* input) {
    sbiod->sbiod_pvt = input;
    return 0;
  }
  static int remove(Sockbuf_IO_Desc* sbiod) {
    sbiod->sbiod_pvt = nullptr;
    return 0;
  }
  static int control(Sockbuf_IO_Desc*, int, void*) { return 0; }
  static ber_slen_t write(Sockbuf_IO_Desc*, void*, ber_len_t) {
    errno = EINVAL;
    return -1;
  }
  static int close(Sockbuf_IO_Desc*) { return 0; }
};

Sockbuf_IO input_buffer_io = {
    InputBuffer::setup, InputBuffer::remove, InputBuffer::control,
    InputBuffer::read,  InputBuffer::write,  InputBuffer::close,
};

}  // namespace

// ----------------------------------------------------------------------------
// PduReader

struct PduReader::State {
  InputBuffer input;
  std::size_t pdu_start = 0;  // where the PDU being framed begins in input.bytes
  bool pdu_begun = false;     // ber_get_next holds part of it in `framing`
  std::size_t max_pdu_bytes;
  std::size_t pdu_limit = 0;  // max_pdu_bytes when the PDU being framed began
  std::optional<DecodeError> failure;
  SockbufPtr sockbuf;
  BerElementPtr framing;  // ber_get_next's state for the PDU being framed

  explicit State(std::size_t max_bytes) : max_pdu_bytes(max_bytes), sockbuf(ber_sockbuf_alloc()) {
    if (!sockbuf) throw std::bad_alloc();
    if (ber_sockbuf_add_io(sockbuf.get(), &input_buffer_io, LBER_SBIOD_LEVEL_PROVIDER, &input) != 0) {
      throw std::bad_alloc();
    }
    new_framing();
  }

  void new_framing() {
    framing.reset(ber_alloc_t(0));
    if (!framing) throw std::bad_alloc();
  }

  const DecodeError& fail(std::string message) {
    failure = DecodeError{ResultCode::protocol_error, std::move(message), 0};
    return *failure;
  }
};

PduReader::PduReader(std::size_t max_pdu_bytes) : state_(new State(max_pdu_bytes)) {}

PduReader::~PduReader() { delete state_; }

void PduReader::set_max_pdu_bytes(std::size_t max_pdu_bytes) { state_->max_pdu_bytes = max_pdu_bytes; }

void PduReader::feed(std::string_view bytes) {
  State& state = *state_;
  if (state.failure) return;  // nothing more is read from a failed stream
  // Drop the PDUs already taken, once per feed, not once per PDU.
  if (state.pdu_start > 0) {
    state.input.bytes.erase(0, state.pdu_start);
    state.input.read_position -= state.pdu_start;
    state.pdu_start = 0;
  }
  state.input.bytes.append(bytes);
}

std::size_t PduReader::buffered() const { return state_->input.bytes.size() - state_->pdu_start; }

std::optional<Decoded> PduReader::next() {
  State& state = *state_;
  if (state.failure) return *state.failure;
  InputBuffer& input = state.input;
  while (input.read_position < input.bytes.size()) {
    if (!state.pdu_begun) {
      // Seen before its length, so that a stream of something else (an
      // HTTP request, TLS) fails at once rather than after "its" length.
      if (static_cast<unsigned char>(input.bytes[input.read_position]) != LBER_SEQUENCE) {
        return state.fail("not an LDAP message");
      }
      // liblber checks the length of the contents against the limit as soon
      // as it has read it, before any contents arrive; the tag and length
      // are checked on the whole PDU below. 0 would mean "no limit".
      state.pdu_limit = state.max_pdu_bytes;
      ber_len_t max_incoming = std::max<std::size_t>(state.pdu_limit, 1);
      ber_sockbuf_ctrl(state.sockbuf.get(), LBER_SB_OPT_SET_MAX_INCOMING, &max_incoming);
      state.pdu_begun = true;
    }
    ber_len_t length = 0;
    errno = 0;
    const ber_tag_t pdu_tag = ber_get_next(state.sockbuf.get(), &length, state.framing.get());
    if (pdu_tag == LBER_DEFAULT) {
      if (errno == EWOULDBLOCK) continue;  // a part of the PDU is in; read on
      return state.fail("PDU over the size limit, or with an invalid length");
    }
    const std::string_view pdu =
        std::string_view(input.bytes).substr(state.pdu_start, input.read_position - state.pdu_start);
    state.pdu_start = input.read_position;
    state.pdu_begun = false;
    state.new_framing();
    if (pdu.size() > state.pdu_limit) return state.fail("PDU over the size limit");
    Decoded decoded = decode_request(pdu);
    if (const auto* error = std::get_if<DecodeError>(&decoded)) state.failure = *error;
    return decoded;
  }
  return std::nullopt;
}

// ----------------------------------------------------------------------------
// Requests

Decoded decode_request(std::string_view pdu) {
  BerCursor in(pdu);
  Request request;
  auto decoded = in.whole_sequence("LDAPMessage", [&](BerCursor::End end) -> Result<void> {
    RETURN_IF_ERROR(in.integer(LBER_INTEGER, request.message_id, "message id"));
    if (request.message_id <= 0) {
      request.message_id = 0;
      return malformed("message id out of range");
    }
    RETURN_IF_ERROR(decode_operation(in, request.operation));
    if (in.more(end)) RETURN_IF_ERROR(decode_controls(in, request.controls));
    return {};
  });
  if (!decoded) {
    return DecodeError{ResultCode::protocol_error, std::move(decoded).error().message, request.message_id};
  }
  return request;
}

// ----------------------------------------------------------------------------
// Responses

std::string encode_result(int message_id, ResponseType type, const LdapResult& result,
                          const std::vector<Control>& controls) {
  BerWriter out;
  out.begin_message(message_id, response_tag(type)).ldap_result(result).print("}");
  if (!controls.empty()) {
    out.print("t{", tag::controls);
    for (const Control& control : controls) {
      out.print("{").octets(control.type);
      if (control.critical) out.print("b", static_cast<ber_int_t>(1));
      if (control.value) out.octets(*control.value);
      out.print("}");
    }
    out.print("}");
  }
  return out.print("}").finish();
}

std::string encode_search_entry(int message_id, std::string_view dn, const std::vector<Attribute>& attributes,
                                bool types_only) {
  BerWriter out;
  out.begin_message(message_id, tag::search_entry).octets(dn).print("{");
  for (const Attribute& attribute : attributes) {
    out.print("{").octets(attribute.type).print("[");
    if (!types_only) {
      for (const std::string& value : attribute.values) out.octets(value);
    }
    out.print("]}");
  }
  return out.print("}}}").finish();
}

std::string encode_extended_response(int message_id, const LdapResult& result,
                                     const std::optional<std::string>& response_name,
                                     const std::optional<std::string>& response_value) {
  BerWriter out;
  out.begin_message(message_id, tag::extended_response).ldap_result(result);
  if (response_name) out.octets(tag::response_name, *response_name);
  if (response_value) out.octets(tag::response_value, *response_value);
  return out.print("}}").finish();
}

std::string encode_notice_of_disconnection(ResultCode code, std::string_view diagnostic) {
  return encode_extended_response(/*message_id=*/0, LdapResult{code, "", std::string(diagnostic)},
                                  std::string(oid::notice_of_disconnection), std::nullopt);
}

// ----------------------------------------------------------------------------
// Control and extended-operation values

std::optional<PagedResults> decode_paged_results(std::string_view control_value) {
  BerCursor in(control_value);
  PagedResults paged;
  int size = 0;
  auto decoded = in.whole_sequence("paged results value", [&](BerCursor::End) -> Result<void> {
    RETURN_IF_ERROR(in.integer(LBER_INTEGER, size, "page size"));
    if (size < 0) return malformed("negative page size");
    return in.octets(paged.cookie, "paged results cookie");
  });
  if (!decoded) return std::nullopt;
  paged.size = size;
  return paged;
}

std::string encode_paged_results(const PagedResults& paged) {
  BerWriter out;
  return out.print("{").integer(paged.size).octets(paged.cookie).print("}").finish();
}

std::optional<PasswordModify> decode_password_modify(std::string_view request_value) {
  BerCursor in(request_value);
  PasswordModify request;
  auto decoded = in.whole_sequence("password modify value", [&](BerCursor::End end) -> Result<void> {
    if (in.more(end) && in.peek() == tag::password_user_identity) {
      RETURN_IF_ERROR(in.octets(tag::password_user_identity, request.user_identity, "userIdentity"));
    }
    if (in.more(end) && in.peek() == tag::password_old) {
      RETURN_IF_ERROR(in.octets(tag::password_old, request.old_password, "oldPasswd"));
    }
    if (in.more(end) && in.peek() == tag::password_new) {
      RETURN_IF_ERROR(in.octets(tag::password_new, request.new_password, "newPasswd"));
    }
    return {};
  });
  if (!decoded) return std::nullopt;
  return request;
}

std::string encode_password_modify_response(std::optional<std::string> generated) {
  BerWriter out;
  out.print("{");
  if (generated) out.octets(tag::password_generated, *generated);
  return out.print("}").finish();
}

}  // namespace dirproxy::ldap
