#include "config/mailbox.hpp"

namespace dirproxy::config {

std::optional<Mailbox> parse_mailbox(std::string_view text) {
  if (!text.ends_with('>')) return Mailbox{{}, std::string(text)};
  const std::size_t open = text.rfind('<');
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view name = text.substr(0, open);
  if (name.find_first_of("<>") != std::string_view::npos) return std::nullopt;
  while (name.ends_with(' ')) name.remove_suffix(1);
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
  return Mailbox{std::string(name), std::string(text.substr(open + 1, text.size() - open - 2))};
}

}  // namespace dirproxy::config
