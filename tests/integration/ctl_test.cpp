// dirproxyctl against a real dirproxyd: every command's human and --json
// output, its exit codes (0 success, 1 refused, 2 usage, 3 unreachable), and
// passwords read from stdin. State is arranged through the protocol directly
// so that each test exercises exactly one command.
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <regex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "daemon_harness.hpp"
#include "storage/state_database.hpp"
#include "terminal_session.hpp"
#include "support/binaries_under_test.hpp"

namespace dirproxy::integration {
namespace {

constexpr const char* kAlicePassword = "alice's secret pw";

std::string describe(const ProcessOutput& result) {
  return "exit code " + std::to_string(result.exit_code) + "\n--- stdout ---\n" + result.out + "--- stderr ---\n" +
         result.err;
}

std::set<std::string> keys_of(const Json& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.insert(key);
  return keys;
}

Json parse_stdout(const ProcessOutput& result) {
  Json parsed = Json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(parsed.is_discarded()) << "stdout is not JSON:\n" << describe(result);
  return parsed;
}

Json alice_json() {
  return {{"username", "alice"},    {"email", "alice@example.com"}, {"display_name", "Alice Liddell"},
          {"first_name", "Alice"},  {"last_name", "Liddell"},       {"active", true},
          {"directory", "internal"}};
}

class DirproxyCtl : public ::testing::Test {
 protected:
  void SetUp() override { daemon_.start(); }

  // Sends an arranging request; the test cannot go on if the daemon refuses.
  Json arrange(Json request) {
    request["id"] = 1;
    Json response = daemon_.call(request);
    if (response.value("ok", false) != true) {
      throw std::runtime_error("arranging request failed: " + request.dump() + " -> " + response.dump());
    }
    return response;
  }

  void add_alice() {
    arrange({{"op", "add_user"},
             {"username", "alice"},
             {"email", "alice@example.com"},
             {"display_name", "Alice Liddell"},
             {"first_name", "Alice"},
             {"last_name", "Liddell"},
             {"password", kAlicePassword},
             {"notify", false}});
  }

  void add_bob() {
    arrange({{"op", "add_user"},
             {"username", "bob"},
             {"email", "bob@example.com"},
             {"display_name", "Bob Builder"},
             {"password", "bob's secret password"},
             {"notify", false}});
  }

  // Alice, with names stored as the daemon no longer takes them (written
  // before it refused them, or read from LDAP): ESC, U+0085 NEXT LINE and a
  // line feed, U+202E RIGHT-TO-LEFT OVERRIDE.
  void add_alice_with_names_a_terminal_acts_on() {
    add_alice();
    execute_on_state_database(
        "UPDATE users SET first_name = 'Al' || char(27) || '[2Jice', last_name = 'Lid' || char(8238) || 'dell', "
        "display_name = 'Alice' || char(133) || char(10) || 'Liddell' WHERE username = 'alice'");
  }

  void add_group(const std::string& name, const std::vector<std::string>& members = {}) {
    arrange({{"op", "add_group"}, {"name", name}, {"description", "The " + name}});
    for (const auto& member : members) {
      arrange({{"op", "add_member"}, {"group", name}, {"username", member}});
    }
  }

  Json get_user(const std::string& username) {
    return daemon_.call({{"op", "get_user"}, {"id", 1}, {"username", username}});
  }

  Json user_groups(const std::string& username) {
    return daemon_.call({{"op", "get_user_groups"}, {"id", 1}, {"username", username}})["groups"];
  }

  // Runs `sql` on the daemon's state database: to store what no request may
  // store any more, as data written before the daemon refused it.
  void execute_on_state_database(const std::string& sql) {
    auto database = StateDatabase::open(daemon_.state_dir(), 1);
    if (!database) throw std::runtime_error("cannot open the state database: " + database.error().message);
    auto lease = (*database)->acquire();
    if (auto done = lease.execute(sql); !done) throw std::runtime_error(sql + ": " + done.error().message);
  }

  ProcessOutput ctl(const std::vector<std::string>& args, const std::string& stdin_text = "") {
    return daemon_.run_ctl(args, stdin_text);
  }

  DaemonHarness daemon_;
};

// --- passwords typed at a terminal --------------------------------------------

TEST_F(DirproxyCtl, AuthOnATerminalPromptsWithEchoOffAndRestoresIt) {
  add_alice();
  TerminalSession session(daemon_.socket_path(), {"auth", "alice"});

  ASSERT_TRUE(session.wait_for_stderr("Password: "));
  EXPECT_FALSE(session.echo_on());
  session.type(std::string(kAlicePassword) + "\n");
  auto result = session.finish();

  EXPECT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_TRUE(result.out.starts_with("username:     alice\n")) << result.out;
  EXPECT_TRUE(session.echo_on());
}

TEST_F(DirproxyCtl, PasswdOnATerminalAsksTwiceAndRefusesAMismatch) {
  add_alice();
  TerminalSession session(daemon_.socket_path(), {"user", "passwd", "alice"});

  ASSERT_TRUE(session.wait_for_stderr("Password: "));
  session.type("first new password\n");
  ASSERT_TRUE(session.wait_for_stderr("Repeat password: "));
  session.type("second new password\n");
  auto result = session.finish();

  EXPECT_EQ(result.exit_code, 2) << describe(result);
  EXPECT_NE(result.err.find("dirproxyctl: the passwords do not match"), std::string::npos) << result.err;
  EXPECT_EQ(ctl({"auth", "alice"}, kAlicePassword).exit_code, 0);
}

TEST_F(DirproxyCtl, PasswdOnATerminalSetsThePasswordTypedTwice) {
  add_alice();
  TerminalSession session(daemon_.socket_path(), {"user", "passwd", "alice"});

  ASSERT_TRUE(session.wait_for_stderr("Password: "));
  session.type("the new password\n");
  ASSERT_TRUE(session.wait_for_stderr("Repeat password: "));
  session.type("the new password\n");
  auto result = session.finish();

  EXPECT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(result.out, "password of user 'alice' set\n");
  EXPECT_EQ(ctl({"auth", "alice"}, "the new password").exit_code, 0);
}

TEST_F(DirproxyCtl, AnInterruptedPromptRestoresTheTerminal) {
  TerminalSession session(daemon_.socket_path(), {"auth", "alice"});
  ASSERT_TRUE(session.wait_for_stderr("Password: "));
  ASSERT_FALSE(session.echo_on());

  session.signal(SIGINT);
  auto result = session.finish();

  EXPECT_EQ(result.exit_code, 128 + SIGINT) << describe(result);
  EXPECT_TRUE(session.echo_on());
}

TEST(DirproxyCtlHashPassword, OnATerminalAsksTwiceWithEchoOffAndNeedsNoDaemon) {
  ASSERT_GE(sodium_init(), 0);
  const std::string password = "typed service password";
  TerminalSession session("/nonexistent/dirproxy.sock", {"hash-password"});

  ASSERT_TRUE(session.wait_for_stderr("Password: "));
  EXPECT_FALSE(session.echo_on());
  session.type(password + "\n");
  ASSERT_TRUE(session.wait_for_stderr("Repeat password: "));
  session.type(password + "\n");
  auto result = session.finish();

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  ASSERT_TRUE(result.out.ends_with('\n')) << describe(result);
  const std::string hash = result.out.substr(0, result.out.size() - 1);
  EXPECT_EQ(crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()), 0) << hash;
  EXPECT_TRUE(session.echo_on());
}

// --- ping ---------------------------------------------------------------------

TEST_F(DirproxyCtl, PingPrintsVersionAndUptime) {
  auto result = ctl({"ping"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_TRUE(std::regex_match(result.out, std::regex(R"(dirproxyd [0-9][^ ,]*, up [0-9]+ s\n)"))) << result.out;
  EXPECT_EQ(result.err, "");
}

TEST_F(DirproxyCtl, PingJsonHasVersionAndUptime) {
  auto result = ctl({"--json", "ping"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  Json out = parse_stdout(result);
  EXPECT_EQ(keys_of(out), (std::set<std::string>{"version", "uptime_s"}));
  EXPECT_TRUE(out["version"].is_string());
  EXPECT_TRUE(out["uptime_s"].is_number());
}

// --- user add -----------------------------------------------------------------

TEST_F(DirproxyCtl, UserAddWithNoNotifyCreatesAnAccountThatCannotLogInYet) {
  auto result = ctl({"user", "add", "carol", "--email", "carol@example.com", "--name", "Carol", "--no-notify"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_TRUE(result.out.starts_with("user 'carol' added\n")) << result.out;
  EXPECT_EQ(get_user("carol")["user"]["display_name"], "Carol");
  // No password yet: nothing authenticates until `user passwd` sets one.
  auto login = ctl({"auth", "carol"}, "any-password-at-all");
  EXPECT_EQ(login.exit_code, 1) << describe(login);
  EXPECT_NE(login.err.find("invalid_credentials"), std::string::npos) << login.err;
}

TEST_F(DirproxyCtl, UserAddJsonReturnsTheCreatedUser) {
  auto result = ctl({"--json", "user", "add", "alice", "--email", "alice@example.com", "--name", "Alice Liddell",
                     "--first", "Alice", "--last", "Liddell", "--no-notify"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  Json out = parse_stdout(result);
  EXPECT_EQ(out["user"], alice_json());
  auto keys = keys_of(out);
  keys.erase("set_password_link");
  EXPECT_EQ(keys, (std::set<std::string>{"user"}));
}

TEST_F(DirproxyCtl, UserAddWithGroupsPutsTheUserInThem) {
  add_group("devs");
  add_group("ops");

  auto result = ctl({"user", "add", "dave", "--email", "dave@example.com", "--name", "Dave", "--group", "devs",
                     "--group", "ops", "--no-notify"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(user_groups("dave"), Json::array({"devs", "ops"}));
}

TEST_F(DirproxyCtl, UserAddWithPasswordFromStdinThenAuthSucceeds) {
  auto added = ctl({"user", "add", "erin", "--email", "erin@example.com", "--name", "Erin", "--password-stdin"},
                   "erin's long password\n");
  ASSERT_EQ(added.exit_code, 0) << describe(added);
  EXPECT_EQ(added.out, "user 'erin' added\n");

  auto auth = ctl({"auth", "erin"}, "erin's long password\n");

  ASSERT_EQ(auth.exit_code, 0) << describe(auth);
  EXPECT_TRUE(auth.out.starts_with("username:     erin\n")) << auth.out;
}

TEST_F(DirproxyCtl, UserAddOfATakenUsernameExitsOneWithConflict) {
  add_alice();

  auto result = ctl({"user", "add", "alice", "--email", "other@example.com", "--name", "Other", "--no-notify"});

  EXPECT_EQ(result.exit_code, 1) << describe(result);
  EXPECT_TRUE(result.err.starts_with("dirproxyctl: conflict: ")) << result.err;
  EXPECT_EQ(result.out, "");
}

// --- auth ---------------------------------------------------------------------

TEST_F(DirproxyCtl, AuthWithTheRightPasswordPrintsTheUserWithGroups) {
  add_alice();
  add_group("devs", {"alice"});
  add_group("admins", {"alice"});

  auto result = ctl({"auth", "alice"}, std::string(kAlicePassword) + "\n");

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(result.out,
            "username:     alice\n"
            "email:        alice@example.com\n"
            "display name: Alice Liddell\n"
            "first name:   Alice\n"
            "last name:    Liddell\n"
            "active:       true\n"
            "directory:    internal\n"
            "groups:       admins, devs\n");
  EXPECT_EQ(result.err, "");
}

TEST_F(DirproxyCtl, AuthJsonHasTheUserWithSortedGroups) {
  add_alice();
  add_group("devs", {"alice"});
  add_group("admins", {"alice"});

  auto result = ctl({"--json", "auth", "alice"}, kAlicePassword);

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  Json expected_user = alice_json();
  expected_user["groups"] = {"admins", "devs"};
  EXPECT_EQ(parse_stdout(result), (Json{{"user", expected_user}}));
}

TEST_F(DirproxyCtl, AuthWithAWrongPasswordExitsOneWithInvalidCredentials) {
  add_alice();

  auto result = ctl({"auth", "alice"}, "not alice's password\n");

  EXPECT_EQ(result.exit_code, 1) << describe(result);
  EXPECT_TRUE(result.err.starts_with("dirproxyctl: invalid_credentials: ")) << result.err;
  EXPECT_EQ(result.out, "");
}

TEST_F(DirproxyCtl, AuthStripsOneTrailingCrLf) {
  add_alice();

  auto result = ctl({"auth", "alice"}, std::string(kAlicePassword) + "\r\n");

  EXPECT_EQ(result.exit_code, 0) << describe(result);
}

TEST_F(DirproxyCtl, AuthStripsOnlyOneTrailingNewline) {
  add_alice();

  auto result = ctl({"auth", "alice"}, std::string(kAlicePassword) + "\n\n");

  EXPECT_EQ(result.exit_code, 1) << describe(result);
  EXPECT_TRUE(result.err.starts_with("dirproxyctl: invalid_credentials: ")) << result.err;
}

// --- user show ----------------------------------------------------------------

TEST_F(DirproxyCtl, UserShowPrintsAlignedFields) {
  add_alice();

  auto result = ctl({"user", "show", "alice"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(result.out,
            "username:     alice\n"
            "email:        alice@example.com\n"
            "display name: Alice Liddell\n"
            "first name:   Alice\n"
            "last name:    Liddell\n"
            "active:       true\n"
            "directory:    internal\n");
}

TEST_F(DirproxyCtl, UserShowPrintsMissingNamesAsDash) {
  add_bob();

  auto result = ctl({"user", "show", "bob"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_NE(result.out.find("\nfirst name:   -\nlast name:    -\n"), std::string::npos) << result.out;
}

TEST_F(DirproxyCtl, UserShowFindsAUserByEmail) {
  add_alice();

  auto result = ctl({"user", "show", "--email", "Alice@Example.com"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_TRUE(result.out.starts_with("username:     alice\n")) << result.out;
}

TEST_F(DirproxyCtl, UserShowJsonHasExactlyTheUserFields) {
  add_alice();

  // --json after the subcommand works as well as before it.
  auto result = ctl({"user", "show", "alice", "--json"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(parse_stdout(result), (Json{{"user", alice_json()}}));
}

TEST_F(DirproxyCtl, UserShowOfAMissingUserExitsOneWithNotFound) {
  auto result = ctl({"user", "show", "bob"});

  EXPECT_EQ(result.exit_code, 1) << describe(result);
  EXPECT_TRUE(result.err.starts_with("dirproxyctl: not_found: ")) << result.err;
  EXPECT_NE(result.err.find("bob"), std::string::npos) << result.err;
  EXPECT_EQ(result.out, "");
}

TEST_F(DirproxyCtl, UserShowJsonOfAMissingUserPrintsNothingOnStdout) {
  auto result = ctl({"--json", "user", "show", "bob"});

  EXPECT_EQ(result.exit_code, 1) << describe(result);
  EXPECT_TRUE(result.err.starts_with("dirproxyctl: not_found: ")) << result.err;
  EXPECT_EQ(result.out, "");
}

// Bytes that a terminal acts on rather than shows: ESC (0x1b), the C1
// controls (U+0080..U+009F: 0xc2 0x80..0x9f) and U+202E (0xe2 0x80 0xae).
bool has_raw_control_or_bidi(const std::string& text) {
  return text.find('\x1b') != std::string::npos || text.find("\xc2\x85") != std::string::npos ||
         text.find("\xe2\x80\xae") != std::string::npos;
}

TEST_F(DirproxyCtl, UserShowEscapesControlAndBidiCharactersInStoredNames) {
  add_alice_with_names_a_terminal_acts_on();

  auto result = ctl({"user", "show", "alice"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(result.out,
            "username:     alice\n"
            "email:        alice@example.com\n"
            "display name: Alice\\u0085\\u000aLiddell\n"
            "first name:   Al\\u001b[2Jice\n"
            "last name:    Lid\\u202edell\n"
            "active:       true\n"
            "directory:    internal\n");
}

TEST_F(DirproxyCtl, UserShowJsonEscapesControlAndBidiCharactersInStoredNames) {
  add_alice_with_names_a_terminal_acts_on();

  auto result = ctl({"--json", "user", "show", "alice"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_FALSE(has_raw_control_or_bidi(result.out)) << result.out;
  const Json user = parse_stdout(result)["user"];
  EXPECT_EQ(user["first_name"], "Al\x1b[2Jice");
  EXPECT_EQ(user["last_name"],
            "Lid\xe2\x80\xae"
            "dell");
  EXPECT_EQ(user["display_name"], "Alice\xc2\x85\nLiddell");
}

TEST_F(DirproxyCtl, AnErrorMessageEchoingControlCharactersIsPrintedEscaped) {
  auto result = ctl({"user", "show", "evil\x1b[2J\xe2\x80\xae"});

  EXPECT_EQ(result.exit_code, 1) << describe(result);
  EXPECT_EQ(result.err, "dirproxyctl: not_found: no user 'evil\\u001b[2J\\u202e'\n");
}

// --- user list ----------------------------------------------------------------

TEST_F(DirproxyCtl, UserListPrintsAlignedColumnsWithAHeader) {
  add_alice();
  add_bob();

  auto result = ctl({"user", "list"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(result.out,
            "USERNAME  EMAIL              DISPLAY NAME   DIRECTORY  ACTIVE\n"
            "alice     alice@example.com  Alice Liddell  internal   true\n"
            "bob       bob@example.com    Bob Builder    internal   true\n");
}

TEST_F(DirproxyCtl, UserListWithAQueryShowsOnlyMatchingUsers) {
  add_alice();
  add_bob();

  auto result = ctl({"user", "list", "builder"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(result.out,
            "USERNAME  EMAIL            DISPLAY NAME  DIRECTORY  ACTIVE\n"
            "bob       bob@example.com  Bob Builder   internal   true\n");
}

TEST_F(DirproxyCtl, UserListWithALimitShowsAtMostThatMany) {
  add_alice();
  add_bob();

  auto result = ctl({"--json", "user", "list", "--limit", "1"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(parse_stdout(result), (Json{{"users", Json::array({alice_json()})}}));
}

TEST_F(DirproxyCtl, UserListJsonHasTheUsersSortedByUsername) {
  add_bob();
  add_alice();

  auto result = ctl({"--json", "user", "list"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  Json out = parse_stdout(result);
  ASSERT_EQ(keys_of(out), (std::set<std::string>{"users"}));
  ASSERT_EQ(out["users"].size(), 2u);
  EXPECT_EQ(out["users"][0], alice_json());
  EXPECT_EQ(out["users"][1]["username"], "bob");
}

// --- user update --------------------------------------------------------------

TEST_F(DirproxyCtl, UserUpdateChangesOnlyTheGivenFields) {
  add_alice();

  auto result = ctl({"user", "update", "alice", "--name", "Alice L.", "--active", "false"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(result.out, "user 'alice' updated\n");
  Json expected = alice_json();
  expected["display_name"] = "Alice L.";
  expected["active"] = false;
  EXPECT_EQ(get_user("alice")["user"], expected);
}

TEST_F(DirproxyCtl, UserUpdateJsonReturnsTheUpdatedUser) {
  add_alice();

  auto result =
      ctl({"--json", "user", "update", "alice", "--email", "liddell@example.com", "--first", "Alicia", "--last", "L"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  Json expected = alice_json();
  expected["email"] = "liddell@example.com";
  expected["first_name"] = "Alicia";
  expected["last_name"] = "L";
  EXPECT_EQ(parse_stdout(result), (Json{{"user", expected}}));
}

TEST_F(DirproxyCtl, UserUpdateWithNothingToChangeIsAUsageError) {
  add_alice();

  auto result = ctl({"user", "update", "alice"});

  EXPECT_EQ(result.exit_code, 2) << describe(result);
}

TEST_F(DirproxyCtl, UserUpdateActiveAcceptsOnlyTrueOrFalse) {
  add_alice();

  auto result = ctl({"user", "update", "alice", "--active", "maybe"});

  EXPECT_EQ(result.exit_code, 2) << describe(result);
  EXPECT_EQ(get_user("alice")["user"]["active"], true);
}

// --- user delete --------------------------------------------------------------

TEST_F(DirproxyCtl, UserDeleteRemovesTheUser) {
  add_alice();

  auto result = ctl({"user", "delete", "alice"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(result.out, "user 'alice' deleted\n");
  EXPECT_EQ(get_user("alice")["error"]["code"], "not_found");
}

TEST_F(DirproxyCtl, UserDeleteJsonPrintsAnEmptyObject) {
  add_alice();

  auto result = ctl({"--json", "user", "delete", "alice"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(parse_stdout(result), Json::object());
}

TEST_F(DirproxyCtl, UserDeleteOfAMissingUserExitsOneWithNotFound) {
  auto result = ctl({"user", "delete", "nobody-here"});

  EXPECT_EQ(result.exit_code, 1) << describe(result);
  EXPECT_TRUE(result.err.starts_with("dirproxyctl: not_found: ")) << result.err;
}

// --- user passwd --------------------------------------------------------------

TEST_F(DirproxyCtl, UserPasswdSetsThePasswordReadFromStdin) {
  add_alice();

  auto result = ctl({"user", "passwd", "alice"}, "a brand new password\n");

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(result.out, "password of user 'alice' set\n");
  EXPECT_EQ(ctl({"auth", "alice"}, "a brand new password\n").exit_code, 0);
  EXPECT_EQ(ctl({"auth", "alice"}, kAlicePassword).exit_code, 1);
}

TEST_F(DirproxyCtl, UserPasswdSendsAnEmptyPasswordForTheDaemonToRefuse) {
  add_alice();

  auto result = ctl({"user", "passwd", "alice"}, "");

  EXPECT_EQ(result.exit_code, 1) << describe(result);
  EXPECT_TRUE(result.err.starts_with("dirproxyctl: weak_password: ")) << result.err;
  EXPECT_EQ(ctl({"auth", "alice"}, kAlicePassword).exit_code, 0);
}

// --- user groups --------------------------------------------------------------

TEST_F(DirproxyCtl, UserGroupsPrintsOneGroupPerLine) {
  add_alice();
  add_group("ops", {"alice"});
  add_group("devs", {"alice"});
  add_group("others");

  auto result = ctl({"user", "groups", "alice"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(result.out, "devs\nops\n");
}

TEST_F(DirproxyCtl, UserGroupsJsonHasTheSortedNames) {
  add_alice();
  add_group("ops", {"alice"});
  add_group("devs", {"alice"});

  auto result = ctl({"--json", "user", "groups", "alice"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(parse_stdout(result), (Json{{"groups", {"devs", "ops"}}}));
}

// --- group --------------------------------------------------------------------

TEST_F(DirproxyCtl, GroupAddConfirmsAndCreatesTheGroup) {
  auto result = ctl({"group", "add", "devs", "--description", "Developers"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(result.out, "group 'devs' added\n");
  Json group = daemon_.call({{"op", "get_group"}, {"name", "devs"}})["group"];
  EXPECT_EQ(group["description"], "Developers");
}

TEST_F(DirproxyCtl, GroupAddJsonReturnsTheGroup) {
  auto result = ctl({"--json", "group", "add", "devs", "--description", "Developers"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(
      parse_stdout(result),
      (Json{
          {"group",
           {{"name", "devs"}, {"description", "Developers"}, {"directory", "internal"}, {"members", Json::array()}}}}));
}

TEST_F(DirproxyCtl, GroupAddOfAnExistingGroupExitsOneWithConflict) {
  add_group("devs");

  auto result = ctl({"group", "add", "DEVS"});

  EXPECT_EQ(result.exit_code, 1) << describe(result);
  EXPECT_TRUE(result.err.starts_with("dirproxyctl: conflict: ")) << result.err;
}

TEST_F(DirproxyCtl, GroupShowPrintsFieldsAndOneMemberPerLine) {
  add_alice();
  add_bob();
  add_group("devs", {"bob", "alice"});

  auto result = ctl({"group", "show", "devs"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(result.out,
            "name:        devs\n"
            "description: The devs\n"
            "directory:   internal\n"
            "members:\n"
            "  alice\n"
            "  bob\n");
}

TEST_F(DirproxyCtl, GroupShowJsonHasExactlyTheGroupFields) {
  add_alice();
  add_group("devs", {"alice"});

  auto result = ctl({"--json", "group", "show", "devs"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(
      parse_stdout(result),
      (Json{{"group",
             {{"name", "devs"}, {"description", "The devs"}, {"directory", "internal"}, {"members", {"alice"}}}}}));
}

TEST_F(DirproxyCtl, GroupShowOfAMissingGroupExitsOneWithNotFound) {
  auto result = ctl({"group", "show", "devs"});

  EXPECT_EQ(result.exit_code, 1) << describe(result);
  EXPECT_TRUE(result.err.starts_with("dirproxyctl: not_found: ")) << result.err;
}

TEST_F(DirproxyCtl, GroupDeleteRemovesTheGroup) {
  add_group("devs");

  auto result = ctl({"group", "delete", "devs"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(result.out, "group 'devs' deleted\n");
  EXPECT_EQ(daemon_.call({{"op", "get_group"}, {"name", "devs"}})["error"]["code"], "not_found");
}

TEST_F(DirproxyCtl, GroupAddMemberPutsTheUserInTheGroup) {
  add_alice();
  add_group("devs");

  auto result = ctl({"group", "add-member", "devs", "alice"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(result.out, "user 'alice' added to group 'devs'\n");
  EXPECT_EQ(user_groups("alice"), Json::array({"devs"}));
}

TEST_F(DirproxyCtl, GroupRemoveMemberTakesTheUserOutOfTheGroup) {
  add_alice();
  add_group("devs", {"alice"});

  auto result = ctl({"group", "remove-member", "devs", "alice"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(result.out, "user 'alice' removed from group 'devs'\n");
  EXPECT_EQ(user_groups("alice"), Json::array());
}

TEST_F(DirproxyCtl, GroupMembershipJsonPrintsAnEmptyObject) {
  add_alice();
  add_group("devs");

  auto added = ctl({"--json", "group", "add-member", "devs", "alice"});
  auto removed = ctl({"--json", "group", "remove-member", "devs", "alice"});

  ASSERT_EQ(added.exit_code, 0) << describe(added);
  ASSERT_EQ(removed.exit_code, 0) << describe(removed);
  EXPECT_EQ(parse_stdout(added), Json::object());
  EXPECT_EQ(parse_stdout(removed), Json::object());
}

// --- directories, reload ------------------------------------------------------

TEST_F(DirproxyCtl, DirectoriesPrintsATableOfTheConfiguredDirectories) {
  auto result = ctl({"directories"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  auto newline = result.out.find('\n');
  ASSERT_NE(newline, std::string::npos) << result.out;
  EXPECT_TRUE(
      std::regex_match(result.out.substr(0, newline), std::regex("NAME +TYPE +PERMISSIONS +STATUS +USERS +DETAIL")))
      << result.out;
  std::string rows = result.out.substr(newline + 1);
  const std::string state_line = "\nstate: sqlite " + daemon_.state_dir() + "/dirproxy.db\n";
  ASSERT_TRUE(rows.ends_with(state_line)) << result.out;
  rows.resize(rows.size() - state_line.size());
  EXPECT_TRUE(std::regex_match(rows, std::regex("internal +internal +read_write +up( +\\S.*)?\n"))) << result.out;
}

TEST_F(DirproxyCtl, DirectoriesJsonListsTheInternalDirectory) {
  auto result = ctl({"--json", "directories"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  Json out = parse_stdout(result);
  ASSERT_EQ(keys_of(out), (std::set<std::string>{"directories", "state"}));
  EXPECT_EQ(out["state"], (Json{{"backend", "sqlite"}, {"location", daemon_.state_dir() + "/dirproxy.db"}}));
  ASSERT_EQ(out["directories"].size(), 1u);
  Json directory = out["directories"][0];
  EXPECT_EQ(directory["name"], "internal");
  EXPECT_EQ(directory["type"], "internal");
  EXPECT_EQ(directory["permissions"], "read_write");
  EXPECT_EQ(directory["status"], "up");
  auto keys = keys_of(directory);
  keys.erase("detail");
  keys.erase("users");
  EXPECT_EQ(keys, (std::set<std::string>{"name", "type", "permissions", "status"}));
}

TEST_F(DirproxyCtl, ReloadOfAValidFileConfirms) {
  auto result = ctl({"reload"});

  ASSERT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_EQ(result.out, "configuration reloaded\n");
}

TEST_F(DirproxyCtl, ReloadOfAnInvalidFileExitsOneWithBadRequestAndKeepsRunning) {
  Json config = daemon_.default_config();
  config["no_such_setting"] = true;
  daemon_.write_config(config);

  auto result = ctl({"reload"});

  EXPECT_EQ(result.exit_code, 1) << describe(result);
  EXPECT_TRUE(result.err.starts_with("dirproxyctl: bad_request: ")) << result.err;
  EXPECT_NE(result.err.find("no_such_setting"), std::string::npos) << result.err;
  EXPECT_EQ(ctl({"ping"}).exit_code, 0);
}

// --- who may do what ----------------------------------------------------------

TEST_F(DirproxyCtl, ANonAdminGetsForbiddenForAnAdminCommand) {
  if (!can_change_identity()) GTEST_SKIP() << "only root can run a process as nobody";
  add_alice();

  auto result = daemon_.run_ctl_as(nobody(), {"user", "delete", "alice"});

  EXPECT_EQ(result.exit_code, 1) << describe(result);
  EXPECT_TRUE(result.err.starts_with("dirproxyctl: forbidden: ")) << result.err;
  EXPECT_EQ(get_user("alice")["ok"], true);
}

TEST_F(DirproxyCtl, ANonAdminMayUsePublicCommands) {
  if (!can_change_identity()) GTEST_SKIP() << "only root can run a process as nobody";
  add_alice();

  auto result = daemon_.run_ctl_as(nobody(), {"user", "show", "alice"});

  EXPECT_EQ(result.exit_code, 0) << describe(result);
}

TEST_F(DirproxyCtl, ANonAdminPeerSpeakingTheProtocolGetsForbidden) {
  if (!can_change_identity()) GTEST_SKIP() << "only root can run a process as nobody";
  add_alice();
  const std::string socket = daemon_.socket_path();

  int outcome = run_as(nobody(), [&socket] {
    auto client = ProtocolClient::connect(socket, 10s);
    if (!client) return 10;
    auto response = client->call({{"op", "delete_user"}, {"id", 1}, {"username", "alice"}});
    if (!response) return 11;
    return (*response)["error"]["code"] == "forbidden" ? 0 : 12;
  });

  EXPECT_EQ(outcome, 0);
}

// --- usage errors -------------------------------------------------------------

TEST_F(DirproxyCtl, AnUnknownSubcommandExitsTwoNamingIt) {
  auto top = ctl({"frobnicate"});
  auto nested = ctl({"user", "frobnicate"});

  EXPECT_EQ(top.exit_code, 2) << describe(top);
  EXPECT_NE(top.err.find("frobnicate"), std::string::npos) << top.err;
  EXPECT_EQ(nested.exit_code, 2) << describe(nested);
  EXPECT_NE(nested.err.find("frobnicate"), std::string::npos) << nested.err;
}

TEST_F(DirproxyCtl, AMissingUsernameExitsTwo) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"user", "show"}, {"user", "delete"}, {"user", "passwd"}, {"auth"}, {"group", "add-member", "devs"}}) {
    auto result = ctl(args);
    EXPECT_EQ(result.exit_code, 2) << args.front() << " " << args.back() << ": " << describe(result);
    EXPECT_EQ(result.out, "");
  }
}

TEST_F(DirproxyCtl, NoSubcommandExitsTwo) {
  auto result = ctl({});

  EXPECT_EQ(result.exit_code, 2) << describe(result);
}

TEST_F(DirproxyCtl, HelpExitsZero) {
  auto top = ctl({"--help"});
  auto nested = ctl({"user", "add", "--help"});

  EXPECT_EQ(top.exit_code, 0) << describe(top);
  EXPECT_NE(top.out.find("user"), std::string::npos) << top.out;
  EXPECT_EQ(nested.exit_code, 0) << describe(nested);
  EXPECT_NE(nested.out.find("--password-stdin"), std::string::npos) << nested.out;
}

TEST_F(DirproxyCtl, VersionExitsZero) {
  auto result = ctl({"--version"});

  EXPECT_EQ(result.exit_code, 0) << describe(result);
  EXPECT_TRUE(std::regex_match(result.out, std::regex("dirproxyctl [0-9]\\S*\n"))) << result.out;
}

// --- finding and reaching the daemon -------------------------------------------

TEST_F(DirproxyCtl, TheSocketDefaultsToTheDirproxySocketVariable) {
  RunOptions options;
  options.env = {{"DIRPROXY_SOCKET", daemon_.socket_path()}};

  auto result = run_program(DIRPROXYCTL_PATH, {"ping"}, options);

  EXPECT_EQ(result.exit_code, 0) << describe(result);
}

TEST_F(DirproxyCtl, AStoppedDaemonExitsThreeNamingTheSocket) {
  daemon_.stop();

  auto result = ctl({"ping"});

  EXPECT_EQ(result.exit_code, 3) << describe(result);
  EXPECT_TRUE(result.err.starts_with("dirproxyctl: cannot connect to " + daemon_.socket_path() + ": ")) << result.err;
  EXPECT_EQ(result.out, "");
}

TEST(DirproxyCtlWithoutDaemon, ANonexistentSocketExitsThreeWithTheReason) {
  DaemonHarness harness;  // never started: no socket file at all

  auto result = harness.run_ctl({"user", "show", "alice"});

  EXPECT_EQ(result.exit_code, 3) << describe(result);
  EXPECT_EQ(result.err, "dirproxyctl: cannot connect to " + harness.socket_path() + ": No such file or directory\n");
}

// A server that reads one request and hangs up without answering, like a
// daemon that crashes mid-request.
TEST(DirproxyCtlWithoutDaemon, AConnectionDroppedMidCallExitsThree) {
  DaemonHarness harness;
  const std::string path = harness.dir() + "/hangup.sock";
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(listener);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  std::string received;
  std::thread server([&] {
    pollfd incoming{listener.get(), POLLIN, 0};
    if (::poll(&incoming, 1, 10000) != 1) return;
    UniqueFd connection(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    char chunk[4096];
    while (received.find('\n') == std::string::npos) {
      pollfd readable{connection.get(), POLLIN, 0};
      if (::poll(&readable, 1, 10000) != 1) return;
      ssize_t got = ::read(connection.get(), chunk, sizeof(chunk));
      if (got <= 0) return;
      received.append(chunk, static_cast<std::size_t>(got));
    }
  });

  auto result = run_program(DIRPROXYCTL_PATH, {"--socket", path, "ping"});
  server.join();

  EXPECT_EQ(Json::parse(received), (Json{{"op", "ping"}, {"id", 1}}));
  EXPECT_EQ(result.exit_code, 3) << describe(result);
  EXPECT_TRUE(result.err.starts_with("dirproxyctl: ")) << result.err;
  EXPECT_NE(result.err.find(path), std::string::npos) << result.err;
}

}  // namespace
}  // namespace dirproxy::integration
