#include "frontends/web/public_pages.hpp"

namespace dirproxy::web {

// Filled in by the public pages' work (issue 14).
void add_public_pages(Routes& /*routes*/) {}

}  // namespace dirproxy::web
