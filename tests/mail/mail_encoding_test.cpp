// The RFC 5322 / 2045 / 2047 pieces the composer writes itself.
#include "mail/mail_encoding.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <stdexcept>
#include <string>

namespace dirproxy::mail_encoding {
namespace {

using namespace std::chrono_literals;

std::string decode_base64(const std::string& text) {
  std::string out(text.size(), '\0');
  std::size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                        &length, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    throw std::runtime_error("not base64: " + text);
  }
  out.resize(length);
  return out;
}

TEST(MailEncoding, ShortAsciiSubjectIsWrittenAsIs) {
  EXPECT_EQ(unstructured_header("Subject", "Reset your password"), "Reset your password");
}

TEST(MailEncoding, NonAsciiSubjectBecomesBase64EncodedWords) {
  // "Grüße" in UTF-8 is 47 72 C3 BC C3 9F 65.
  EXPECT_EQ(unstructured_header("Subject", "Grüße"), "=?UTF-8?B?R3LDvMOfZQ==?=");
}

TEST(MailEncoding, LongNonAsciiSubjectIsFoldedBetweenWholeCharacters) {
  const std::string subject(30, 'a');
  const std::string text = subject + "ü" + subject;  // 62 bytes
  const std::string header = unstructured_header("Subject", text);
  // 39 bytes per word, so "Subject: " and a word fit in 76 characters: 30
  // 'a', the 2 bytes of "ü", 7 'a'; then the remaining 23 'a'.
  EXPECT_EQ(header,
            "=?UTF-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhw7xhYWFhYWFh?=\r\n"
            " =?UTF-8?B?YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=?=");
  EXPECT_LE(std::string("Subject: ").size() + header.find("\r\n"), 76u);
}

TEST(MailEncoding, EncodedWordsNeverSplitAUtf8Sequence) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "é";  // 2 bytes each: 39 is odd, so a word ends at 38
  const std::string header = unstructured_header("Subject", text);
  EXPECT_EQ(header.substr(0, header.find("\r\n")), "=?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6k=?=");
  EXPECT_EQ(header.find("\r\n "), 64u);  // 19 characters, 38 bytes
}

TEST(MailEncoding, LineBreaksInAHeaderValueBecomeSpaces) {
  EXPECT_EQ(unstructured_header("Subject", "Hi\r\nBcc: victim@example.com"), "Hi  Bcc: victim@example.com");
  EXPECT_EQ(single_line("a\nb\tc\x7f"), "a b c ");
}

TEST(MailEncoding, AsciiSubjectHoldingAnEncodedWordMarkerIsEncoded) {
  EXPECT_EQ(unstructured_header("Subject", "=?x?="), "=?UTF-8?B?PT94Pz0=?=");
}

TEST(MailEncoding, DisplayNamePhraseIsAtomsQuotedOrEncoded) {
  EXPECT_EQ(display_name_phrase("Example Site"), "Example Site");
  EXPECT_EQ(display_name_phrase("Example, \"Inc\""), "\"Example, \\\"Inc\\\"\"");
  EXPECT_EQ(display_name_phrase("Café"), "=?UTF-8?B?Q2Fmw6k=?=");
}

// Found by fuzz/mail_template: a mail.from name of a thousand printable
// characters made a From line longer than RFC 5322's 998 octets.
TEST(MailEncoding, ALongDisplayNameIsFoldedIntoEncodedWords) {
  const std::string name(1200, 'x');
  const std::string phrase = display_name_phrase(name + ", Inc");
  std::size_t start = 0;
  std::string decoded;
  while (start < phrase.size()) {
    std::size_t end = phrase.find("\r\n ", start);
    if (end == std::string::npos) end = phrase.size();
    const std::string word = phrase.substr(start, end - start);
    EXPECT_LE(word.size() + (start == 0 ? std::string_view("From: ").size() : 1), 76u) << word;
    ASSERT_TRUE(word.starts_with("=?UTF-8?B?") && word.ends_with("?=")) << word;
    decoded += decode_base64(word.substr(10, word.size() - 12));
    start = end == phrase.size() ? end : end + 3;
  }
  EXPECT_EQ(decoded, name + ", Inc");
  const std::string fits(60, 'x');
  EXPECT_EQ(display_name_phrase(fits), fits);
}

TEST(MailEncoding, QuotedPrintableEscapesEqualsAndNonAscii) {
  EXPECT_EQ(quoted_printable("a=b\nGrüße\n"), "a=3Db\r\nGr=C3=BC=C3=9Fe\r\n");
}

TEST(MailEncoding, QuotedPrintableEncodesTrailingSpaceAndLeadingDot) {
  EXPECT_EQ(quoted_printable("end \n.\n.x\ttab\t\n"), "end=20\r\n=2E\r\n=2Ex\ttab=09\r\n");
}

TEST(MailEncoding, QuotedPrintableNormalisesLineEnds) { EXPECT_EQ(quoted_printable("a\r\nb\rc\n"), "a\r\nb\r\nc\r\n"); }

TEST(MailEncoding, QuotedPrintableBreaksLongLinesSoftlyAtMost76) {
  const std::string line(200, 'x');
  const std::string encoded = quoted_printable(line + "\n");
  EXPECT_EQ(encoded, std::string(75, 'x') + "=\r\n" + std::string(75, 'x') + "=\r\n" + std::string(50, 'x') + "\r\n");
}

TEST(MailEncoding, QuotedPrintableLineOfExactly76FitsWithoutSoftBreak) {
  const std::string line(76, 'x');
  EXPECT_EQ(quoted_printable(line + "\n"), line + "\r\n");
}

TEST(MailEncoding, QuotedPrintableNeverSplitsAnEscape) {
  const std::string text = std::string(74, 'x') + "é\n";
  EXPECT_EQ(quoted_printable(text), std::string(74, 'x') + "=\r\n=C3=A9\r\n");
}

TEST(MailEncoding, QuotedPrintableOutputLinesAreAtMost76Characters) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += (i % 7 == 0) ? "= " : "ü.";
  const std::string encoded = quoted_printable(text + "\n");
  std::size_t start = 0;
  while (start < encoded.size()) {
    const std::size_t end = encoded.find("\r\n", start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - start, 76u);
    start = end + 2;
  }
}

TEST(MailEncoding, DateIsRfc5322InUtc) {
  const auto when = std::chrono::sys_days{std::chrono::December / 1 / 2026} + 3h + 2min + 7s;
  EXPECT_EQ(rfc5322_date(when), "Tue, 01 Dec 2026 03:02:07 +0000");
}

}  // namespace
}  // namespace dirproxy::mail_encoding
