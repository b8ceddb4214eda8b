#include "frontends/web/public_pages.hpp"

#include "frontends/web/public_page_support.hpp"

namespace dirproxy::web {

void add_public_pages(Routes& routes) {
  add_signup_pages(routes);
  add_password_pages(routes);
  add_access_pages(routes);
}

}  // namespace dirproxy::web
