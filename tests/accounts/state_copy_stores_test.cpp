// A state copied from SQLite into PostgreSQL (storage/state_copy.hpp) as the
// stores see it: what the stores wrote on one backend they find on the
// other, by the same functions, and a new row goes on after the copied ones.
#include <gtest/gtest.h>

#include "accounts/account_token.hpp"
#include "accounts/invitation_store.hpp"
#include "storage/state_copy.hpp"
#include "support/postgres_server.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy {
namespace {

using testing::PostgresCluster;

constexpr std::int64_t kNow = 1'700'000'000;

TEST(StateCopyStores, AnInvitationIsFoundByItsTokenAfterTheCopyAndANewOneGetsTheNextId) {
  if (auto why = PostgresCluster::unavailable_reason()) GTEST_SKIP() << *why;
  testing::TemporaryDirectory temp{"dps-copy"};
  const auto token = issue_token();
  std::filesystem::path file;
  std::int64_t copied_id = 0;
  {
    auto sqlite = StateDatabase::open(temp.path() / "state", 1);
    ASSERT_TRUE(sqlite);
    auto lease = (*sqlite)->acquire();
    ASSERT_TRUE(insert_invitation(lease, NewInvitation{issue_token().hash, "old@example.com", {}, {}, 60, {}}, kNow));
    auto stored =
        insert_invitation(lease, NewInvitation{token.hash, "ann@example.com", {"dev", "ops"}, "welcome", 3600, {}}, kNow);
    ASSERT_TRUE(stored);
    copied_id = stored->id;
    file = (*sqlite)->path();
  }
  auto postgres_database = PostgresCluster::shared().create_database();
  PostgresqlOptions options;
  options.url = postgres_database.url();
  auto postgres = StateDatabase::open_postgresql(options, 1);
  ASSERT_TRUE(postgres) << postgres.error().message;

  auto copied = copy_sqlite_state(file, **postgres);

  ASSERT_TRUE(copied) << copied.error().message;
  auto lease = (*postgres)->acquire();
  auto found = find_usable_invitation(lease, token.token, kNow + 10);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, copied_id);
  EXPECT_EQ((*found)->email, "ann@example.com");
  EXPECT_EQ((*found)->groups, std::vector<std::string>({"dev", "ops"}));
  EXPECT_EQ((*found)->message, "welcome");
  EXPECT_EQ((*found)->expires_at, kNow + 3600);
  auto claimed = claim_invitation(lease, copied_id, "ann", kNow + 20);
  ASSERT_TRUE(claimed);
  EXPECT_TRUE(*claimed);
  auto next = insert_invitation(lease, NewInvitation{issue_token().hash, {}, {}, {}, 60, {}}, kNow);
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->id, copied_id + 1);
}

}  // namespace
}  // namespace dirproxy
