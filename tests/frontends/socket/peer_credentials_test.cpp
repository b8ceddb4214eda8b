#include "frontends/socket/peer_credentials.hpp"

#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace dirproxy {
namespace {

TEST(PeerCredentials, KernelReportsThePeersUidAndPid) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);

  auto peer = peer_credentials(pair[0]);

  ASSERT_TRUE(peer.has_value());
  EXPECT_EQ(peer->uid, getuid());
  EXPECT_EQ(peer->pid, getpid());
  close(pair[0]);
  close(pair[1]);
}

TEST(PeerCredentials, RootIsAlwaysAnAdmin) { EXPECT_TRUE(is_admin(PeerCredentials{1, 0, 0}, config::Admins{})); }

TEST(PeerCredentials, OtherUsersAreNotAdminsByDefault) {
  const passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);

  EXPECT_FALSE(is_admin(PeerCredentials{1, nobody->pw_uid, nobody->pw_gid}, config::Admins{}));
}

TEST(PeerCredentials, ListedAccountNameIsAnAdmin) {
  const passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  config::Admins admins;
  admins.users = {"nobody"};

  EXPECT_TRUE(is_admin(PeerCredentials{1, nobody->pw_uid, nobody->pw_gid}, admins));
}

TEST(PeerCredentials, MemberOfAListedGroupIsAnAdmin) {
  const passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  config::Admins in_group;
  in_group.groups = {"nogroup"};  // nobody's primary group on Debian
  config::Admins other_group;
  other_group.groups = {"root"};

  EXPECT_TRUE(is_admin(PeerCredentials{1, nobody->pw_uid, nobody->pw_gid}, in_group));
  EXPECT_FALSE(is_admin(PeerCredentials{1, nobody->pw_uid, nobody->pw_gid}, other_group));
}

}  // namespace
}  // namespace dirproxy
