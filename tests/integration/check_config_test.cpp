// `dirproxyd --check-config` on files an administrator gets wrong: the exit
// code and exactly what it prints, promptly, whatever the file names.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "support/child_process.hpp"
#include "support/temporary_directory.hpp"
#include "support/binaries_under_test.hpp"

namespace dirproxy::integration {
namespace {

using dirproxy::testing::ChildOptions;
using dirproxy::testing::ChildResult;
using dirproxy::testing::run_child;
using dirproxy::testing::TemporaryDirectory;

const std::string kMinimal =
    "directories:\n"
    "  - name: internal\n"
    "    type: internal\n";

ChildResult check_config(const std::string& file) {
  ChildOptions options;
  // main read /dev/zero for 90 s (and 16 GB) before failing.
  options.timeout = std::chrono::seconds(10);
  return run_child({DIRPROXYD_PATH, "--check-config", "--config", file}, options);
}

TEST(CheckConfig, ASecretFileThatIsADeviceFailsAtOnceNamingTheKey) {
  TemporaryDirectory scratch;
  const std::string file =
      scratch.write("dirproxy.yaml", kMinimal + "mail:\n  from: a@example.com\n  password_file: /dev/zero\n");
  const ChildResult result = check_config(file);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err,
            file + ":6:18: mail.password_file: cannot read /dev/zero: not a regular file\n" + file + ": 1 error(s)\n");
}

TEST(CheckConfig, NonUtf8AndNulAndTagsAreEachReportedWithTheirKey) {
  TemporaryDirectory scratch;
  const std::string file = scratch.write("dirproxy.yaml", kMinimal +
                                                              "site:\n"
                                                              "  name: \"caf\xe9\"\n"
                                                              "  base_url: !!binary aHR0cHM6Ly9leGFtcGxlLmNvbQ==\n"
                                                              "state_dir: \"/var/lib/dirproxy\\0/x\"\n");
  const ChildResult result = check_config(file);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, file + ":5:9: site.name: must be valid UTF-8 (invalid byte sequence at offset 3)\n" + file +
                            ":6:13: site.base_url: unsupported YAML tag !!binary (only !!str is accepted)\n" + file +
                            ":7:12: state_dir: must not contain control characters or line breaks\n" + file +
                            ": 3 error(s)\n");
}

TEST(CheckConfig, DeepNestingIsReportedWithItsPosition) {
  TemporaryDirectory scratch;
  const std::string file =
      scratch.write("dirproxy.yaml", "a: " + std::string(100000, '[') + std::string(100000, ']') + "\n");
  const ChildResult result = check_config(file);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err, file + ":1:35: nested more than 32 levels deep\n" + file + ": 1 error(s)\n");
}

TEST(CheckConfig, AnApplicationHashFromDirproxyctlHashPasswordIsAccepted) {
  ChildOptions hash_options;
  hash_options.stdin_text = "grafana's service password\n";
  const ChildResult hashed = run_child({DIRPROXYCTL_PATH, "hash-password"}, hash_options);
  ASSERT_EQ(hashed.exit_code, 0) << hashed.err;
  TemporaryDirectory scratch;
  const std::string file = scratch.write("dirproxy.yaml", kMinimal +
                                                              "ldap_server:\n"
                                                              "  listen: [ldap://127.0.0.1:10389]\n"
                                                              "  base_dn: dc=example,dc=com\n"
                                                              "applications:\n"
                                                              "  - name: grafana\n"
                                                              "    ldap:\n"
                                                              "      password_hash: \"" +
                                                              hashed.out.substr(0, hashed.out.find('\n')) + "\"\n");

  const ChildResult result = check_config(file);

  EXPECT_EQ(result.exit_code, 0) << result.err;
}

}  // namespace
}  // namespace dirproxy::integration
