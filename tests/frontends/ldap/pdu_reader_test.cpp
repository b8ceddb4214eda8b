#include <ldap.h>

#include <string>
#include <variant>

#include <gtest/gtest.h>

#include "frontends/ldap/ber_builder.hpp"
#include "frontends/ldap/ldap_client_pipe.hpp"
#include "frontends/ldap/ldap_codec.hpp"

namespace dirproxy::ldap {
namespace {

using namespace test_support;

std::string search_pdu() {
  LdapClientPipe client;
  int id = 0;
  ldap_search_ext(client.ld(), "ou=people,dc=example,dc=com", LDAP_SCOPE_SUBTREE, "(&(uid=alice)(mail=*))", nullptr,
                  0, nullptr, nullptr, nullptr, 0, &id);
  return client.sent();
}

std::string unbind_pdu(int message_id) { return BerBuilder().print("{itn}", integer(message_id), tag(0x42)).bytes(); }

bool is_request(const std::optional<Decoded>& next) { return next && std::holds_alternative<Request>(*next); }
bool is_error(const std::optional<Decoded>& next) { return next && std::holds_alternative<DecodeError>(*next); }

TEST(PduReader, PduFedByteByByteIsDecodedOnItsLastByte) {
  const std::string pdu = search_pdu();
  PduReader reader(1024);

  for (std::size_t i = 0; i + 1 < pdu.size(); ++i) {
    reader.feed(pdu.substr(i, 1));
    ASSERT_EQ(reader.next(), std::nullopt) << "after byte " << i;
    EXPECT_EQ(reader.buffered(), i + 1);
  }
  reader.feed(pdu.substr(pdu.size() - 1));
  const auto next = reader.next();

  ASSERT_TRUE(is_request(next));
  EXPECT_TRUE(std::holds_alternative<SearchRequest>(std::get<Request>(*next).operation));
  EXPECT_EQ(reader.buffered(), 0u);
  EXPECT_EQ(reader.next(), std::nullopt);
}

TEST(PduReader, TwoPdusInOneFeedComeOutInOrder) {
  PduReader reader(1024);
  reader.feed(search_pdu() + unbind_pdu(2));

  const auto first = reader.next();
  const auto second = reader.next();

  ASSERT_TRUE(is_request(first));
  ASSERT_TRUE(is_request(second));
  EXPECT_TRUE(std::holds_alternative<SearchRequest>(std::get<Request>(*first).operation));
  EXPECT_TRUE(std::holds_alternative<UnbindRequest>(std::get<Request>(*second).operation));
  EXPECT_EQ(reader.next(), std::nullopt);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(PduReader, ShortPduFollowedByMoreIsFramedExactly) {
  // A 7-byte unbind: liblber reads up to 8 bytes ahead for a tag and length.
  PduReader reader(1024);
  const std::string search = search_pdu();
  reader.feed(unbind_pdu(1) + search.substr(0, 3));

  const auto unbind = reader.next();

  ASSERT_TRUE(is_request(unbind));
  EXPECT_EQ(std::get<Request>(*unbind).message_id, 1);
  EXPECT_EQ(reader.next(), std::nullopt);
  EXPECT_EQ(reader.buffered(), 3u);
  reader.feed(search.substr(3));
  EXPECT_TRUE(is_request(reader.next()));
}

TEST(PduReader, OversizedPduFailsBeforeItsContentsArrive) {
  PduReader reader(100);
  reader.feed(std::string("\x30\x82\x03\xe8", 4));  // a SEQUENCE of 1000 bytes

  const auto next = reader.next();

  ASSERT_TRUE(is_error(next));
  EXPECT_EQ(std::get<DecodeError>(*next).code, ResultCode::protocol_error);
}

TEST(PduReader, PduJustOverTheLimitWithItsHeaderFails) {
  const std::string pdu = search_pdu();
  PduReader reader(pdu.size() - 1);
  reader.feed(pdu);

  EXPECT_TRUE(is_error(reader.next()));
}

TEST(PduReader, PduOfExactlyTheLimitIsAccepted) {
  const std::string pdu = search_pdu();
  PduReader reader(pdu.size());
  reader.feed(pdu);

  EXPECT_TRUE(is_request(reader.next()));
}

TEST(PduReader, RaisedLimitAppliesToTheNextPdu) {
  const std::string pdu = search_pdu();
  PduReader reader(10);
  reader.set_max_pdu_bytes(pdu.size());
  reader.feed(pdu);

  EXPECT_TRUE(is_request(reader.next()));
}

TEST(PduReader, FailedReaderStaysFailed) {
  PduReader reader(100);
  reader.feed(std::string("\x30\x82\x03\xe8", 4));
  const auto first = reader.next();
  reader.feed(unbind_pdu(1));

  const auto second = reader.next();

  ASSERT_TRUE(is_error(first));
  ASSERT_TRUE(is_error(second));
  EXPECT_EQ(std::get<DecodeError>(*second).message, std::get<DecodeError>(*first).message);
}

TEST(PduReader, GarbageIsAnErrorAtItsFirstByte) {
  PduReader reader(1024);
  reader.feed("GET / HTTP/1.1\r\n");

  EXPECT_TRUE(is_error(reader.next()));
}

TEST(PduReader, TruncatedPduThenGarbageIsAnError) {
  const std::string pdu = search_pdu();
  PduReader reader(1024);
  reader.feed(pdu.substr(0, pdu.size() - 4));
  ASSERT_EQ(reader.next(), std::nullopt);
  reader.feed(std::string(40, '\xff'));

  EXPECT_TRUE(is_error(reader.next()));
}

TEST(PduReader, ZeroAndIndefiniteLengthsAreErrors) {
  for (const std::string& header : {std::string("\x30\x00", 2), std::string("\x30\x80", 2),
                                    std::string("\x30\x85\x01\x00\x00\x00\x00", 7)}) {
    PduReader reader(1024);
    reader.feed(header);
    EXPECT_TRUE(is_error(reader.next())) << header.size();
  }
}

TEST(PduReader, DecodeErrorOfAWholePduIsPassedOnWithItsMessageId) {
  PduReader reader(1024);
  reader.feed(BerBuilder().print("{it{}}", integer(7), tag(0x61)).bytes() + unbind_pdu(8));

  const auto first = reader.next();

  ASSERT_TRUE(is_error(first));
  EXPECT_EQ(std::get<DecodeError>(*first).message, "unknown operation");
  EXPECT_EQ(std::get<DecodeError>(*first).message_id, 7);
  EXPECT_TRUE(is_error(reader.next()));
}

TEST(PduReader, NothingFedIsNothingToRead) {
  PduReader reader(1024);

  EXPECT_EQ(reader.next(), std::nullopt);
  EXPECT_EQ(reader.buffered(), 0u);
}

}  // namespace
}  // namespace dirproxy::ldap
