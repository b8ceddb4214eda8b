#include "directories/directory_factory.hpp"

#include "directories/internal/internal_directory.hpp"
#include "directories/ldap/ldap_directory.hpp"

namespace dirproxy {

Result<std::vector<DirectoryPtr>> build_directories(const config::Config& config, StateDatabasePtr database,
                                                    PasswordHasherPtr hasher, ClockPtr clock) {
  std::vector<DirectoryPtr> directories;
  for (const auto& settings : config.directories) {
    switch (settings.type) {
      case DirectoryType::internal:
        directories.push_back(
            std::make_shared<InternalDirectory>(settings, database, hasher, config.accounts.unique_email, clock));
        break;
      case DirectoryType::ldap: {
        auto directory = LdapDirectory::create(settings);
        RETURN_IF_ERROR(directory);
        directories.push_back(std::move(*directory));
        break;
      }
    }
  }
  return directories;
}

}  // namespace dirproxy
