// BER for the LDAP front end, with liblber: PduReader frames and decodes the
// PDUs a client sends (ber_get_next over an in-memory Sockbuf, with the size
// limit set before reading), and the encode_* functions build the answers
// (ber_printf). The filter decoder is ours (liblber has none public); it is
// built on ber_peek_tag and ber_scanf. The one place that includes lber.h.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "frontends/ldap/ldap_message.hpp"

namespace dirproxy::ldap {

// Why a PDU could not be used. Every such PDU ends its connection: the
// server answers with a Notice of Disconnection naming `code` (protocolError,
// or for an oversized one also protocolError) and closes.
struct DecodeError {
  ResultCode code = ResultCode::protocol_error;
  std::string message;  // what was wrong, for the notice and the log; never the PDU's contents
  // The message id when the envelope was readable (0: unknown).
  int message_id = 0;
};

// A decoded request, or why it could not be.
using Decoded = std::variant<Request, DecodeError>;

// Frames a stream of bytes into LDAPMessages and decodes each. Not
// thread-safe; one per connection.
class PduReader {
 public:
  // `max_pdu_bytes`: the largest PDU accepted (a larger one is a
  // DecodeError as soon as its length is read, before its contents arrive).
  explicit PduReader(std::size_t max_pdu_bytes);
  ~PduReader();
  PduReader(const PduReader&) = delete;
  PduReader& operator=(const PduReader&) = delete;

  // Changes the limit for the PDUs not yet begun (after a bind).
  void set_max_pdu_bytes(std::size_t max_pdu_bytes);

  // Appends bytes read from the connection.
  void feed(std::string_view bytes);

  // The next whole request: nullopt when more bytes are needed; a
  // DecodeError when the stream cannot go on (the reader then answers the
  // same error for ever).
  std::optional<Decoded> next();

  // Bytes fed but not yet consumed by a whole PDU.
  std::size_t buffered() const;

 private:
  struct State;
  State* state_;
};

// Decodes one whole LDAPMessage (the octets of one PDU).
Decoded decode_request(std::string_view pdu);

// Responses. Each returns the octets of one LDAPMessage.
std::string encode_result(int message_id, ResponseType type, const LdapResult& result,
                          const std::vector<Control>& controls = {});
// BindResponse with serverSaslCreds is never needed (no SASL).
std::string encode_search_entry(int message_id, std::string_view dn, const std::vector<Attribute>& attributes,
                                bool types_only);
std::string encode_extended_response(int message_id, const LdapResult& result,
                                     const std::optional<std::string>& response_name,
                                     const std::optional<std::string>& response_value);
// The unsolicited Notice of Disconnection (message id 0, RFC 4511 §4.4.1).
std::string encode_notice_of_disconnection(ResultCode code, std::string_view diagnostic);

// Control and extended-operation values; nullopt when malformed.
std::optional<PagedResults> decode_paged_results(std::string_view control_value);
std::string encode_paged_results(const PagedResults& paged);
std::optional<PasswordModify> decode_password_modify(std::string_view request_value);
// The Password Modify response's value (RFC 3062): SEQUENCE { genPasswd [0]
// OPTIONAL }, the generated password when the server made one. Added with
// the codec: the extended operation's handler needs it and only the codec
// writes BER.
std::string encode_password_modify_response(std::optional<std::string> generated);

}  // namespace dirproxy::ldap
