// The parts of the admin console (admin_console.cpp adds them all): each
// adds its pages to the routes. One file each: admin_sign_in.cpp,
// admin_users.cpp, admin_groups.cpp, admin_invitations.cpp,
// admin_status_pages.cpp (access requests, signup options, mail queue,
// directories).
#pragma once

#include "frontends/web/web_page.hpp"

namespace dirproxy::web {

void add_admin_sign_in(Routes& routes);
void add_admin_users(Routes& routes);
void add_admin_groups(Routes& routes);
void add_admin_invitations(Routes& routes);
void add_admin_status_pages(Routes& routes);

}  // namespace dirproxy::web
