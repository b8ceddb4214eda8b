// Each setting's parser and range: enums, numbers, durations, booleans,
// URLs, the username pattern, the Argon2id cost, mail and security.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_test_support.hpp"

namespace dirproxy::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::kMinimal;
using testing::load;
using testing::load_ok;

// The errors of kMinimal followed by `yaml` (which starts on line 4).
std::vector<std::string> errors_of(const std::string& yaml) { return load(kMinimal + yaml).errors; }

constexpr const char* kMail = "mail:\n  from: dirproxy@example.com\n";  // lines 4-5

TEST(Settings, EveryWordOfAnEnumIsAccepted) {
  const Config config = load_ok(kMinimal +
                                "log:\n  level: warn\n  format: json\n  audit: false\n"
                                "user_management: external\n"
                                "membership: first\n");
  EXPECT_EQ(config.log.level, LogLevel::warn);
  EXPECT_EQ(config.log.format, LogFormat::json);
  EXPECT_FALSE(config.log.audit);
  EXPECT_EQ(config.user_management, UserManagement::external);
  EXPECT_EQ(config.membership, Membership::first);
}

TEST(Settings, EnumErrorListsTheAllowedWords) {
  EXPECT_THAT(errors_of("membership: union\n"),
              ElementsAre("dirproxy.yaml:4:13: membership: expected one of aggregate|first, got 'union'"));
}

TEST(Settings, EnumWordsAreCaseSensitive) {
  EXPECT_THAT(errors_of("log:\n  format: JSON\n"),
              ElementsAre("dirproxy.yaml:5:11: log.format: expected one of text|json, got 'JSON'"));
}

TEST(Settings, BooleansAreTrueOrFalseOnly) {
  EXPECT_THAT(errors_of("log:\n  audit: yes\n"),
              ElementsAre("dirproxy.yaml:5:10: log.audit: expected true or false, got 'yes'"));
}

TEST(Settings, SocketModeIsReadAsOctal) {
  EXPECT_EQ(load_ok(kMinimal + "server:\n  socket_mode: \"0600\"\n").server.socket_mode, 0600u);
  EXPECT_EQ(load_ok(kMinimal + "server:\n  socket_mode: 0640\n").server.socket_mode, 0640u);
}

TEST(Settings, SocketModeRefusesNonOctalAndTooLarge) {
  EXPECT_THAT(errors_of("server:\n  socket_mode: \"0680\"\n"),
              ElementsAre("dirproxy.yaml:5:16: server.socket_mode: expected an octal mode like \"0660\", got '0680'"));
  EXPECT_THAT(errors_of("server:\n  socket_mode: \"1777\"\n"),
              ElementsAre("dirproxy.yaml:5:16: server.socket_mode: must be at most 0777"));
  EXPECT_THAT(errors_of("server:\n  socket_mode: rw\n"),
              ElementsAre("dirproxy.yaml:5:16: server.socket_mode: expected an octal mode like \"0660\", got 'rw'"));
}

TEST(Settings, ServerNumbersAreRangeChecked) {
  EXPECT_THAT(errors_of("server:\n"
                        "  max_request_bytes: 1023\n"
                        "  max_connections: 0\n"
                        "  workers: 1025\n"
                        "  idle_timeout: 0s\n"),
              ElementsAre("dirproxy.yaml:5:22: server.max_request_bytes: must be at least 1024",
                          "dirproxy.yaml:6:20: server.max_connections: must be at least 1",
                          "dirproxy.yaml:7:12: server.workers: must be at most 1024",
                          "dirproxy.yaml:8:17: server.idle_timeout: must be greater than 0"));
}

TEST(Settings, AdminsKeepThreeConnectionsByDefault) {
  EXPECT_EQ(load_ok(kMinimal).server.admin_reserved_connections, 3u);
  EXPECT_EQ(load_ok(kMinimal + "server:\n  admin_reserved_connections: 0\n").server.admin_reserved_connections, 0u);
  EXPECT_EQ(load_ok(kMinimal + "server:\n  max_connections: 10\n  admin_reserved_connections: 9\n")
                .server.admin_reserved_connections,
            9u);
}

// A file that sets a small max_connections and says nothing of the reserve
// must not become invalid: the default reserve leaves others one connection.
TEST(Settings, TheDefaultAdminReserveShrinksBelowASmallMaxConnections) {
  EXPECT_EQ(load_ok(kMinimal + "server:\n  max_connections: 2\n").server.admin_reserved_connections, 1u);
  EXPECT_EQ(load_ok(kMinimal + "server:\n  max_connections: 1\n").server.admin_reserved_connections, 0u);
}

TEST(Settings, AnAdminReserveOfAllConnectionsIsRefused) {
  EXPECT_THAT(errors_of("server:\n  max_connections: 10\n  admin_reserved_connections: 10\n"),
              ElementsAre("dirproxy.yaml:6:31: server.admin_reserved_connections: must be less than "
                          "server.max_connections (10)"));
  EXPECT_THAT(errors_of("server:\n  admin_reserved_connections: 2000\n"),
              ElementsAre("dirproxy.yaml:5:31: server.admin_reserved_connections: must be less than "
                          "server.max_connections (1024)"));
}

TEST(Settings, NumbersRefuseSignsAndFractions) {
  EXPECT_THAT(errors_of("server:\n  workers: -1\n  max_connections: 1.5\n"),
              ElementsAre("dirproxy.yaml:5:12: server.workers: expected a whole number, got '-1'",
                          "dirproxy.yaml:6:20: server.max_connections: expected a whole number, got '1.5'"));
}

TEST(Settings, NumberBeyondSixtyFourBitsIsTooLarge) {
  EXPECT_THAT(errors_of("server:\n  max_connections: 99999999999999999999999\n"),
              ElementsAre("dirproxy.yaml:5:20: server.max_connections: must be at most 18446744073709551615"));
}

TEST(Settings, DurationsAcceptUnitsAndBareSeconds) {
  const Config config = load_ok(kMinimal +
                                "server:\n  idle_timeout: 90\n"
                                "invitations:\n  ttl: 3d\n"
                                "security:\n  lockout:\n    window: 500ms\n");
  EXPECT_EQ(config.server.idle_timeout, std::chrono::seconds(90));
  EXPECT_EQ(config.invitations.ttl, std::chrono::hours(72));
  EXPECT_EQ(config.security.lockout.window, std::chrono::milliseconds(500));
}

TEST(Settings, ZeroDurationIsRefusedWhereItMakesNoSense) {
  EXPECT_THAT(errors_of("signup:\n  confirmation_ttl: 0\n"
                        "password_reset:\n  ttl: 0s\n"),
              ElementsAre("dirproxy.yaml:5:21: signup.confirmation_ttl: must be greater than 0",
                          "dirproxy.yaml:7:8: password_reset.ttl: must be greater than 0"));
}

TEST(Settings, BadDurationSaysWhatADurationLooksLike) {
  EXPECT_THAT(errors_of("password_reset:\n  new_user_ttl: 1 week\n"),
              ElementsAre("dirproxy.yaml:5:17: password_reset.new_user_ttl: expected a duration like 5s"));
}

TEST(Settings, SiteBaseUrlMustBeHttpOrHttps) {
  EXPECT_THAT(errors_of("site:\n  base_url: ftp://example.com\n"),
              ElementsAre("dirproxy.yaml:5:13: site.base_url: expected a URL starting with http:// or "
                          "https://, got 'ftp://example.com'"));
}

TEST(Settings, SiteBaseUrlRefusesTrailingWhitespace) {
  EXPECT_THAT(errors_of("site:\n  base_url: \"https://example.com \"\n"),
              ElementsAre("dirproxy.yaml:5:13: site.base_url: must not contain spaces or control characters"));
}

TEST(Settings, SiteLinkMustContainTheToken) {
  EXPECT_THAT(errors_of("site:\n  links:\n    confirm: \"{base_url}/confirm\"\n"),
              ElementsAre("dirproxy.yaml:6:14: site.links.confirm: must contain {token}, or the link cannot work"));
}

TEST(Settings, SiteNameRefusesLineBreaks) {
  EXPECT_THAT(errors_of("site:\n  name: \"a\\nBcc: x@evil.com\"\n"),
              ElementsAre("dirproxy.yaml:5:9: site.name: must not contain control characters or line breaks"));
}

TEST(Settings, UsernamePatternMustCompile) {
  EXPECT_THAT(errors_of("accounts:\n  username_pattern: \"^[a-z\"\n"),
              ElementsAre("dirproxy.yaml:5:21: accounts.username_pattern: not a valid RE2 regular expression "
                          "(missing ]: [a-z)"));
}

TEST(Settings, UsernamePatternIsRe2SyntaxWithoutBackreferencesOrLookaround) {
  // ECMAScript would take both; RE2 has neither, since it never backtracks.
  EXPECT_THAT(errors_of("accounts:\n  username_pattern: \"^(a)\\\\1$\"\n"),
              ElementsAre("dirproxy.yaml:5:21: accounts.username_pattern: not a valid RE2 regular expression "
                          "(invalid escape sequence: \\1)"));
  EXPECT_THAT(errors_of("accounts:\n  username_pattern: \"^(?!root$)[a-z]+$\"\n"),
              ElementsAre("dirproxy.yaml:5:21: accounts.username_pattern: not a valid RE2 regular expression "
                          "(invalid perl operator: (?!)"));
}

TEST(Settings, UsernamePatternIsKeptAsWritten) {
  const Config config = load_ok(kMinimal + "accounts:\n  username_pattern: \"^[a-z]{2,8}$\"\n");

  EXPECT_EQ(config.accounts.username_pattern.text(), "^[a-z]{2,8}$");
  EXPECT_TRUE(config.accounts.username_pattern.matches("alice"));
  EXPECT_FALSE(config.accounts.username_pattern.matches("a"));
}

TEST(Settings, PasswordMaxLengthMustNotBeBelowMin) {
  EXPECT_THAT(errors_of("accounts:\n  password_min_length: 12\n  password_max_length: 8\n"),
              ElementsAre("dirproxy.yaml:6:24: accounts.password_max_length: password_max_length (8) must "
                          "be at least password_min_length (12)"));
}

TEST(Settings, PasswordMinAboveDefaultMaxIsReportedOnTheMin) {
  EXPECT_THAT(errors_of("accounts:\n  password_min_length: 2000\n"),
              ElementsAre("dirproxy.yaml:5:24: accounts.password_min_length: password_max_length (1024) must "
                          "be at least password_min_length (2000)"));
}

TEST(Settings, PasswordLengthsAreBounded) {
  EXPECT_THAT(errors_of("accounts:\n  password_min_length: 0\n  password_max_length: 65537\n"),
              ElementsAre("dirproxy.yaml:5:24: accounts.password_min_length: must be at least 1",
                          "dirproxy.yaml:6:24: accounts.password_max_length: must be at most 65536"));
}

TEST(Settings, PasswordHashLevelsMapToLibsodiumConstants) {
  const Config config =
      load_ok(kMinimal + "accounts:\n  password_hash:\n    opslimit: sensitive\n    memlimit: moderate\n");
  EXPECT_EQ(config.accounts.password_hash.opslimit, 4u);
  EXPECT_EQ(config.accounts.password_hash.memlimit, 268435456u);
}

TEST(Settings, PasswordHashAcceptsNumbersWithinLibsodiumLimits) {
  const Config config = load_ok(kMinimal + "accounts:\n  password_hash:\n    opslimit: 1\n    memlimit: 8192\n");
  EXPECT_EQ(config.accounts.password_hash.opslimit, 1u);
  EXPECT_EQ(config.accounts.password_hash.memlimit, 8192u);
  EXPECT_THAT(errors_of("accounts:\n  password_hash:\n    opslimit: 0\n    memlimit: 8191\n"),
              ElementsAre("dirproxy.yaml:6:15: accounts.password_hash.opslimit: must be at least 1",
                          "dirproxy.yaml:7:15: accounts.password_hash.memlimit: must be at least 8192"));
  EXPECT_THAT(errors_of("accounts:\n  password_hash:\n    memlimit: 4398046511105\n"),
              ElementsAre("dirproxy.yaml:6:15: accounts.password_hash.memlimit: must be at most 4398046511104"));
}

TEST(Settings, PasswordHashRefusesOtherWords) {
  EXPECT_THAT(errors_of("accounts:\n  password_hash:\n    opslimit: high\n"),
              ElementsAre("dirproxy.yaml:6:15: accounts.password_hash.opslimit: expected "
                          "interactive|moderate|sensitive or a whole number, got 'high'"));
}

TEST(Settings, SignupDomainsAreStoredLowerCased) {
  const Config config =
      load_ok(kMinimal + kMail + "signup:\n  mode: restricted\n  domains: [Example.COM, \"*.Corp.example\"]\n");
  EXPECT_THAT(config.signup.domains, ElementsAre("example.com", "*.corp.example"));
}

TEST(Settings, SignupDomainMustBeAValidPattern) {
  EXPECT_THAT(errors_of("signup:\n  domains: [\"example.com.\", \"*example.com\", \"@example.com\"]\n"),
              ElementsAre("dirproxy.yaml:5:13: signup.domains[0]: expected a domain like example.com or "
                          "*.example.com, got 'example.com.'",
                          "dirproxy.yaml:5:29: signup.domains[1]: expected a domain like example.com or "
                          "*.example.com, got '*example.com'",
                          "dirproxy.yaml:5:45: signup.domains[2]: expected a domain like example.com or "
                          "*.example.com, got '@example.com'"));
}

TEST(Settings, MailSectionPresentConfiguresMail) {
  const Config config = load_ok(kMinimal + kMail);
  ASSERT_TRUE(config.mail.has_value());
  EXPECT_EQ(config.mail->from, "dirproxy@example.com");
  EXPECT_EQ(config.mail->smtp_url, "smtp://127.0.0.1:25");
  EXPECT_EQ(config.mail->starttls, StartTls::opportunistic);
}

TEST(Settings, MailFromIsRequired) {
  EXPECT_THAT(errors_of("mail:\n  smtp_url: smtp://mail.example.com\n"),
              ElementsAre("dirproxy.yaml:5:3: mail.from: required but missing"));
}

TEST(Settings, MailFromAcceptsNameAndAngleAddress) {
  const Config config = load_ok(kMinimal + "mail:\n  from: \"Example Site <noreply@Example.com>\"\n");
  EXPECT_EQ(config.mail->from, "Example Site <noreply@Example.com>");
}

TEST(Settings, MailFromAddressMustPassTheStrictParser) {
  EXPECT_THAT(errors_of("mail:\n  from: \"Site <a@example.com@evil.com>\"\n"),
              ElementsAre("dirproxy.yaml:5:9: mail.from: not a valid email address: more than one '@'"));
  EXPECT_THAT(errors_of("mail:\n  from: \"a@-bad.com\"\n"),
              ElementsAre("dirproxy.yaml:5:9: mail.from: not a valid email address: domain is not a valid DNS name"));
  EXPECT_THAT(errors_of("mail:\n  from: \"a <b> <c@example.com>\"\n"),
              ElementsAre("dirproxy.yaml:5:9: mail.from: expected an address or Name <address>"));
}

TEST(Settings, MailSmtpUrlMustBeSmtpOrSmtps) {
  EXPECT_THAT(errors_of("mail:\n  from: a@example.com\n  smtp_url: http://mail\n"),
              ElementsAre("dirproxy.yaml:6:13: mail.smtp_url: expected a URL starting with smtp:// or "
                          "smtps://, got 'http://mail'"));
}

TEST(Settings, ExplicitStartTlsWithSmtpsIsAnError) {
  EXPECT_THAT(errors_of("mail:\n  from: a@example.com\n  smtp_url: smtps://mail:465\n  starttls: required\n"),
              ElementsAre("dirproxy.yaml:7:13: mail.starttls: STARTTLS is for smtp:// only (smtps:// is TLS "
                          "from the start); use none"));
}

TEST(Settings, DefaultStartTlsWithSmtpsIsFine) {
  const Config config = load_ok(kMinimal + "mail:\n  from: a@example.com\n  smtp_url: smtps://mail:465\n");
  EXPECT_EQ(config.mail->smtp_url, "smtps://mail:465");
}

TEST(Settings, StartTlsNoneWithSmtpsIsFine) {
  EXPECT_THAT(errors_of("mail:\n  from: a@example.com\n  smtp_url: smtps://mail:465\n  starttls: none\n"), IsEmpty());
}

TEST(Settings, MailNumbersAreRangeChecked) {
  EXPECT_THAT(errors_of("mail:\n  from: a@example.com\n  max_attempts: 0\n  timeout: 0s\n"),
              ElementsAre("dirproxy.yaml:6:17: mail.max_attempts: must be at least 1",
                          "dirproxy.yaml:7:12: mail.timeout: must be greater than 0"));
}

TEST(Settings, SecurityLimitsAreRangeChecked) {
  EXPECT_THAT(errors_of("security:\n"
                        "  lockout:\n    max_failures: 0\n    duration: 0s\n"
                        "  rate_limit:\n    requests: 0\n    per: 0s\n"),
              ElementsAre("dirproxy.yaml:6:19: security.lockout.max_failures: must be at least 1",
                          "dirproxy.yaml:7:15: security.lockout.duration: must be greater than 0",
                          "dirproxy.yaml:9:15: security.rate_limit.requests: must be at least 1",
                          "dirproxy.yaml:10:10: security.rate_limit.per: must be greater than 0"));
}

TEST(Settings, MetricsAreOffUnlessListenIsSet) { EXPECT_FALSE(load_ok(kMinimal).metrics.listen); }

TEST(Settings, MetricsListenTakesAnIpv4OrBracketedIpv6AddressAndPort) {
  const Config v4 = load_ok(kMinimal + "metrics:\n  listen: 127.0.0.1:9464\n");
  ASSERT_TRUE(v4.metrics.listen);
  EXPECT_EQ(v4.metrics.listen->address, "127.0.0.1");
  EXPECT_EQ(v4.metrics.listen->port, 9464);
  const Config v6 = load_ok(kMinimal + "metrics:\n  listen: \"[::1]:9464\"\n");
  ASSERT_TRUE(v6.metrics.listen);
  EXPECT_EQ(v6.metrics.listen->address, "::1");
  EXPECT_EQ(v6.metrics.listen->port, 9464);
}

TEST(Settings, MetricsListenRefusesHostNamesMissingPortsAndPortsOutOfRange) {
  EXPECT_THAT(errors_of("metrics:\n  listen: localhost:9464\n"),
              ElementsAre("dirproxy.yaml:5:11: metrics.listen: expected an IP address and port like 127.0.0.1:9464 "
                          "or [::1]:9464, got 'localhost:9464'"));
  EXPECT_THAT(errors_of("metrics:\n  listen: 127.0.0.1\n"),
              ElementsAre("dirproxy.yaml:5:11: metrics.listen: expected an IP address and port like 127.0.0.1:9464 "
                          "or [::1]:9464, got '127.0.0.1' (no port)"));
  EXPECT_THAT(errors_of("metrics:\n  listen: 127.0.0.1:0\n"),
              ElementsAre("dirproxy.yaml:5:11: metrics.listen: expected an IP address and port like 127.0.0.1:9464 "
                          "or [::1]:9464, got '127.0.0.1:0' (the port must be 1 to 65535)"));
  EXPECT_THAT(errors_of("metrics:\n  listen: 127.0.0.1:65536\n"),
              ElementsAre("dirproxy.yaml:5:11: metrics.listen: expected an IP address and port like 127.0.0.1:9464 "
                          "or [::1]:9464, got '127.0.0.1:65536' (the port must be 1 to 65535)"));
  EXPECT_THAT(errors_of("metrics:\n  listen: \"::1:9464\"\n"),
              ElementsAre("dirproxy.yaml:5:11: metrics.listen: expected an IP address and port like 127.0.0.1:9464 "
                          "or [::1]:9464, got '::1:9464'"));
  EXPECT_THAT(errors_of("metrics:\n  listne: 127.0.0.1:9464\n"),
              ElementsAre("dirproxy.yaml:5:3: metrics.listne: unknown key 'listne' (did you mean 'listen'?)"));
}

TEST(Settings, MetricsOnAnAddressOthersCanReachIsAWarning) {
  LoadResult result = load(kMinimal + "metrics:\n  listen: 0.0.0.0:9464\n");
  EXPECT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.warnings,
              ElementsAre("dirproxy.yaml:5:11: metrics.listen: the metrics are served without authentication to "
                          "anyone who can reach 0.0.0.0:9464; prefer a loopback address, or restrict who can connect"));
}

}  // namespace
}  // namespace dirproxy::config
