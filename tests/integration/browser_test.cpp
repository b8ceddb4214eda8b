// The browser fixture itself (tests/support/browser.hpp), on two local
// files: the web pages' tests rely on fill, click and text doing what they
// say, so this checks them where nothing else can go wrong.
#include <gtest/gtest.h>

#include <fstream>

#include "support/browser.hpp"
#include "support/temporary_directory.hpp"

namespace dirproxy::testing {
namespace {

TEST(Browser, FillsAFormSubmitsItAndReadsTheNextPage) {
  TemporaryDirectory dir;
  std::ofstream(dir.path() / "form.html") << R"(<!DOCTYPE html><html lang="en"><title>Form</title>
<form action="done.html" method="get"><label for="name">Name</label><input id="name" name="name">
<label for="other">Other</label><input id="other" name="other"><button type="submit">Go</button></form>)";
  std::ofstream(dir.path() / "done.html") << R"(<!DOCTYPE html><html lang="en"><title>Done</title><h1>Done</h1>)";

  Browser browser;
  const std::string form_url = "file://" + (dir.path() / "form.html").string();
  EXPECT_EQ(browser.open(form_url), form_url);
  EXPECT_EQ(browser.count("input"), 2u);
  browser.fill("#name", "ann lee");
  EXPECT_EQ(browser.value("#name"), "ann lee");
  browser.keys("\t");
  EXPECT_EQ(browser.focused(), "other");
  browser.click("button[type=submit]");
  EXPECT_EQ(browser.url(), "file://" + (dir.path() / "done.html").string() + "?name=ann+lee&other=");
  EXPECT_EQ(browser.text("h1"), "Done");
  EXPECT_EQ(browser.script("return document.title"), "Done");
  EXPECT_THROW(browser.text("#missing"), std::runtime_error);
  browser.screenshot(dir.path() / "done.png", 320);
  EXPECT_TRUE(std::filesystem::file_size(dir.path() / "done.png") > 100);
}

}  // namespace
}  // namespace dirproxy::testing
