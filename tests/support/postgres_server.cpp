#include "support/postgres_server.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "support/child_process.hpp"

namespace dirproxy::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kStateEnvironment = "DIRPROXY_TEST_POSTGRES_STATE";
constexpr const char* kScript = DIRPROXY_TEST_SUPPORT_DIR "/postgres_cluster.sh";
// initdb and a start take a second or two; on a loaded machine, more.
constexpr auto kScriptTimeout = 120s;
constexpr auto kPsqlTimeout = 60s;

// The key=value lines of a state file postgres_cluster.sh wrote, with the
// shell quotes of a value removed.
std::map<std::string, std::string> read_state_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the PostgreSQL state file " + path.string());
  std::map<std::string, std::string> values;
  std::string line;
  while (std::getline(in, line)) {
    const auto equals = line.find('=');
    if (equals == std::string::npos) continue;
    std::string value = line.substr(equals + 1);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') value = value.substr(1, value.size() - 2);
    values[line.substr(0, equals)] = value;
  }
  return values;
}

bool initdb_installed() {
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/usr/lib/postgresql", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (::access((it->path() / "bin/initdb").c_str(), X_OK) == 0) return true;
  }
  const char* path = std::getenv("PATH");
  std::string rest = path != nullptr ? path : "";
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const std::string dir = rest.substr(0, colon);
    if (!dir.empty() && ::access((dir + "/initdb").c_str(), X_OK) == 0) return true;
    rest = colon == std::string::npos ? "" : rest.substr(colon + 1);
  }
  return false;
}

std::string run_script(const std::vector<std::string>& arguments) {
  std::vector<std::string> argv = {"/bin/bash", kScript};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  ChildOptions options;
  options.timeout = kScriptTimeout;
  ChildResult result = run_child(argv, options);
  if (result.exit_code != 0) {
    std::string command;
    for (const auto& arg : arguments) command += " " + arg;
    throw std::runtime_error("postgres_cluster.sh" + command + " failed (exit " + std::to_string(result.exit_code) +
                             "):\n" + result.out + result.err);
  }
  return result.out;
}

}  // namespace

// ---------------------------------------------------------------------------
// PostgresDatabase

PostgresDatabase::PostgresDatabase(PostgresCluster& cluster, std::string name)
    : cluster_(&cluster), name_(std::move(name)) {
  // The name is ours (digits and underscores), so it needs no quoting
  // beyond the identifier quotes.
  cluster.psql("postgres",
               "CREATE DATABASE \"" + name_ + "\" TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C';");
}

PostgresDatabase::~PostgresDatabase() {
  if (cluster_ == nullptr) return;
  try {
    cluster_->psql("postgres", "DROP DATABASE IF EXISTS \"" + name_ + "\" WITH (FORCE);");
  } catch (const std::exception& e) {
    // A halted cluster, say: it goes with its directory.
    std::cerr << "PostgresDatabase: " << name_ << " not dropped: " << e.what() << "\n";
  }
}

PostgresDatabase::PostgresDatabase(PostgresDatabase&& other) noexcept
    : cluster_(std::exchange(other.cluster_, nullptr)), name_(std::move(other.name_)) {}

std::string PostgresDatabase::url() const { return cluster_->url(name_); }

std::string PostgresDatabase::psql(const std::string& sql) const { return cluster_->psql(name_, sql); }

// ---------------------------------------------------------------------------
// PostgresCluster

std::optional<std::string> PostgresCluster::unavailable_reason() {
  if (const char* state_file = std::getenv(kStateEnvironment); state_file != nullptr && *state_file != '\0') {
    std::error_code ec;
    if (!std::filesystem::exists(state_file, ec)) {
      // The fixture did not run: ctest was told to leave it out (-FS/-FA).
      return std::string("the ctest fixture postgres_cluster did not start a cluster (no ") + state_file + ")";
    }
    auto values = read_state_file(state_file);
    if (auto it = values.find("unavailable"); it != values.end()) return it->second;
    return std::nullopt;
  }
  if (!initdb_installed()) return "PostgreSQL is not installed (initdb not found; Debian: apt-get install postgresql)";
  return std::nullopt;
}

PostgresCluster& PostgresCluster::shared() {
  static const std::unique_ptr<PostgresCluster> cluster = []() -> std::unique_ptr<PostgresCluster> {
    if (auto why = unavailable_reason()) throw std::runtime_error("no PostgreSQL cluster: " + *why);
    const char* state_file = std::getenv(kStateEnvironment);
    if (state_file != nullptr && *state_file != '\0') {
      return std::unique_ptr<PostgresCluster>(new PostgresCluster(state_file, nullptr, /*owner=*/0));
    }
    return start_private();
  }();
  return *cluster;
}

std::unique_ptr<PostgresCluster> PostgresCluster::launch(const std::vector<std::string>& command) {
  auto state_dir = std::make_unique<TemporaryDirectory>("dps-pgstate");
  const std::filesystem::path state_file = state_dir->path() / "cluster.state";
  std::vector<std::string> arguments = command;
  // start STATEFILE ... / standby PRIMARY STATEFILE ...: the state file
  // follows the command's fixed arguments.
  arguments.insert(arguments.begin() + (command.front() == "standby" ? 2 : 1), state_file.string());
  run_script(arguments);
  return std::unique_ptr<PostgresCluster>(new PostgresCluster(state_file, std::move(state_dir), ::getpid()));
}

std::unique_ptr<PostgresCluster> PostgresCluster::start_private(const Options& options) {
  std::vector<std::string> command = {"start"};
  command.insert(command.end(), options.settings.begin(), options.settings.end());
  return launch(command);
}

std::unique_ptr<PostgresCluster> PostgresCluster::start_standby(const Options& options) {
  std::vector<std::string> command = {"standby", state_file_.string()};
  command.insert(command.end(), options.settings.begin(), options.settings.end());
  return launch(command);
}

PostgresCluster::PostgresCluster(std::filesystem::path state_file, std::unique_ptr<TemporaryDirectory> state_dir,
                                 pid_t owner)
    : state_file_(std::move(state_file)), state_dir_(std::move(state_dir)), owner_(owner) {
  auto values = read_state_file(state_file_);
  host_ = values["host"];
  port_ = std::stoi(values["port"]);
  data_dir_ = values["data"];
  bin_dir_ = values["bin"];
}

PostgresCluster::~PostgresCluster() {
  // Only the process that started it: not the ctest fixture's cluster, and
  // not from a forked child that exits normally.
  if (owner_ == 0 || owner_ != ::getpid()) return;
  try {
    run_script({"stop", state_file_.string()});
  } catch (const std::exception& e) {
    std::cerr << "PostgresCluster: " << e.what() << "\n";
  }
}

std::string PostgresCluster::url(const std::string& database) const {
  return "postgresql://postgres@" + host_ + ":" + std::to_string(port_) + "/" + database;
}

PostgresDatabase PostgresCluster::create_database() {
  const std::string name =
      "dps_" + std::to_string(::getpid()) + "_" + std::to_string(databases_created_.fetch_add(1) + 1);
  return PostgresDatabase(*this, name);
}

std::string PostgresCluster::psql(const std::string& database, const std::string& sql) const {
  ChildOptions options;
  options.stdin_text = sql;
  options.timeout = kPsqlTimeout;
  // No ~/.psqlrc (-X), nothing but the rows (-q -A -t), stop at the first
  // error (ON_ERROR_STOP: exit status 3).
  options.env = {{"PGCONNECT_TIMEOUT", "10"}, {"PGPASSWORD", ""}, {"PGSERVICE", ""}, {"PGOPTIONS", ""}};
  ChildResult result = run_child({(bin_dir_ / "psql").string(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h",
                                  host_, "-p", std::to_string(port_), "-U", "postgres", "-d", database, "-f", "-"},
                                 options);
  if (result.exit_code != 0) {
    throw std::runtime_error("psql on " + database + " (port " + std::to_string(port_) + ") failed (exit " +
                             std::to_string(result.exit_code) + "): " + result.err + "\nSQL: " + sql);
  }
  return result.out;
}

void PostgresCluster::script(const std::vector<std::string>& arguments) const {
  std::vector<std::string> command = arguments;
  command.push_back(state_file_.string());
  run_script(command);
}

void PostgresCluster::promote() { script({"promote"}); }
void PostgresCluster::halt() { script({"halt"}); }
void PostgresCluster::resume() { script({"resume"}); }

}  // namespace dirproxy::testing
