#include "support/ad_server.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "core/unique_fd.hpp"
#include "support/child_process.hpp"
#include "support/slapd_server.hpp"

namespace dirproxy::testing {
namespace {

using namespace std::chrono_literals;

// Debian's python3 has python3-ldap3 and python3-pyasn1; one earlier on PATH may not.
constexpr const char* kPython = "/usr/bin/python3";
constexpr auto kReadyTimeout = 10s;
constexpr std::string_view kReadyLine = "ad_server ready port=";

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

AdServer::AdServer(const std::string& data_json) {
  char path[] = "/tmp/dad-XXXXXX";
  if (::mkdtemp(path) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = path;
  make_test_certificates(dir_ / "tls");
  {
    std::ofstream data(dir_ / "data.json", std::ios::binary);
    data << data_json;
    if (!data) throw std::runtime_error("cannot write " + (dir_ / "data.json").string());
  }
  const std::string output_path = (dir_ / "output.txt").string();
  UniqueFd output_file(::open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!output_file) throw std::runtime_error("cannot open " + output_path);
  const std::vector<std::string> argv = {kPython,
                                         DIRPROXY_TEST_SUPPORT_DIR "/ad_server.py",
                                         "--data",
                                         (dir_ / "data.json").string(),
                                         "--state",
                                         (dir_ / "state.json").string(),
                                         "--log",
                                         (dir_ / "requests.jsonl").string(),
                                         "--cert",
                                         (dir_ / "tls" / "server.crt").string(),
                                         "--key",
                                         (dir_ / "tls" / "server.key").string()};
  pid_ = spawn_child(argv, /*env=*/{{"PYTHONUNBUFFERED", "1"}}, output_file.get(), output_file.get());
  const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  for (;;) {
    const std::string text = output();
    if (const auto at = text.find(kReadyLine); at != std::string::npos && text.find('\n', at) != std::string::npos) {
      port_ = std::stoi(text.substr(at + kReadyLine.size()));
      return;
    }
    if (wait_for_child(pid_, 0ms) || std::chrono::steady_clock::now() >= deadline) {
      kill_and_reap(pid_);
      pid_ = -1;
      const std::string why = "ad_server.py did not start:\n" + text;
      std::filesystem::remove_all(dir_);
      throw std::runtime_error(why);
    }
    std::this_thread::sleep_for(20ms);
  }
}

AdServer::~AdServer() {
  if (pid_ > 0) kill_and_reap(pid_);
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  if (test != nullptr && test->result()->Failed()) {
    std::cerr << "--- ad_server output ---\n" << output() << "--- ad_server requests ---\n" << requests();
  }
  if (::getenv("DIRPROXY_KEEP_TEST_DIR") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

std::string AdServer::uri() const { return "ldaps://127.0.0.1:" + std::to_string(port_); }
std::string AdServer::ca_file() const { return (dir_ / "tls" / "ca.crt").string(); }
std::string AdServer::requests() const { return read_text(dir_ / "requests.jsonl"); }
void AdServer::clear_requests() const { std::filesystem::remove(dir_ / "requests.jsonl"); }
std::string AdServer::state() const { return read_text(dir_ / "state.json"); }
std::string AdServer::output() const { return read_text(dir_ / "output.txt"); }

}  // namespace dirproxy::testing
