// The files built into dirproxyd for the web pages: every file of
// frontends/web/assets/ (page templates NAME.html, the stylesheet
// dirproxy.css, scripts), embedded at build time by embed_web_assets.cmake.
#pragma once

#include <string_view>
#include <vector>

namespace dirproxy::web {

struct BuiltinAsset {
  std::string_view name;  // the file name, e.g. "signup.html"
  std::string_view content;
};

// Sorted by name.
const std::vector<BuiltinAsset>& builtin_assets();

}  // namespace dirproxy::web
