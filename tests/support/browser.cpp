#include "browser.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "child_process.hpp"

namespace dirproxy::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPython = "/usr/bin/python3";
// Chromium's first start on a busy 2-core machine can take a while.
constexpr auto kReadyTimeout = 60s;

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Browser::Browser() {
  char path[] = "/tmp/dbr-XXXXXX";
  if (::mkdtemp(path) == nullptr) throw_errno("mkdtemp");
  dir_ = path;
  const std::filesystem::path socket_path = dir_ / "browser.sock";
  const std::string output_path = (dir_ / "output.txt").string();
  const int output = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (output < 0) throw_errno("open " + output_path);
  const std::vector<std::string> argv = {kPython, DIRPROXY_TEST_SUPPORT_DIR "/browser.py", "--socket",
                                         socket_path.string(), "--profile", (dir_ / "profile").string()};
  pid_ = spawn_child(argv, /*env=*/{{"PYTHONUNBUFFERED", "1"}, {"HOME", dir_.string()}}, output, output);
  ::close(output);

  const auto deadline = std::chrono::steady_clock::now() + kReadyTimeout;
  while (read_text(output_path).find("browser ready\n") == std::string::npos) {
    if (wait_for_child(pid_, 0ms) || std::chrono::steady_clock::now() >= deadline) {
      kill_and_reap(pid_);
      pid_ = -1;
      const std::string why = "browser.py did not start:\n" + read_text(output_path);
      std::filesystem::remove_all(dir_);
      throw std::runtime_error(why);
    }
    std::this_thread::sleep_for(50ms);
  }
  socket_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (socket_ < 0) throw_errno("socket");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
  if (::connect(socket_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    throw_errno("connect to " + socket_path.string());
  }
}

Browser::~Browser() {
  if (socket_ >= 0) ::close(socket_);  // browser.py quits Chromium at end of input
  if (pid_ > 0 && !wait_for_child(pid_, 10s)) kill_and_reap(pid_);
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  if (test != nullptr && test->result()->Failed()) {
    std::cerr << "--- browser.py output ---\n" << read_text(dir_ / "output.txt");
  }
  if (::getenv("DIRPROXY_KEEP_TEST_DIR") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

nlohmann::json Browser::command(nlohmann::json request) {
  const std::string line = request.dump() + "\n";
  for (std::size_t sent = 0; sent < line.size();) {
    const ssize_t n = ::send(socket_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) throw_errno("send to browser.py");
    sent += static_cast<std::size_t>(n);
  }
  std::size_t newline;
  while ((newline = pending_.find('\n')) == std::string::npos) {
    char buffer[65536];
    const ssize_t n = ::recv(socket_, buffer, sizeof(buffer), 0);
    if (n <= 0) throw std::runtime_error("browser.py closed the connection:\n" + read_text(dir_ / "output.txt"));
    pending_.append(buffer, static_cast<std::size_t>(n));
  }
  nlohmann::json answer = nlohmann::json::parse(pending_.substr(0, newline));
  pending_.erase(0, newline + 1);
  if (!answer.value("ok", false)) {
    throw std::runtime_error("browser: " + request.dump() + " failed: " + answer.value("error", std::string("?")));
  }
  return answer;
}

std::string Browser::open(const std::string& url) {
  return command({{"cmd", "open"}, {"url", url}})["url"].get<std::string>();
}
void Browser::fill(const std::string& css, const std::string& text) {
  command({{"cmd", "fill"}, {"css", css}, {"text", text}});
}
void Browser::click(const std::string& css) { command({{"cmd", "click"}, {"css", css}}); }
std::string Browser::text(const std::string& css) {
  return command({{"cmd", "text"}, {"css", css}})["text"].get<std::string>();
}
std::string Browser::value(const std::string& css) {
  return command({{"cmd", "value"}, {"css", css}})["text"].get<std::string>();
}
std::string Browser::attribute(const std::string& css, const std::string& name) {
  const auto answer = command({{"cmd", "attribute"}, {"css", css}, {"name", name}});
  return answer["text"].is_string() ? answer["text"].get<std::string>() : std::string();
}
std::size_t Browser::count(const std::string& css) {
  return command({{"cmd", "count"}, {"css", css}})["count"].get<std::size_t>();
}
std::string Browser::url() { return command({{"cmd", "url"}})["text"].get<std::string>(); }
std::string Browser::source() { return command({{"cmd", "source"}})["text"].get<std::string>(); }
void Browser::keys(const std::string& keys) { command({{"cmd", "keys"}, {"keys", keys}}); }
std::string Browser::focused() { return command({{"cmd", "focused"}})["text"].get<std::string>(); }
void Browser::screenshot(const std::filesystem::path& path, int width) {
  command({{"cmd", "screenshot"}, {"path", path.string()}, {"width", width}});
}
void Browser::clear_cookies() { command({{"cmd", "clear_cookies"}}); }
nlohmann::json Browser::script(const std::string& js) { return command({{"cmd", "script"}, {"js", js}})["result"]; }

}  // namespace dirproxy::testing
