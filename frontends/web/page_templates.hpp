// The page templates and static files of the web front end: the built-in
// ones (assets/, builtin_web_assets.hpp), with web.templates_dir's
// overrides and web.stylesheet_file in their place. Templates are mustache,
// rendered by mstch: {{name}} is HTML-escaped, so a value can never become
// markup; only {{{content}}} in a layout inserts HTML, the page's own.
//
// Built once per configuration (at start and at each reload) and shared
// read-only by every request.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <mstch/mstch.hpp>

#include "config/config.hpp"
#include "core/result.hpp"

namespace dirproxy::web {

// A file served at /static/NAME.
struct StaticFile {
  std::string content;
  std::string content_type;  // from the extension: text/css, text/javascript, image/png, image/svg+xml
};

class PageTemplates final {
 public:
  // The built-in templates and files with `config.web`'s overrides.
  // bad_request naming the file when an override's name is not a built-in
  // template (a typo would otherwise be ignored silently).
  static Result<std::shared_ptr<const PageTemplates>> build(const config::Config& config);

  // Template `name` rendered with `context`; every template is also a
  // partial ({{> name}}) of every other.
  std::string render(std::string_view name, const mstch::map& context) const;

  // Template `name` rendered with `context`, then placed in `layout`: the
  // layout sees the same context, plus `content` (the page's HTML) and
  // `site_name` (site.name).
  std::string render_page(std::string_view name, mstch::map context, std::string_view layout = "layout") const;

  // The file /static/NAME serves, or null.
  const StaticFile* file(std::string_view name) const;

  bool has_template(std::string_view name) const { return templates_.count(std::string(name)) != 0; }

 private:
  PageTemplates() = default;

  std::string site_name_;
  std::map<std::string, std::string> templates_;  // name (no .html) → text; also the partials
  std::map<std::string, StaticFile, std::less<>> files_;
};

}  // namespace dirproxy::web
