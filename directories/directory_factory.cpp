#include "directories/directory_factory.hpp"

#include "directories/internal/internal_directory.hpp"
#include "directories/ldap/ldap_directory.hpp"
#include "directories/timed_directory.hpp"

namespace dirproxy {

Result<std::vector<DirectoryPtr>> build_directories(const config::Config& config, StateDatabasePtr database,
                                                    PasswordHasherPtr hasher, ClockPtr clock,
                                                    metrics::Registry* metrics, IdentityStorePtr identities) {
  std::vector<DirectoryPtr> directories;
  for (const auto& settings : config.directories) {
    switch (settings.type) {
      case DirectoryType::internal:
        if (metrics != nullptr) {
          directories.push_back(std::make_shared<Timed<InternalDirectory>>(
              *metrics, settings, database, hasher, config.accounts.unique_email, clock, identities));
        } else {
          directories.push_back(std::make_shared<InternalDirectory>(settings, database, hasher,
                                                                    config.accounts.unique_email, clock, identities));
        }
        break;
      case DirectoryType::ldap: {
        auto directory = LdapDirectory::create(settings, metrics);
        RETURN_IF_ERROR(directory);
        directories.push_back(std::move(*directory));
        break;
      }
    }
  }
  return directories;
}

}  // namespace dirproxy
