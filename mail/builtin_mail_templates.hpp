// The texts of the emails dirproxy sends when mail.templates_dir does not
// override them, in the template format of config/mail_template.hpp. Plain
// English, short, and each says why the reader gets it and what to do when
// they did not ask for it.
#pragma once

#include <string_view>

namespace dirproxy {

// The built-in text of template `name` (one of config::kMailTemplateNames);
// empty for any other name.
std::string_view builtin_mail_template(std::string_view name);

}  // namespace dirproxy
