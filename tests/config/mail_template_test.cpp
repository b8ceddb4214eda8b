// The email template format on its own, as the mail code will use it for the
// built-in templates; the loader's use of it is in mail_templates_test.cpp.
#include "config/mail_template.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_test_support.hpp"

namespace dirproxy::config {
namespace {

using ::testing::ElementsAre;
using ::testing::FieldsAre;
using ::testing::IsEmpty;
using testing::ScratchDirectory;

const std::string kKnownPlaceholders =
    "(known: {{site_name}}, {{link}}, {{username}}, {{display_name}}, {{email}}, {{message}}, {{expires}})";

TEST(MailTemplate, NamesAreTheSixMessagesDirproxySends) {
  EXPECT_THAT(kMailTemplateNames, ElementsAre("signup_confirm", "invitation", "new_user", "password_reset",
                                              "admin_new_account", "access_request"));
}

TEST(MailTemplate, PlaceholdersAreTheDocumentedOnes) {
  EXPECT_THAT(kMailTemplatePlaceholders,
              ElementsAre("site_name", "link", "username", "display_name", "email", "message", "expires"));
}

TEST(MailTemplate, TextSplitsIntoSubjectAndBody) {
  const MailTemplateParse parse = parse_mail_template("Subject:  Join {{site_name}}\r\n\r\nHello,\r\n{{link}}");
  ASSERT_TRUE(parse);
  EXPECT_THAT(parse.problems, IsEmpty());
  EXPECT_EQ(parse.mail_template->subject, "Join {{site_name}}");
  EXPECT_EQ(parse.mail_template->body, "Hello,\n{{link}}\n");
}

TEST(MailTemplate, SubjectWithoutBodyIsValid) {
  const MailTemplateParse parse = parse_mail_template("Subject: Ping\n\n");
  ASSERT_TRUE(parse);
  EXPECT_EQ(parse.mail_template->subject, "Ping");
  EXPECT_EQ(parse.mail_template->body, "");
}

TEST(MailTemplate, EveryProblemIsReportedWithItsLine) {
  const MailTemplateParse parse = parse_mail_template("Subject: \nHi {{name}}\n{{link\n");
  EXPECT_FALSE(parse);
  EXPECT_THAT(parse.problems,
              ElementsAre(FieldsAre(1u, "the subject is empty"), FieldsAre(2u, "the second line must be blank"),
                          FieldsAre(2u, "unknown placeholder {{name}} " + kKnownPlaceholders),
                          FieldsAre(3u, "'{{' without a closing '}}'")));
}

TEST(MailTemplate, MissingSubjectLineIsTheOnlyProblemReported) {
  const MailTemplateParse parse = parse_mail_template("Hello {{nope}}\n\nbody\n");
  EXPECT_FALSE(parse);
  EXPECT_THAT(parse.problems, ElementsAre(FieldsAre(1u, "the first line must be 'Subject: ...'")));
}

TEST(MailTemplate, EmptyTextHasNoSubjectLine) {
  EXPECT_THAT(parse_mail_template("").problems, ElementsAre(FieldsAre(1u, "the first line must be 'Subject: ...'")));
}

TEST(MailTemplate, OverridesDirectoryYieldsValidTemplatesAndNamedErrors) {
  ScratchDirectory scratch;
  scratch.write("invitation.txt", "Subject: Join\n\n{{link}}\n");
  scratch.write("new_user.txt", "Subject: Hi\nbody\n");
  scratch.write("notes.md", "ignored\n");
  const MailTemplateOverrides overrides = read_mail_template_overrides(scratch.path());
  ASSERT_EQ(overrides.templates.size(), 1u);
  EXPECT_EQ(overrides.templates[0].name, "invitation");
  EXPECT_EQ(overrides.templates[0].subject, "Join");
  EXPECT_EQ(overrides.templates[0].body, "{{link}}\n");
  EXPECT_THAT(overrides.errors, ElementsAre("new_user.txt:2: the second line must be blank"));
}

TEST(MailTemplate, OverridesDirectoryMustExist) {
  const MailTemplateOverrides overrides = read_mail_template_overrides("/nonexistent/templates");
  EXPECT_THAT(overrides.templates, IsEmpty());
  EXPECT_THAT(overrides.errors, ElementsAre("not a readable directory: /nonexistent/templates"));
}

}  // namespace
}  // namespace dirproxy::config
