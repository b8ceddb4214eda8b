#include "frontends/web/page_templates.hpp"

#include "frontends/web/builtin_web_assets.hpp"

namespace dirproxy::web {
namespace {

constexpr std::string_view kTemplateSuffix = ".html";
constexpr std::string_view kStylesheet = "dirproxy.css";

std::string content_type_of(std::string_view name) {
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".png")) return "image/png";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

}  // namespace

Result<std::shared_ptr<const PageTemplates>> PageTemplates::build(const config::Config& config) {
  std::shared_ptr<PageTemplates> templates(new PageTemplates());
  templates->site_name_ = config.site.name;
  for (const BuiltinAsset& asset : builtin_assets()) {
    if (asset.name.ends_with(kTemplateSuffix)) {
      const std::string_view name = asset.name.substr(0, asset.name.size() - kTemplateSuffix.size());
      templates->templates_.emplace(std::string(name), std::string(asset.content));
    } else {
      templates->files_.emplace(std::string(asset.name),
                                StaticFile{std::string(asset.content), content_type_of(asset.name)});
    }
  }
  if (config.web) {
    for (const config::WebTemplateOverride& override_file : config.web->templates) {
      auto found = templates->templates_.find(override_file.name);
      if (found == templates->templates_.end()) {
        return make_error(ErrorCode::bad_request, "web.templates_dir: " + override_file.name +
                                                      ".html is not one of the built-in templates (docs/web.md)");
      }
      found->second = override_file.text;
    }
    if (!config.web->stylesheet_file.empty()) {
      templates->files_[std::string(kStylesheet)].content = config.web->stylesheet;
    }
  }
  return std::shared_ptr<const PageTemplates>(std::move(templates));
}

std::string PageTemplates::render(std::string_view name, const mstch::map& context) const {
  const auto found = templates_.find(std::string(name));
  if (found == templates_.end()) return {};
  return mstch::render(found->second, context, templates_);
}

std::string PageTemplates::render_page(std::string_view name, mstch::map context, std::string_view layout) const {
  context["site_name"] = site_name_;
  std::string content = render(name, context);
  context["content"] = std::move(content);
  return render(layout, context);
}

const StaticFile* PageTemplates::file(std::string_view name) const {
  const auto found = files_.find(name);
  return found == files_.end() ? nullptr : &found->second;
}

}  // namespace dirproxy::web
