#include "frontends/web/server_pages.hpp"

#include "frontends/web/web_response.hpp"

namespace dirproxy::web {

Response index_page(const PageTemplates& templates, const config::Config& config, const Routes& routes) {
  struct Link {
    const char* path;
    const char* label;
    bool enabled;
  };
  const bool admin_console = config.web && !config.web->admin_groups.empty();
  const Link candidates[] = {
      {"/signup", "Create an account", config.signup.mode != config::SignupMode::disabled},
      {"/password/forgot", "Forgot your password?", config.mail.has_value()},
      {"/access", "Request access", config.access_requests.enabled},
      {"/login", "Administrators: sign in", admin_console},
  };
  mstch::array links;
  for (const Link& link : candidates) {
    if (!link.enabled || routes.find(link.path) == nullptr) continue;
    links.push_back(mstch::map{{"href", std::string(link.path)}, {"label", std::string(link.label)}});
  }
  Response response;
  response.body = templates.render_page("index", mstch::map{{"title", std::string("Home")}, {"has_links", !links.empty()}, {"links", links}});
  return response;
}

Response static_file(const PageTemplates& templates, std::string_view name) {
  const StaticFile* file = templates.file(name);
  if (file == nullptr) return error_page(templates, 404);
  Response response;
  response.content_type = file->content_type;
  response.body = file->content;
  response.headers.emplace_back("Cache-Control", "public, max-age=3600");
  return response;
}

}  // namespace dirproxy::web
