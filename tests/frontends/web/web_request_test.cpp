// From an HTTP request as sent to the Request a page sees (web_request.hpp):
// strict path decoding, the browser's address and scheme through trusted
// proxies only, and the query, form and cookies.
#include <gtest/gtest.h>

#include "frontends/web/trusted_proxies.hpp"
#include "frontends/web/web_request.hpp"

namespace dirproxy::web {
namespace {

asio::ip::address ip(const std::string& text) { return asio::ip::make_address(text); }

HttpRequestParts parts(std::string_view method, std::string_view target, std::string_view content_type = "",
                       std::string_view body = "") {
  HttpRequestParts parts;
  parts.method = method;
  parts.target = target;
  parts.content_type = content_type;
  parts.body = body;
  return parts;
}

RequestOrigin origin(const std::string& peer, bool tls = false) {
  return RequestOrigin{.peer = ip(peer), .tls = tls, .connection = 1};
}

TrustedProxies proxies(const std::vector<std::string>& entries) {
  auto parsed = TrustedProxies::parse(entries);
  EXPECT_TRUE(parsed) << parsed.error().message;
  return parsed ? *parsed : TrustedProxies();
}

TEST(TrustedProxies, MatchesAddressesAndNetworksOfBothFamilies) {
  const TrustedProxies trusted = proxies({"192.0.2.7", "10.0.0.0/8", "2001:db8::1", "fd00::/8"});
  EXPECT_TRUE(trusted.contains(ip("192.0.2.7")));
  EXPECT_FALSE(trusted.contains(ip("192.0.2.8")));
  EXPECT_TRUE(trusted.contains(ip("10.255.0.1")));
  EXPECT_FALSE(trusted.contains(ip("11.0.0.1")));
  EXPECT_TRUE(trusted.contains(ip("2001:db8::1")));
  EXPECT_FALSE(trusted.contains(ip("2001:db8::2")));
  EXPECT_TRUE(trusted.contains(ip("fdab::5")));
  EXPECT_FALSE(trusted.contains(ip("fe80::1")));
}

TEST(TrustedProxies, AnIpv4MappedPeerIsItsIpv4Address) {
  const TrustedProxies trusted = proxies({"127.0.0.1"});
  EXPECT_TRUE(trusted.contains(ip("::ffff:127.0.0.1")));
  EXPECT_EQ(unmapped(ip("::ffff:192.0.2.1")).to_string(), "192.0.2.1");
}

TEST(TrustedProxies, PrefixesThatAreNotWholeBytes) {
  const TrustedProxies trusted = proxies({"172.16.0.0/12", "0.0.0.0/0"});
  EXPECT_TRUE(trusted.contains(ip("172.31.255.255")));
  EXPECT_TRUE(trusted.contains(ip("8.8.8.8")));  // /0: every IPv4 address
  EXPECT_FALSE(trusted.contains(ip("::1")));      // but not IPv6
  EXPECT_FALSE(proxies({"172.16.0.0/12"}).contains(ip("172.32.0.0")));
}

TEST(TrustedProxies, RefusesWhatIsNeitherAnAddressNorANetwork) {
  for (const char* entry : {"proxy.example.com", "10.0.0.0/33", "10.0.0.0/", "::1/129", "10.0.0.0/8x"}) {
    auto parsed = TrustedProxies::parse({entry});
    ASSERT_FALSE(parsed) << entry;
    EXPECT_NE(parsed.error().message.find(entry), std::string::npos) << parsed.error().message;
  }
}

TEST(ClientAddress, IsThePeerWhenThePeerIsNotTrusted) {
  EXPECT_EQ(client_address(ip("198.51.100.9"), "203.0.113.5", proxies({"127.0.0.1"})), "198.51.100.9");
  EXPECT_EQ(client_address(ip("198.51.100.9"), "203.0.113.5", TrustedProxies()), "198.51.100.9");
}

TEST(ClientAddress, IsTheRightmostUntrustedHopBehindATrustedProxy) {
  const TrustedProxies trusted = proxies({"127.0.0.1", "10.0.0.0/8"});
  // The browser wrote "1.1.1.1" itself; nginx appended what it saw.
  EXPECT_EQ(client_address(ip("127.0.0.1"), "1.1.1.1, 203.0.113.5", trusted), "203.0.113.5");
  // Two proxies of ours: the first one's address is skipped.
  EXPECT_EQ(client_address(ip("127.0.0.1"), "1.1.1.1, 203.0.113.5, 10.1.2.3", trusted), "203.0.113.5");
  // Several headers, joined as the server joins them.
  EXPECT_EQ(client_address(ip("127.0.0.1"), "203.0.113.5 , 10.1.2.3", trusted), "203.0.113.5");
}

TEST(ClientAddress, IsTheLeftmostHopWhenEveryHopIsTrusted) {
  EXPECT_EQ(client_address(ip("127.0.0.1"), "10.0.0.2, 10.0.0.1", proxies({"127.0.0.1", "10.0.0.0/8"})), "10.0.0.2");
}

TEST(ClientAddress, IsTheTrustedPeerWhenTheHeaderIsMissingOrEmpty) {
  EXPECT_EQ(client_address(ip("127.0.0.1"), "", proxies({"127.0.0.1"})), "127.0.0.1");
  EXPECT_EQ(client_address(ip("127.0.0.1"), " , ", proxies({"127.0.0.1"})), "127.0.0.1");
}

TEST(ClientAddress, AHopThatIsNotAnAddressEndsTheWalkAtTheHopThatPassedItOn) {
  const TrustedProxies trusted = proxies({"127.0.0.1", "10.0.0.0/8"});
  EXPECT_EQ(client_address(ip("127.0.0.1"), "203.0.113.5, unknown", trusted), "127.0.0.1");
  EXPECT_EQ(client_address(ip("127.0.0.1"), "203.0.113.5, garbage, 10.0.0.4", trusted), "10.0.0.4");
  EXPECT_EQ(client_address(ip("127.0.0.1"), "203.0.113.5:99999999", trusted), "127.0.0.1");
}

TEST(ClientAddress, ReadsHopsWithPortsAndIpv6) {
  const TrustedProxies trusted = proxies({"::1"});
  EXPECT_EQ(client_address(ip("::1"), "203.0.113.5:4711", trusted), "203.0.113.5");
  EXPECT_EQ(client_address(ip("::1"), "[2001:db8::7]:443", trusted), "2001:db8::7");
  EXPECT_EQ(client_address(ip("::1"), "2001:db8::8", trusted), "2001:db8::8");
  EXPECT_EQ(client_address(ip("::1"), "::ffff:203.0.113.6", trusted), "203.0.113.6");
}

TEST(SecureRequest, IsTheListenersSchemeOrTheProtoOfATrustedProxy) {
  const TrustedProxies trusted = proxies({"127.0.0.1"});
  EXPECT_TRUE(secure_request(origin("198.51.100.9", true), "", trusted));
  EXPECT_FALSE(secure_request(origin("198.51.100.9"), "https", trusted));
  EXPECT_TRUE(secure_request(origin("127.0.0.1"), "HTTPS", trusted));
  EXPECT_FALSE(secure_request(origin("127.0.0.1"), "https, http", trusted));
  EXPECT_FALSE(secure_request(origin("127.0.0.1"), "", trusted));
}

TEST(DecodePath, DecodesEscapesButKeepsPlusAsIs) {
  EXPECT_EQ(decode_path("/").value(), "/");
  EXPECT_EQ(decode_path("/admin/").value(), "/admin/");
  EXPECT_EQ(decode_path("/a%20b+c").value(), "/a b+c");
  EXPECT_EQ(decode_path("/caf%C3%A9").value(), "/caf\xC3\xA9");
}

TEST(DecodePath, RefusesPathsThatTryToBeOtherPaths) {
  for (const char* path :
       {"", "*", "http://example.com/", "/a%2Fb", "/a%2fb", "/a%5Cb", "/a\\b", "/..", "/a/../b", "/a/%2e%2e/b",
        "/a/%2E%2e", "/./a", "/a/.", "//evil.example", "/a//b", "/a%", "/a%4", "/a%zz", "/a%00", "/a%0d%0aX: y",
        "/%FF", "/%E2%80%AE", "/%C0%AF"}) {
    auto decoded = decode_path(path);
    EXPECT_FALSE(decoded) << "'" << path << "' → '" << (decoded ? *decoded : "") << "'";
    if (!decoded) {
      EXPECT_EQ(decoded.error().code, ErrorCode::bad_request);
    }
  }
}

TEST(IsFormContentType, TakesParametersAndAnyCase) {
  EXPECT_TRUE(is_form_content_type("application/x-www-form-urlencoded"));
  EXPECT_TRUE(is_form_content_type("Application/X-WWW-Form-Urlencoded; charset=UTF-8"));
  EXPECT_FALSE(is_form_content_type("multipart/form-data; boundary=x"));
  EXPECT_FALSE(is_form_content_type("application/json"));
  EXPECT_FALSE(is_form_content_type(""));
}

TEST(BuildRequest, TakesEveryPartOfARequest) {
  const TrustedProxies trusted = proxies({"127.0.0.1"});
  const HttpRequestParts sent{.method = "POST",
                               .target = "/signup?token=abc%2Bdef",
                               .content_type = "application/x-www-form-urlencoded",
                               .cookie = "a=1; __Host-dirproxy-form=xyz",
                               .forwarded_for = "203.0.113.5",
                               .forwarded_proto = "https",
                               .body = "username=ann&password=p%26ss"};
  auto request = build_request(sent, RequestOrigin{.peer = ip("127.0.0.1"), .tls = false, .connection = 7}, trusted);
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->method, Method::post);
  EXPECT_EQ(request->path, "/signup");
  EXPECT_EQ(request->query.value("token"), "abc+def");
  EXPECT_EQ(request->form.value("username"), "ann");
  EXPECT_EQ(request->form.value("password"), "p&ss");
  EXPECT_EQ(request->cookies.at("__Host-dirproxy-form"), "xyz");
  EXPECT_EQ(request->client_address, "203.0.113.5");
  EXPECT_TRUE(request->secure);
  EXPECT_EQ(request->connection, 7u);
}

TEST(BuildRequest, ReadsNoFormFromAGetOrABodyOfAnotherType) {
  const auto get = parts("GET", "/x", "application/x-www-form-urlencoded", "a=1");
  EXPECT_TRUE(build_request(get, origin("127.0.0.1"), TrustedProxies())->form.items().empty());
  const auto json = parts("POST", "/x", "application/json", "a=1");
  EXPECT_TRUE(build_request(json, origin("127.0.0.1"), TrustedProxies())->form.items().empty());
}

TEST(BuildRequest, RefusesABadPathQueryOrForm) {
  const RequestOrigin local = origin("127.0.0.1");
  EXPECT_FALSE(build_request(parts("GET", "/a/../b"), local, TrustedProxies()));
  EXPECT_FALSE(build_request(parts("GET", "/a?x=%zz"), local, TrustedProxies()));
  EXPECT_FALSE(build_request(parts("POST", "/a", "application/x-www-form-urlencoded", "x=%FF"), local, TrustedProxies()));
}

TEST(MethodOf, KnowsGetHeadPostAndNothingElse) {
  EXPECT_EQ(method_of("GET"), Method::get);
  EXPECT_EQ(method_of("HEAD"), Method::head);
  EXPECT_EQ(method_of("POST"), Method::post);
  EXPECT_EQ(method_of("get"), Method::other);
  EXPECT_EQ(method_of("DELETE"), Method::other);
}

}  // namespace
}  // namespace dirproxy::web
