#include "daemon/operation.hpp"

namespace dirproxy {

const std::vector<Operation>& password_reset_operations() {
  static const std::vector<Operation> operations = {};
  return operations;
}

}  // namespace dirproxy
