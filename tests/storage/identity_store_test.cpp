// IdentityStore: allocation from the configured minimum, never reusing a
// number, stability across a restart, concurrent first sights, the
// directory's own values and the reverse lookups, against a real SQLite
// state database in a fresh temporary directory per test.
#include "storage/identity_store.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <set>
#include <thread>
#include <vector>

#include "core/uuid.hpp"
#include "support/temporary_directory.hpp"
#include "support/test_state_database.hpp"

namespace dirproxy {
namespace {

using testing::TemporaryDirectory;

std::string upper_case(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

class IdentityStoreTest : public ::testing::TestWithParam<StateBackend> {
 protected:
  std::shared_ptr<void> keep_database_;  // a PostgreSQL test database, dropped last

 protected:
  StateDatabasePtr open_database(std::size_t connections = 2) {
    auto database = testing::open_state_database(GetParam(), temp_.path() / "state", connections, keep_database_);
    EXPECT_TRUE(database.has_value()) << database.error().message;
    return database ? *database : nullptr;
  }

  // Retires `name` as the internal directory does when it deletes the account.
  void retire(IdentityStore& store, IdentityKind kind, std::string_view name) {
    auto lease = database_->acquire();
    auto retired = lease.write_transaction(
        [&](const StateDatabase::Lease& writing) { return store.retire(writing, kind, "local", name); });
    ASSERT_TRUE(retired) << retired.error().message;
    store.forget(kind, "local", name);
  }

  TemporaryDirectory temp_;
  StateDatabasePtr database_ = open_database();
};

TEST_P(IdentityStoreTest, AllocationStartsAtTheConfiguredMinimumPerKind) {
  IdentityStore store(database_, IdentitySettings{.uid_number_min = 20000, .gid_number_min = 30000});

  auto alice = store.identity_of(IdentityKind::user, "local", "alice");
  auto bob = store.identity_of(IdentityKind::user, "local", "bob");
  auto staff = store.identity_of(IdentityKind::group, "local", "staff");

  ASSERT_TRUE(alice && bob && staff);
  EXPECT_EQ(alice->number, 20000u);
  EXPECT_EQ(bob->number, 20001u);
  EXPECT_EQ(staff->number, 30000u);
  EXPECT_EQ(alice->source, IdentitySource::allocated);
  EXPECT_EQ(alice->name, "alice");
}

TEST_P(IdentityStoreTest, UserAndGroupNumbersNeverCollideWhenTheRangesOverlap) {
  IdentityStore store(database_, IdentitySettings{.uid_number_min = 10000, .gid_number_min = 10000});

  auto alice = store.identity_of(IdentityKind::user, "local", "alice");
  auto staff = store.identity_of(IdentityKind::group, "local", "staff");
  auto bob = store.identity_of(IdentityKind::user, "local", "bob");
  auto admins = store.identity_of(IdentityKind::group, "local", "admins");

  ASSERT_TRUE(alice && staff && bob && admins);
  // alice's private group is 10000 too: no real group may have it.
  EXPECT_EQ(alice->number, 10000u);
  EXPECT_EQ(staff->number, 10001u);
  EXPECT_EQ(bob->number, 10002u);
  EXPECT_EQ(admins->number, 10003u);
}

TEST_P(IdentityStoreTest, AnAllocatedUuidIsARandomVersion4UuidInLowerCase) {
  IdentityStore store(database_, {});

  auto alice = store.identity_of(IdentityKind::user, "local", "alice");
  auto bob = store.identity_of(IdentityKind::user, "local", "bob");

  ASSERT_TRUE(alice && bob);
  EXPECT_EQ(normalized_uuid(alice->uuid), alice->uuid);
  EXPECT_EQ(alice->uuid[14], '4');
  EXPECT_NE(std::string("89ab").find(alice->uuid[19]), std::string::npos);
  EXPECT_NE(alice->uuid, bob->uuid);
}

TEST_P(IdentityStoreTest, TheSameNameInAnyCaseKeepsItsIdentity) {
  IdentityStore store(database_, {});
  auto first = store.identity_of(IdentityKind::user, "local", "Alice");
  ASSERT_TRUE(first);

  auto again = store.identity_of(IdentityKind::user, "local", "ALICE");

  ASSERT_TRUE(again);
  EXPECT_EQ(again->uuid, first->uuid);
  EXPECT_EQ(again->number, first->number);
}

TEST_P(IdentityStoreTest, TheSameNameInAnotherDirectoryIsAnotherIdentity) {
  IdentityStore store(database_, {});

  auto local = store.identity_of(IdentityKind::user, "local", "alice");
  auto corp = store.identity_of(IdentityKind::user, "corp", "alice");

  ASSERT_TRUE(local && corp);
  EXPECT_NE(local->uuid, corp->uuid);
  EXPECT_NE(local->number, corp->number);
}

TEST_P(IdentityStoreTest, IdentitiesAreStableAcrossARestart) {
  StoredIdentity before;
  {
    IdentityStore store(database_, {});
    auto alice = store.identity_of(IdentityKind::user, "local", "alice");
    ASSERT_TRUE(alice);
    before = *alice;
  }
  database_.reset();
  database_ = open_database();
  IdentityStore reopened(database_, {});

  auto after = reopened.identity_of(IdentityKind::user, "local", "alice");
  auto next = reopened.identity_of(IdentityKind::user, "local", "bob");

  ASSERT_TRUE(after && next);
  EXPECT_EQ(after->uuid, before.uuid);
  EXPECT_EQ(after->number, before.number);
  EXPECT_EQ(next->number, before.number + 1);  // the counter was kept too
}

TEST_P(IdentityStoreTest, ARetiredNumberIsNeverReused) {
  IdentityStore store(database_, {});
  auto first = store.identity_of(IdentityKind::user, "local", "alice");
  ASSERT_TRUE(first);

  retire(store, IdentityKind::user, "alice");
  auto recreated = store.identity_of(IdentityKind::user, "local", "alice");

  ASSERT_TRUE(recreated);
  EXPECT_NE(recreated->uuid, first->uuid);
  EXPECT_EQ(recreated->number, first->number + 1);
  auto by_old_number = store.find_by_number(IdentityKind::user, first->number);
  ASSERT_TRUE(by_old_number);
  EXPECT_FALSE(by_old_number->has_value());
  auto by_old_uuid = store.find_by_uuid(IdentityKind::user, first->uuid);
  ASSERT_TRUE(by_old_uuid);
  EXPECT_FALSE(by_old_uuid->has_value());
}

TEST_P(IdentityStoreTest, ARaisedMinimumMovesTheCounterUpAndALoweredOneDoesNotMoveItBack) {
  {
    IdentityStore store(database_, {});
    ASSERT_TRUE(store.identity_of(IdentityKind::user, "local", "alice"));  // 10000
  }
  IdentityStore raised(database_, IdentitySettings{.uid_number_min = 50000, .gid_number_min = 10000});
  auto bob = raised.identity_of(IdentityKind::user, "local", "bob");
  IdentityStore lowered(database_, IdentitySettings{.uid_number_min = 100, .gid_number_min = 10000});
  auto carol = lowered.identity_of(IdentityKind::user, "local", "carol");

  ASSERT_TRUE(bob && carol);
  EXPECT_EQ(bob->number, 50000u);
  EXPECT_EQ(carol->number, 50001u);
}

TEST_P(IdentityStoreTest, ThreadsAllocatingAtOnceGetDistinctNumbers) {
  database_.reset();
  database_ = open_database(4);
  IdentityStore store(database_, {});
  constexpr int kThreads = 4;
  constexpr int kNamesEach = 25;
  std::vector<std::vector<StoredIdentity>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kNamesEach; ++i) {
        // Every thread also asks for a name that every other thread asks for.
        for (const std::string& name : {"user" + std::to_string(t) + "_" + std::to_string(i), std::string("shared")}) {
          auto identity = store.identity_of(IdentityKind::user, "local", name);
          if (identity) seen[t].push_back(*identity);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::set<std::uint32_t> numbers;
  std::set<std::string> shared_uuids;
  for (const auto& identities : seen) {
    ASSERT_EQ(identities.size(), 2u * kNamesEach);
    for (const auto& identity : identities) {
      if (identity.name == "shared") {
        shared_uuids.insert(identity.uuid);
      } else {
        EXPECT_TRUE(numbers.insert(identity.number).second) << identity.number;
      }
    }
  }
  EXPECT_EQ(numbers.size(), std::size_t{kThreads * kNamesEach});
  EXPECT_EQ(shared_uuids.size(), 1u);
  auto shared = store.identity_of(IdentityKind::user, "local", "shared");
  ASSERT_TRUE(shared);
  EXPECT_FALSE(numbers.contains(shared->number));
}

TEST_P(IdentityStoreTest, ReverseLookupsFindTheNameByNumberAndByUuid) {
  IdentityStore store(database_, {});
  auto staff = store.identity_of(IdentityKind::group, "local", "Staff");
  ASSERT_TRUE(staff);

  auto by_number = store.find_by_number(IdentityKind::group, staff->number);
  auto by_uuid = store.find_by_uuid(IdentityKind::group, upper_case(staff->uuid));
  auto as_user = store.find_by_number(IdentityKind::user, staff->number);

  ASSERT_TRUE(by_number && by_uuid && as_user);
  ASSERT_TRUE(by_number->has_value());
  EXPECT_EQ((*by_number)->directory, "local");
  EXPECT_EQ((*by_number)->name, "staff");
  ASSERT_TRUE(by_uuid->has_value());
  EXPECT_EQ((*by_uuid)->number, staff->number);
  EXPECT_FALSE(as_user->has_value());
}

TEST_P(IdentityStoreTest, ADirectorysOwnValuesAreRecordedAndFoundByReverseLookup) {
  IdentityStore store(database_, {});
  OwnIdentity own{.uuid = "6F9619FF-8B86-D011-B42D-00C04FC964FF", .number = 1234};

  auto bob = store.identity_of(IdentityKind::user, "corp", "bob", own);
  auto by_number = store.find_by_number(IdentityKind::user, 1234);
  auto next = store.identity_of(IdentityKind::user, "local", "carol");

  ASSERT_TRUE(bob && by_number && next);
  EXPECT_EQ(bob->uuid, "6f9619ff-8b86-d011-b42d-00c04fc964ff");
  EXPECT_EQ(bob->number, 1234u);
  EXPECT_EQ(bob->source, IdentitySource::directory);
  ASSERT_TRUE(by_number->has_value());
  EXPECT_EQ((*by_number)->name, "bob");
  EXPECT_EQ(next->number, 10000u);  // the directory's own number took none of the counter
}

TEST_P(IdentityStoreTest, ADirectorysOwnUuidWithoutANumberGetsAnAllocatedNumber) {
  IdentityStore store(database_, {});

  auto bob = store.identity_of(IdentityKind::user, "corp", "bob",
                               OwnIdentity{.uuid = "6f9619ff-8b86-d011-b42d-00c04fc964ff", .number = std::nullopt});

  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->uuid, "6f9619ff-8b86-d011-b42d-00c04fc964ff");
  EXPECT_EQ(bob->number, 10000u);
}

TEST_P(IdentityStoreTest, ADirectorysOwnValuesReplaceOnesAllocatedBeforeItHadThem) {
  IdentityStore store(database_, {});
  auto allocated = store.identity_of(IdentityKind::user, "corp", "bob");
  ASSERT_TRUE(allocated);

  auto own = store.identity_of(IdentityKind::user, "corp", "bob", OwnIdentity{.uuid = std::nullopt, .number = 4321});

  ASSERT_TRUE(own);
  EXPECT_EQ(own->uuid, allocated->uuid);
  EXPECT_EQ(own->number, 4321u);
  EXPECT_EQ(own->source, IdentitySource::directory);
  auto reopened = IdentityStore(database_, {}).identity_of(IdentityKind::user, "corp", "bob");
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->number, 4321u);
}

TEST_P(IdentityStoreTest, AnIdentityIsRememberedBeyondTheCacheSize) {
  IdentityStore store(database_,
                      IdentitySettings{.uid_number_min = 10000, .gid_number_min = 10000, .cached_identities = 2});
  std::vector<StoredIdentity> first;
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    auto identity = store.identity_of(IdentityKind::user, "local", name);
    ASSERT_TRUE(identity);
    first.push_back(*identity);
  }

  for (const auto& identity : first) {
    auto again = store.identity_of(IdentityKind::user, "local", identity.name);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->uuid, identity.uuid);
    EXPECT_EQ(again->number, identity.number);
  }
}

TEST_P(IdentityStoreTest, ABatchGivesEachNewNameItsOwnIdentityAndKeepsTheOnesThatExist) {
  {
    IdentityStore earlier(database_, {});
    ASSERT_TRUE(earlier.identity_of(IdentityKind::user, "local", "bob"));
  }
  IdentityStore store(database_, {});  // bob only in the table, dave in memory too
  auto dave = store.identity_of(IdentityKind::user, "local", "dave");
  auto bob = store.identity_of(IdentityKind::user, "local", "bob");
  auto staff = store.identity_of(IdentityKind::group, "local", "staff");
  ASSERT_TRUE(dave && bob && staff);
  const std::vector<IdentityWanted> wanted{
      {.directory = "local", .name = "Alice", .own = {}},
      {.directory = "local", .name = "BOB", .own = {}},
      {.directory = "local", .name = "carol", .own = {}},
      {.directory = "local", .name = "dave", .own = {}},
      {.directory = "corp", .name = "erin", .own = {.uuid = "6F9619FF-8B86-D011-B42D-00C04FC964FF", .number = 4321}},
      {.directory = "local", .name = "alice", .own = {}},  // again, in another case
  };

  auto batch = store.identities_of(IdentityKind::user, wanted);

  ASSERT_TRUE(batch) << batch.error().message;
  ASSERT_EQ(batch->size(), wanted.size());
  const auto& got = *batch;
  EXPECT_EQ(got[0].name, "alice");
  EXPECT_EQ(got[1].uuid, bob->uuid);
  EXPECT_EQ(got[1].number, bob->number);
  EXPECT_EQ(got[3].uuid, dave->uuid);
  EXPECT_EQ(got[3].number, dave->number);
  EXPECT_EQ(got[4].uuid, "6f9619ff-8b86-d011-b42d-00c04fc964ff");
  EXPECT_EQ(got[4].number, 4321u);
  EXPECT_EQ(got[4].source, IdentitySource::directory);
  EXPECT_EQ(got[5].uuid, got[0].uuid);
  EXPECT_EQ(got[5].number, got[0].number);
  // The new ones: distinct numbers, none a group's or an earlier user's.
  const std::set<std::uint32_t> numbers{got[0].number, got[2].number, bob->number, dave->number, staff->number};
  EXPECT_EQ(numbers.size(), 5u);
  EXPECT_NE(got[0].uuid, got[2].uuid);
  // As a lookup of one name sees them, from memory and from the table.
  IdentityStore reopened(database_, {});
  for (const auto& identity : got) {
    auto again = reopened.identity_of(IdentityKind::user, identity.directory, identity.name);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->uuid, identity.uuid);
    EXPECT_EQ(again->number, identity.number);
    auto remembered = store.cached_identity_of(IdentityKind::user, identity.directory, identity.name);
    ASSERT_TRUE(remembered) << identity.name;
    EXPECT_EQ(remembered->uuid, identity.uuid);
  }
}

TEST_P(IdentityStoreTest, ABatchTakesADirectorysNewOwnValuesAndAnEmptyBatchIsNothing) {
  IdentityStore store(database_, {});
  auto allocated = store.identity_of(IdentityKind::group, "corp", "staff");
  ASSERT_TRUE(allocated);
  const std::vector<IdentityWanted> wanted{{.directory = "corp", .name = "staff", .own = {.uuid = std::nullopt, .number = 777}}};

  auto batch = store.identities_of(IdentityKind::group, wanted);
  auto empty = store.identities_of(IdentityKind::group, {});

  ASSERT_TRUE(batch && empty);
  ASSERT_EQ(batch->size(), 1u);
  EXPECT_EQ((*batch)[0].uuid, allocated->uuid);
  EXPECT_EQ((*batch)[0].number, 777u);
  EXPECT_EQ((*batch)[0].source, IdentitySource::directory);
  EXPECT_TRUE(empty->empty());
}

TEST_P(IdentityStoreTest, ARetiredNameInABatchGetsANewIdentity) {
  IdentityStore store(database_, {});
  auto first = store.identity_of(IdentityKind::user, "local", "alice");
  ASSERT_TRUE(first);
  retire(store, IdentityKind::user, "alice");
  const std::vector<IdentityWanted> wanted{{.directory = "local", .name = "alice", .own = {}},
                                           {.directory = "local", .name = "bob", .own = {}}};

  auto batch = store.identities_of(IdentityKind::user, wanted);

  ASSERT_TRUE(batch);
  EXPECT_NE((*batch)[0].uuid, first->uuid);
  EXPECT_NE((*batch)[0].number, first->number);
  EXPECT_NE((*batch)[1].number, first->number);
}

// Two stores over one database stand for two nodes (or the pool's threads)
// meeting a name first at once: one through an enumeration's page, the
// other through a search by that name.
TEST_P(IdentityStoreTest, ABatchRacingSingleFirstSightsGivesEachNameOneIdentity) {
  database_.reset();
  database_ = open_database(4);
  constexpr int kRounds = 20;
  constexpr int kBatch = 20;
  for (int round = 0; round < kRounds; ++round) {
    IdentityStore batching(database_, {});
    IdentityStore single(database_, {});
    std::vector<std::string> names;
    for (int i = 0; i < kBatch; ++i) names.push_back("r" + std::to_string(round) + "_" + std::to_string(i));
    std::vector<IdentityWanted> wanted;
    for (const auto& name : names) wanted.push_back({.directory = "local", .name = name, .own = {}});
    Result<std::vector<StoredIdentity>> batch = std::vector<StoredIdentity>();
    std::vector<StoredIdentity> singles;
    std::thread pager([&] { batch = batching.identities_of(IdentityKind::user, wanted); });
    std::thread searcher([&] {
      // From the back, so that the two meet in the middle of the page.
      for (int i = kBatch - 1; i >= 0; --i) {
        auto identity = single.identity_of(IdentityKind::user, "local", names[static_cast<std::size_t>(i)]);
        if (identity) singles.push_back(*identity);
      }
    });
    pager.join();
    searcher.join();

    ASSERT_TRUE(batch) << batch.error().message;
    ASSERT_EQ(singles.size(), std::size_t{kBatch});
    std::set<std::uint32_t> numbers;
    for (int i = 0; i < kBatch; ++i) {
      const StoredIdentity& paged = (*batch)[static_cast<std::size_t>(i)];
      const StoredIdentity& searched = singles[static_cast<std::size_t>(kBatch - 1 - i)];
      EXPECT_EQ(paged.name, searched.name);
      EXPECT_EQ(paged.uuid, searched.uuid) << paged.name;
      EXPECT_EQ(paged.number, searched.number) << paged.name;
      EXPECT_TRUE(numbers.insert(paged.number).second) << paged.number;
    }
  }
  auto lease = database_->acquire();
  auto rows = lease.prepare("SELECT COUNT(*), COUNT(DISTINCT number) FROM identities");
  ASSERT_TRUE(rows);
  auto row = rows->step();
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(rows->column_int64(0), kRounds * kBatch);
  EXPECT_EQ(rows->column_int64(1), kRounds * kBatch);
}

INSTANTIATE_TEST_SUITE_P(Backends, IdentityStoreTest, testing::every_state_backend(), testing::state_backend_name);

}  // namespace
}  // namespace dirproxy
