// Fuzz target config_yaml: a configuration file's text through the loader
// (config/config_loader.hpp, load_config_text), as dirproxyd --check-config
// and every start and reload read it. Relative paths resolve against a
// scratch directory that holds a secret file ("secret") and a templates_dir
// ("templates/") with one valid override, so that inputs naming them reach
// the code that reads them.
//
// Properties checked besides "no crash": a configuration comes back exactly
// when there is no error, and every error and warning is one line (the
// loader's messages go to a terminal and to the log).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "config/config_loader.hpp"
#include "fuzz/fuzz_input.hpp"

namespace {

namespace fs = std::filesystem;

// The scratch directory, made once per process and removed at its exit.
const fs::path& scratch_directory() {
  static const fs::path directory = [] {
    std::string pattern = (fs::temp_directory_path() / "dirproxy-fuzz-config-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    const fs::path made(pattern);
    std::ofstream(made / "secret") << "not-a-real-password\n";
    fs::create_directory(made / "templates");
    std::ofstream(made / "templates" / "invitation.txt") << "Subject: Join {{site_name}}\n\nFollow {{link}}\n";
    std::atexit([] {
      std::error_code ignored;
      fs::remove_all(scratch_directory(), ignored);
    });
    return made;
  }();
  return directory;
}

void check_messages(const std::vector<std::string>& messages) {
  for (const std::string& message : messages) {
    dirproxy::fuzz::require(message.find('\n') == std::string::npos, "a configuration message is one line", message);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  const dirproxy::config::LoadResult result =
      dirproxy::config::load_config_text(yaml, "fuzz.yaml", scratch_directory());
  dirproxy::fuzz::require(result.config.has_value() == result.errors.empty(),
                          "a configuration comes back exactly when there is no error");
  check_messages(result.errors);
  check_messages(result.warnings);
  return 0;
}
