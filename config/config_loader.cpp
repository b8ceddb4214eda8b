// dirproxy's settings, read section by section: each setting is one line
// below -- its YAML key, the Config member that holds its default
// (config.hpp) and the typed parser with its range -- so adding a setting is
// one edit. The value formats particular to dirproxy sit next to the settings
// that use them, the presets and rules between keys of one section inside
// its reader, and the rules between sections at the end, on the finished
// Config. How a Section, a Field and the typed parsers work is
// yaml_reader.hpp's business; the format of the email templates is
// mail_template.hpp's.
//
// Exceptions stop here: yaml-cpp's become "syntax error" messages in
// yaml_reader.cpp, and anything unexpected becomes one error in
// load_config_text.
#include "config/config_loader.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "config/dns_name.hpp"
#include "config/email_address.hpp"
#include "config/ldap_dn_syntax.hpp"
#include "config/mail_template.hpp"
#include "config/mailbox.hpp"
#include "config/postgresql_url.hpp"
#include "config/text_file.hpp"
#include "config/yaml_reader.hpp"
#include "core/names.hpp"

namespace dirproxy::config {

namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// Value formats used by several settings

bool has_control_or_space(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte <= 0x20 || byte == 0x7f;
  });
}

// `prefix` is in lower case (a URL scheme).
bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  return ascii_lower(text.substr(0, prefix.size())) == prefix;
}

// These values end up in mail headers, where a line break is an injection:
// scalar() refuses control characters and line breaks in every value, and
// these must keep that even if other settings someday may not.
std::optional<std::string> single_line_text(const Field& field) { return non_empty_text(field); }

std::optional<std::string> url_with_scheme(const Field& field, std::initializer_list<std::string_view> schemes,
                                           std::string_view what) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  const bool scheme_ok = std::any_of(schemes.begin(), schemes.end(), [&](std::string_view scheme) {
    return value->size() > scheme.size() && starts_with_ignoring_case(*value, scheme);
  });
  if (!scheme_ok) {
    field.error("expected " + std::string(what) + ", got '" + *value + "'");
    return std::nullopt;
  }
  if (has_control_or_space(*value)) {
    field.error("must not contain spaces or control characters");
    return std::nullopt;
  }
  return value;
}

// ---------------------------------------------------------------------------
// site

std::optional<std::string> base_url(const Field& field) {
  auto value = url_with_scheme(field, {"http://", "https://"}, "a URL starting with http:// or https://");
  if (value && value->ends_with('/')) {
    field.warning("ends with '/', so links built as {base_url}/... will contain '//'");
  }
  return value;
}

std::optional<std::string> link_template(const Field& field) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  if (value->find("{token}") == std::string::npos) {
    field.error("must contain {token}, or the link cannot work");
    return std::nullopt;
  }
  if (has_control_or_space(*value)) {
    field.error("must not contain spaces or control characters");
    return std::nullopt;
  }
  return value;
}

void read_site(Section section, Site& site) {
  section.read("name", site.name, single_line_text);
  section.read("base_url", site.base_url, base_url);
  Section links = section.section("links");
  links.read("signup", site.links.signup, link_template);
  links.read("confirm", site.links.confirm, link_template);
  links.read("password_reset", site.links.password_reset, link_template);
}

// ---------------------------------------------------------------------------
// server

constexpr std::uint32_t kMaxSocketMode = 0777;

// Octal text such as "0660". yaml-cpp hands out an unquoted 0660 as the text
// "0660" too, so both spellings work and neither is read as decimal.
std::optional<std::uint32_t> socket_mode(const Field& field) {
  auto value = scalar(field, "an octal mode like \"0660\"");
  if (!value) return std::nullopt;
  const bool octal = !value->empty() && value->size() <= 4 &&
                     std::all_of(value->begin(), value->end(), [](char c) { return c >= '0' && c <= '7'; });
  if (!octal) {
    field.error("expected an octal mode like \"0660\", got '" + *value + "'");
    return std::nullopt;
  }
  const auto mode = static_cast<std::uint32_t>(std::stoul(*value, nullptr, 8));
  if (mode > kMaxSocketMode) {
    field.error("must be at most 0777");
    return std::nullopt;
  }
  return mode;
}

void read_server(Section section, Server& server, const fs::path& base_dir) {
  section.read("socket", server.socket, path_in(base_dir));
  section.read("socket_mode", server.socket_mode, socket_mode);
  section.read("socket_group", server.socket_group, text);
  section.read("max_request_bytes", server.max_request_bytes, whole_number<std::size_t>(1024));
  section.read("max_connections", server.max_connections, whole_number<std::size_t>(1));
  if (!section.has("admin_reserved_connections")) {
    server.admin_reserved_connections = std::min(server.admin_reserved_connections, server.max_connections - 1);
  } else if (section.read("admin_reserved_connections", server.admin_reserved_connections,
                          whole_number<std::size_t>(0)) &&
             server.admin_reserved_connections >= server.max_connections) {
    section.error_at("admin_reserved_connections",
                     "must be less than server.max_connections (" + std::to_string(server.max_connections) + ")");
  }
  section.read("idle_timeout", server.idle_timeout, positive_duration);
  section.read("workers", server.workers, whole_number<unsigned>(0, 1024));
  Section admins = section.section("admins");
  admins.read("users", server.admins.users, list_of(non_empty_text));
  admins.read("groups", server.admins.groups, list_of(non_empty_text));
}

// ---------------------------------------------------------------------------
// log

void read_log(Section section, Log& log) {
  section.read("level", log.level,
               one_of<LogLevel>({{"trace", LogLevel::trace},
                                 {"debug", LogLevel::debug},
                                 {"info", LogLevel::info},
                                 {"warn", LogLevel::warn},
                                 {"error", LogLevel::error}}));
  section.read("format", log.format, one_of<LogFormat>({{"text", LogFormat::text}, {"json", LogFormat::json}}));
  section.read("audit", log.audit, boolean);
}

// ---------------------------------------------------------------------------
// directories

std::optional<std::string> directory_name(const Field& field) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  const bool allowed = std::all_of(value->begin(), value->end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
  if (!allowed) {
    field.error("must match [a-z0-9_-]+, got '" + *value + "'");
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> ldap_uri(const Field& field) {
  return url_with_scheme(field, {"ldap://", "ldaps://"}, "a URI starting with ldap:// or ldaps://");
}

// One URI or a list of them, tried in order.
std::optional<std::vector<std::string>> ldap_uris(const Field& field) {
  if (field.node.IsScalar()) {
    auto uri = ldap_uri(field);
    if (!uri) return std::nullopt;
    return std::vector<std::string>{*uri};
  }
  if (!field.node.IsSequence()) {
    field.error("expected a URI or a list of URIs, got " + std::string(kind_of(field.node)));
    return std::nullopt;
  }
  auto uris = list_of(ldap_uri)(field);
  if (uris && uris->empty()) {
    field.error("must name at least one URI");
    return std::nullopt;
  }
  return uris;
}

// Active Directory's names for what the defaults spell the OpenLDAP way. They
// are applied before the keys are read, so any key the file sets wins.
void apply_active_directory_presets(LdapSettings& ldap) {
  ldap.users.object_class = "user";
  ldap.users.username_attribute = "sAMAccountName";
  ldap.users.display_name_attribute = "displayName";
  ldap.users.rdn_attribute = "cn";
  ldap.users.create_object_classes = {"top", "person", "organizationalPerson", "user"};
  ldap.users.disabled_attribute = "userAccountControl";
  ldap.users.disabled_bitmask = 2;  // ACCOUNTDISABLE
  ldap.groups.object_class = "group";
  ldap.groups.user_membership_attribute = "memberOf";
}

const auto search_scope = one_of<SearchScope>({{"one", SearchScope::one}, {"sub", SearchScope::sub}});

void read_ldap_users(Section section, LdapUsers& users) {
  section.read("base", users.base, text);
  section.read("scope", users.scope, search_scope);
  section.read("object_class", users.object_class, non_empty_text);
  section.read("filter", users.filter, text);
  section.read("username_attribute", users.username_attribute, non_empty_text);
  section.read("email_attribute", users.email_attribute, non_empty_text);
  section.read("display_name_attribute", users.display_name_attribute, non_empty_text);
  section.read("first_name_attribute", users.first_name_attribute, non_empty_text);
  section.read("last_name_attribute", users.last_name_attribute, non_empty_text);
  section.read("rdn_attribute", users.rdn_attribute, non_empty_text);
  section.read("create_object_classes", users.create_object_classes, list_of(non_empty_text));
  section.read("disabled_attribute", users.disabled_attribute, text);
  section.read("disabled_bitmask", users.disabled_bitmask, whole_number<std::uint64_t>(0));
}

void read_ldap_groups(Section section, LdapGroups& groups) {
  section.read("base", groups.base, text);
  section.read("scope", groups.scope, search_scope);
  section.read("object_class", groups.object_class, non_empty_text);
  section.read("name_attribute", groups.name_attribute, non_empty_text);
  section.read("description_attribute", groups.description_attribute, non_empty_text);
  section.read("member_attribute", groups.member_attribute, non_empty_text);
  section.read("member_format", groups.member_format,
               one_of<MemberFormat>({{"dn", MemberFormat::dn}, {"username", MemberFormat::username}}));
  section.read("user_membership_attribute", groups.user_membership_attribute, text);
}

void read_ldap_settings(Section& section, LdapSettings& ldap, const fs::path& base_dir) {
  section.read(
      "schema", ldap.schema,
      one_of<LdapSchema>({{"openldap", LdapSchema::openldap}, {"active_directory", LdapSchema::active_directory}}));
  if (ldap.schema == LdapSchema::active_directory) apply_active_directory_presets(ldap);
  section.read_required("uri", ldap.uri, ldap_uris);
  section.read("start_tls", ldap.start_tls, boolean);
  section.read("tls_ca_file", ldap.tls_ca_file, optional_readable_file_in(base_dir));
  section.read("tls_verify", ldap.tls_verify, boolean);
  section.read("bind_dn", ldap.bind_dn, text);
  read_secret_file(section, "bind_password_file", ldap.bind_password_file, ldap.bind_password, base_dir);
  section.read_required("base_dn", ldap.base_dn, non_empty_text);
  read_ldap_users(section.section("users"), ldap.users);
  read_ldap_groups(section.section("groups"), ldap.groups);
  section.read("nested_groups", ldap.nested_groups, boolean);
  section.read("nested_max_depth", ldap.nested_max_depth, whole_number<unsigned>(1, 64));
  section.read("page_size", ldap.page_size, whole_number<unsigned>(0, 100000));
  Section timeouts = section.section("timeouts");
  timeouts.read("connect", ldap.timeouts.connect, positive_duration);
  timeouts.read("operation", ldap.timeouts.operation, positive_duration);
  section.read("pool_size", ldap.pool_size, whole_number<unsigned>(1, 256));
  section.read("retry_backoff", ldap.retry_backoff, positive_duration);
  Section cache = section.section("cache");
  cache.read("ttl", ldap.cache.ttl, any_duration);
  cache.read("negative_ttl", ldap.cache.negative_ttl, any_duration);
  cache.read("max_entries", ldap.cache.max_entries, whole_number<std::size_t>(0));

  const bool any_ldaps = std::any_of(ldap.uri.begin(), ldap.uri.end(),
                                     [](const std::string& uri) { return starts_with_ignoring_case(uri, "ldaps://"); });
  if (ldap.start_tls && any_ldaps) {
    section.error_at("start_tls", "StartTLS is for ldap:// only (ldaps:// is TLS from the start)");
  }
}

// Reads one entry of `directories`; false when its type is unknown, so that
// the rules between directories leave it out.
bool read_directory(Section section, DirectoryConfig& directory, const fs::path& base_dir) {
  section.read_required("name", directory.name, directory_name);
  const bool typed = section.read_required(
      "type", directory.type,
      one_of<DirectoryType>({{"internal", DirectoryType::internal}, {"ldap", DirectoryType::ldap}}));
  if (!typed) {
    section.ignore_unread();
    return false;
  }
  section.read("on_unavailable", directory.on_unavailable,
               one_of<OnUnavailable>({{"fail", OnUnavailable::fail}, {"skip", OnUnavailable::skip}}));
  if (directory.type == DirectoryType::internal) {
    directory.permissions = Permissions::read_write;
    section.read("permissions", directory.permissions,
                 one_of<Permissions>({{"read_only", Permissions::read_only}, {"read_write", Permissions::read_write}}));
    // The ldap reader runs over a scratch copy only so that each ldap key
    // present here is named in an error, without a second list of those keys.
    section.refuse_every_key("only valid for type ldap");
    LdapSettings unused;
    read_ldap_settings(section, unused, base_dir);
  } else {
    directory.permissions = Permissions::read_only;
    section.read("permissions", directory.permissions,
                 one_of<Permissions>({{"read_only", Permissions::read_only},
                                      {"read_only_local_groups", Permissions::read_only_local_groups},
                                      {"read_write", Permissions::read_write}}));
    read_ldap_settings(section, directory.ldap, base_dir);
  }
  return true;
}

void check_directories(Diagnostics& diagnostics, const std::vector<DirectoryConfig>& directories,
                       const std::vector<bool>& typed) {
  auto path = [](std::size_t i, std::string_view key) {
    return "directories[" + std::to_string(i) + "]." + std::string(key);
  };
  auto error = [&](std::size_t i, std::string_view key, std::string_view message) {
    diagnostics.error(diagnostics.where(path(i, key), "directories[" + std::to_string(i) + "]"), path(i, key), message);
  };

  std::optional<std::size_t> internal;
  bool writable_internal = false;
  for (std::size_t i = 0; i < directories.size(); ++i) {
    if (!typed[i] || directories[i].type != DirectoryType::internal) continue;
    if (internal) {
      error(i, "type",
            "at most one directory of type internal (directories[" + std::to_string(*internal) + "] is one)");
      continue;
    }
    internal = i;
    writable_internal = directories[i].permissions == Permissions::read_write;
  }

  for (std::size_t i = 0; i < directories.size(); ++i) {
    const DirectoryConfig& directory = directories[i];
    for (std::size_t j = 0; j < i && !directory.name.empty(); ++j) {
      if (directories[j].name == directory.name) {
        error(i, "name",
              "duplicate directory name '" + directory.name + "' (directories[" + std::to_string(j) + "] has it too)");
        break;
      }
    }
    if (!typed[i] || directory.type != DirectoryType::ldap) continue;
    if (directory.permissions == Permissions::read_write && directory.ldap.bind_dn.empty()) {
      error(i, "permissions", "read_write requires bind_dn (writes need a service account)");
    }
    if (directory.permissions == Permissions::read_write &&
        directory.ldap.schema == LdapSchema::active_directory && !directory.ldap.start_tls) {
      // AD takes passwords (unicodePwd) only over an encrypted connection.
      std::string plain;
      for (const auto& uri : directory.ldap.uri) {
        if (!starts_with_ignoring_case(uri, "ldaps://")) plain += (plain.empty() ? "" : ", ") + uri;
      }
      if (!plain.empty()) {
        error(i, "permissions",
              "read_write with schema active_directory needs TLS, since Active Directory takes passwords only over "
              "an encrypted connection: use ldaps:// URIs or start_tls: true (not encrypted: " +
                  plain + ")");
      }
    }
    if (directory.permissions == Permissions::read_only_local_groups && !writable_internal) {
      error(i, "permissions",
            "read_only_local_groups requires a directory of type internal with permissions "
            "read_write (the local groups live there)");
    }
  }
}

auto directory_list(const fs::path& base_dir) {
  return [base_dir](const Field& field) -> std::optional<std::vector<DirectoryConfig>> {
    if (!field.node.IsSequence()) {
      field.error("expected a list of directories, got " + std::string(kind_of(field.node)));
      return std::nullopt;
    }
    if (field.node.size() == 0) {
      field.error("at least one directory is required");
      return std::nullopt;
    }
    std::vector<DirectoryConfig> directories(field.node.size());
    std::vector<bool> typed(field.node.size());
    for (std::size_t i = 0; i < directories.size(); ++i) {
      const Field item = field.item(i, field.node[i]);
      field.diagnostics->remember(item.path, item.mark);
      typed[i] = read_directory(Section(item), directories[i], base_dir);
    }
    check_directories(*field.diagnostics, directories, typed);
    return directories;
  };
}

// ---------------------------------------------------------------------------
// accounts

constexpr std::size_t kMaxPasswordLength = 65536;

std::optional<UsernamePattern> username_pattern(const Field& field) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  auto compiled = UsernamePattern::compile(*value);
  if (!compiled) {
    field.error("not a valid RE2 regular expression (" + compiled.error().message + ")");
    return std::nullopt;
  }
  return std::move(*compiled);
}

// An Argon2id cost: one of libsodium's named levels or a number. The levels
// are libsodium's crypto_pwhash_*_{INTERACTIVE,MODERATE,SENSITIVE} values,
// written out because this library does not link libsodium.
template <class T>
auto argon2_cost(std::array<T, 3> levels, T min, T max) {
  return [levels, min, max](const Field& field) -> std::optional<T> {
    auto value = scalar(field, "interactive|moderate|sensitive or a whole number");
    if (!value) return std::nullopt;
    if (*value == "interactive") return levels[0];
    if (*value == "moderate") return levels[1];
    if (*value == "sensitive") return levels[2];
    if (value->empty() || value->find_first_not_of("0123456789") != std::string::npos) {
      field.error("expected interactive|moderate|sensitive or a whole number, got '" + *value + "'");
      return std::nullopt;
    }
    return whole_number<T>(min, max)(field);
  };
}

void read_accounts(Section section, Accounts& accounts) {
  section.read("username_pattern", accounts.username_pattern, username_pattern);
  section.read("password_min_length", accounts.password_min_length, whole_number<std::size_t>(1, kMaxPasswordLength));
  section.read("password_max_length", accounts.password_max_length, whole_number<std::size_t>(1, kMaxPasswordLength));
  if (accounts.password_max_length < accounts.password_min_length) {
    section.error_at(section.has("password_max_length") ? "password_max_length" : "password_min_length",
                     "password_max_length (" + std::to_string(accounts.password_max_length) +
                         ") must be at least password_min_length (" + std::to_string(accounts.password_min_length) +
                         ")");
  }
  section.read("unique_email", accounts.unique_email, boolean);
  section.read("default_groups", accounts.default_groups, list_of(non_empty_text));
  section.read("admin_group", accounts.admin_group, text);
  Section hash = section.section("password_hash");
  hash.read("opslimit", accounts.password_hash.opslimit, argon2_cost<std::uint64_t>({2, 3, 4}, 1, 4294967295ULL));
  hash.read("memlimit", accounts.password_hash.memlimit,
            argon2_cost<std::size_t>({67108864, 268435456, 1073741824}, 8192, 4398046511104ULL));
}

// ---------------------------------------------------------------------------
// signup, invitations, password_reset, access_requests

std::optional<std::string> domain_pattern(const Field& field) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  if (!is_valid_domain_pattern(*value)) {
    field.error("expected a domain like example.com or *.example.com, got '" + *value + "'");
    return std::nullopt;
  }
  return ascii_lower(*value);
}

void read_signup(Section section, Signup& signup) {
  section.read(
      "mode", signup.mode,
      one_of<SignupMode>(
          {{"disabled", SignupMode::disabled}, {"open", SignupMode::open}, {"restricted", SignupMode::restricted}}));
  section.read("domains", signup.domains, list_of(domain_pattern));
  section.read("notify_admins", signup.notify_admins, boolean);
  section.read("confirmation_ttl", signup.confirmation_ttl, positive_duration);
}

void read_invitations(Section section, Invitations& invitations) {
  section.read("per_recipient", invitations.per_recipient, boolean);
  section.read("ttl", invitations.ttl, positive_duration);
  section.read("default_groups", invitations.default_groups, list_of(non_empty_text));
}

void read_password_reset(Section section, PasswordReset& password_reset) {
  section.read("ttl", password_reset.ttl, positive_duration);
  section.read("new_user_ttl", password_reset.new_user_ttl, positive_duration);
}

void read_access_requests(Section section, AccessRequests& access_requests) {
  section.read("enabled", access_requests.enabled, boolean);
}

// ---------------------------------------------------------------------------
// mail

// "address" or "Name <address>". The address goes into the envelope and the
// From header of every message, so it must pass the strict parser.
std::optional<std::string> mail_from(const Field& field) {
  auto value = single_line_text(field);
  if (!value) return std::nullopt;
  const auto mailbox = parse_mailbox(*value);
  if (!mailbox) {
    field.error("expected an address or Name <address>");
    return std::nullopt;
  }
  if (auto parsed = parse_email_address(mailbox->address); !parsed) {
    field.error("not a valid email address: " + parsed.reason);
    return std::nullopt;
  }
  return value;
}

void read_mail(Section section, Mail& mail, const fs::path& base_dir) {
  section.read("smtp_url", mail.smtp_url, [](const Field& field) {
    return url_with_scheme(field, {"smtp://", "smtps://"}, "a URL starting with smtp:// or smtps://");
  });
  // Only an explicit choice can conflict: the default, opportunistic, simply
  // does not apply to smtps://.
  const bool starttls_set = section.read(
      "starttls", mail.starttls,
      one_of<StartTls>(
          {{"none", StartTls::none}, {"opportunistic", StartTls::opportunistic}, {"required", StartTls::required}}));
  if (starttls_set && mail.starttls != StartTls::none && starts_with_ignoring_case(mail.smtp_url, "smtps://")) {
    section.error_at("starttls", "STARTTLS is for smtp:// only (smtps:// is TLS from the start); use none");
  }
  section.read("username", mail.username, text);
  read_secret_file(section, "password_file", mail.password_file, mail.password, base_dir);
  section.read_required("from", mail.from, mail_from);
  section.read("templates_dir", mail.templates_dir, optional_path_in(base_dir));
  if (!mail.templates_dir.empty()) {
    MailTemplateOverrides overrides = read_mail_template_overrides(mail.templates_dir);
    mail.templates = std::move(overrides.templates);
    for (const std::string& error : overrides.errors) section.error_at("templates_dir", error);
  }
  section.read("timeout", mail.timeout, positive_duration);
  section.read("max_attempts", mail.max_attempts, whole_number<unsigned>(1));
  section.read("retry_backoff", mail.retry_backoff, positive_duration);
  section.read("tls_ca_file", mail.tls_ca_file, optional_readable_file_in(base_dir));
}

// ---------------------------------------------------------------------------
// security

void read_security(Section section, Security& security) {
  Section lockout = section.section("lockout");
  lockout.read("max_failures", security.lockout.max_failures, whole_number<unsigned>(1));
  lockout.read("window", security.lockout.window, positive_duration);
  lockout.read("duration", security.lockout.duration, positive_duration);
  Section rate_limit = section.section("rate_limit");
  rate_limit.read("requests", security.rate_limit.requests, whole_number<unsigned>(1));
  rate_limit.read("per", security.rate_limit.per, positive_duration);
}

// ---------------------------------------------------------------------------
// metrics

// "ADDRESS:PORT": an IPv4 address, or an IPv6 address in brackets, and a
// port from 1 to 65535. Addresses only: a host name would be resolved once,
// at start, to whichever address the resolver answered first.
std::optional<ListenAddress> listen_address(const Field& field) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  auto refuse = [&](std::string_view why) {
    field.error("expected an IP address and port like 127.0.0.1:9464 or [::1]:9464, got '" + *value + "'" +
                std::string(why));
    return std::nullopt;
  };
  const auto colon = value->rfind(':');
  if (colon == std::string::npos) return refuse(" (no port)");
  std::string address = value->substr(0, colon);
  const std::string port_text = value->substr(colon + 1);
  int family = AF_INET;
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
    family = AF_INET6;
  }
  in6_addr parsed{};
  if (::inet_pton(family, address.c_str(), &parsed) != 1) return refuse("");
  const bool digits_only = !port_text.empty() && port_text.size() <= 5 &&
                           std::all_of(port_text.begin(), port_text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits_only) return refuse("");
  const unsigned long port = std::stoul(port_text);
  if (port < 1 || port > 65535) return refuse(" (the port must be 1 to 65535)");
  const bool loopback = family == AF_INET ? address.starts_with("127.") : address == "::1";
  if (!loopback) {
    field.warning("the metrics are served without authentication to anyone who can reach " + *value +
                  "; prefer a loopback address, or restrict who can connect");
  }
  return ListenAddress{std::move(address), static_cast<std::uint16_t>(port)};
}

void read_metrics(Section section, Metrics& metrics) { section.read("listen", metrics.listen, listen_address); }

// ---------------------------------------------------------------------------
// ldap_server

// Which of `schemes` ("ldap://", ...) `rest` starts with, compared
// ignoring case, with `rest` moved past it; nullopt for none.
std::optional<std::size_t> take_scheme(std::string_view& rest, std::initializer_list<std::string_view> schemes) {
  std::size_t index = 0;
  for (const std::string_view scheme : schemes) {
    if (starts_with_ignoring_case(rest, scheme)) {
      rest.remove_prefix(scheme.size());
      return index;
    }
    ++index;
  }
  return std::nullopt;
}

// The HOST[:PORT] part of a listener's URL (after its scheme, one trailing
// '/' allowed), HOST bracketed when it is an IPv6 address.
struct ListenAuthority {
  std::string_view host;  // without the brackets
  bool bracketed = false;
  std::optional<std::string_view> port;  // as written; listen_port() reads it
};

// Splits `rest`; nullopt with `why` (appended to the caller's message, ""
// when the message says it all) when it is malformed. What the host and
// the port may be is the caller's check.
std::optional<ListenAuthority> split_listen_authority(std::string_view rest, std::string& why) {
  if (rest.ends_with('/')) rest.remove_suffix(1);
  ListenAuthority authority;
  authority.host = rest;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) {
      why = " (no ']' after the IPv6 address)";
      return std::nullopt;
    }
    authority.host = rest.substr(1, close - 1);
    authority.bracketed = true;
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return std::nullopt;
    if (!after.empty()) authority.port = after.substr(1);
  } else if (const auto colon = rest.find(':'); colon != std::string_view::npos) {
    authority.host = rest.substr(0, colon);
    authority.port = rest.substr(colon + 1);
  }
  return authority;
}

// A port from 1 to 65535, or nullopt.
std::optional<std::uint16_t> listen_port(std::string_view text) {
  const bool digits_only =
      !text.empty() && text.size() <= 5 && text.find_first_not_of("0123456789") == std::string_view::npos;
  const unsigned long port = digits_only ? std::stoul(std::string(text)) : 0;
  if (port < 1 || port > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(port);
}

// "ldap://HOST[:PORT]" or "ldaps://HOST[:PORT]", HOST an IPv4 address, an
// IPv6 address in brackets or a DNS name; the port defaults to the scheme's
// (389, 636). Nothing may follow but one "/": a listener has no DN, filter
// or extensions to take from an LDAP URL.
std::optional<LdapListenUri> ldap_listen_uri(const Field& field) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  auto refuse = [&](std::string_view why) -> std::optional<LdapListenUri> {
    field.error(
        "expected ldap://HOST[:PORT] or ldaps://HOST[:PORT] with HOST an IPv4 address, [IPv6] address or "
        "DNS name, got '" +
        *value + "'" + std::string(why));
    return std::nullopt;
  };
  LdapListenUri listen;
  listen.uri = *value;
  std::string_view rest = *value;
  const auto scheme = take_scheme(rest, {"ldap://", "ldaps://"});
  if (!scheme) return refuse("");
  const bool ldaps = *scheme == 1;
  listen.scheme = ldaps ? LdapListenScheme::ldaps : LdapListenScheme::ldap;
  listen.port = ldaps ? 636 : 389;
  std::string why;
  const auto authority = split_listen_authority(rest, why);
  if (!authority) return refuse(why);
  const std::string host(authority->host);
  if (authority->bracketed) {
    in6_addr parsed{};
    if (::inet_pton(AF_INET6, host.c_str(), &parsed) != 1) return refuse(" (not an IPv6 address in the brackets)");
  } else {
    if (host.empty()) return refuse(" (no host)");
    // Digits and dots only must be an IPv4 address: "10.1.1" is no name.
    const bool dotted_digits = host.find_first_not_of("0123456789.") == std::string::npos;
    in_addr parsed{};
    const bool valid = dotted_digits ? ::inet_pton(AF_INET, host.c_str(), &parsed) == 1 : is_valid_dns_name(host);
    if (!valid) return refuse("");
  }
  if (authority->port) {
    const auto port = listen_port(*authority->port);
    if (!port) return refuse(" (the port must be 1 to 65535)");
    listen.port = *port;
  }
  listen.host = host;
  return listen;
}

// At least one URI, and no two on the same host and port, which the second
// listener could not bind.
std::optional<std::vector<LdapListenUri>> ldap_listen_uris(const Field& field) {
  auto uris = list_of(ldap_listen_uri)(field);
  if (!uris) return std::nullopt;
  if (uris->empty()) {
    field.error("must name at least one URI");
    return std::nullopt;
  }
  for (std::size_t i = 0; i < uris->size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if ((*uris)[i].port == (*uris)[j].port && ascii_lower((*uris)[i].host) == ascii_lower((*uris)[j].host)) {
        field.item(i, field.node[i]).error("the same host and port as listen[" + std::to_string(j) + "]");
        return std::nullopt;
      }
    }
  }
  return uris;
}

std::optional<std::string> ldap_dn(const Field& field) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  if (!is_ldap_dn(*value)) {
    field.error("not a valid LDAPv3 distinguished name (RFC 4514), got '" + *value + "'");
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> absolute_path_template(const Field& field) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  if (!value->starts_with('/')) {
    field.error("must be an absolute path (starting with '/'), got '" + *value + "'");
    return std::nullopt;
  }
  return value;
}

// uidNumber and gidNumber are signed 32-bit numbers on many systems.
constexpr std::uint32_t kMaxPosixId = 2147483647;
// Enough for a bind request with a long DN and password.
constexpr std::size_t kMinLdapRequestBytes = 1024;

void read_ldap_posix(Section section, LdapPosix& posix) {
  section.read("uid_number_min", posix.uid_number_min, whole_number<std::uint32_t>(1, kMaxPosixId));
  section.read("gid_number_min", posix.gid_number_min, whole_number<std::uint32_t>(1, kMaxPosixId));
  section.read("home_directory", posix.home_directory, absolute_path_template);
  section.read("login_shell", posix.login_shell, non_empty_text);
}

void read_ldap_server_limits(Section section, LdapServerLimits& limits) {
  section.read("max_connections", limits.max_connections, whole_number<std::size_t>(1));
  section.read("idle_timeout", limits.idle_timeout, positive_duration);
  // Compared only when neither is invalid: a refused value leaves the
  // default, and a second message about it would mislead.
  const bool anonymous_ok = section.read("max_request_bytes_anonymous", limits.max_request_bytes_anonymous,
                                         whole_number<std::size_t>(kMinLdapRequestBytes)) ||
                            !section.has("max_request_bytes_anonymous");
  const bool bound_ok =
      section.read("max_request_bytes", limits.max_request_bytes, whole_number<std::size_t>(kMinLdapRequestBytes)) ||
      !section.has("max_request_bytes");
  if (anonymous_ok && bound_ok && limits.max_request_bytes < limits.max_request_bytes_anonymous) {
    section.error_at(section.has("max_request_bytes") ? "max_request_bytes" : "max_request_bytes_anonymous",
                     "max_request_bytes (" + std::to_string(limits.max_request_bytes) +
                         ") must be at least max_request_bytes_anonymous (" +
                         std::to_string(limits.max_request_bytes_anonymous) + ")");
  }
  section.read("size_limit", limits.size_limit, whole_number<std::size_t>(1));
  section.read("time_limit", limits.time_limit, positive_duration);
}

void read_ldap_server(Section section, LdapServer& server, const fs::path& base_dir) {
  section.read_required("listen", server.listen, ldap_listen_uris);
  section.read_required("base_dn", server.base_dn, ldap_dn);
  if (auto field = section.take("tls")) {
    server.tls.emplace();
    Section tls(*field);
    tls.read_required("certificate_file", server.tls->certificate_file, readable_file_in(base_dir));
    tls.read_required("key_file", server.tls->key_file, readable_file_in(base_dir));
  }
  const bool any_ldaps = std::any_of(server.listen.begin(), server.listen.end(), [](const LdapListenUri& listen) {
    return listen.scheme == LdapListenScheme::ldaps;
  });
  if (any_ldaps && !server.tls) {
    section.error_at("tls", "required when a listen URI is ldaps:// (certificate_file and key_file)");
  }
  section.read("plaintext_binds", server.plaintext_binds,
               one_of<PlaintextBinds>({{"never", PlaintextBinds::never},
                                       {"loopback", PlaintextBinds::loopback},
                                       {"always", PlaintextBinds::always}}));
  section.read("anonymous", server.anonymous,
               one_of<AnonymousAccess>({{"root_dse", AnonymousAccess::root_dse}, {"read", AnonymousAccess::read}}));
  section.read("user_read", server.user_read, one_of<UserRead>({{"self", UserRead::self}, {"all", UserRead::all}}));
  read_ldap_posix(section.section("posix"), server.posix);
  read_ldap_server_limits(section.section("limits"), server.limits);
}

// ---------------------------------------------------------------------------
// applications

constexpr std::size_t kMaxApplicationNameLength = 64;

std::optional<std::string> application_name(const Field& field) {
  auto value = directory_name(field);
  if (value && value->size() > kMaxApplicationNameLength) {
    field.error("must be at most " + std::to_string(kMaxApplicationNameLength) + " characters");
    return std::nullopt;
  }
  return value;
}

// What `dirproxyctl hash-password` prints: checked by libsodium's own
// decoder, so that a truncated or mangled string fails now rather than at
// every bind. The string is never quoted: it is as good as the password to
// someone who can afford to guess.
std::optional<std::string> argon2id_string(const Field& field) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  const PasswordHash cost;  // any cost does: only -1, "not a string of this algorithm", matters
  const bool decodes = value->starts_with("$argon2id$") &&
                       crypto_pwhash_argon2id_str_needs_rehash(value->c_str(), cost.opslimit, cost.memlimit) != -1;
  if (!decodes) {
    field.error("expected an Argon2id string starting with $argon2id$ (dirproxyctl hash-password prints one)");
    return std::nullopt;
  }
  return value;
}

// A local account that may act for an application over the socket: its
// name, resolved through NSS now (a typo would otherwise leave the
// application unrestricted without a word), or a decimal uid taken as is.
std::optional<std::string> socket_user(const Field& field, uid_t& uid) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  if (std::all_of(value->begin(), value->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), uid);
    if (ec != std::errc() || end != value->data() + value->size() || uid == static_cast<uid_t>(-1)) {
      field.error("not a uid: " + *value);
      return std::nullopt;
    }
    return value;
  }
  std::vector<char> buffer(16384);
  struct passwd entry {};
  struct passwd* found = nullptr;
  const int rc = ::getpwnam_r(value->c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0 || found == nullptr) {
    field.error("no local account '" + *value + "' (write a uid to name one that does not exist yet)");
    return std::nullopt;
  }
  uid = found->pw_uid;
  return value;
}

// An application's own tree: a DN, or empty for none (the contract's
// example writes `base_dn: ""`).
std::optional<std::string> ldap_dn_or_none(const Field& field) {
  auto value = text(field);
  if (!value || value->empty()) return value;
  return ldap_dn(field);
}

void read_socket_users(Section& section, Application& application) {
  auto field = section.take("socket_users");
  if (!field) return;
  if (!field->node.IsSequence()) {
    field->error("expected a list of local account names or uids, got " + std::string(kind_of(field->node)));
    return;
  }
  for (std::size_t i = 0; i < field->node.size(); ++i) {
    uid_t uid = 0;
    const Field item = field->item(i, field->node[i]);
    field->diagnostics->remember(item.path, item.mark);  // for the rule between applications
    if (auto name = socket_user(item, uid)) {
      application.socket_users.push_back(std::move(*name));
      application.socket_uids.push_back(uid);
    }
  }
}

void read_application(Section section, Application& application) {
  section.read_required("name", application.name, application_name);
  section.read("access_groups", application.access_groups, list_of(non_empty_text));
  read_socket_users(section, application);
  if (auto field = section.take("ldap")) {
    ApplicationLdap& ldap = application.ldap.emplace();
    Section ldap_section(*field);
    ldap_section.read_required("password_hash", ldap.password_hash, argon2id_string);
    ldap_section.read("base_dn", ldap.base_dn, ldap_dn_or_none);
    ldap_section.read("may_write", ldap.may_write, boolean);
  }
}

std::optional<std::vector<Application>> application_list(const Field& field) {
  if (!field.node.IsSequence()) {
    field.error("expected a list of applications, got " + std::string(kind_of(field.node)));
    return std::nullopt;
  }
  std::vector<Application> applications(field.node.size());
  for (std::size_t i = 0; i < applications.size(); ++i) {
    const Field item = field.item(i, field.node[i]);
    field.diagnostics->remember(item.path, item.mark);
    read_application(Section(item), applications[i]);
  }
  for (std::size_t i = 0; i < applications.size(); ++i) {
    for (std::size_t j = 0; j < i && !applications[i].name.empty(); ++j) {
      if (applications[j].name != applications[i].name) continue;
      const std::string path = field.path + "[" + std::to_string(i) + "].name";
      field.diagnostics->error(field.diagnostics->where(path), path,
                               "duplicate application name '" + applications[i].name + "' (" + field.path + "[" +
                                   std::to_string(j) + "] has it too)");
      break;
    }
  }
  // One uid acts for one application, or a connection's application would
  // depend on the order of the list.
  for (std::size_t i = 0; i < applications.size(); ++i) {
    for (std::size_t k = 0; k < applications[i].socket_uids.size(); ++k) {
      for (std::size_t j = 0; j < i; ++j) {
        const auto& earlier = applications[j].socket_uids;
        if (std::find(earlier.begin(), earlier.end(), applications[i].socket_uids[k]) == earlier.end()) continue;
        const std::string path = field.path + "[" + std::to_string(i) + "].socket_users[" + std::to_string(k) + "]";
        field.diagnostics->error(field.diagnostics->where(path), path,
                                 "uid " + std::to_string(applications[i].socket_uids[k]) +
                                     " already acts for application '" + applications[j].name + "'");
      }
    }
  }
  return applications;
}

// ---------------------------------------------------------------------------
// web

// "http://ADDRESS[:PORT]" or "https://ADDRESS[:PORT]": an IPv4 address or an
// IPv6 address in brackets (a host name would be resolved once, at start);
// the port defaults to the scheme's. Nothing may follow but one "/".
std::optional<WebListen> web_listen(const Field& field) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  auto refuse = [&](std::string_view why) -> std::optional<WebListen> {
    field.error("expected http://ADDRESS[:PORT] or https://ADDRESS[:PORT] with an IPv4 or [IPv6] address, got '" +
                *value + "'" + std::string(why));
    return std::nullopt;
  };
  WebListen listen;
  listen.url = *value;
  std::string_view rest = *value;
  const auto scheme = take_scheme(rest, {"http://", "https://"});
  if (!scheme) return refuse("");
  const bool https = *scheme == 1;
  listen.scheme = https ? WebScheme::https : WebScheme::http;
  listen.port = https ? 443 : 80;
  std::string why;
  const auto authority = split_listen_authority(rest, why);
  if (!authority) return refuse(why);
  const std::string host(authority->host);
  in6_addr parsed{};
  if (::inet_pton(authority->bracketed ? AF_INET6 : AF_INET, host.c_str(), &parsed) != 1) {
    return refuse(" (not an IP address)");
  }
  if (authority->port) {
    const auto port = listen_port(*authority->port);
    if (!port) return refuse(" (the port must be 1 to 65535)");
    listen.port = *port;
  }
  listen.address = host;
  return listen;
}

// An IP address, or a network as ADDRESS/PREFIX ("10.0.0.0/8", "fd00::/8").
std::optional<std::string> proxy_address(const Field& field) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  const auto slash = value->find('/');
  const std::string address = value->substr(0, slash);
  const int family = address.find(':') == std::string::npos ? AF_INET : AF_INET6;
  in6_addr parsed{};
  bool valid = ::inet_pton(family, address.c_str(), &parsed) == 1;
  if (valid && slash != std::string::npos) {
    const std::string prefix = value->substr(slash + 1);
    const unsigned max_prefix = family == AF_INET ? 32 : 128;
    valid = !prefix.empty() && prefix.size() <= 3 && prefix.find_first_not_of("0123456789") == std::string::npos &&
            std::stoul(prefix) <= max_prefix;
  }
  if (!valid) {
    field.error("expected an IP address or a network like 10.0.0.0/8 or fd00::/8, got '" + *value + "'");
    return std::nullopt;
  }
  return value;
}

// Every NAME.html of `dir` (a template override), sorted by name; other
// files are left alone. Whether NAME is a template is the web pages' check.
constexpr std::size_t kMaxWebFileBytes = 256 * 1024;

void read_web_templates(Section& section, Web& web) {
  std::error_code ec;
  if (!fs::is_directory(web.templates_dir, ec)) {
    section.error_at("templates_dir", "not a readable directory: " + web.templates_dir);
    return;
  }
  std::vector<fs::path> files;
  for (auto it = fs::directory_iterator(web.templates_dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (it->path().extension() == ".html") files.push_back(it->path());
  }
  if (ec) {
    section.error_at("templates_dir", "cannot read " + web.templates_dir + ": " + ec.message());
    return;
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    std::string reason;
    auto text = read_text_file(file, kMaxWebFileBytes, reason);
    if (!text) {
      section.error_at("templates_dir", reason);
      continue;
    }
    web.templates.push_back(WebTemplateOverride{file.stem().string(), std::move(*text)});
  }
}

void read_web_limits(Section section, WebLimits& limits) {
  section.read("max_connections", limits.max_connections, whole_number<std::size_t>(1));
  section.read("max_header_bytes", limits.max_header_bytes, whole_number<std::size_t>(1024, 1024 * 1024));
  section.read("max_body_bytes", limits.max_body_bytes, whole_number<std::size_t>(1024, 16 * 1024 * 1024));
  section.read("read_timeout", limits.read_timeout, positive_duration);
  section.read("idle_timeout", limits.idle_timeout, positive_duration);
  section.read("write_timeout", limits.write_timeout, positive_duration);
}

void read_web(Section section, Web& web, const fs::path& base_dir) {
  section.read_required("listen", web.listen, web_listen);
  if (auto field = section.take("tls")) {
    web.tls.emplace();
    Section tls(*field);
    tls.read_required("certificate_file", web.tls->certificate_file, readable_file_in(base_dir));
    tls.read_required("key_file", web.tls->key_file, readable_file_in(base_dir));
  }
  if (web.listen.scheme == WebScheme::https && !web.tls) {
    section.error_at("tls", "required when listen is https:// (certificate_file and key_file)");
  }
  if (web.listen.scheme == WebScheme::http && web.tls) {
    section.error_at("tls", "has no effect: listen is http://, so no TLS is served");
  }
  section.read("trusted_proxies", web.trusted_proxies, list_of(proxy_address));
  section.read("admin_groups", web.admin_groups, list_of(non_empty_text));
  section.read("session_ttl", web.session_ttl, positive_duration);
  section.read("templates_dir", web.templates_dir, optional_path_in(base_dir));
  if (!web.templates_dir.empty()) read_web_templates(section, web);
  section.read("stylesheet_file", web.stylesheet_file, optional_readable_file_in(base_dir));
  if (!web.stylesheet_file.empty()) {
    std::string reason;
    if (auto text = read_text_file(web.stylesheet_file, kMaxWebFileBytes, reason)) {
      web.stylesheet = std::move(*text);
    } else {
      section.error_at("stylesheet_file", reason);
    }
  }
  read_web_limits(section.section("limits"), web.limits);
}

// ---------------------------------------------------------------------------
// state

// A timeout of libpq's or of the server's: both count in whole seconds
// (connect_timeout) or would cut every query short below one.
std::optional<Duration> state_timeout(const Field& field) {
  auto value = positive_duration(field);
  if (value && *value < std::chrono::seconds(1)) {
    field.error("must be at least 1s");
    return std::nullopt;
  }
  return value;
}

// True when the section has a url, valid or not.
bool read_postgresql_state(Section section, PostgresqlState& postgresql, const fs::path& base_dir) {
  const bool has_url = section.has("url");
  section.read("url", postgresql.url, [](const Field& field) -> std::optional<std::string> {
    auto value = non_empty_text(field);
    if (!value) return std::nullopt;
    if (auto parsed = parse_postgresql_url(*value); !parsed) {
      field.error(parsed.reason);
      return std::nullopt;
    }
    return value;
  });
  std::string password_file;
  read_secret_file(section, "password_file", password_file, postgresql.password, base_dir);
  postgresql.password_file = password_file;
  section.read("pool_size", postgresql.pool_size, whole_number<std::size_t>(1, 256));
  section.read("connect_timeout", postgresql.connect_timeout, state_timeout);
  section.read("statement_timeout", postgresql.statement_timeout, state_timeout);
  return has_url;
}

void read_state(Section section, State& state, const fs::path& base_dir) {
  // An invalid backend has its message; the rules below are about valid ones.
  const bool backend_given = section.has("backend");
  const bool backend_read = section.read(
      "backend", state.backend,
      one_of<StateBackend>({{"sqlite", StateBackend::sqlite}, {"postgresql", StateBackend::postgresql}}));
  const bool backend_valid = backend_read || !backend_given;
  const std::optional<Field> postgresql = section.take("postgresql");
  const bool has_url = postgresql && read_postgresql_state(Section(*postgresql), state.postgresql, base_dir);
  // An invalid url has had its own message.
  if (state.backend == StateBackend::postgresql && !has_url) {
    section.error_at("backend", "postgresql requires state.postgresql.url");
  }
  if (backend_valid && state.backend == StateBackend::sqlite && postgresql) {
    postgresql->warning("has no effect: state.backend is sqlite");
  }
}

// ---------------------------------------------------------------------------
// The whole file

void read_settings(Section& top, Config& config, const fs::path& base_dir) {
  read_site(top.section("site"), config.site);
  read_server(top.section("server"), config.server, base_dir);
  top.read("state_dir", config.state_dir, path_in(base_dir));
  read_state(top.section("state"), config.state, base_dir);
  read_log(top.section("log"), config.log);
  top.read("user_management", config.user_management,
           one_of<UserManagement>({{"internal", UserManagement::internal}, {"external", UserManagement::external}}));
  top.read("membership", config.membership,
           one_of<Membership>({{"aggregate", Membership::aggregate}, {"first", Membership::first}}));
  top.read_required("directories", config.directories, directory_list(base_dir));
  read_accounts(top.section("accounts"), config.accounts);
  read_signup(top.section("signup"), config.signup);
  read_invitations(top.section("invitations"), config.invitations);
  read_password_reset(top.section("password_reset"), config.password_reset);
  read_access_requests(top.section("access_requests"), config.access_requests);
  // Present means configured, even when invalid, so that the rules below do
  // not add "requires mail" to the mail section's own errors.
  if (auto field = top.take("mail")) {
    config.mail.emplace();
    read_mail(Section(*field), *config.mail, base_dir);
  }
  read_security(top.section("security"), config.security);
  read_metrics(top.section("metrics"), config.metrics);
  // Present means a listener, as for mail.
  if (auto field = top.take("ldap_server")) {
    config.ldap_server.emplace();
    read_ldap_server(Section(*field), *config.ldap_server, base_dir);
  }
  top.read("applications", config.applications, application_list);
  if (auto field = top.take("web")) {
    config.web.emplace();
    read_web(Section(*field), *config.web, base_dir);
  }
}

void check_cross_field_rules(const Config& config, Diagnostics& diagnostics) {
  auto error = [&](const std::string& path, const std::string& fallback, std::string_view message) {
    diagnostics.error(diagnostics.where(path, fallback), path, message);
  };
  auto warning = [&](const std::string& path, const std::string& fallback, std::string_view message) {
    diagnostics.warning(diagnostics.where(path, fallback), path, message);
  };
  const bool signup_enabled = config.signup.mode != SignupMode::disabled;

  if (config.signup.mode == SignupMode::restricted) {
    if (!config.mail) {
      error("signup.mode", "", "restricted requires a mail section (addresses are confirmed by email)");
    }
    if (config.signup.domains.empty()) {
      error("signup.domains", "signup.mode", "signup.mode restricted requires at least one domain");
    }
  }
  if (config.access_requests.enabled && !config.mail) {
    error("access_requests.enabled", "", "true requires a mail section (admins are told by email)");
  }
  if (signup_enabled && config.signup.notify_admins && !config.mail) {
    warning("signup.notify_admins", "signup.mode", "no mail section, so admins will not be notified of new accounts");
  }
  if (signup_enabled && config.user_management == UserManagement::external) {
    warning("signup.mode", "", "has no effect: user_management is external, so signup is refused");
  }
  if (config.web && config.site.base_url == Site{}.base_url) {
    warning("site.base_url", "web", "is not set, so the links in mail point at http://localhost, not at the web pages");
  }
  if (config.web && config.web->listen.scheme == WebScheme::http && config.web->trusted_proxies.empty()) {
    const std::string& address = config.web->listen.address;
    if (!address.starts_with("127.") && address != "::1") {
      warning("web.listen", "web",
              "serves passwords over plain HTTP to a non-loopback address with no trusted_proxies; listen on "
              "https://, or behind a TLS proxy on loopback");
    }
  }
  for (std::size_t i = 0; i < config.applications.size() && !config.ldap_server; ++i) {
    if (!config.applications[i].ldap) continue;
    const std::string path = "applications[" + std::to_string(i) + "].ldap";
    warning(path, "", "has no effect: there is no ldap_server section, so nothing listens for LDAP binds");
  }
}

std::optional<Config> parse(std::string_view yaml, Diagnostics& diagnostics, const fs::path& base_dir) {
  std::optional<YAML::Node> document = parse_document(yaml, diagnostics);
  if (!document) return std::nullopt;

  Config config;
  {
    Section top = Section::top(diagnostics, *document);
    read_settings(top, config, base_dir);
  }  // reports the unknown top-level keys
  check_cross_field_rules(config, diagnostics);
  return config;
}

}  // namespace

LoadResult load_config_text(std::string_view yaml, const std::string& display_name,
                            const std::filesystem::path& base_dir) {
  Diagnostics diagnostics(display_name);
  std::optional<Config> config;
  try {
    std::error_code ec;
    fs::path absolute_base = fs::absolute(base_dir.empty() ? fs::path(".") : base_dir, ec);
    if (ec) absolute_base = base_dir;
    config = parse(yaml, diagnostics, absolute_base.lexically_normal());
  } catch (const std::exception& e) {
    // Not expected: yaml-cpp's node accessors are only used on checked kinds.
    diagnostics.file_error(std::string("cannot load: ") + e.what());
  }

  LoadResult result;
  result.errors = diagnostics.errors();
  result.warnings = diagnostics.warnings();
  if (result.errors.empty() && config) {
    config->source = display_name;
    result.config = std::move(config);
  }
  return result;
}

LoadResult load_config_file(const std::filesystem::path& path) {
  std::string reason;
  std::optional<std::string> content;
  try {
    content = read_text_file(path, kMaxConfigFileBytes, reason);
  } catch (const std::exception& e) {
    reason = e.what();
  }
  if (!content) {
    LoadResult result;
    result.errors.push_back(reason);  // names the file already
    return result;
  }
  LoadResult result = load_config_text(*content, path.string(), path.parent_path());
  if (result.config) {
    std::error_code ec;
    // Absolute, so that a reload finds the file after the daemon changes directory.
    const fs::path absolute = fs::absolute(path, ec);
    result.config->source = ec ? path : absolute.lexically_normal();
  }
  return result;
}

}  // namespace dirproxy::config
