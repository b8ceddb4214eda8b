#include "ctl/output.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/unicode_text.hpp"

namespace dirproxy::ctl {
namespace {

// Width in terminal columns, approximated by UTF-8 code points so that names
// with accents still line up (wide CJK glyphs are off by one column each).
std::size_t text_width(const std::string& text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

void pad_to(std::string& out, std::size_t used, std::size_t width) {
  if (used < width) out.append(width - used, ' ');
}

// `format` of one number, e.g. hex("\\u%04x", 0x1b) is "\u001b".
std::string hex(const char* format, unsigned number) {
  char text[16];
  std::snprintf(text, sizeof text, format, number);
  return text;
}

}  // namespace

std::string terminal_safe(std::string_view text) {
  std::string safe;
  safe.reserve(text.size());
  while (!text.empty()) {
    const auto character = decode_utf8(text);
    if (!character) {
      safe += hex("\\x%02x", static_cast<unsigned char>(text.front()));
      text.remove_prefix(1);
      continue;
    }
    if (hazard_of(character->code_point) == TextHazard::none) {
      safe += text.substr(0, character->bytes);
    } else {
      safe += hex("\\u%04x", static_cast<unsigned>(character->code_point));
    }
    text.remove_prefix(character->bytes);
  }
  return safe;
}

std::string display_value(const Json& value) {
  if (value.is_null()) return "-";
  if (value.is_string()) return terminal_safe(value.get<std::string>());
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number_float()) {
    double number = value.get<double>();
    if (std::isfinite(number) && number == std::floor(number)) {
      return std::to_string(static_cast<long long>(number));
    }
    return value.dump();
  }
  if (value.is_array()) {
    if (value.empty()) return "-";
    std::string joined;
    for (const auto& item : value) {
      if (!joined.empty()) joined += ", ";
      joined += display_value(item);
    }
    return joined;
  }
  return terminal_safe(value.dump(-1, ' ', false, Json::error_handler_t::replace));
}

std::string format_json(const Json& result) {
  // ensure_ascii: nlohmann writes every character beyond ASCII, and every
  // control character (DEL too), as a \u escape.
  return result.dump(2, ' ', /*ensure_ascii=*/true, Json::error_handler_t::replace) + "\n";
}

const Json& member(const Json& object, const char* key) {
  static const Json none;
  if (!object.is_object()) return none;
  auto it = object.find(key);
  return it == object.end() ? none : *it;
}

std::string display_member(const Json& object, const char* key) { return display_value(member(object, key)); }

std::string format_fields(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::size_t key_width = 0;
  for (const auto& [key, value] : fields) key_width = std::max(key_width, text_width(key) + 1);
  std::string out;
  for (const auto& [key, value] : fields) {
    out += key;
    out += ':';
    pad_to(out, text_width(key) + 1, key_width);
    out += ' ';
    out += value;
    out += '\n';
  }
  return out;
}

std::string format_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], text_width(row[i]));
    }
  };
  measure(header);
  for (const auto& row : rows) measure(row);

  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      if (i > 0) line += "  ";
      line += row[i];
      if (i + 1 < row.size()) pad_to(line, text_width(row[i]), widths[i]);
    }
    // An empty last cell would otherwise leave the padding of the one before.
    line.erase(line.find_last_not_of(' ') + 1);
    out += line;
    out += '\n';
  };
  emit(header);
  for (const auto& row : rows) emit(row);
  return out;
}

std::string format_user(const Json& user) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"username", display_member(user, "username")},         {"email", display_member(user, "email")},
      {"display name", display_member(user, "display_name")}, {"first name", display_member(user, "first_name")},
      {"last name", display_member(user, "last_name")},       {"active", display_member(user, "active")},
      {"directory", display_member(user, "directory")},
  };
  if (user.is_object() && user.contains("groups")) {
    fields.emplace_back("groups", display_member(user, "groups"));
  }
  return format_fields(fields);
}

std::string format_user_table(const Json& users) {
  std::vector<std::vector<std::string>> rows;
  if (users.is_array()) {
    for (const auto& user : users) {
      rows.push_back({display_member(user, "username"), display_member(user, "email"),
                      display_member(user, "display_name"), display_member(user, "directory"),
                      display_member(user, "active")});
    }
  }
  return format_table({"USERNAME", "EMAIL", "DISPLAY NAME", "DIRECTORY", "ACTIVE"}, rows);
}

std::string format_group(const Json& group) {
  std::string out = format_fields({
      {"name", display_member(group, "name")},
      {"description", display_member(group, "description")},
      {"directory", display_member(group, "directory")},
  });
  const Json empty = Json::array();
  const Json& members =
      group.is_object() && group.contains("members") && group["members"].is_array() ? group["members"] : empty;
  out += "members:";
  out += members.empty() ? " -\n" : "\n";
  for (const auto& member : members) out += "  " + display_value(member) + "\n";
  return out;
}

std::string format_directory_table(const Json& directories) {
  std::vector<std::vector<std::string>> rows;
  if (directories.is_array()) {
    for (const auto& directory : directories) {
      std::string detail = display_member(directory, "detail");
      rows.push_back({display_member(directory, "name"), display_member(directory, "type"),
                      display_member(directory, "permissions"), display_member(directory, "status"),
                      display_member(directory, "users"), detail == "-" ? "" : detail});
    }
  }
  return format_table({"NAME", "TYPE", "PERMISSIONS", "STATUS", "USERS", "DETAIL"}, rows);
}

std::string format_state_line(const Json& state) {
  if (!state.is_object()) return "";
  return "\nstate: " + display_member(state, "backend") + " " + display_member(state, "location") + "\n";
}

std::string format_application_table(const Json& applications) {
  std::vector<std::vector<std::string>> rows;
  if (applications.is_array()) {
    for (const auto& application : applications) {
      const Json& access_groups = member(application, "access_groups");
      const Json& ldap = member(application, "ldap");
      const bool has_ldap = ldap.is_object();
      rows.push_back({display_member(application, "name"),
                      access_groups.is_array() && access_groups.empty() ? "everyone" : display_value(access_groups),
                      display_member(application, "socket_users"), has_ldap ? "yes" : "no",
                      has_ldap ? display_member(ldap, "base_dn") : "-",
                      has_ldap ? display_member(ldap, "may_write") : "-",
                      display_member(application, "admitted_users")});
    }
  }
  return format_table({"NAME", "ACCESS GROUPS", "SOCKET USERS", "LDAP", "BASE DN", "MAY WRITE", "USERS"}, rows);
}

std::string format_user_access(const Json& access) {
  return format_fields({
      {"username", display_member(access, "username")},
      {"groups", display_member(access, "groups")},
      {"applications", display_member(access, "applications")},
  });
}

std::string format_name_list(const Json& names) {
  std::string out;
  if (names.is_array()) {
    for (const auto& name : names) out += display_value(name) + "\n";
  }
  return out;
}

std::string format_ping(const Json& result) {
  std::string uptime = display_member(result, "uptime_s");
  if (result.is_object() && result.contains("uptime_s") && result["uptime_s"].is_number()) {
    // Whole seconds: a fractional uptime is noise for a human.
    uptime = std::to_string(static_cast<long long>(result["uptime_s"].get<double>()));
  }
  return "dirproxyd " + display_member(result, "version") + ", up " + uptime + " s\n";
}

std::string format_backup(const Json& result) {
  return "backup written to " + display_member(result, "path") + " (" + display_member(result, "bytes") + " bytes)\n";
}

}  // namespace dirproxy::ctl
