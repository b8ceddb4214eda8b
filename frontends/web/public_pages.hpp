// The public pages (WEB.md "Pages"): signup, invitation signup, confirm,
// set/reset password, forgot password, request access; every link dirproxy
// mails opens one of them.
#pragma once

#include "frontends/web/web_page.hpp"

namespace dirproxy::web {

// Adds the public pages to `routes`.
void add_public_pages(Routes& routes);

}  // namespace dirproxy::web
