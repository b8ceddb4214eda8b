#include "frontends/socket/protocol.hpp"

#include <array>

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
