#include "frontends/web/admin_console.hpp"

namespace dirproxy::web {

// Filled in by the admin console's work (issue 14).
void add_admin_console(Routes& /*routes*/) {}

}  // namespace dirproxy::web
