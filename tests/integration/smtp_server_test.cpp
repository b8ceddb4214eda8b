// The SMTP test fixture (tests/support/smtp_server.hpp) itself, driven by
// Python's smtplib: what the other mail tests rely on must hold.
#include "support/smtp_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/child_process.hpp"

namespace dirproxy::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Sends `message` with smtplib; returns smtplib's outcome: "sent" or the
// exception's text.
std::string send_with_smtplib(const SmtpServer& server, const std::string& message, const std::string& login = "",
                              bool starttls = false) {
  const std::string script = R"(
import smtplib, ssl, sys
port, login, starttls, cafile = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1", sys.argv[4]
try:
    client = smtplib.SMTP("127.0.0.1", port, timeout=10)
    if starttls:
        client.starttls(context=ssl.create_default_context(cafile=cafile))
    if login:
        user, _, password = login.partition(":")
        client.login(user, password)
    client.sendmail("sender@example.org", ["one@example.com", "two@example.com"], sys.stdin.buffer.read())
    client.quit()
    print("sent")
except Exception as error:
    print(error)
)";
  ChildOptions options;
  options.stdin_text = message;
  const ChildResult result = run_child(
      {"/usr/bin/python3", "-c", script, std::to_string(server.port()), login, starttls ? "1" : "0", server.ca_file()},
      options);
  return result.out.substr(0, result.out.find('\n'));
}

const std::string kMessage =
    "From: sender@example.org\r\n"
    "To: one@example.com\r\n"
    "Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=UTF-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Gr=C3=BC=\r\n"
    "sse, open https://example.com/x?token=3Dabc now\r\n";

TEST(SmtpServer, CapturesEnvelopeHeadersAndDecodedContent) {
  SmtpServer server;

  EXPECT_EQ(send_with_smtplib(server, kMessage), "sent");

  const auto mails = server.wait_for_messages(1);
  ASSERT_EQ(mails.size(), 1u);
  const CapturedMail& mail = mails[0];
  EXPECT_EQ(mail.envelope_from, "sender@example.org");
  EXPECT_THAT(mail.envelope_to, ElementsAre("one@example.com", "two@example.com"));
  EXPECT_FALSE(mail.tls);
  EXPECT_EQ(mail.auth_user, std::nullopt);
  EXPECT_EQ(mail.header("content-type"), "text/plain; charset=UTF-8");
  EXPECT_EQ(mail.headers.at("Subject"), "=?UTF-8?B?R3LDvMOfZQ==?=");
  EXPECT_EQ(mail.subject, "Grüße");
  EXPECT_EQ(mail.body, "Grüsse, open https://example.com/x?token=abc now\r\n");
  EXPECT_TRUE(mail.defects.empty());
  EXPECT_EQ(mail.raw, kMessage);
  EXPECT_EQ(first_link(mail.body), "https://example.com/x?token=abc");
}

TEST(SmtpServer, AuthAcceptsOnlyTheConfiguredCredentials) {
  SmtpServerOptions options;
  options.auth_username = "mailer";
  options.auth_password = "secret";
  SmtpServer server(options);

  EXPECT_THAT(send_with_smtplib(server, kMessage, "mailer:wrong"), HasSubstr("535"));
  EXPECT_THAT(send_with_smtplib(server, kMessage), HasSubstr("530"));
  EXPECT_EQ(send_with_smtplib(server, kMessage, "mailer:secret"), "sent");

  const auto mails = server.wait_for_messages(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].auth_user, "mailer");
}

TEST(SmtpServer, RequiredStartTlsRefusesPlainMailAndAcceptsEncrypted) {
  SmtpServerOptions options;
  options.tls = SmtpTls::starttls_required;
  SmtpServer server(options);

  EXPECT_THAT(send_with_smtplib(server, kMessage), HasSubstr("530"));
  EXPECT_EQ(send_with_smtplib(server, kMessage, "", /*starttls=*/true), "sent");

  const auto mails = server.wait_for_messages(1);
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_TRUE(mails[0].tls);
}

TEST(SmtpServer, TemporaryAndPermanentFailuresAreAnsweredOnRequest) {
  SmtpServer server;

  server.set_temporary_failure(true);
  EXPECT_THAT(send_with_smtplib(server, kMessage), HasSubstr("451"));
  server.set_temporary_failure(false);
  server.set_permanent_failure(true);
  EXPECT_THAT(send_with_smtplib(server, kMessage), HasSubstr("550"));
  server.set_permanent_failure(false);
  EXPECT_EQ(send_with_smtplib(server, kMessage), "sent");

  EXPECT_EQ(server.wait_for_messages(1).size(), 1u);
}

TEST(SmtpServer, RestartKeepsThePortAndTheCapturedMessages) {
  SmtpServer server;
  const int port = server.port();
  ASSERT_EQ(send_with_smtplib(server, kMessage), "sent");

  server.stop();
  EXPECT_THAT(send_with_smtplib(server, kMessage), HasSubstr("refused"));
  server.start();

  EXPECT_EQ(server.port(), port);
  EXPECT_EQ(send_with_smtplib(server, kMessage), "sent");
  EXPECT_EQ(server.wait_for_messages(2).size(), 2u);
}

TEST(SmtpServer, FirstLinkStopsAtWhitespaceOrAngleBracket) {
  EXPECT_EQ(first_link("see <http://a.example/x?y=1> or https://b.example"), "http://a.example/x?y=1");
  EXPECT_EQ(first_link("no link here"), std::nullopt);
}

}  // namespace
}  // namespace dirproxy::testing
