// The rules between settings, checked once every key has been read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_test_support.hpp"

namespace dirproxy::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::kMinimal;
using testing::load;

constexpr const char* kMail = "mail:\n  from: dirproxy@example.com\n";  // lines 4-5 after kMinimal

TEST(CrossFieldRules, RestrictedSignupRequiresMail) {
  const LoadResult result = load(kMinimal + "signup:\n  mode: restricted\n  domains: [example.com]\n");
  EXPECT_THAT(result.errors,
              ElementsAre("dirproxy.yaml:5:9: signup.mode: restricted requires a mail section (addresses are "
                          "confirmed by email)"));
}

TEST(CrossFieldRules, RestrictedSignupRequiresDomains) {
  EXPECT_THAT(load(kMinimal + kMail + "signup:\n  mode: restricted\n").errors,
              ElementsAre("dirproxy.yaml:7:9: signup.domains: signup.mode restricted requires at least one domain"));
  EXPECT_THAT(load(kMinimal + kMail + "signup:\n  mode: restricted\n  domains: []\n").errors,
              ElementsAre("dirproxy.yaml:8:12: signup.domains: signup.mode restricted requires at least one domain"));
}

TEST(CrossFieldRules, RestrictedSignupWithMailAndDomainsLoads) {
  const LoadResult result = load(kMinimal + kMail + "signup:\n  mode: restricted\n  domains: [\"*.example.com\"]\n");
  EXPECT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.warnings, IsEmpty());
}

TEST(CrossFieldRules, AccessRequestsRequireMail) {
  EXPECT_THAT(load(kMinimal + "access_requests:\n  enabled: true\n").errors,
              ElementsAre("dirproxy.yaml:5:12: access_requests.enabled: true requires a mail section (admins are "
                          "told by email)"));
  EXPECT_THAT(load(kMinimal + kMail + "access_requests:\n  enabled: true\n").errors, IsEmpty());
}

TEST(CrossFieldRules, NotifyAdminsWithoutMailIsAWarningWhenSignupIsOn) {
  const LoadResult result = load(kMinimal + "signup:\n  mode: open\n");
  EXPECT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.warnings,
              ElementsAre("dirproxy.yaml:5:9: signup.notify_admins: no mail section, so admins will not be "
                          "notified of new accounts"));
}

TEST(CrossFieldRules, NotifyAdminsWarningPointsAtTheKeyWhenWritten) {
  const LoadResult result = load(kMinimal + "signup:\n  mode: open\n  notify_admins: true\n");
  EXPECT_THAT(result.warnings,
              ElementsAre("dirproxy.yaml:6:18: signup.notify_admins: no mail section, so admins will not be "
                          "notified of new accounts"));
}

TEST(CrossFieldRules, NoNotifyAdminsWarningWhileSignupIsDisabled) { EXPECT_THAT(load(kMinimal).warnings, IsEmpty()); }

TEST(CrossFieldRules, NoNotifyAdminsWarningWhenTurnedOff) {
  EXPECT_THAT(load(kMinimal + "signup:\n  mode: open\n  notify_admins: false\n").warnings, IsEmpty());
}

TEST(CrossFieldRules, ExternalUserManagementWithSignupIsAWarning) {
  const LoadResult result =
      load(kMinimal + "user_management: external\nsignup:\n  mode: open\n  notify_admins: false\n");
  EXPECT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.warnings,
              ElementsAre("dirproxy.yaml:6:9: signup.mode: has no effect: user_management is external, so "
                          "signup is refused"));
}

TEST(CrossFieldRules, InvalidMailSectionDoesNotAlsoCountAsMissing) {
  // One error for the mail section, none for "restricted requires mail".
  EXPECT_THAT(load(kMinimal + "mail:\n  smtp_url: smtp://x\nsignup:\n  mode: restricted\n  domains: [x.org]\n").errors,
              ElementsAre("dirproxy.yaml:5:3: mail.from: required but missing"));
}

}  // namespace
}  // namespace dirproxy::config
