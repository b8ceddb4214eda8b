#include "support/smtp_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "core/unique_fd.hpp"
#include "support/child_process.hpp"

namespace dirproxy::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Debian's python3 has python3-aiosmtpd; a python3 earlier on PATH may not.
constexpr const char* kPython = "/usr/bin/python3";
constexpr auto kReadyTimeout = 10s;
constexpr auto kStopTimeout = 10s;
constexpr int kPortAttempts = 3;
constexpr std::string_view kReadyLine = "smtp_capture ready port=";

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void run_or_throw(const std::vector<std::string>& argv) {
  ChildOptions options;
  const ChildResult result = run_child(argv, options);
  if (result.exit_code != 0) {
    std::string command;
    for (const auto& arg : argv) command += (command.empty() ? "" : " ") + arg;
    throw std::runtime_error(command + " failed (exit " + std::to_string(result.exit_code) + "):\n" + result.out +
                             result.err);
  }
}

// A port of 127.0.0.1 nothing listens on right now, chosen by the kernel.
int free_port() {
  UniqueFd probe(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe) throw_errno("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(probe.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) throw_errno("bind");
  socklen_t length = sizeof(address);
  if (::getsockname(probe.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) throw_errno("getsockname");
  return ntohs(address.sin_port);
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

CapturedMail read_captured(const std::filesystem::path& json_file, const std::filesystem::path& eml_file) {
  const nlohmann::json record = nlohmann::json::parse(read_file(json_file));
  CapturedMail mail;
  mail.envelope_from = record.at("mail_from").get<std::string>();
  mail.envelope_to = record.at("rcpt_tos").get<std::vector<std::string>>();
  mail.tls = record.at("tls").get<bool>();
  if (!record.at("auth_user").is_null()) mail.auth_user = record.at("auth_user").get<std::string>();
  for (const auto& header : record.at("headers")) {
    mail.headers[header.at(0).get<std::string>()] = header.at(1).get<std::string>();
  }
  mail.subject = record.at("subject").get<std::string>();
  mail.body = record.at("body").get<std::string>();
  mail.defects = record.at("defects").get<std::vector<std::string>>();
  mail.raw = read_file(eml_file);
  return mail;
}

}  // namespace

std::optional<std::string> CapturedMail::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (equal_ignoring_case(key, name)) return value;
  }
  return std::nullopt;
}

SmtpServer::SmtpServer(Options options) : options_(std::move(options)) {
  char path[] = "/tmp/dsm-XXXXXX";
  if (::mkdtemp(path) == nullptr) throw_errno("mkdtemp");
  dir_ = path;
  try {
    std::filesystem::create_directory(dir_ / "messages");
    if (options_.tls != SmtpTls::none) make_certificates();
    for (int attempt = 1;; ++attempt) {
      port_ = free_port();
      if (launch()) break;
      if (attempt == kPortAttempts) fail("smtp_capture could not bind a port");
    }
  } catch (...) {
    if (pid_ > 0) kill_and_reap(pid_);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    throw;
  }
}

SmtpServer::~SmtpServer() {
  if (::testing::Test::HasFailure()) {
    std::cerr << "--- smtp_capture log (" << (dir_ / "smtp.log").string() << ") ---\n" << log();
  }
  if (pid_ > 0) {
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGTERM);
    if (!wait_for_child(pid_, 5s)) kill_and_reap(pid_);
    pid_ = -1;
  }
  if (::getenv("DIRPROXY_KEEP_TEST_DIR") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

std::string SmtpServer::url() const {
  return std::string(options_.tls == SmtpTls::implicit ? "smtps" : "smtp") + "://127.0.0.1:" + std::to_string(port_);
}

std::string SmtpServer::ca_file() const {
  return options_.tls == SmtpTls::none ? std::string() : (dir_ / "tls" / "ca.crt").string();
}

void SmtpServer::make_certificates() const {
  const std::filesystem::path tls = dir_ / "tls";
  std::filesystem::create_directory(tls);
  auto file = [&](const char* name) { return (tls / name).string(); };
  const std::vector<std::string> new_key = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};

  std::vector<std::string> ca = {"openssl", "req", "-x509"};
  ca.insert(ca.end(), new_key.begin(), new_key.end());
  ca.insert(ca.end(),
            {"-keyout", file("ca.key"), "-out", file("ca.crt"), "-days", "30", "-subj", "/CN=dirproxy test mail CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
  run_or_throw(ca);

  std::vector<std::string> request = {"openssl", "req", "-new"};
  request.insert(request.end(), new_key.begin(), new_key.end());
  request.insert(request.end(), {"-keyout", file("server.key"), "-out", file("server.csr"), "-subj", "/CN=127.0.0.1"});
  run_or_throw(request);

  std::ofstream(tls / "server.ext") << "basicConstraints=critical,CA:FALSE\n"
                                       "keyUsage=critical,digitalSignature,keyEncipherment\n"
                                       "extendedKeyUsage=serverAuth\n"
                                       "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  run_or_throw({"openssl", "x509", "-req", "-in", file("server.csr"), "-CA", file("ca.crt"), "-CAkey", file("ca.key"),
                "-CAcreateserial", "-out", file("server.crt"), "-days", "30", "-extfile", file("server.ext")});
}

bool SmtpServer::launch() {
  const std::string log_path = (dir_ / "smtp.log").string();
  UniqueFd log_fd(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log_fd) throw_errno("open " + log_path);
  const std::string banner = "=== SmtpServer: starting on port " + std::to_string(port_) + " ===\n";
  if (::write(log_fd.get(), banner.data(), banner.size()) < 0) throw_errno("write " + log_path);

  std::vector<std::string> argv = {kPython,         DIRPROXY_TEST_SUPPORT_DIR "/smtp_capture.py",
                                   "--dir",         (dir_ / "messages").string(),
                                   "--control-dir", dir_.string(),
                                   "--port",        std::to_string(port_)};
  if (options_.tls != SmtpTls::none) {
    argv.insert(argv.end(),
                {"--cert", (dir_ / "tls" / "server.crt").string(), "--key", (dir_ / "tls" / "server.key").string()});
  }
  if (options_.tls == SmtpTls::starttls_required) argv.push_back("--require-starttls");
  if (options_.tls == SmtpTls::implicit) argv.push_back("--implicit-tls");
  if (options_.auth_username)
    argv.insert(argv.end(), {"--auth", *options_.auth_username + ":" + options_.auth_password});
  // Unbuffered, so the log is complete when a test fails.
  pid_ = spawn_child(argv, /*env=*/{{"PYTHONUNBUFFERED", "1"}}, log_fd.get(), log_fd.get());
  paused_ = false;

  const auto deadline = Clock::now() + kReadyTimeout;
  for (;;) {
    const std::string text = log();
    const std::string this_start = text.substr(text.rfind(banner));
    if (this_start.find(std::string(kReadyLine) + std::to_string(port_)) != std::string::npos) return true;
    if (auto status = wait_for_child(pid_, 0ms)) {
      pid_ = -1;
      if (this_start.find("Address already in use") != std::string::npos) return false;
      fail("smtp_capture exited with status " + std::to_string(*status) + " before it was ready");
    }
    if (Clock::now() >= deadline) {
      kill_and_reap(pid_);
      pid_ = -1;
      fail("smtp_capture was not ready within 10 s");
    }
    std::this_thread::sleep_for(20ms);
  }
}

void SmtpServer::fail(const std::string& what) const {
  throw std::runtime_error("SmtpServer (" + dir_.string() + "): " + what + "\n--- smtp_capture log ---\n" + log());
}

void SmtpServer::start() {
  if (pid_ > 0) throw std::logic_error("SmtpServer::start: already running");
  if (!launch()) fail("smtp_capture could not bind port " + std::to_string(port_) + " again");
}

void SmtpServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGTERM);
  const bool exited = wait_for_child(pid_, kStopTimeout).has_value();
  if (!exited) kill_and_reap(pid_);
  pid_ = -1;
  paused_ = false;
  if (!exited) fail("smtp_capture did not exit within 10 s of SIGTERM; killed");
}

void SmtpServer::restart() {
  stop();
  start();
}

void SmtpServer::pause() {
  if (pid_ <= 0) throw std::logic_error("SmtpServer::pause: not running");
  if (::kill(pid_, SIGSTOP) != 0) throw_errno("SIGSTOP smtp_capture");
  int status = 0;
  pid_t stopped = -1;
  do {
    stopped = ::waitpid(pid_, &status, WUNTRACED);
  } while (stopped < 0 && errno == EINTR);
  if (stopped != pid_ || !WIFSTOPPED(status)) fail("smtp_capture did not stop");
  paused_ = true;
}

void SmtpServer::resume() {
  if (pid_ <= 0) throw std::logic_error("SmtpServer::resume: not running");
  if (::kill(pid_, SIGCONT) != 0) throw_errno("SIGCONT smtp_capture");
  paused_ = false;
}

void SmtpServer::set_temporary_failure(bool on) {
  if (on) {
    std::ofstream(dir_ / "tempfail") << "";
  } else {
    std::filesystem::remove(dir_ / "tempfail");
  }
}

void SmtpServer::set_permanent_failure(bool on) {
  if (on) {
    std::ofstream(dir_ / "reject") << "";
  } else {
    std::filesystem::remove(dir_ / "reject");
  }
}

std::vector<CapturedMail> SmtpServer::messages() const {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "messages")) {
    if (entry.path().extension() == ".eml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<CapturedMail> mails;
  for (const auto& eml : files) {
    std::filesystem::path json = eml;
    json.replace_extension(".json");
    mails.push_back(read_captured(json, eml));
  }
  return mails;
}

std::vector<CapturedMail> SmtpServer::wait_for_messages(std::size_t count, std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    std::vector<CapturedMail> mails = messages();
    if (mails.size() >= count || Clock::now() >= deadline) return mails;
    std::this_thread::sleep_for(20ms);
  }
}

std::string SmtpServer::log() const { return read_file(dir_ / "smtp.log"); }

std::optional<std::string> first_link(std::string_view text) {
  std::size_t start = std::string_view::npos;
  for (std::string_view scheme : {"http://", "https://"}) {
    start = std::min(start, text.find(scheme));
  }
  if (start == std::string_view::npos) return std::nullopt;
  std::size_t end = start;
  while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) && text[end] != '>') ++end;
  return std::string(text.substr(start, end - start));
}

}  // namespace dirproxy::testing
