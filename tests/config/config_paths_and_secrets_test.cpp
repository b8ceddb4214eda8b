// Relative paths resolve against the file's directory; secrets are read
// from *_password_file, never inline, and never appear in a message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "config_test_support.hpp"

namespace dirproxy::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::kMinimal;
using testing::load;
using testing::load_ok;
using ::testing::Not;
using testing::ScopedEnvironment;
using testing::ScratchDirectory;

// An ldap directory after kMinimal whose extra keys start on line 8.
const std::string kLdap =
    "  - name: corp\n"
    "    type: ldap\n"
    "    uri: ldap://ldap.example.com\n"
    "    base_dn: dc=example,dc=com\n";

TEST(Paths, RelativePathsResolveAgainstTheFilesDirectory) {
  const Config config = load_ok(kMinimal + "state_dir: state\nserver:\n  socket: ../run/d.sock\n", "/srv/app/etc");
  EXPECT_EQ(config.state_dir, "/srv/app/etc/state");
  EXPECT_EQ(config.server.socket, "/srv/app/run/d.sock");
}

TEST(Paths, AbsolutePathsAreKept) {
  const Config config = load_ok(kMinimal + "state_dir: /var/lib/other\n", "/srv/app/etc");
  EXPECT_EQ(config.state_dir, "/var/lib/other");
}

TEST(Paths, RelativeBaseDirectoryIsMadeAbsolute) {
  const Config config = load_ok(kMinimal + "state_dir: state\n", "conf");
  EXPECT_EQ(config.state_dir, (std::filesystem::current_path() / "conf/state").lexically_normal());
}

TEST(Paths, LoadingAFileResolvesAgainstItsDirectory) {
  ScratchDirectory scratch;
  const auto file = scratch.write("etc/dirproxy.yaml", kMinimal + "state_dir: ../state\n");
  const LoadResult result = load_config_file(file);
  ASSERT_THAT(result.errors, IsEmpty());
  EXPECT_EQ(result.config->state_dir, (scratch.path() / "state").lexically_normal());
}

TEST(Paths, EmptyPathIsAnError) {
  EXPECT_THAT(load(kMinimal + "state_dir: \"\"\n").errors,
              ElementsAre("dirproxy.yaml:4:12: state_dir: must not be empty"));
}

TEST(Paths, OtherEnvironmentVariablesAreNotExpanded) {
  EXPECT_THAT(load(kMinimal + "state_dir: $HOME/state\n").errors,
              ElementsAre("dirproxy.yaml:4:12: state_dir: only $CREDENTIALS_DIRECTORY/ is expanded in paths"));
}

TEST(Paths, TlsCaFileMustBeReadable) {
  EXPECT_THAT(load(kMinimal + kLdap + "    tls_ca_file: ca.pem\n", "/nonexistent").errors,
              ElementsAre("dirproxy.yaml:8:18: directories[1].tls_ca_file: cannot read /nonexistent/ca.pem: No "
                          "such file or directory"));
}

TEST(Paths, TlsCaFileIsResolvedAgainstTheFilesDirectory) {
  ScratchDirectory scratch;
  scratch.write("ca.pem", "-----BEGIN CERTIFICATE-----\n");
  const Config config = load_ok(kMinimal + kLdap + "    tls_ca_file: ca.pem\n", scratch.path());
  EXPECT_EQ(config.directories[1].ldap.tls_ca_file, (scratch.path() / "ca.pem").string());
}

TEST(Paths, MailTlsCaFileMustBeReadable) {
  EXPECT_THAT(load(kMinimal + "mail:\n  from: a@example.com\n  tls_ca_file: ca.pem\n", "/nonexistent").errors,
              ElementsAre("dirproxy.yaml:6:16: mail.tls_ca_file: cannot read /nonexistent/ca.pem: No such file or "
                          "directory"));
}

TEST(Paths, MailTlsCaFileIsResolvedAgainstTheFilesDirectoryAndDefaultsToTheSystems) {
  ScratchDirectory scratch;
  scratch.write("mail-ca.pem", "-----BEGIN CERTIFICATE-----\n");
  const Config config =
      load_ok(kMinimal + "mail:\n  from: a@example.com\n  tls_ca_file: mail-ca.pem\n", scratch.path());
  EXPECT_EQ(config.mail->tls_ca_file, (scratch.path() / "mail-ca.pem").string());
  EXPECT_EQ(load_ok(kMinimal + "mail:\n  from: a@example.com\n", scratch.path()).mail->tls_ca_file, "");
}

TEST(Secrets, BindPasswordIsTheFirstLineOfItsFile) {
  ScratchDirectory scratch;
  scratch.write("bind.secret", "s3cret pass\r\nsecond line\n");
  const Config config = load_ok(kMinimal + kLdap +
                                    "    bind_dn: cn=svc,dc=example,dc=com\n"
                                    "    bind_password_file: bind.secret\n",
                                scratch.path());
  EXPECT_EQ(config.directories[1].ldap.bind_password, "s3cret pass");
  EXPECT_EQ(config.directories[1].ldap.bind_password_file, (scratch.path() / "bind.secret").string());
}

TEST(Secrets, SecretWithoutTrailingNewlineIsRead) {
  ScratchDirectory scratch;
  scratch.write("smtp.secret", "hunter2");
  const Config config =
      load_ok(kMinimal + "mail:\n  from: a@example.com\n  password_file: smtp.secret\n", scratch.path());
  EXPECT_EQ(config.mail->password, "hunter2");
}

TEST(Secrets, MissingSecretFileIsAnErrorNamingTheKey) {
  EXPECT_THAT(load(kMinimal + "mail:\n  from: a@example.com\n  password_file: /nonexistent/smtp\n").errors,
              ElementsAre("dirproxy.yaml:6:18: mail.password_file: cannot read /nonexistent/smtp: No such file "
                          "or directory"));
}

TEST(Secrets, EmptyFirstLineIsAnErrorThatDoesNotQuoteTheFile) {
  ScratchDirectory scratch;
  scratch.write("bind.secret", "\nthe-real-password-on-line-two\n");
  const LoadResult result = load(kMinimal + kLdap + "    bind_password_file: bind.secret\n", scratch.path());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0], "dirproxy.yaml:8:25: directories[1].bind_password_file: the first line of " +
                                  (scratch.path() / "bind.secret").string() + " is empty");
}

TEST(Secrets, SecretNeverAppearsInMessages) {
  ScratchDirectory scratch;
  scratch.write("bind.secret", "do-not-print-me\n");
  const LoadResult result = load(kMinimal + kLdap +
                                     "    bind_password_file: bind.secret\n"
                                     "    permissions: read_write\n"  // error: no bind_dn
                                     "    pool_size: 0\n",
                                 scratch.path());
  ASSERT_EQ(result.errors.size(), 2u);
  for (const std::string& error : result.errors) EXPECT_THAT(error, Not(HasSubstr("do-not-print-me")));
}

TEST(Secrets, CredentialsDirectoryPrefixUsesTheEnvironment) {
  ScratchDirectory scratch;
  scratch.write("ldap-bind", "from-systemd\n");
  ScopedEnvironment credentials("CREDENTIALS_DIRECTORY", scratch.path().c_str());
  const Config config =
      load_ok(kMinimal + kLdap + "    bind_password_file: $CREDENTIALS_DIRECTORY/ldap-bind\n", "/etc/dirproxy");
  EXPECT_EQ(config.directories[1].ldap.bind_password, "from-systemd");
  EXPECT_EQ(config.directories[1].ldap.bind_password_file, (scratch.path() / "ldap-bind").string());
}

TEST(Secrets, CredentialsDirectoryPrefixWithoutTheVariableIsAnError) {
  ScopedEnvironment credentials("CREDENTIALS_DIRECTORY", nullptr);
  EXPECT_THAT(load(kMinimal + "mail:\n  from: a@example.com\n  password_file: $CREDENTIALS_DIRECTORY/smtp\n").errors,
              ElementsAre("dirproxy.yaml:6:18: mail.password_file: starts with $CREDENTIALS_DIRECTORY/ but "
                          "CREDENTIALS_DIRECTORY is not set (set it, or run under systemd with LoadCredential=)"));
}

TEST(Secrets, ASecretFileThatIsADeviceIsRefusedAtOnce) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(load(kMinimal + "mail:\n  from: a@example.com\n  password_file: /dev/zero\n").errors,
              ElementsAre("dirproxy.yaml:6:18: mail.password_file: cannot read /dev/zero: not a regular file"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(Secrets, ASecretFileThatIsAFifoIsRefusedWithoutWaitingForAWriter) {
  ScratchDirectory scratch;
  const auto fifo = scratch.path() / "bind.secret";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THAT(load(kMinimal + kLdap + "    bind_password_file: bind.secret\n", scratch.path()).errors,
              ElementsAre("dirproxy.yaml:8:25: directories[1].bind_password_file: cannot read " + fifo.string() +
                          ": not a regular file"));
}

TEST(Secrets, ASecretFileThatIsADirectoryIsRefused) {
  ScratchDirectory scratch;
  std::filesystem::create_directory(scratch.path() / "smtp.secret");
  EXPECT_THAT(load(kMinimal + "mail:\n  from: a@example.com\n  password_file: smtp.secret\n", scratch.path()).errors,
              ElementsAre("dirproxy.yaml:6:18: mail.password_file: cannot read " +
                          (scratch.path() / "smtp.secret").string() + ": is a directory"));
}

TEST(Secrets, ASecretFileOf64KibIsRead) {
  ScratchDirectory scratch;
  scratch.write("smtp.secret", "hunter2\n" + std::string(65536 - 8, 'x'));
  const Config config =
      load_ok(kMinimal + "mail:\n  from: a@example.com\n  password_file: smtp.secret\n", scratch.path());
  EXPECT_EQ(config.mail->password, "hunter2");
}

TEST(Secrets, ALargerSecretFileIsRefused) {
  ScratchDirectory scratch;
  const auto file = scratch.write("smtp.secret", "hunter2\n" + std::string(65536 - 7, 'x'));
  EXPECT_THAT(load(kMinimal + "mail:\n  from: a@example.com\n  password_file: smtp.secret\n", scratch.path()).errors,
              ElementsAre("dirproxy.yaml:6:18: mail.password_file: cannot read " + file.string() +
                          ": larger than 65536 bytes"));
}

TEST(Paths, TlsCaFileThatIsADeviceIsRefused) {
  EXPECT_THAT(load(kMinimal + kLdap + "    tls_ca_file: /dev/zero\n").errors,
              ElementsAre("dirproxy.yaml:8:18: directories[1].tls_ca_file: cannot read /dev/zero: not a regular "
                          "file"));
}

TEST(Secrets, EmptyPasswordFileMeansNoPassword) {
  const Config config = load_ok(kMinimal + "mail:\n  from: a@example.com\n  password_file: \"\"\n");
  EXPECT_EQ(config.mail->password_file, "");
  EXPECT_EQ(config.mail->password, "");
}

}  // namespace
}  // namespace dirproxy::config
