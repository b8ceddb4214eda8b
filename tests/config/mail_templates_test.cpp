// mail.templates_dir: overrides of the built-in email templates, checked at
// load time so that a typo never silently falls back to the built-in text.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "config_test_support.hpp"

namespace dirproxy::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::kMinimal;
using testing::load;
using testing::ScratchDirectory;

// templates_dir's value is at line 6, column 18.
const std::string kMailWithTemplates = kMinimal + "mail:\n  from: a@example.com\n  templates_dir: templates\n";

TEST(MailTemplates, OverridesAreLoaded) {
  ScratchDirectory scratch;
  scratch.write("templates/invitation.txt",
                "Subject: Join {{site_name}}\n\nHello,\nfollow {{link}} before {{expires}}.\n");
  scratch.write("templates/password_reset.txt", "Subject:Reset\r\n\r\n{{username}}: {{link}}\r\n");
  const LoadResult result = load(kMailWithTemplates, scratch.path());
  ASSERT_THAT(result.errors, IsEmpty());
  const Mail& mail = *result.config->mail;
  EXPECT_EQ(mail.templates_dir, (scratch.path() / "templates").string());
  ASSERT_EQ(mail.templates.size(), 2u);
  EXPECT_EQ(mail.templates[0].name, "invitation");
  EXPECT_EQ(mail.templates[0].subject, "Join {{site_name}}");
  EXPECT_EQ(mail.templates[0].body, "Hello,\nfollow {{link}} before {{expires}}.\n");
  EXPECT_EQ(mail.templates[1].name, "password_reset");
  EXPECT_EQ(mail.templates[1].subject, "Reset");
  EXPECT_EQ(mail.templates[1].body, "{{username}}: {{link}}\n");
}

TEST(MailTemplates, EveryPlaceholderIsAccepted) {
  ScratchDirectory scratch;
  scratch.write("templates/admin_new_account.txt",
                "Subject: {{site_name}}\n\n{{link}} {{username}} {{display_name}} {{email}} {{message}} "
                "{{expires}}\n");
  EXPECT_THAT(load(kMailWithTemplates, scratch.path()).errors, IsEmpty());
}

TEST(MailTemplates, UnknownPlaceholderIsAnErrorNamingFileAndLine) {
  ScratchDirectory scratch;
  scratch.write("templates/new_user.txt", "Subject: Welcome\n\nHi {{username}},\nyour code is {{token}}\n");
  EXPECT_THAT(load(kMailWithTemplates, scratch.path()).errors,
              ElementsAre("dirproxy.yaml:6:18: mail.templates_dir: new_user.txt:4: unknown placeholder {{token}} "
                          "(known: {{site_name}}, {{link}}, {{username}}, {{display_name}}, {{email}}, "
                          "{{message}}, {{expires}})"));
}

TEST(MailTemplates, PlaceholderWithSpacesIsUnknown) {
  ScratchDirectory scratch;
  scratch.write("templates/new_user.txt", "Subject: {{ site_name }}\n\nbody\n");
  const LoadResult result = load(kMailWithTemplates, scratch.path());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_THAT(result.errors[0], ::testing::StartsWith("dirproxy.yaml:6:18: mail.templates_dir: new_user.txt:1: "
                                                      "unknown placeholder {{ site_name }}"));
}

TEST(MailTemplates, UnclosedPlaceholderIsAnError) {
  ScratchDirectory scratch;
  scratch.write("templates/new_user.txt", "Subject: Hi\n\nGo to {{link\n");
  EXPECT_THAT(load(kMailWithTemplates, scratch.path()).errors,
              ElementsAre("dirproxy.yaml:6:18: mail.templates_dir: new_user.txt:3: '{{' without a closing '}}'"));
}

TEST(MailTemplates, MisspeltTemplateNameIsAnError) {
  ScratchDirectory scratch;
  scratch.write("templates/invitaton.txt", "Subject: x\n\nbody\n");
  EXPECT_THAT(load(kMailWithTemplates, scratch.path()).errors,
              ElementsAre("dirproxy.yaml:6:18: mail.templates_dir: invitaton.txt: not a template name (expected "
                          "one of signup_confirm, invitation, new_user, password_reset, admin_new_account, "
                          "access_request)"));
}

TEST(MailTemplates, FilesNotEndingInTxtAreIgnored) {
  ScratchDirectory scratch;
  scratch.write("templates/README.md", "notes\n");
  scratch.write("templates/invitation.txt~", "editor backup\n");
  const LoadResult result = load(kMailWithTemplates, scratch.path());
  EXPECT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.config->mail->templates, IsEmpty());
}

TEST(MailTemplates, FirstLineMustBeTheSubject) {
  ScratchDirectory scratch;
  scratch.write("templates/signup_confirm.txt", "Hello\n\nbody\n");
  EXPECT_THAT(load(kMailWithTemplates, scratch.path()).errors,
              ElementsAre("dirproxy.yaml:6:18: mail.templates_dir: signup_confirm.txt:1: the first line must be "
                          "'Subject: ...'"));
}

TEST(MailTemplates, SubjectMustBeFollowedByABlankLine) {
  ScratchDirectory scratch;
  scratch.write("templates/signup_confirm.txt", "Subject: Confirm\nbody\n");
  EXPECT_THAT(load(kMailWithTemplates, scratch.path()).errors,
              ElementsAre("dirproxy.yaml:6:18: mail.templates_dir: signup_confirm.txt:2: the second line must be "
                          "blank"));
}

TEST(MailTemplates, EmptySubjectIsAnError) {
  ScratchDirectory scratch;
  scratch.write("templates/access_request.txt", "Subject:  \n\nbody\n");
  EXPECT_THAT(load(kMailWithTemplates, scratch.path()).errors,
              ElementsAre("dirproxy.yaml:6:18: mail.templates_dir: access_request.txt:1: the subject is empty"));
}

TEST(MailTemplates, EveryBadFileIsReported) {
  ScratchDirectory scratch;
  scratch.write("templates/invitation.txt", "Subject: {{nope}}\n\n{{link}}\n");
  scratch.write("templates/new_user.txt", "Subject: ok\n\n{{also_nope}}\n");
  const LoadResult result = load(kMailWithTemplates, scratch.path());
  ASSERT_EQ(result.errors.size(), 2u);
  EXPECT_THAT(result.errors[0], ::testing::HasSubstr("invitation.txt:1: unknown placeholder {{nope}}"));
  EXPECT_THAT(result.errors[1], ::testing::HasSubstr("new_user.txt:3: unknown placeholder {{also_nope}}"));
}

TEST(MailTemplates, ATemplateLargerThan64KibIsRefused) {
  ScratchDirectory scratch;
  const auto file = scratch.write("templates/invitation.txt", "Subject: Hi\n\n" + std::string(65536 - 12, 'x'));
  EXPECT_THAT(load(kMailWithTemplates, scratch.path()).errors,
              ElementsAre("dirproxy.yaml:6:18: mail.templates_dir: invitation.txt: cannot read " + file.string() +
                          ": larger than 65536 bytes"));
}

TEST(MailTemplates, ATemplateThatIsAFifoIsRefusedWithoutWaitingForAWriter) {
  ScratchDirectory scratch;
  std::filesystem::create_directory(scratch.path() / "templates");
  const auto fifo = scratch.path() / "templates/invitation.txt";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THAT(load(kMailWithTemplates, scratch.path()).errors,
              ElementsAre("dirproxy.yaml:6:18: mail.templates_dir: invitation.txt: cannot read " + fifo.string() +
                          ": not a regular file"));
}

TEST(MailTemplates, DirectoryMustExist) {
  EXPECT_THAT(load(kMailWithTemplates, "/nonexistent").errors,
              ElementsAre("dirproxy.yaml:6:18: mail.templates_dir: not a readable directory: "
                          "/nonexistent/templates"));
}

}  // namespace
}  // namespace dirproxy::config
