// The LDAP example configurations in config/examples must always load: the
// guides (docs/ldap-openldap.md, docs/ldap-active-directory.md) tell
// administrators to copy them. They read the service password the way a
// systemd unit provides it ($CREDENTIALS_DIRECTORY/ldap-bind-password, from
// LoadCredential=), so the tests point CREDENTIALS_DIRECTORY at a scratch
// directory holding that file. They name Debian's CA bundle as tls_ca_file,
// which the loader requires to be readable.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "config/config_loader.hpp"
#include "config_test_support.hpp"

namespace dirproxy::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::ScopedEnvironment;
using testing::ScratchDirectory;

const std::filesystem::path kExamplesDir = std::filesystem::path(DIRPROXY_SOURCE_DIR) / "config" / "examples";
const std::filesystem::path kOpenLdapExample = kExamplesDir / "openldap.yaml";
const std::filesystem::path kActiveDirectoryExample = kExamplesDir / "active-directory.yaml";
constexpr const char* kDebianCaBundle = "/etc/ssl/certs/ca-certificates.crt";
constexpr const char* kServicePassword = "service secret from systemd";

// A credentials directory as systemd's LoadCredential= makes it, with the
// one secret the examples read, set as CREDENTIALS_DIRECTORY meanwhile.
class LdapExampleConfigs : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::is_regular_file(kDebianCaBundle))
        << "the examples name Debian's CA bundle " << kDebianCaBundle
        << " as tls_ca_file; install the ca-certificates package";
  }

  LoadResult load_example(const std::filesystem::path& file) const { return load_config_file(file); }

  const std::filesystem::path& credentials() const { return credentials_.path(); }

 private:
  ScratchDirectory credentials_{"dirproxy-creds"};
  const std::filesystem::path password_file_ =
      credentials_.write("ldap-bind-password", std::string(kServicePassword) + "\n");
  ScopedEnvironment environment_{"CREDENTIALS_DIRECTORY", credentials_.path().c_str()};
};

TEST_F(LdapExampleConfigs, OpenLdapExampleLoadsWithoutErrorsOrWarnings) {
  const LoadResult result = load_example(kOpenLdapExample);

  EXPECT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.warnings, IsEmpty());
  ASSERT_TRUE(result.config.has_value());
  const Config& config = *result.config;
  EXPECT_EQ(config.membership, Membership::aggregate);
  ASSERT_EQ(config.directories.size(), 2u);
  // Local accounts first, writable: new users and groups are created there.
  EXPECT_EQ(config.directories[0].type, DirectoryType::internal);
  EXPECT_EQ(config.directories[0].permissions, Permissions::read_write);

  const DirectoryConfig& corp = config.directories[1];
  EXPECT_EQ(corp.type, DirectoryType::ldap);
  EXPECT_EQ(corp.permissions, Permissions::read_only);
  EXPECT_EQ(corp.on_unavailable, OnUnavailable::fail);
  const LdapSettings& ldap = corp.ldap;
  EXPECT_EQ(ldap.schema, LdapSchema::openldap);
  EXPECT_EQ(ldap.uri.size(), 2u);
  EXPECT_TRUE(ldap.start_tls);
  EXPECT_EQ(ldap.tls_ca_file, kDebianCaBundle);
  EXPECT_FALSE(ldap.bind_dn.empty());
  EXPECT_EQ(ldap.bind_password_file, (credentials() / "ldap-bind-password").string());
  EXPECT_EQ(ldap.bind_password, kServicePassword);
  EXPECT_EQ(ldap.users.object_class, "inetOrgPerson");
  EXPECT_EQ(ldap.users.username_attribute, "uid");
  EXPECT_EQ(ldap.groups.object_class, "groupOfNames");
  EXPECT_EQ(ldap.groups.member_attribute, "member");
  EXPECT_EQ(ldap.groups.member_format, MemberFormat::dn);
  EXPECT_TRUE(ldap.nested_groups);
  EXPECT_GT(ldap.page_size, 0u);
  EXPECT_GT(ldap.cache.ttl.count(), 0);
}

TEST_F(LdapExampleConfigs, ActiveDirectoryExampleLoadsWithoutErrorsOrWarnings) {
  const LoadResult result = load_example(kActiveDirectoryExample);

  EXPECT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.warnings, IsEmpty());
  ASSERT_TRUE(result.config.has_value());
  const Config& config = *result.config;
  EXPECT_EQ(config.membership, Membership::aggregate);
  ASSERT_EQ(config.directories.size(), 2u);
  // read_only_local_groups needs a writable internal directory for the groups.
  EXPECT_EQ(config.directories[0].type, DirectoryType::internal);
  EXPECT_EQ(config.directories[0].permissions, Permissions::read_write);

  const DirectoryConfig& ad = config.directories[1];
  EXPECT_EQ(ad.type, DirectoryType::ldap);
  EXPECT_EQ(ad.permissions, Permissions::read_only_local_groups);
  EXPECT_EQ(ad.on_unavailable, OnUnavailable::fail);
  const LdapSettings& ldap = ad.ldap;
  EXPECT_EQ(ldap.schema, LdapSchema::active_directory);
  ASSERT_EQ(ldap.uri.size(), 2u);  // two domain controllers: failover
  EXPECT_FALSE(ldap.start_tls);
  EXPECT_EQ(ldap.tls_ca_file, kDebianCaBundle);
  EXPECT_EQ(ldap.bind_password, kServicePassword);
  // The preset's values, which the example spells out.
  EXPECT_EQ(ldap.users.object_class, "user");
  EXPECT_EQ(ldap.users.username_attribute, "sAMAccountName");
  EXPECT_EQ(ldap.users.display_name_attribute, "displayName");
  EXPECT_EQ(ldap.users.disabled_attribute, "userAccountControl");
  EXPECT_EQ(ldap.users.disabled_bitmask, 2u);
  EXPECT_EQ(ldap.users.filter, "(objectCategory=person)");
  EXPECT_EQ(ldap.groups.object_class, "group");
  EXPECT_EQ(ldap.groups.user_membership_attribute, "memberOf");
  EXPECT_TRUE(ldap.nested_groups);
  EXPECT_GT(ldap.page_size, 0u);  // without paging AD stops every search at MaxPageSize (1000)
}

TEST_F(LdapExampleConfigs, EveryExampleTalksTlsWithCertificateVerification) {
  for (const auto& file : {kOpenLdapExample, kActiveDirectoryExample}) {
    SCOPED_TRACE(file.filename().string());
    const LoadResult result = load_example(file);
    ASSERT_TRUE(result.config.has_value());
    for (const DirectoryConfig& directory : result.config->directories) {
      if (directory.type != DirectoryType::ldap) continue;
      EXPECT_TRUE(directory.ldap.tls_verify);
      for (const std::string& uri : directory.ldap.uri) {
        EXPECT_TRUE(directory.ldap.start_tls || uri.starts_with("ldaps://")) << uri << " would be plaintext";
      }
    }
  }
}

TEST(LdapExampleConfigsWithoutCredentials, TheServicePasswordComesFromSystemdCredentials) {
  // Outside systemd (no CREDENTIALS_DIRECTORY) the only complaint is the
  // credential: proof that the examples read no secret from anywhere else.
  ScopedEnvironment unset("CREDENTIALS_DIRECTORY", nullptr);
  for (const auto& file : {kOpenLdapExample, kActiveDirectoryExample}) {
    SCOPED_TRACE(file.filename().string());
    const LoadResult result = load_config_file(file);
    EXPECT_THAT(result.errors, ElementsAre(HasSubstr("bind_password_file: starts with $CREDENTIALS_DIRECTORY/ but "
                                                     "CREDENTIALS_DIRECTORY is not set")));
  }
}

}  // namespace
}  // namespace dirproxy::config
