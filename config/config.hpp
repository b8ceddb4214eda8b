// The configuration of dirproxyd, as loaded from one YAML file (see
// docs/configuration.md). A Config is immutable once
// loaded: every setting has its default here, and config_loader.cpp holds the
// YAML key and the validation of each setting next to each other.
//
// Nothing in this module knows about directories, sockets or JSON.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/username_pattern.hpp"

namespace dirproxy::config {

using Duration = std::chrono::milliseconds;

enum class LogLevel { trace, debug, info, warn, error };
enum class LogFormat { text, json };
enum class UserManagement { internal, external };
enum class Membership { aggregate, first };
enum class DirectoryType { internal, ldap };
enum class Permissions { read_only, read_only_local_groups, read_write };
enum class OnUnavailable { fail, skip };
enum class LdapSchema { openldap, active_directory };
enum class SearchScope { one, sub };
enum class MemberFormat { dn, username };
enum class SignupMode { disabled, open, restricted };
enum class StartTls { none, opportunistic, required };
enum class LdapListenScheme { ldap, ldaps };
enum class PlaintextBinds { never, loopback, always };
enum class AnonymousAccess { root_dse, read };
enum class UserRead { self, all };
enum class WebScheme { http, https };
enum class StateBackend { sqlite, postgresql };

struct SiteLinks {
  std::string signup = "{base_url}/signup?token={token}";
  std::string confirm = "{base_url}/signup/confirm?token={token}";
  std::string password_reset = "{base_url}/password/reset?token={token}";
};

struct Site {
  std::string name = "dirproxy";
  std::string base_url = "http://localhost";
  SiteLinks links;
};

struct Admins {
  std::vector<std::string> users;   // local account names
  std::vector<std::string> groups;  // local group names
};

struct Server {
  std::filesystem::path socket = "/run/dirproxy/dirproxy.sock";
  std::uint32_t socket_mode = 0660;
  std::string socket_group;  // empty = the daemon's group
  std::size_t max_request_bytes = 65536;
  std::size_t max_connections = 1024;
  // Of max_connections, how many only admins may take (PostgreSQL's
  // superuser_reserved_connections), so that a flood of connections leaves
  // an admin room to act. Less than max_connections; when the file does not
  // set it, 3, or max_connections - 1 when that is smaller.
  std::size_t admin_reserved_connections = 3;
  Duration idle_timeout = std::chrono::minutes(5);
  unsigned workers = 0;  // 0 = number of cores
  Admins admins;
};

struct Log {
  LogLevel level = LogLevel::info;
  LogFormat format = LogFormat::text;
  bool audit = true;
};

struct LdapUsers {
  std::string base = "ou=people";
  SearchScope scope = SearchScope::sub;
  std::string object_class = "inetOrgPerson";
  std::string filter;
  std::string username_attribute = "uid";
  std::string email_attribute = "mail";
  std::string display_name_attribute = "cn";
  std::string first_name_attribute = "givenName";
  std::string last_name_attribute = "sn";
  std::string rdn_attribute = "uid";
  std::vector<std::string> create_object_classes = {"inetOrgPerson"};
  std::string disabled_attribute;
  std::uint64_t disabled_bitmask = 0;
};

struct LdapGroups {
  std::string base = "ou=groups";
  SearchScope scope = SearchScope::sub;
  std::string object_class = "groupOfNames";
  std::string name_attribute = "cn";
  std::string description_attribute = "description";
  std::string member_attribute = "member";
  MemberFormat member_format = MemberFormat::dn;
  std::string user_membership_attribute;
};

struct LdapTimeouts {
  Duration connect = std::chrono::seconds(3);
  Duration operation = std::chrono::seconds(5);
};

struct Cache {
  Duration ttl = std::chrono::minutes(5);  // 0 = no caching
  Duration negative_ttl = std::chrono::seconds(30);
  std::size_t max_entries = 100000;
};

// Settings of an ldap directory; unused for type internal. For schema
// active_directory the loader applies AD's presets to every key the file
// does not set explicitly.
struct LdapSettings {
  LdapSchema schema = LdapSchema::openldap;
  std::vector<std::string> uri = {"ldap://127.0.0.1:389"};
  bool start_tls = false;
  std::string tls_ca_file;
  bool tls_verify = true;
  std::string bind_dn;
  std::string bind_password_file;
  std::string bind_password;  // the secret read from bind_password_file
  std::string base_dn;
  LdapUsers users;
  LdapGroups groups;
  bool nested_groups = false;
  unsigned nested_max_depth = 8;
  unsigned page_size = 500;
  LdapTimeouts timeouts;
  unsigned pool_size = 4;
  Duration retry_backoff = std::chrono::seconds(1);
  Cache cache;
};

struct DirectoryConfig {
  std::string name;
  DirectoryType type = DirectoryType::internal;
  Permissions permissions = Permissions::read_only;  // internal defaults to read_write
  OnUnavailable on_unavailable = OnUnavailable::fail;
  LdapSettings ldap;
};

// libsodium Argon2id cost; the named levels resolve to libsodium's constants.
struct PasswordHash {
  std::uint64_t opslimit = 2;       // crypto_pwhash_OPSLIMIT_INTERACTIVE
  std::size_t memlimit = 67108864;  // crypto_pwhash_MEMLIMIT_INTERACTIVE
};

struct Accounts {
  UsernamePattern username_pattern;  // "^[a-z0-9][a-z0-9._-]{0,63}$"
  std::size_t password_min_length = 10;
  std::size_t password_max_length = 1024;
  bool unique_email = true;
  std::vector<std::string> default_groups;
  std::string admin_group;
  PasswordHash password_hash;
};

struct Signup {
  SignupMode mode = SignupMode::disabled;
  std::vector<std::string> domains;  // lower-cased; "example.com" or "*.example.com"
  bool notify_admins = true;
  Duration confirmation_ttl = std::chrono::hours(24);
};

struct Invitations {
  bool per_recipient = true;
  Duration ttl = std::chrono::hours(24 * 7);
  std::vector<std::string> default_groups;
};

struct PasswordReset {
  Duration ttl = std::chrono::hours(24);
  Duration new_user_ttl = std::chrono::hours(24 * 7);
};

struct AccessRequests {
  bool enabled = false;
};

// An email template override read from mail.templates_dir at load time; the
// names and the format are mail_template.hpp's.
struct TemplateOverride {
  std::string name;     // signup_confirm, invitation, ...
  std::string subject;  // without "Subject: "
  std::string body;
};

struct Mail {
  std::string smtp_url = "smtp://127.0.0.1:25";
  StartTls starttls = StartTls::opportunistic;
  std::string username;
  std::string password_file;
  std::string password;  // the secret read from password_file
  std::string from;      // required
  std::string templates_dir;
  std::vector<TemplateOverride> templates;
  Duration timeout = std::chrono::seconds(10);
  unsigned max_attempts = 10;
  Duration retry_backoff = std::chrono::seconds(30);
  // CA bundle that verifies the SMTP server's certificate; empty = the
  // system's. For servers with a private CA.
  std::string tls_ca_file;
};

struct Lockout {
  unsigned max_failures = 10;
  Duration window = std::chrono::minutes(15);
  Duration duration = std::chrono::minutes(15);
};

struct RateLimit {
  unsigned requests = 20;
  Duration per = std::chrono::hours(1);
};

struct Security {
  Lockout lockout;
  RateLimit rate_limit;
};

// A TCP address to listen on.
struct ListenAddress {
  std::string address;  // an IPv4 or IPv6 literal (without brackets)
  std::uint16_t port = 0;
};

struct Metrics {
  std::optional<ListenAddress> listen;  // absent = no metrics listener
};

// One address of the LDAP front end, as written ("ldaps://[::1]:1636") and
// parsed.
struct LdapListenUri {
  std::string uri;  // as written in the file
  LdapListenScheme scheme = LdapListenScheme::ldap;
  std::string host;        // an IPv4 or IPv6 literal (without brackets), or a DNS name
  std::uint16_t port = 0;  // 389 for ldap://, 636 for ldaps:// when the URI has none
};

// The certificate and key of the LDAP front end. Only the paths: they are
// checked readable at load, and the server reads them itself.
struct LdapServerTls {
  std::string certificate_file;  // PEM chain
  std::string key_file;
};

// The POSIX attributes of the entries the LDAP front end serves.
struct LdapPosix {
  std::uint32_t uid_number_min = 10000;  // numbers are allocated from here up
  std::uint32_t gid_number_min = 10000;
  std::string home_directory = "/home/{username}";
  std::string login_shell = "/bin/bash";
};

struct LdapServerLimits {
  std::size_t max_connections = 4096;
  Duration idle_timeout = std::chrono::minutes(5);
  std::size_t max_request_bytes_anonymous = 262143;  // before a bind
  std::size_t max_request_bytes = 4194303;           // once bound; at least the anonymous one
  std::size_t size_limit = 1000;                     // entries of one search without paging
  Duration time_limit = std::chrono::seconds(30);
};

// The LDAPv3 listener (LDAP.md). Service accounts are the applications with
// an ldap section.
struct LdapServer {
  std::vector<LdapListenUri> listen;  // at least one
  std::string base_dn;                // a valid LDAPv3 DN, as written
  std::optional<LdapServerTls> tls;   // always set when a listen URI is ldaps://
  PlaintextBinds plaintext_binds = PlaintextBinds::loopback;
  AnonymousAccess anonymous = AnonymousAccess::root_dse;
  UserRead user_read = UserRead::self;
  LdapPosix posix;
  LdapServerLimits limits;
};

// An application's LDAP identity: it binds as cn=NAME,ou=services,BASE.
struct ApplicationLdap {
  std::string password_hash;  // an Argon2id string (dirproxyctl hash-password)
  // A tree of the application's own, served beside ldap_server.base_dn and
  // holding only the users the application admits; empty = none. A valid
  // DN, neither under nor above ldap_server.base_dn or another
  // application's base_dn.
  std::string base_dn;
  bool may_write = false;  // add/modify/delete, and setting others' passwords
};

// An application that uses the directory (APPLICATIONS.md).
struct Application {
  std::string name;  // unique, [a-z0-9_-]{1,64}
  // The groups whose members may authenticate through the application, as
  // written (group names; compared folded, as the chain compares them);
  // empty = everyone.
  std::vector<std::string> access_groups;
  // The local accounts whose socket connections act for the application,
  // as written: account names or decimal uids. A uid is in at most one
  // application's list.
  std::vector<std::string> socket_users;
  // socket_users resolved to uids when the file was loaded (names through
  // NSS): a reload resolves them again.
  std::vector<uid_t> socket_uids;
  std::optional<ApplicationLdap> ldap;
};

// The web listener's address, as written ("https://[::1]:8443") and parsed.
struct WebListen {
  std::string url;  // as written in the file
  WebScheme scheme = WebScheme::http;
  std::string address;     // an IPv4 or IPv6 literal (without brackets)
  std::uint16_t port = 0;  // 80 for http://, 443 for https:// when the URL has none
};

// The certificate and key of the web listener (https://). Only the paths:
// checked readable at load; the server reads them itself.
struct WebTls {
  std::string certificate_file;  // PEM chain
  std::string key_file;
};

// A file of web.templates_dir, read when the file is loaded: NAME.html
// replaces the built-in template NAME (frontends/web checks the name).
struct WebTemplateOverride {
  std::string name;  // the file name without ".html"
  std::string text;
};

struct WebLimits {
  std::size_t max_connections = 512;
  std::size_t max_header_bytes = 8192;
  std::size_t max_body_bytes = 65536;  // a form; larger bodies get 413
  Duration read_timeout = std::chrono::seconds(20);   // to read one request, head and body
  Duration idle_timeout = std::chrono::seconds(60);   // between requests of a keep-alive connection
  Duration write_timeout = std::chrono::seconds(20);  // to write one answer
};

// The HTTP listener of the web pages and admin console (WEB.md).
struct Web {
  WebListen listen;
  std::optional<WebTls> tls;  // always set when listen is https://
  // Addresses ("192.0.2.7", "2001:db8::1") or networks ("10.0.0.0/8")
  // whose X-Forwarded-For and X-Forwarded-Proto are believed, as written;
  // checked valid at load.
  std::vector<std::string> trusted_proxies;
  // Directory groups whose members may sign in to /admin; empty = no console.
  std::vector<std::string> admin_groups;
  Duration session_ttl = std::chrono::minutes(30);  // idle time before an admin session ends
  std::string templates_dir;                        // "" = built-in templates only
  std::vector<WebTemplateOverride> templates;       // read from templates_dir
  std::string stylesheet_file;                      // "" = the built-in stylesheet
  std::string stylesheet;                           // read from stylesheet_file
  WebLimits limits;
};

// state.postgresql (SCALE.md): one database shared by several nodes.
struct PostgresqlState {
  std::string url;                      // libpq connection URI, without a password
  std::filesystem::path password_file;  // "" = none (peer, ~/.pgpass, client certificates)
  std::string password;                 // read from password_file at load
  std::size_t pool_size = 8;            // connections per node
  Duration connect_timeout = std::chrono::seconds(5);
  Duration statement_timeout = std::chrono::seconds(10);

  // A reload compares the running settings with the file's: any change
  // waits for a restart.
  bool operator==(const PostgresqlState&) const = default;
};

// Where the shared state lives: state_dir/dirproxy.db, or PostgreSQL.
struct State {
  StateBackend backend = StateBackend::sqlite;
  PostgresqlState postgresql;  // read when present; required when backend is postgresql

  bool operator==(const State&) const = default;
};

struct Config {
  Site site;
  Server server;
  std::filesystem::path state_dir = "/var/lib/dirproxy";
  State state;
  Log log;
  UserManagement user_management = UserManagement::internal;
  Membership membership = Membership::aggregate;
  std::vector<DirectoryConfig> directories;
  Accounts accounts;
  Signup signup;
  Invitations invitations;
  PasswordReset password_reset;
  AccessRequests access_requests;
  std::optional<Mail> mail;  // absent = no mail server configured
  Security security;
  Metrics metrics;
  std::optional<LdapServer> ldap_server;  // absent = no LDAP listener
  std::vector<Application> applications;
  std::optional<Web> web;  // absent = no HTTP listener

  std::filesystem::path source;  // the file this was loaded from
};

}  // namespace dirproxy::config
