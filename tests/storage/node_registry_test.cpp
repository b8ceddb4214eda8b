// The nodes table: each dirproxyd run's row, refreshed by its heartbeat,
// removed at a clean stop, on a real (temporary) state database.
#include "storage/node_registry.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include "support/temporary_directory.hpp"

namespace dirproxy {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;

class NodeRegistry : public ::testing::Test {
 protected:
  void SetUp() override {
    // Two connections: a test holds one while nodes() reads on the other.
    auto opened = StateDatabase::open(scratch_.path(), 2);
    ASSERT_TRUE(opened) << opened.error().message;
    database_ = std::move(*opened);
  }

  std::vector<Node> nodes() {
    auto lease = database_->acquire();
    auto listed = list_nodes(lease);
    if (!listed) throw std::runtime_error(listed.error().message);
    return *listed;
  }

  testing::TemporaryDirectory scratch_{"dpn"};
  StateDatabasePtr database_;
};

TEST(ThisProcess, IsOneRandomHexNamePerRun) {
  EXPECT_EQ(this_process().size(), 64u);
  EXPECT_EQ(this_process().find_first_not_of("0123456789abcdef"), std::string::npos) << this_process();
  EXPECT_EQ(&this_process(), &this_process());
}

TEST_F(NodeRegistry, TheFirstHeartbeatInsertsTheRowWithHostAndPid) {
  auto lease = database_->acquire();

  ASSERT_TRUE(record_node_heartbeat(lease, "node-a", kNow));

  const auto found = nodes();
  ASSERT_EQ(found.size(), 1u);
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof(host) - 1), 0);
  EXPECT_EQ(found[0].process, "node-a");
  EXPECT_EQ(found[0].host, host);
  EXPECT_EQ(found[0].pid, ::getpid());
  EXPECT_EQ(found[0].started_at, kNow);
  EXPECT_EQ(found[0].last_seen_at, kNow);
}

TEST_F(NodeRegistry, ALaterHeartbeatRefreshesLastSeenAndKeepsTheStart) {
  auto lease = database_->acquire();
  ASSERT_TRUE(record_node_heartbeat(lease, "node-a", kNow));
  ASSERT_TRUE(record_node_heartbeat(lease, "node-b", kNow + 3));

  ASSERT_TRUE(record_node_heartbeat(lease, "node-a", kNow + 10));

  const auto found = nodes();
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].process, "node-a");
  EXPECT_EQ(found[0].started_at, kNow);
  EXPECT_EQ(found[0].last_seen_at, kNow + 10);
  EXPECT_EQ(found[1].process, "node-b");
  EXPECT_EQ(found[1].last_seen_at, kNow + 3);
}

TEST_F(NodeRegistry, ACleanStopRemovesOnlyItsOwnRow) {
  auto lease = database_->acquire();
  ASSERT_TRUE(record_node_heartbeat(lease, "node-a", kNow));
  ASSERT_TRUE(record_node_heartbeat(lease, "node-b", kNow));

  ASSERT_TRUE(remove_node(lease, "node-a"));
  ASSERT_TRUE(remove_node(lease, "never-there"));

  const auto found = nodes();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].process, "node-b");
}

TEST_F(NodeRegistry, RowsOfNodesUnseenForADayAreForgottenAtTheNextHeartbeat) {
  const std::int64_t day = std::chrono::seconds(kDeadNodeRowKept).count();
  auto lease = database_->acquire();
  ASSERT_TRUE(record_node_heartbeat(lease, "died-long-ago", kNow));
  ASSERT_TRUE(record_node_heartbeat(lease, "died-lately", kNow + 1));

  ASSERT_TRUE(record_node_heartbeat(lease, "node-a", kNow + day + 1));

  const auto found = nodes();
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].process, "died-lately");
  EXPECT_EQ(found[1].process, "node-a");
}

}  // namespace
}  // namespace dirproxy
