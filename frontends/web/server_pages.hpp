// The pages the web server answers itself, beside the routes of the public
// pages and the admin console: the home page at "/", which links to the
// pages this site has enabled (so a person who types the bare address
// finds them), and the files of /static/.
#pragma once

#include <string_view>

#include "config/config.hpp"
#include "frontends/web/page_templates.hpp"
#include "frontends/web/web_page.hpp"

namespace dirproxy::web {

// "/": index.html with a link to each public page that `routes` has and
// `config` enables: signup (signup.mode open or restricted), forgot
// password (a mail section), request access (access_requests.enabled),
// and the admin sign-in (web.admin_groups not empty).
Response index_page(const PageTemplates& templates, const config::Config& config, const Routes& routes);

// /static/NAME: the file, cacheable for an hour (Cache-Control: public,
// max-age=3600), or the 404 page.
Response static_file(const PageTemplates& templates, std::string_view name);

}  // namespace dirproxy::web
