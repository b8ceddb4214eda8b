#include "daemon/state_migration.hpp"

#include <ostream>

#include "config/config_loader.hpp"
#include "daemon/state_opening.hpp"
#include "storage/state_copy.hpp"

namespace dirproxy {

int migrate_state(const std::filesystem::path& config_path, const std::filesystem::path& sqlite_file, std::ostream& out,
                  std::ostream& err) {
  const std::string failed = "dirproxyd --migrate-state: ";
  auto loaded = config::load_config_file(config_path);
  for (const auto& error : loaded.errors) err << error << "\n";
  if (!loaded.ok()) {
    err << failed << config_path.string() << " is not valid; nothing was copied\n";
    return 1;
  }
  const config::Config& config = *loaded.config;
  if (config.state.backend != config::StateBackend::postgresql) {
    err << failed << "state.backend in " << config_path.string()
        << " is sqlite; set it to postgresql, with state.postgresql, to name the database to copy into"
           " (docs/scaling.md); nothing was copied\n";
    return 1;
  }
  // One connection: the copy is one transaction.
  auto database = StateDatabase::open_postgresql(postgresql_options(config.state.postgresql), 1);
  if (!database) {
    err << failed << database.error().message << "; nothing was copied\n";
    return 1;
  }
  auto copied = copy_sqlite_state(sqlite_file, **database);
  if (!copied) {
    err << failed << copied.error().message << "; nothing was copied\n";
    return 1;
  }
  std::int64_t rows = 0;
  for (const CopiedTable& table : *copied) {
    out << table.table << ": " << table.rows << "\n";
    rows += table.rows;
  }
  out << "copied " << rows << " rows in " << copied->size() << " tables from " << sqlite_file.string() << " to "
      << (*database)->location() << "\n";
  return 0;
}

}  // namespace dirproxy
