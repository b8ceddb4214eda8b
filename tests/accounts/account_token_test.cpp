// Tokens of the account life cycle: random, URL-safe, stored only as a hash,
// and the shared invitation token derived from a key and a generation.
#include "accounts/account_token.hpp"

#include <set>

#include <gtest/gtest.h>

namespace dirproxy {
namespace {

bool is_base64url(const std::string& text) {
  return text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
         std::string::npos;
}

TEST(AccountToken, AnIssuedTokenIs32RandomBytesWrittenUrlSafe) {
  const IssuedToken issued = issue_token();

  EXPECT_EQ(issued.token.size(), 43u);  // 32 bytes in base64url without padding
  EXPECT_TRUE(is_base64url(issued.token)) << issued.token;
  EXPECT_EQ(issued.hash, token_hash(issued.token));
}

TEST(AccountToken, TokensDoNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(issue_token().token);

  EXPECT_EQ(seen.size(), 1000u);
}

TEST(AccountToken, TheStoredHashIsNotTheToken) {
  const IssuedToken issued = issue_token();

  EXPECT_EQ(issued.hash.size(), 64u);  // hex of 32 bytes
  EXPECT_EQ(issued.hash.find(issued.token), std::string::npos);
  EXPECT_NE(token_hash(issued.token + "x"), issued.hash);
}

TEST(AccountToken, HashesCompareEqualOnlyWhenIdentical) {
  const std::string hash = token_hash("abc");

  EXPECT_TRUE(same_token_hash(hash, token_hash("abc")));
  EXPECT_FALSE(same_token_hash(hash, token_hash("abd")));
  EXPECT_FALSE(same_token_hash(hash, hash.substr(1)));
  EXPECT_FALSE(same_token_hash(hash, ""));
}

TEST(AccountToken, TheSharedInvitationTokenIsDerivedFromKeyAndGeneration) {
  const std::string key = new_shared_invitation_key();

  const std::string first = shared_invitation_token(key, 1);

  EXPECT_EQ(key.size(), 64u);
  EXPECT_EQ(first.size(), 43u);
  EXPECT_TRUE(is_base64url(first)) << first;
  EXPECT_EQ(shared_invitation_token(key, 1), first);
  EXPECT_NE(shared_invitation_token(key, 2), first);
  EXPECT_NE(shared_invitation_token(new_shared_invitation_key(), 1), first);
}

TEST(AccountToken, AMalformedKeyDerivesNoToken) {
  EXPECT_EQ(shared_invitation_token("", 1), "");
  EXPECT_EQ(shared_invitation_token("abcd", 1), "");
  EXPECT_EQ(shared_invitation_token(std::string(64, 'z'), 1), "");
}

TEST(AccountToken, SiteLinksReplaceBaseUrlAndToken) {
  EXPECT_EQ(site_link("{base_url}/signup?token={token}", "https://wiki.example.com", "T0k-_"),
            "https://wiki.example.com/signup?token=T0k-_");
  EXPECT_EQ(site_link("https://x.example/{token}/{token}", "unused", "t"), "https://x.example/t/t");
  EXPECT_EQ(site_link("{base_url}", "{token}", "secret"), "{token}");  // replaced once, never re-expanded
}

}  // namespace
}  // namespace dirproxy
