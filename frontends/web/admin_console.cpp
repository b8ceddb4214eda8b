#include "frontends/web/admin_console.hpp"

#include "frontends/web/admin_pages.hpp"
#include "frontends/web/admin_session.hpp"

namespace dirproxy::web {
namespace {

awaitable<Response> console_home(const PageContext&, const Request&, const SignedInAdmin&) {
  co_return redirect_to("/admin/users");
}

awaitable<Response> no_such_page(const PageContext& page, const Request& request, const SignedInAdmin&) {
  if (request.path == "/admin/") co_return redirect_to("/admin/users");
  co_return error_view(page, 404, "Page not found", "There is no page of the admin console at this address.",
                       "Use the tabs at /admin/users.");
}

}  // namespace

void add_admin_console(Routes& routes) {
  add_admin_sign_in(routes);
  routes.add("/admin", admin_page(console_home));
  routes.add("/admin/", admin_page(no_such_page, no_such_page));
  add_admin_users(routes);
  add_admin_groups(routes);
  add_admin_invitations(routes);
  add_admin_status_pages(routes);
}

}  // namespace dirproxy::web
