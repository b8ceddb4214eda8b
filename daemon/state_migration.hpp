// `dirproxyd --migrate-state --from FILE.db` (docs/scaling.md, "Moving a
// SQLite state over"): copies a single node's SQLite state into the
// PostgreSQL database the configuration names, then exits. It opens the
// state as the daemon would and starts nothing else: no listener, no mail.
#pragma once

#include <filesystem>
#include <iosfwd>

namespace dirproxy {

// Loads `config_path`, which must say state.backend: postgresql, and copies
// `sqlite_file` into that database (storage/state_copy.hpp). Prints one line
// per table ("users: 3") and a last line to `out`; returns 0. On any failure
// prints the error to `err` and returns 1, nothing having been committed.
int migrate_state(const std::filesystem::path& config_path, const std::filesystem::path& sqlite_file, std::ostream& out,
                  std::ostream& err);

}  // namespace dirproxy
