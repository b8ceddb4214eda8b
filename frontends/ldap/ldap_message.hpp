// The LDAPv3 messages (RFC 4511) of the LDAP front end as plain types: what
// the codec (ldap_codec.hpp) decodes from a client's PDUs and encodes in
// its answers. Nothing here knows BER; nothing in the codec knows the tree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace dirproxy::ldap {

// The result codes the front end answers with (RFC 4511 §4.1.9).
enum class ResultCode : int {
  success = 0,
  operations_error = 1,
  protocol_error = 2,
  time_limit_exceeded = 3,
  size_limit_exceeded = 4,
  compare_false = 5,
  compare_true = 6,
  auth_method_not_supported = 7,
  unavailable_critical_extension = 12,
  confidentiality_required = 13,
  no_such_attribute = 16,
  undefined_attribute_type = 17,
  constraint_violation = 19,
  attribute_or_value_exists = 20,
  invalid_attribute_syntax = 21,
  no_such_object = 32,
  invalid_dn_syntax = 34,
  invalid_credentials = 49,
  insufficient_access_rights = 50,
  busy = 51,
  unavailable = 52,
  unwilling_to_perform = 53,
  naming_violation = 64,
  object_class_violation = 65,
  not_allowed_on_non_leaf = 66,
  entry_already_exists = 68,
  other = 80,
};

// Well-known object identifiers.
namespace oid {
inline constexpr const char* start_tls = "1.3.6.1.4.1.1466.20037";
inline constexpr const char* password_modify = "1.3.6.1.4.1.4203.1.11.1";
inline constexpr const char* who_am_i = "1.3.6.1.4.1.4203.1.11.3";
inline constexpr const char* paged_results = "1.2.840.113556.1.4.319";
inline constexpr const char* notice_of_disconnection = "1.3.6.1.4.1.1466.20036";
}  // namespace oid

struct Control {
  std::string type;  // its OID
  bool critical = false;
  std::optional<std::string> value;  // the octets of controlValue
};

// A search filter (RFC 4511 §4.5.1). Strings are the octets the client sent
// (assertion values unescaped, as BER carries them).
struct Filter {
  enum class Kind : std::uint8_t {
    and_,
    or_,
    not_,  // children holds exactly one
    equality,
    substrings,
    greater_or_equal,
    less_or_equal,
    present,  // attribute only
    approx,
    extensible,
  };
  Kind kind = Kind::present;
  std::vector<Filter> children;  // and_, or_, not_
  std::string attribute;         // every item but and_/or_/not_ (extensible: may be empty)
  std::string value;             // equality, >=, <=, approx, extensible: the assertion value
  // substrings: initial, any..., final (at least one of them is there)
  std::optional<std::string> initial;
  std::vector<std::string> any;
  std::optional<std::string> final;
  // extensible
  std::string matching_rule;  // empty: none named
  bool dn_attributes = false;
};

struct BindRequest {
  int version = 3;
  std::string name;
  bool simple = true;           // false: SASL
  std::string password;         // simple
  std::string sasl_mechanism;   // SASL
};

struct UnbindRequest {};

struct SearchRequest {
  enum class Scope : std::uint8_t { base = 0, one = 1, sub = 2 };
  std::string base;
  Scope scope = Scope::base;
  int deref_aliases = 0;
  std::int64_t size_limit = 0;  // 0: none asked
  std::int64_t time_limit = 0;  // seconds; 0: none asked
  bool types_only = false;
  Filter filter;
  std::vector<std::string> attributes;  // as sent: names, "*", "+", "1.1"
};

struct Attribute {
  std::string type;
  std::vector<std::string> values;
};

struct ModifyRequest {
  struct Change {
    enum class Operation : std::uint8_t { add = 0, delete_ = 1, replace = 2 };
    Operation operation = Operation::replace;
    Attribute modification;
  };
  std::string object;
  std::vector<Change> changes;
};

struct AddRequest {
  std::string entry;
  std::vector<Attribute> attributes;
};

struct DeleteRequest {
  std::string entry;
};

struct ModifyDnRequest {
  std::string entry;
  std::string new_rdn;
  bool delete_old_rdn = false;
  std::optional<std::string> new_superior;
};

struct CompareRequest {
  std::string entry;
  std::string attribute;
  std::string value;
};

struct AbandonRequest {
  int message_id = 0;
};

struct ExtendedRequest {
  std::string name;  // its OID
  std::optional<std::string> value;
};

using Operation = std::variant<BindRequest, UnbindRequest, SearchRequest, ModifyRequest, AddRequest, DeleteRequest,
                               ModifyDnRequest, CompareRequest, AbandonRequest, ExtendedRequest>;

struct Request {
  int message_id = 0;
  Operation operation;
  std::vector<Control> controls;
};

// The components every response carries (LDAPResult).
struct LdapResult {
  ResultCode code = ResultCode::success;
  std::string matched_dn;
  std::string diagnostic;
};

// The response that answers each request operation (its protocolOp tag).
enum class ResponseType : std::uint8_t {
  bind,             // BindResponse [APPLICATION 1]
  search_done,      // SearchResultDone [APPLICATION 5]
  modify,           // ModifyResponse [APPLICATION 7]
  add,              // AddResponse [APPLICATION 9]
  delete_,          // DelResponse [APPLICATION 11]
  modify_dn,        // ModifyDNResponse [APPLICATION 13]
  compare,          // CompareResponse [APPLICATION 15]
};

// The paged results control's value (RFC 2696), in a request or a response.
struct PagedResults {
  std::int64_t size = 0;
  std::string cookie;
};

// The Password Modify request's value (RFC 3062); each field absent when
// the client left it out.
struct PasswordModify {
  std::optional<std::string> user_identity;
  std::optional<std::string> old_password;
  std::optional<std::string> new_password;
};

}  // namespace dirproxy::ldap
