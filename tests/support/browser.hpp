// A real browser for the web pages' integration tests: headless Chromium
// driven through Selenium (Debian's chromium, chromium-driver and
// python3-selenium). Browser runs tests/support/browser.py as a child of the
// test process and sends it one command at a time over a Unix socket; the
// script's header lists the commands.
//
// Every call waits for the browser's answer; a command the browser cannot
// carry out (no element matches the selector, say) throws
// std::runtime_error with Selenium's message, which fails the test. The
// destructor quits Chromium and removes the profile; when the test failed,
// it prints what browser.py wrote (Selenium's and Chromium's messages).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace dirproxy::testing {

class Browser final {
 public:
  Browser();
  ~Browser();
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  // Loads `url` and waits for the page; the URL the browser ends on.
  std::string open(const std::string& url);
  // Clears the input or textarea matching the CSS selector and types `text`.
  void fill(const std::string& css, const std::string& text);
  // Clicks the element and waits for the next page (a submit button, a link).
  void click(const std::string& css);
  // The visible text of the element ("body": the whole page).
  std::string text(const std::string& css = "body");
  // The value of an input (what a field holds, as the person sees it).
  std::string value(const std::string& css);
  // An attribute of the element; "" when it has none.
  std::string attribute(const std::string& css, const std::string& name);
  // How many elements match.
  std::size_t count(const std::string& css);
  std::string url();
  std::string source();
  // Types into the focused element: "\t" moves the focus, "\n" is Enter.
  void keys(const std::string& keys);
  // The name (or id, or tag) of the focused element.
  std::string focused();
  // Saves a PNG of the whole page as seen `width` CSS pixels wide.
  void screenshot(const std::filesystem::path& path, int width);
  void clear_cookies();
  // What `js` (a function body: "return document.title") returns, as JSON.
  nlohmann::json script(const std::string& js);

 private:
  nlohmann::json command(nlohmann::json request);

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int socket_ = -1;
  std::string pending_;  // read from the socket past the last answer
};

}  // namespace dirproxy::testing
