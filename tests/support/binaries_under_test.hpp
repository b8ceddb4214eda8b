// The dirproxyd and dirproxyctl a test runs: the ones this build made
// (DIRPROXYD_BUILT_PATH, DIRPROXYCTL_BUILT_PATH, set by tests/CMakeLists.txt),
// or the ones the environment names in DIRPROXY_TEST_DIRPROXYD and
// DIRPROXY_TEST_DIRPROXYCTL. scripts/test's sanitizer phases run the plain
// build's integration tests against the sanitized binaries that way, so
// that the tests' own code is compiled once, not three times: what the
// sanitizers check is the daemon and dirproxyctl, which run as processes
// of their own in these tests.
#pragma once

#include <cstdlib>

namespace dirproxy::testing {

inline const char* binary_under_test(const char* variable, const char* built) {
  const char* chosen = std::getenv(variable);
  return chosen != nullptr && *chosen != '\0' ? chosen : built;
}

// Whether the binaries under test are sanitizer builds: this build's when
// it is one (DIRPROXY_SANITIZED), or ones the environment names and says so
// of (DIRPROXY_TEST_SANITIZED=1, as scripts/test sets it). Instrumentation
// changes what a test may measure of them (memory, for one).
inline bool binaries_under_test_are_sanitized() {
#ifdef DIRPROXY_SANITIZED
  return true;
#else
  const char* sanitized = std::getenv("DIRPROXY_TEST_SANITIZED");
  return sanitized != nullptr && sanitized[0] == '1';
#endif
}

}  // namespace dirproxy::testing

#define DIRPROXYD_PATH ::dirproxy::testing::binary_under_test("DIRPROXY_TEST_DIRPROXYD", DIRPROXYD_BUILT_PATH)
#define DIRPROXYCTL_PATH ::dirproxy::testing::binary_under_test("DIRPROXY_TEST_DIRPROXYCTL", DIRPROXYCTL_BUILT_PATH)
