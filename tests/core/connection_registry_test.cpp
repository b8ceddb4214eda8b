// A server's places for connections: taken up to a limit, freed when a
// connection closes, and a shutdown stops the connections still open.
#include "core/connection_registry.hpp"

#include <memory>

#include <gtest/gtest.h>

namespace dirproxy {
namespace {

// Counts the stop() calls a server's shutdown makes.
struct CountingConnection {
  int stops = 0;
  void stop() { ++stops; }
};

TEST(ConnectionRegistry, PlacesAreTakenUpToTheLimitAndFreedByRelease) {
  ConnectionRegistry<CountingConnection> registry;

  EXPECT_TRUE(registry.take_place(1, 2));
  EXPECT_TRUE(registry.take_place(2, 2));
  EXPECT_FALSE(registry.take_place(3, 2));
  EXPECT_EQ(registry.size(), 2u);
  registry.release(1);
  EXPECT_TRUE(registry.take_place(3, 2));
  EXPECT_EQ(registry.size(), 2u);
}

TEST(ConnectionRegistry, IdsAreNeverGivenTwice) {
  ConnectionRegistry<CountingConnection> registry;

  EXPECT_EQ(registry.new_id(), 1u);
  EXPECT_EQ(registry.new_id(), 2u);
}

TEST(ConnectionRegistry, StopAllStopsEachConnectionStillAliveOnce) {
  ConnectionRegistry<CountingConnection> registry;
  auto open = std::make_shared<CountingConnection>();
  auto gone = std::make_shared<CountingConnection>();
  ASSERT_TRUE(registry.take_place(1, 10));
  ASSERT_TRUE(registry.take_place(2, 10));
  ASSERT_TRUE(registry.take_place(3, 10));  // a place whose connection is not made yet
  registry.hold(1, open);
  registry.hold(2, gone);
  std::weak_ptr<CountingConnection> gone_watch = gone;
  gone.reset();

  registry.stop_all();

  EXPECT_EQ(open->stops, 1);
  EXPECT_TRUE(gone_watch.expired());
  // Stopping frees no place: each connection releases its own once closed.
  EXPECT_EQ(registry.size(), 3u);
}

}  // namespace
}  // namespace dirproxy
