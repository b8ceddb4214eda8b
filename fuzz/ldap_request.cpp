// Fuzz target ldap_request: the bytes an LDAP client writes to its
// connection, through the LDAP front end's codec (frontends/ldap/
// ldap_codec.hpp): a PduReader fed the input in small chunks whose sizes
// come from the input itself (as reads from a socket split a stream
// anywhere), and decode_request on the whole input as one PDU. The control
// and extended-operation values found in decoded requests go through
// decode_paged_results and decode_password_modify.
//
// Properties checked besides "no crash": framing does not depend on how
// the stream is split (the chunked reader and one fed everything at once
// give the same results); a failed reader answers the same error for ever;
// a decoded request has a message id above 0; a paged results value that
// decodes encodes to a value that decodes to the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "frontends/ldap/ldap_codec.hpp"
#include "fuzz/fuzz_input.hpp"

namespace {

using dirproxy::fuzz::require;
using namespace dirproxy::ldap;

// The limit the server sets before a bind (LDAP.md: max_request_bytes_anonymous).
constexpr std::size_t kMaxPduBytes = 262143;
// A stream gives at most this many results before the comparison stops:
// the bytes bound it anyway, this bounds the time.
constexpr std::size_t kMaxResults = 64;

void check_values(const Request& request) {
  require(request.message_id > 0, "a decoded request has a message id above 0");
  for (const Control& control : request.controls) {
    if (control.type != oid::paged_results || !control.value) continue;
    if (const auto paged = decode_paged_results(*control.value)) {
      const auto again = decode_paged_results(encode_paged_results(*paged));
      require(again && again->size == paged->size && again->cookie == paged->cookie,
              "a paged results value round-trips");
    }
  }
  if (const auto* extended = std::get_if<ExtendedRequest>(&request.operation); extended && extended->value) {
    (void)decode_password_modify(*extended->value);
  }
}

// What a result says, in a form two runs can compare.
std::string summary(const Decoded& decoded) {
  if (const auto* error = std::get_if<DecodeError>(&decoded)) {
    require(!error->message.empty(), "a decode error says what was wrong");
    return "error " + std::to_string(error->message_id) + " " + error->message;
  }
  const Request& request = std::get<Request>(decoded);
  check_values(request);
  return "request " + std::to_string(request.message_id) + " " + std::to_string(request.operation.index()) + " " +
         std::to_string(request.controls.size());
}

// Reads everything the reader has, after one feed.
void drain(PduReader& reader, std::vector<std::string>& results) {
  while (results.size() < kMaxResults) {
    const auto next = reader.next();
    if (!next) return;
    results.push_back(summary(*next));
    if (std::holds_alternative<DecodeError>(*next)) {
      const auto again = reader.next();
      require(again && std::holds_alternative<DecodeError>(*again) && summary(*again) == results.back(),
              "a failed reader answers the same error for ever");
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)summary(decode_request(input));

  // Chunk sizes from 1 to 16 bytes, from a generator seeded with the input.
  std::uint32_t state = 2166136261u;
  for (unsigned char c : input) state = (state ^ c) * 16777619u;
  PduReader chunked(kMaxPduBytes);
  std::vector<std::string> chunked_results;
  for (std::size_t offset = 0; offset < input.size() && chunked_results.size() < kMaxResults;) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    const std::size_t chunk = 1 + state % 16;
    chunked.feed(input.substr(offset, chunk));
    offset += chunk;
    drain(chunked, chunked_results);
    if (!chunked_results.empty() && chunked_results.back().rfind("error", 0) == 0) break;
  }

  PduReader whole(kMaxPduBytes);
  whole.feed(input);
  std::vector<std::string> whole_results;
  drain(whole, whole_results);
  require(whole_results == chunked_results, "framing does not depend on how the stream is split",
          chunked_results.empty() ? std::string_view() : std::string_view(chunked_results.back()));
  return 0;
}
