#include "frontends/socket/protocol.hpp"

#include <array>
#include <cstdint>
#include <string>

#include <gtest/gtest.h>

namespace dirproxy::protocol {
namespace {

TEST(Protocol, ParsesOpIdAndParameters) {
  auto request = parse_request(R"({"op":"get_user","id":7,"username":"alice"})");

  ASSERT_TRUE(request);
  EXPECT_EQ(request->op, "get_user");
  EXPECT_EQ(request->id, Json(7));
  EXPECT_EQ(request->params, (Json{{"username", "alice"}}));
}

TEST(Protocol, LineThatIsNotJsonIsBadRequest) {
  auto request = parse_request("hello");

  ASSERT_FALSE(request);
  EXPECT_EQ(request.error().code, ErrorCode::bad_request);
}

TEST(Protocol, JsonThatIsNotAnObjectIsBadRequest) {
  for (const char* line : {"[1,2]", "\"op\"", "42", "null"}) {
    auto request = parse_request(line);
    ASSERT_FALSE(request) << line;
    EXPECT_EQ(request.error().code, ErrorCode::bad_request) << line;
  }
}

TEST(Protocol, MissingOrNonStringOpIsBadRequestNamingOp) {
  auto missing = parse_request(R"({"id":1})");
  auto number = parse_request(R"({"op":5})");

  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().field, "op");
  ASSERT_FALSE(number);
  EXPECT_EQ(number.error().field, "op");
}

TEST(Protocol, IdIsEchoedEvenWhenTheRequestIsRefused) {
  Json id;
  auto request = parse_request(R"({"id":"abc","op":17})", &id);

  ASSERT_FALSE(request);
  EXPECT_EQ(id, Json("abc"));
}

TEST(Protocol, StructuredIdIsBadRequest) {
  auto request = parse_request(R"({"id":{"x":1},"op":"ping"})");

  ASSERT_FALSE(request);
  EXPECT_EQ(request.error().field, "id");
}

// {"op":"ping","x":[[...[]...]]}: the request object plus `arrays` levels.
std::string ping_nested(std::size_t arrays) {
  return R"({"op":"ping","x":)" + std::string(arrays, '[') + std::string(arrays, ']') + "}";
}

TEST(Protocol, ARequestAtTheNestingLimitIsParsed) {
  auto request = parse_request(ping_nested(kMaxNestingDepth - 1));

  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->op, "ping");
}

TEST(Protocol, ARequestDeeperThanTheNestingLimitIsBadRequestNamingTheLimit) {
  auto request = parse_request(ping_nested(kMaxNestingDepth));

  ASSERT_FALSE(request);
  EXPECT_EQ(request.error().code, ErrorCode::bad_request);
  EXPECT_EQ(request.error().message, "the request nests arrays and objects deeper than 32 levels");
}

// 24,000 levels overflowed the stack of whatever recursed over the parsed
// request (the request log's redaction did, at log level debug).
TEST(Protocol, AHugelyNestedRequestIsBadRequest) {
  auto arrays = parse_request(ping_nested(24000));
  std::string objects = R"({"op":"ping")";
  for (int i = 0; i < 24000; ++i) objects += R"(,"x":{"y":0)";
  objects += std::string(24000, '}') + "}";
  auto nested_objects = parse_request(objects);

  ASSERT_FALSE(arrays);
  EXPECT_EQ(arrays.error().code, ErrorCode::bad_request);
  ASSERT_FALSE(nested_objects);
  EXPECT_EQ(nested_objects.error().code, ErrorCode::bad_request);
}

TEST(Protocol, ANulByteAfterARequestIsBadRequestRatherThanTheEndOfTheLine) {
  const std::string line = std::string(R"({"op":"ping","id":6})") + '\0' + R"({"op":"delete_user","username":"alice"})";

  auto request = parse_request(line);

  ASSERT_FALSE(request);
  EXPECT_EQ(request.error().code, ErrorCode::bad_request);
  EXPECT_EQ(request.error().message, "the request is not valid JSON: it contains a NUL byte");
}

TEST(Protocol, ANulByteInsideAStringIsBadRequest) {
  const std::string line = std::string(R"({"op":"get_user","username":"al)") + '\0' + R"(ice"})";

  auto request = parse_request(line);

  ASSERT_FALSE(request);
  EXPECT_EQ(request.error().code, ErrorCode::bad_request);
}

TEST(Protocol, IntegerIdsAreEchoedExactlyUpTo64Bits) {
  for (const char* id : {"18446744073709551615", "9223372036854775808", "-9223372036854775808", "0"}) {
    SCOPED_TRACE(id);
    auto request = parse_request(std::string(R"({"op":"ping","id":)") + id + "}");
    ASSERT_TRUE(request) << request.error().message;

    auto line = success_line(request->id, Json::object());

    EXPECT_EQ(line, std::string(R"({"id":)") + id + R"(,"ok":true})");
  }
}

TEST(Protocol, ANumericIdBeyond64BitsIsBadRequestNamingId) {
  for (const char* id : {"18446744073709551616", "-9223372036854775809", "1e300", "123456789012345678901234567890"}) {
    SCOPED_TRACE(id);
    Json echoed;

    auto request = parse_request(std::string(R"({"op":"ping","id":)") + id + "}", &echoed);

    ASSERT_FALSE(request);
    EXPECT_EQ(request.error().code, ErrorCode::bad_request);
    EXPECT_EQ(request.error().field, "id");
    EXPECT_EQ(echoed, nullptr);  // it cannot be echoed as sent
  }
}

TEST(Protocol, AFractionalIdIsEchoedAsTheSameNumber) {
  auto request = parse_request(R"({"op":"ping","id":3.25})");

  ASSERT_TRUE(request);
  EXPECT_EQ(success_line(request->id, Json::object()), R"({"id":3.25,"ok":true})");
}

constexpr std::array<ParamSpec, 3> kSpecs = {{
    {"username", ParamType::string, Presence::required},
    {"limit", ParamType::integer, Presence::optional},
    {"groups", ParamType::string_list, Presence::optional},
}};

TEST(Protocol, UnknownParameterIsRejectedByName) {
  auto checked = check_params(Json{{"username", "a"}, {"colour", "red"}}, kSpecs);

  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code, ErrorCode::bad_request);
  EXPECT_EQ(checked.error().field, "colour");
  EXPECT_EQ(checked.error().message, "unknown parameter 'colour'");
}

TEST(Protocol, WrongTypeIsRejectedByName) {
  auto number_as_name = check_params(Json{{"username", 5}}, kSpecs);
  auto float_limit = check_params(Json{{"username", "a"}, {"limit", 2.5}}, kSpecs);
  auto mixed_list = check_params(Json{{"username", "a"}, {"groups", Json::array({"x", 1})}}, kSpecs);

  ASSERT_FALSE(number_as_name);
  EXPECT_EQ(number_as_name.error().field, "username");
  ASSERT_FALSE(float_limit);
  EXPECT_EQ(float_limit.error().field, "limit");
  ASSERT_FALSE(mixed_list);
  EXPECT_EQ(mixed_list.error().field, "groups");
}

// 18446744073709551615 read as std::int64_t was -1 ("no invitation -1"), and
// 2^63 a negative number.
TEST(Protocol, AnIntegerParameterBeyondInt64IsBadRequestNamingIt) {
  for (std::uint64_t limit : {std::uint64_t{18446744073709551615u}, std::uint64_t{9223372036854775808u}}) {
    SCOPED_TRACE(limit);

    auto checked = check_params(Json{{"username", "a"}, {"limit", limit}}, kSpecs);

    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error().code, ErrorCode::bad_request);
    EXPECT_EQ(checked.error().field, "limit");
    EXPECT_EQ(checked.error().message, "parameter 'limit' is out of range: at most 9223372036854775807");
  }
}

TEST(Protocol, AnIntegerParameterAtTheEdgesOfInt64IsAccepted) {
  for (const Json& limit : {Json(std::uint64_t{9223372036854775807u}), Json(std::int64_t{-9223372036854775807 - 1})}) {
    SCOPED_TRACE(limit.dump());

    auto checked = check_params(Json{{"username", "a"}, {"limit", limit}}, kSpecs);

    EXPECT_TRUE(checked) << checked.error().message;
  }
}

TEST(Protocol, MissingRequiredParameterIsRejectedByName) {
  auto absent = check_params(Json::object(), kSpecs);
  auto null = check_params(Json{{"username", nullptr}}, kSpecs);

  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().message, "missing parameter 'username'");
  ASSERT_FALSE(null);
  EXPECT_EQ(null.error().field, "username");
}

TEST(Protocol, SuccessLineCarriesIdOkAndResultMembers) {
  auto line = success_line(Json(3), Json{{"version", "1"}});

  EXPECT_EQ(Json::parse(line), (Json{{"id", 3}, {"ok", true}, {"version", "1"}}));
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(Protocol, ErrorLineCarriesCodeMessageFieldAndDirectory) {
  Error error = make_error(ErrorCode::directory_unavailable, "corp is down", "username");
  error.directory = "corp";

  auto line = Json::parse(error_line(Json("x"), error, Json{{"retry_after", 5}}));

  EXPECT_EQ(line["ok"], false);
  EXPECT_EQ(line["id"], "x");
  EXPECT_EQ(line["error"]["code"], "directory_unavailable");
  EXPECT_EQ(line["error"]["message"], "corp is down");
  EXPECT_EQ(line["error"]["field"], "username");
  EXPECT_EQ(line["directory"], "corp");
  EXPECT_EQ(line["retry_after"], 5);
}

TEST(Protocol, InvalidUtf8InAResultNeverBreaksTheLine) {
  auto line = success_line(nullptr, Json{{"name", std::string("bad\xff")}});

  EXPECT_TRUE(Json::accept(line));
}

}  // namespace
}  // namespace dirproxy::protocol
