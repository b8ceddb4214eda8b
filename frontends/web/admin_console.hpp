// The admin console (WEB.md "Pages": /login, /logout, /admin/...): sign-in
// with a directory account in web.admin_groups, server-side sessions, and
// the tabs Users, Groups, Invite users, Access requests, Signup options,
// Mail queue and Directories.
#pragma once

#include "frontends/web/web_page.hpp"

namespace dirproxy::web {

// Adds /login, /logout and /admin/ to `routes`.
void add_admin_console(Routes& routes);

}  // namespace dirproxy::web
