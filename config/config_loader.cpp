// How the loader reads: the YAML document is walked once, section by section.
// Each section is a `Section`, which hands out the value of a key at most once
// and, when it goes out of scope, reports every key nobody asked for as
// unknown. Each setting is one line below -- its key, the struct member that
// holds its default (config.hpp) and the typed parser with its range -- so
// adding a setting is one edit. Parsers report through a `Field`, which knows
// the key path and the position, so every message has the same form. The
// cross-field rules run at the end, on the finished Config.
//
// Exceptions stop here: yaml-cpp's parse errors become "syntax error"
// messages, std::regex's become a message on username_pattern, and anything
// unexpected becomes one error in load_config_text.
#include "config/config_loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "config/dns_name.hpp"
#include "config/duration.hpp"
#include "config/email_address.hpp"

namespace dirproxy::config {

namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// Messages

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void error(const YAML::Mark& mark, std::string_view path, std::string_view message) {
    add(errors_, mark, path, message);
  }
  void warning(const YAML::Mark& mark, std::string_view path, std::string_view message) {
    add(warnings_, mark, path, message);
  }
  // For messages about the file as a whole, which has no position.
  void file_error(std::string_view message) {
    errors_.push_back({0, 0, file_ + ": " + std::string(message)});
  }

  // Where the value of `path` sits, so that the cross-field rules, which run
  // after parsing, can point at the keys they are about.
  void remember(const std::string& path, const YAML::Mark& mark) { marks_.emplace(path, mark); }
  std::optional<YAML::Mark> find(const std::string& path) const {
    if (auto it = marks_.find(path); it != marks_.end()) return it->second;
    return std::nullopt;
  }
  // The value of `path`, else that of `fallback`, else the top of the file.
  YAML::Mark where(const std::string& path, const std::string& fallback = {}) const {
    return find(path).value_or(find(fallback).value_or(YAML::Mark()));
  }

  std::vector<std::string> errors() const { return sorted(errors_); }
  std::vector<std::string> warnings() const { return sorted(warnings_); }

 private:
  struct Message {
    int line;
    int column;
    std::string text;
  };

  void add(std::vector<Message>& to, const YAML::Mark& mark, std::string_view path,
           std::string_view message) {
    // yaml-cpp counts from 0 (and uses -1 for "no position"); editors count from 1.
    const int line = mark.line < 0 ? 1 : mark.line + 1;
    const int column = mark.column < 0 ? 1 : mark.column + 1;
    std::string text = file_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
    if (!path.empty()) text += std::string(path) + ": ";
    text += message;
    to.push_back({line, column, std::move(text)});
  }

  // In file order, which is how an administrator fixes them.
  static std::vector<std::string> sorted(std::vector<Message> messages) {
    std::stable_sort(messages.begin(), messages.end(), [](const Message& a, const Message& b) {
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    std::vector<std::string> out;
    for (Message& m : messages) out.push_back(std::move(m.text));
    return out;
  }

  std::string file_;
  std::vector<Message> errors_;
  std::vector<Message> warnings_;
  std::map<std::string, YAML::Mark> marks_;
};

std::string_view kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Scalar: return "a single value";
    default: return "nothing";
  }
}

// One value of the file: parsers complain through it, so that every message
// carries the key path and the position of the value.
struct Field {
  YAML::Node node;
  std::string path;
  YAML::Mark mark;
  Diagnostics* diagnostics;

  void error(std::string_view message) const { diagnostics->error(mark, path, message); }
  void warning(std::string_view message) const { diagnostics->warning(mark, path, message); }

  Field item(std::size_t index, const YAML::Node& value) const {
    return {value, path + "[" + std::to_string(index) + "]", value.Mark(), diagnostics};
  }
};

// ---------------------------------------------------------------------------
// Typed parsers: (const Field&) -> std::optional<T>, nullopt after an error.

std::optional<std::string> scalar(const Field& field, std::string_view expected) {
  if (!field.node.IsScalar()) {
    field.error("expected " + std::string(expected) + ", got " + std::string(kind_of(field.node)));
    return std::nullopt;
  }
  return field.node.Scalar();
}

bool has_control_or_space(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte <= 0x20 || byte == 0x7f;
  });
}

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char c = text[i];
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower != prefix[i]) return false;
  }
  return true;
}

std::string lower_case(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<std::string> text(const Field& field) { return scalar(field, "a string"); }

std::optional<std::string> non_empty_text(const Field& field) {
  auto value = text(field);
  if (value && value->empty()) {
    field.error("must not be empty");
    return std::nullopt;
  }
  return value;
}

// YAML 1.2's spellings only: "yes", "on" and friends are YAML 1.1 and a
// common source of surprises ("no" as a country code), so they are refused.
std::optional<bool> boolean(const Field& field) {
  auto value = scalar(field, "true or false");
  if (!value) return std::nullopt;
  if (*value == "true" || *value == "True" || *value == "TRUE") return true;
  if (*value == "false" || *value == "False" || *value == "FALSE") return false;
  field.error("expected true or false, got '" + *value + "'");
  return std::nullopt;
}

template <class T>
auto whole_number(T min, T max = std::numeric_limits<T>::max()) {
  return [min, max](const Field& field) -> std::optional<T> {
    auto value = scalar(field, "a whole number");
    if (!value) return std::nullopt;
    const bool digits_only = !value->empty() && std::all_of(value->begin(), value->end(), [](char c) {
      return c >= '0' && c <= '9';
    });
    if (!digits_only) {
      field.error("expected a whole number, got '" + *value + "'");
      return std::nullopt;
    }
    std::uint64_t number = 0;
    const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), number);
    if (ec != std::errc() || number > static_cast<std::uint64_t>(max)) {
      field.error("must be at most " + std::to_string(max));
      return std::nullopt;
    }
    if (number < static_cast<std::uint64_t>(min)) {
      field.error("must be at least " + std::to_string(min));
      return std::nullopt;
    }
    return static_cast<T>(number);
  };
}

std::optional<Duration> any_duration(const Field& field) {
  auto value = scalar(field, "a duration like 5s");
  if (!value) return std::nullopt;
  auto duration = parse_duration(*value);
  if (!duration) field.error("expected a duration like 5s");
  return duration;
}

std::optional<Duration> positive_duration(const Field& field) {
  auto duration = any_duration(field);
  if (duration && duration->count() == 0) {
    field.error("must be greater than 0");
    return std::nullopt;
  }
  return duration;
}

// Exactly the words listed; the message lists them all.
template <class E>
auto one_of(std::initializer_list<std::pair<std::string_view, E>> words) {
  return [choices = std::vector<std::pair<std::string_view, E>>(words)](
             const Field& field) -> std::optional<E> {
    std::string allowed;
    for (const auto& [word, value] : choices) allowed += (allowed.empty() ? "" : "|") + std::string(word);
    auto given = scalar(field, "one of " + allowed);
    if (!given) return std::nullopt;
    for (const auto& [word, value] : choices) {
      if (*given == word) return value;
    }
    field.error("expected one of " + allowed + ", got '" + *given + "'");
    return std::nullopt;
  };
}

template <class Parser>
auto list_of(Parser parse_item) {
  using Item = typename std::invoke_result_t<Parser, const Field&>::value_type;
  return [parse_item](const Field& field) -> std::optional<std::vector<Item>> {
    if (!field.node.IsSequence()) {
      field.error("expected a list, got " + std::string(kind_of(field.node)));
      return std::nullopt;
    }
    std::vector<Item> items;
    bool ok = true;
    for (std::size_t i = 0; i < field.node.size(); ++i) {
      auto item = parse_item(field.item(i, field.node[i]));
      if (item) {
        items.push_back(std::move(*item));
      } else {
        ok = false;  // keep going: every bad item gets its own message
      }
    }
    if (!ok) return std::nullopt;
    return items;
  };
}

// ---------------------------------------------------------------------------
// Sections

// Levenshtein distance, for "did you mean" on unknown keys.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// A YAML mapping being read. Every key is handed out at most once; when the
// Section is destroyed, keys that no reader asked for are reported as unknown.
// Reporting from the destructor (rather than from a finish() call) means a
// reader cannot forget it, and an ignored typo is the one failure the
// configuration must never have.
class Section {
 public:
  // A section over the mapping in `field`; anything else is reported.
  explicit Section(const Field& field) : Section(field.diagnostics, field.path, field.mark) {
    if (field.node.IsMap()) {
      load(field.node);
    } else {
      field.error("expected a mapping, got " + std::string(kind_of(field.node)));
      broken_ = true;
    }
  }

  // The top level: an empty document reads as an empty mapping. A missing
  // top-level key is reported at 1:1, the start of the file.
  static Section top(Diagnostics& diagnostics, const YAML::Node& document) {
    Section section(&diagnostics, "", YAML::Mark());
    if (document.IsMap()) {
      section.load(document);
    } else if (document.IsDefined() && !document.IsNull()) {
      diagnostics.error(document.Mark(), "",
                        "expected a mapping of settings at the top level, got " +
                            std::string(kind_of(document)));
      section.broken_ = true;
    }
    return section;
  }

  Section(Section&& other) noexcept
      : diagnostics_(other.diagnostics_),
        path_(std::move(other.path_)),
        mark_(other.mark_),
        entries_(std::move(other.entries_)),
        asked_(std::move(other.asked_)),
        refusal_(std::move(other.refusal_)),
        broken_(other.broken_),
        report_unread_(other.report_unread_) {
    other.report_unread_ = false;
  }
  Section(const Section&) = delete;
  Section& operator=(const Section&) = delete;
  Section& operator=(Section&&) = delete;

  ~Section() {
    if (!report_unread_) return;
    for (const Entry& entry : entries_) {
      if (entry.taken) continue;
      std::string message = "unknown key '" + entry.key + "'";
      if (auto suggestion = closest_known(entry.key)) message += " (did you mean '" + *suggestion + "'?)";
      diagnostics_->error(entry.key_mark, child_path(entry.key), message);
    }
  }

  std::string child_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  bool has(std::string_view key) const {
    return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.key == key; });
  }

  // The value under `key`, which is then consumed; nullopt when absent (or
  // refused, see refuse_every_key).
  std::optional<Field> take(std::string_view key) {
    asked_.emplace_back(key);
    for (Entry& entry : entries_) {
      if (entry.key != key) continue;
      entry.taken = true;
      if (refusal_) {
        diagnostics_->error(entry.key_mark, child_path(key), *refusal_);
        return std::nullopt;
      }
      // A key with nothing after it has no position of its own worth showing.
      const YAML::Mark mark = entry.value.IsNull() ? entry.key_mark : entry.value.Mark();
      diagnostics_->remember(child_path(key), mark);
      return Field{entry.value, child_path(key), mark, diagnostics_};
    }
    return std::nullopt;
  }

  // Parses `key` into `member` when present; the default stays otherwise.
  // True when the key was present and valid.
  template <class T, class Parser>
  bool read(std::string_view key, T& member, Parser parse) {
    auto field = take(key);
    if (!field) return false;
    auto value = parse(*field);
    if (!value) return false;
    member = std::move(*value);
    return true;
  }

  template <class T, class Parser>
  bool read_required(std::string_view key, T& member, Parser parse) {
    if (!has(key)) {
      asked_.emplace_back(key);
      missing(key);
      return false;
    }
    return read(key, member, parse);
  }

  // The mapping under `key`; an empty section when absent.
  Section section(std::string_view key) {
    if (auto field = take(key)) return Section(*field);
    Section empty(diagnostics_, child_path(key), mark_);
    empty.refusal_ = refusal_;
    empty.broken_ = broken_;
    return empty;
  }

  // An error about `key` found after it was read, by a rule between keys;
  // placed at the key's value, or at the section when the key is absent.
  void error_at(std::string_view key, std::string_view message) {
    diagnostics_->error(diagnostics_->find(child_path(key)).value_or(mark_), child_path(key), message);
  }

  // From now on every key asked for that is present is an error with this
  // message: how an internal directory rejects the ldap-only keys without
  // listing them a second time.
  void refuse_every_key(std::string message) { refusal_ = std::move(message); }

  // Stops reporting unknown keys, after an error that makes them meaningless
  // (a directory whose type is unknown has no known keys).
  void ignore_unread() { report_unread_ = false; }

 private:
  struct Entry {
    std::string key;
    YAML::Mark key_mark;
    YAML::Node value;
    bool taken = false;
  };

  Section(Diagnostics* diagnostics, std::string path, YAML::Mark mark)
      : diagnostics_(diagnostics), path_(std::move(path)), mark_(mark) {}

  void load(const YAML::Node& map) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node& key = it->first;
      if (!key.IsScalar()) {
        diagnostics_->error(key.Mark(), path_, "expected a plain key, got " + std::string(kind_of(key)));
        continue;
      }
      auto first = std::find_if(entries_.begin(), entries_.end(),
                                [&](const Entry& e) { return e.key == key.Scalar(); });
      if (first != entries_.end()) {
        diagnostics_->error(key.Mark(), child_path(key.Scalar()),
                            "duplicate key '" + key.Scalar() + "' (first at line " +
                                std::to_string(first->key_mark.line + 1) + ")");
        continue;
      }
      entries_.push_back({key.Scalar(), key.Mark(), it->second});
    }
  }

  void missing(std::string_view key) {
    if (broken_ || refusal_) return;  // the cause has been reported already
    diagnostics_->error(mark_, child_path(key), "required but missing");
  }

  std::optional<std::string> closest_known(const std::string& key) const {
    std::optional<std::string> best;
    std::size_t best_distance = 3;  // two edits at most, or the hint misleads
    for (const std::string& known : asked_) {
      const std::size_t distance = edit_distance(key, known);
      if (distance < best_distance && distance < known.size()) {
        best = known;
        best_distance = distance;
      }
    }
    return best;
  }

  Diagnostics* diagnostics_;
  std::string path_;
  YAML::Mark mark_;
  std::vector<Entry> entries_;
  std::vector<std::string> asked_;  // every key some reader looked for
  std::optional<std::string> refusal_;
  bool broken_ = false;
  bool report_unread_ = true;
};

// ---------------------------------------------------------------------------
// Paths and secrets

// strerror() is not thread-safe, and a reload may run beside other threads.
std::string errno_text() { return std::generic_category().message(errno); }

constexpr std::string_view kCredentialsPrefix = "$CREDENTIALS_DIRECTORY/";

// Where a path written in the file points. Relative paths are relative to the
// file's own directory, not to the working directory (systemd runs the daemon
// in /); "$CREDENTIALS_DIRECTORY/" is where systemd puts LoadCredential= files.
auto path_in(const fs::path& base_dir) {
  return [base_dir](const Field& field) -> std::optional<fs::path> {
    auto value = non_empty_text(field);
    if (!value) return std::nullopt;
    if (value->starts_with(kCredentialsPrefix)) {
      const char* credentials = std::getenv("CREDENTIALS_DIRECTORY");
      if (credentials == nullptr || *credentials == '\0') {
        field.error("starts with $CREDENTIALS_DIRECTORY/ but CREDENTIALS_DIRECTORY is not set "
                    "(set it, or run under systemd with LoadCredential=)");
        return std::nullopt;
      }
      return (fs::path(credentials) / value->substr(kCredentialsPrefix.size())).lexically_normal();
    }
    if (value->starts_with('$')) {
      field.error("only $CREDENTIALS_DIRECTORY/ is expanded in paths");
      return std::nullopt;
    }
    const fs::path path(*value);
    return (path.is_absolute() ? path : base_dir / path).lexically_normal();
  };
}

// Like path_in, for settings where "" means "none".
auto optional_path_in(const fs::path& base_dir) {
  return [base_dir](const Field& field) -> std::optional<std::string> {
    if (field.node.IsScalar() && field.node.Scalar().empty()) return std::string();
    auto path = path_in(base_dir)(field);
    if (!path) return std::nullopt;
    return path->string();
  };
}

// Opens `path` for reading; on failure `reason` says why.
std::optional<std::ifstream> open_for_reading(const fs::path& path, std::string& reason) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    reason = "cannot read " + path.string() + ": " + errno_text();
    return std::nullopt;
  }
  // Opening a directory succeeds on Linux; reading it would not.
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    reason = "cannot read " + path.string() + ": is a directory";
    return std::nullopt;
  }
  return in;
}

// Like optional_path_in, for files the daemon will read later: checked now,
// so that a misspelt path fails --check-config instead of the first TLS
// handshake.
auto optional_readable_file_in(const fs::path& base_dir) {
  return [base_dir](const Field& field) -> std::optional<std::string> {
    auto path = optional_path_in(base_dir)(field);
    if (!path || path->empty()) return path;
    std::string reason;
    if (!open_for_reading(*path, reason)) {
      field.error(reason);
      return std::nullopt;
    }
    return path;
  };
}

// The first line of a secret file, without its line ending. On failure
// `reason` says why without quoting any of the content.
std::optional<std::string> read_first_line(const fs::path& path, std::string& reason) {
  auto in = open_for_reading(path, reason);
  if (!in) return std::nullopt;
  std::string line;
  std::getline(*in, line);
  if (in->bad()) {
    reason = "cannot read " + path.string();
    return std::nullopt;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) {
    reason = "the first line of " + path.string() + " is empty";
    return std::nullopt;
  }
  return line;
}

// The whole content of `path`; on failure, `reason` says why.
std::optional<std::string> read_whole_file(const fs::path& path, std::string& reason) {
  auto in = open_for_reading(path, reason);
  if (!in) return std::nullopt;
  std::string content((std::istreambuf_iterator<char>(*in)), std::istreambuf_iterator<char>());
  if (in->bad()) {
    reason = "cannot read " + path.string();
    return std::nullopt;
  }
  return content;
}

// Reads the *_password_file setting `key` into `file` and the secret it holds
// into `secret`. Secrets are never inline in the YAML, so that the file can be
// world-readable and the secret cannot end up in a message.
void read_secret_file(Section& section, std::string_view key, std::string& file,
                      std::string& secret, const fs::path& base_dir) {
  auto field = section.take(key);
  if (!field) return;
  auto path = optional_path_in(base_dir)(*field);
  if (!path) return;
  file = std::move(*path);
  if (file.empty()) return;
  std::string reason;
  if (auto line = read_first_line(file, reason)) {
    secret = std::move(*line);
  } else {
    field->error(reason);
  }
}

// ---------------------------------------------------------------------------
// Value formats used by several settings

std::optional<std::string> single_line_text(const Field& field) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  const bool has_control = std::any_of(value->begin(), value->end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
  if (has_control) {
    // These values end up in mail headers, where a line break is an injection.
    field.error("must not contain control characters or line breaks");
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> url_with_scheme(const Field& field,
                                           std::initializer_list<std::string_view> schemes,
                                           std::string_view what) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  const bool scheme_ok = std::any_of(schemes.begin(), schemes.end(), [&](std::string_view scheme) {
    return value->size() > scheme.size() && starts_with_ignoring_case(*value, scheme);
  });
  if (!scheme_ok) {
    field.error("expected " + std::string(what) + ", got '" + *value + "'");
    return std::nullopt;
  }
  if (has_control_or_space(*value)) {
    field.error("must not contain spaces or control characters");
    return std::nullopt;
  }
  return value;
}

// ---------------------------------------------------------------------------
// site

std::optional<std::string> base_url(const Field& field) {
  auto value = url_with_scheme(field, {"http://", "https://"}, "a URL starting with http:// or https://");
  if (value && value->ends_with('/')) {
    field.warning("ends with '/', so links built as {base_url}/... will contain '//'");
  }
  return value;
}

std::optional<std::string> link_template(const Field& field) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  if (value->find("{token}") == std::string::npos) {
    field.error("must contain {token}, or the link cannot work");
    return std::nullopt;
  }
  if (has_control_or_space(*value)) {
    field.error("must not contain spaces or control characters");
    return std::nullopt;
  }
  return value;
}

void read_site(Section section, Site& site) {
  section.read("name", site.name, single_line_text);
  section.read("base_url", site.base_url, base_url);
  Section links = section.section("links");
  links.read("signup", site.links.signup, link_template);
  links.read("confirm", site.links.confirm, link_template);
  links.read("password_reset", site.links.password_reset, link_template);
}

// ---------------------------------------------------------------------------
// server

constexpr std::uint32_t kMaxSocketMode = 0777;

// Octal text such as "0660". yaml-cpp hands out an unquoted 0660 as the text
// "0660" too, so both spellings work and neither is read as decimal.
std::optional<std::uint32_t> socket_mode(const Field& field) {
  auto value = scalar(field, "an octal mode like \"0660\"");
  if (!value) return std::nullopt;
  const bool octal = !value->empty() && value->size() <= 4 &&
                     std::all_of(value->begin(), value->end(), [](char c) { return c >= '0' && c <= '7'; });
  if (!octal) {
    field.error("expected an octal mode like \"0660\", got '" + *value + "'");
    return std::nullopt;
  }
  const auto mode = static_cast<std::uint32_t>(std::stoul(*value, nullptr, 8));
  if (mode > kMaxSocketMode) {
    field.error("must be at most 0777");
    return std::nullopt;
  }
  return mode;
}

void read_server(Section section, Server& server, const fs::path& base_dir) {
  section.read("socket", server.socket, path_in(base_dir));
  section.read("socket_mode", server.socket_mode, socket_mode);
  section.read("socket_group", server.socket_group, text);
  section.read("max_request_bytes", server.max_request_bytes, whole_number<std::size_t>(1024));
  section.read("max_connections", server.max_connections, whole_number<std::size_t>(1));
  section.read("idle_timeout", server.idle_timeout, positive_duration);
  section.read("workers", server.workers, whole_number<unsigned>(0, 1024));
  Section admins = section.section("admins");
  admins.read("users", server.admins.users, list_of(non_empty_text));
  admins.read("groups", server.admins.groups, list_of(non_empty_text));
}

// ---------------------------------------------------------------------------
// log

void read_log(Section section, Log& log) {
  section.read("level", log.level,
               one_of<LogLevel>({{"trace", LogLevel::trace},
                                 {"debug", LogLevel::debug},
                                 {"info", LogLevel::info},
                                 {"warn", LogLevel::warn},
                                 {"error", LogLevel::error}}));
  section.read("format", log.format,
               one_of<LogFormat>({{"text", LogFormat::text}, {"json", LogFormat::json}}));
  section.read("audit", log.audit, boolean);
}

// ---------------------------------------------------------------------------
// directories

std::optional<std::string> directory_name(const Field& field) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  const bool allowed = std::all_of(value->begin(), value->end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
  if (!allowed) {
    field.error("must match [a-z0-9_-]+, got '" + *value + "'");
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> ldap_uri(const Field& field) {
  return url_with_scheme(field, {"ldap://", "ldaps://"}, "a URI starting with ldap:// or ldaps://");
}

// One URI or a list of them, tried in order.
std::optional<std::vector<std::string>> ldap_uris(const Field& field) {
  if (field.node.IsScalar()) {
    auto uri = ldap_uri(field);
    if (!uri) return std::nullopt;
    return std::vector<std::string>{*uri};
  }
  if (!field.node.IsSequence()) {
    field.error("expected a URI or a list of URIs, got " + std::string(kind_of(field.node)));
    return std::nullopt;
  }
  auto uris = list_of(ldap_uri)(field);
  if (uris && uris->empty()) {
    field.error("must name at least one URI");
    return std::nullopt;
  }
  return uris;
}

// Active Directory's names for what the defaults spell the OpenLDAP way. They
// are applied before the keys are read, so any key the file sets wins.
void apply_active_directory_presets(LdapSettings& ldap) {
  ldap.users.object_class = "user";
  ldap.users.username_attribute = "sAMAccountName";
  ldap.users.display_name_attribute = "displayName";
  ldap.users.rdn_attribute = "cn";
  ldap.users.create_object_classes = {"top", "person", "organizationalPerson", "user"};
  ldap.users.disabled_attribute = "userAccountControl";
  ldap.users.disabled_bitmask = 2;  // ACCOUNTDISABLE
  ldap.groups.object_class = "group";
  ldap.groups.user_membership_attribute = "memberOf";
}

const auto search_scope = one_of<SearchScope>({{"one", SearchScope::one}, {"sub", SearchScope::sub}});

void read_ldap_users(Section section, LdapUsers& users) {
  section.read("base", users.base, text);
  section.read("scope", users.scope, search_scope);
  section.read("object_class", users.object_class, non_empty_text);
  section.read("filter", users.filter, text);
  section.read("username_attribute", users.username_attribute, non_empty_text);
  section.read("email_attribute", users.email_attribute, non_empty_text);
  section.read("display_name_attribute", users.display_name_attribute, non_empty_text);
  section.read("first_name_attribute", users.first_name_attribute, non_empty_text);
  section.read("last_name_attribute", users.last_name_attribute, non_empty_text);
  section.read("rdn_attribute", users.rdn_attribute, non_empty_text);
  section.read("create_object_classes", users.create_object_classes, list_of(non_empty_text));
  section.read("disabled_attribute", users.disabled_attribute, text);
  section.read("disabled_bitmask", users.disabled_bitmask, whole_number<std::uint64_t>(0));
}

void read_ldap_groups(Section section, LdapGroups& groups) {
  section.read("base", groups.base, text);
  section.read("scope", groups.scope, search_scope);
  section.read("object_class", groups.object_class, non_empty_text);
  section.read("name_attribute", groups.name_attribute, non_empty_text);
  section.read("description_attribute", groups.description_attribute, non_empty_text);
  section.read("member_attribute", groups.member_attribute, non_empty_text);
  section.read("member_format", groups.member_format,
               one_of<MemberFormat>({{"dn", MemberFormat::dn}, {"username", MemberFormat::username}}));
  section.read("user_membership_attribute", groups.user_membership_attribute, text);
}

void read_ldap_settings(Section& section, LdapSettings& ldap, const fs::path& base_dir) {
  section.read("schema", ldap.schema,
               one_of<LdapSchema>({{"openldap", LdapSchema::openldap},
                                   {"active_directory", LdapSchema::active_directory}}));
  if (ldap.schema == LdapSchema::active_directory) apply_active_directory_presets(ldap);
  section.read_required("uri", ldap.uri, ldap_uris);
  section.read("start_tls", ldap.start_tls, boolean);
  section.read("tls_ca_file", ldap.tls_ca_file, optional_readable_file_in(base_dir));
  section.read("tls_verify", ldap.tls_verify, boolean);
  section.read("bind_dn", ldap.bind_dn, text);
  read_secret_file(section, "bind_password_file", ldap.bind_password_file, ldap.bind_password, base_dir);
  section.read_required("base_dn", ldap.base_dn, non_empty_text);
  read_ldap_users(section.section("users"), ldap.users);
  read_ldap_groups(section.section("groups"), ldap.groups);
  section.read("nested_groups", ldap.nested_groups, boolean);
  section.read("nested_max_depth", ldap.nested_max_depth, whole_number<unsigned>(1, 64));
  section.read("page_size", ldap.page_size, whole_number<unsigned>(0, 100000));
  Section timeouts = section.section("timeouts");
  timeouts.read("connect", ldap.timeouts.connect, positive_duration);
  timeouts.read("operation", ldap.timeouts.operation, positive_duration);
  section.read("pool_size", ldap.pool_size, whole_number<unsigned>(1, 256));
  section.read("retry_backoff", ldap.retry_backoff, positive_duration);
  Section cache = section.section("cache");
  cache.read("ttl", ldap.cache.ttl, any_duration);
  cache.read("negative_ttl", ldap.cache.negative_ttl, any_duration);
  cache.read("max_entries", ldap.cache.max_entries, whole_number<std::size_t>(0));

  const bool any_ldaps = std::any_of(ldap.uri.begin(), ldap.uri.end(), [](const std::string& uri) {
    return starts_with_ignoring_case(uri, "ldaps://");
  });
  if (ldap.start_tls && any_ldaps) {
    section.error_at("start_tls", "StartTLS is for ldap:// only (ldaps:// is TLS from the start)");
  }
}

// Reads one entry of `directories`; false when its type is unknown, so that
// the rules between directories leave it out.
bool read_directory(Section section, DirectoryConfig& directory, const fs::path& base_dir) {
  section.read_required("name", directory.name, directory_name);
  const bool typed = section.read_required(
      "type", directory.type,
      one_of<DirectoryType>({{"internal", DirectoryType::internal}, {"ldap", DirectoryType::ldap}}));
  if (!typed) {
    section.ignore_unread();
    return false;
  }
  section.read("on_unavailable", directory.on_unavailable,
               one_of<OnUnavailable>({{"fail", OnUnavailable::fail}, {"skip", OnUnavailable::skip}}));
  if (directory.type == DirectoryType::internal) {
    directory.permissions = Permissions::read_write;
    section.read("permissions", directory.permissions,
                 one_of<Permissions>({{"read_only", Permissions::read_only},
                                      {"read_write", Permissions::read_write}}));
    // The ldap reader runs over a scratch copy only so that each ldap key
    // present here is named in an error, without a second list of those keys.
    section.refuse_every_key("only valid for type ldap");
    LdapSettings unused;
    read_ldap_settings(section, unused, base_dir);
  } else {
    directory.permissions = Permissions::read_only;
    section.read("permissions", directory.permissions,
                 one_of<Permissions>({{"read_only", Permissions::read_only},
                                      {"read_only_local_groups", Permissions::read_only_local_groups},
                                      {"read_write", Permissions::read_write}}));
    read_ldap_settings(section, directory.ldap, base_dir);
  }
  return true;
}

void check_directories(Diagnostics& diagnostics, const std::vector<DirectoryConfig>& directories,
                       const std::vector<bool>& typed) {
  auto path = [](std::size_t i, std::string_view key) {
    return "directories[" + std::to_string(i) + "]." + std::string(key);
  };
  auto error = [&](std::size_t i, std::string_view key, std::string_view message) {
    diagnostics.error(diagnostics.where(path(i, key), "directories[" + std::to_string(i) + "]"),
                      path(i, key), message);
  };

  std::optional<std::size_t> internal;
  bool writable_internal = false;
  for (std::size_t i = 0; i < directories.size(); ++i) {
    if (!typed[i] || directories[i].type != DirectoryType::internal) continue;
    if (internal) {
      error(i, "type", "at most one directory of type internal (directories[" +
                           std::to_string(*internal) + "] is one)");
      continue;
    }
    internal = i;
    writable_internal = directories[i].permissions == Permissions::read_write;
  }

  for (std::size_t i = 0; i < directories.size(); ++i) {
    const DirectoryConfig& directory = directories[i];
    for (std::size_t j = 0; j < i && !directory.name.empty(); ++j) {
      if (directories[j].name == directory.name) {
        error(i, "name", "duplicate directory name '" + directory.name + "' (directories[" +
                             std::to_string(j) + "] has it too)");
        break;
      }
    }
    if (!typed[i] || directory.type != DirectoryType::ldap) continue;
    if (directory.permissions == Permissions::read_write && directory.ldap.bind_dn.empty()) {
      error(i, "permissions", "read_write requires bind_dn (writes need a service account)");
    }
    if (directory.permissions == Permissions::read_only_local_groups && !writable_internal) {
      error(i, "permissions",
            "read_only_local_groups requires a directory of type internal with permissions "
            "read_write (the local groups live there)");
    }
  }
}

auto directory_list(const fs::path& base_dir) {
  return [base_dir](const Field& field) -> std::optional<std::vector<DirectoryConfig>> {
    if (!field.node.IsSequence()) {
      field.error("expected a list of directories, got " + std::string(kind_of(field.node)));
      return std::nullopt;
    }
    if (field.node.size() == 0) {
      field.error("at least one directory is required");
      return std::nullopt;
    }
    std::vector<DirectoryConfig> directories(field.node.size());
    std::vector<bool> typed(field.node.size());
    for (std::size_t i = 0; i < directories.size(); ++i) {
      const Field item = field.item(i, field.node[i]);
      field.diagnostics->remember(item.path, item.mark);
      typed[i] = read_directory(Section(item), directories[i], base_dir);
    }
    check_directories(*field.diagnostics, directories, typed);
    return directories;
  };
}

// ---------------------------------------------------------------------------
// accounts

constexpr std::size_t kMaxPasswordLength = 65536;

std::optional<std::string> regular_expression(const Field& field) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  try {
    std::regex compiled(*value, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    field.error("not a valid regular expression (" + std::string(e.what()) + ")");
    return std::nullopt;
  }
  return value;
}

// An Argon2id cost: one of libsodium's named levels or a number. The levels
// are libsodium's crypto_pwhash_*_{INTERACTIVE,MODERATE,SENSITIVE} values,
// written out because this library does not link libsodium.
template <class T>
auto argon2_cost(std::array<T, 3> levels, T min, T max) {
  return [levels, min, max](const Field& field) -> std::optional<T> {
    auto value = scalar(field, "interactive|moderate|sensitive or a whole number");
    if (!value) return std::nullopt;
    if (*value == "interactive") return levels[0];
    if (*value == "moderate") return levels[1];
    if (*value == "sensitive") return levels[2];
    if (value->empty() || value->find_first_not_of("0123456789") != std::string::npos) {
      field.error("expected interactive|moderate|sensitive or a whole number, got '" + *value + "'");
      return std::nullopt;
    }
    return whole_number<T>(min, max)(field);
  };
}

void read_accounts(Section section, Accounts& accounts) {
  section.read("username_pattern", accounts.username_pattern, regular_expression);
  section.read("password_min_length", accounts.password_min_length,
               whole_number<std::size_t>(1, kMaxPasswordLength));
  section.read("password_max_length", accounts.password_max_length,
               whole_number<std::size_t>(1, kMaxPasswordLength));
  if (accounts.password_max_length < accounts.password_min_length) {
    section.error_at(section.has("password_max_length") ? "password_max_length" : "password_min_length",
                     "password_max_length (" + std::to_string(accounts.password_max_length) +
                         ") must be at least password_min_length (" +
                         std::to_string(accounts.password_min_length) + ")");
  }
  section.read("unique_email", accounts.unique_email, boolean);
  section.read("default_groups", accounts.default_groups, list_of(non_empty_text));
  section.read("admin_group", accounts.admin_group, text);
  Section hash = section.section("password_hash");
  hash.read("opslimit", accounts.password_hash.opslimit,
            argon2_cost<std::uint64_t>({2, 3, 4}, 1, 4294967295ULL));
  hash.read("memlimit", accounts.password_hash.memlimit,
            argon2_cost<std::size_t>({67108864, 268435456, 1073741824}, 8192, 4398046511104ULL));
}

// ---------------------------------------------------------------------------
// signup, invitations, password_reset, access_requests

std::optional<std::string> domain_pattern(const Field& field) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  if (!is_valid_domain_pattern(*value)) {
    field.error("expected a domain like example.com or *.example.com, got '" + *value + "'");
    return std::nullopt;
  }
  return lower_case(*value);
}

void read_signup(Section section, Signup& signup) {
  section.read("mode", signup.mode,
               one_of<SignupMode>({{"disabled", SignupMode::disabled},
                                   {"open", SignupMode::open},
                                   {"restricted", SignupMode::restricted}}));
  section.read("domains", signup.domains, list_of(domain_pattern));
  section.read("notify_admins", signup.notify_admins, boolean);
  section.read("confirmation_ttl", signup.confirmation_ttl, positive_duration);
}

void read_invitations(Section section, Invitations& invitations) {
  section.read("per_recipient", invitations.per_recipient, boolean);
  section.read("ttl", invitations.ttl, positive_duration);
  section.read("default_groups", invitations.default_groups, list_of(non_empty_text));
}

void read_password_reset(Section section, PasswordReset& password_reset) {
  section.read("ttl", password_reset.ttl, positive_duration);
  section.read("new_user_ttl", password_reset.new_user_ttl, positive_duration);
}

void read_access_requests(Section section, AccessRequests& access_requests) {
  section.read("enabled", access_requests.enabled, boolean);
}

// ---------------------------------------------------------------------------
// mail

// "address" or "Name <address>". The address goes into the envelope and the
// From header of every message, so it must pass the strict parser.
std::optional<std::string> mail_from(const Field& field) {
  auto value = single_line_text(field);
  if (!value) return std::nullopt;
  std::string_view address = *value;
  if (value->ends_with('>')) {
    const std::size_t open = value->rfind('<');
    if (open == std::string::npos || value->substr(0, open).find_first_of("<>") != std::string::npos) {
      field.error("expected an address or Name <address>");
      return std::nullopt;
    }
    address = address.substr(open + 1, address.size() - open - 2);
  }
  if (auto parsed = parse_email_address(address); !parsed) {
    field.error("not a valid email address: " + parsed.reason);
    return std::nullopt;
  }
  return value;
}

constexpr std::array<std::string_view, 6> kTemplateNames = {
    "signup_confirm", "invitation", "new_user", "password_reset", "admin_new_account", "access_request"};
constexpr std::array<std::string_view, 7> kPlaceholders = {
    "site_name", "link", "username", "display_name", "email", "message", "expires"};

template <std::size_t N>
std::string joined(const std::array<std::string_view, N>& words, std::string_view before = "",
                   std::string_view after = "") {
  std::string out;
  for (std::string_view word : words) {
    out += (out.empty() ? "" : ", ") + std::string(before) + std::string(word) + std::string(after);
  }
  return out;
}

// What is wrong with the placeholders of one template line, or empty. Only
// the exact spellings count: "{{ link }}" would be sent as is, so it is an
// error like any other unknown placeholder.
std::string placeholder_problem(std::string_view line) {
  std::size_t open = 0;
  while ((open = line.find("{{", open)) != std::string_view::npos) {
    const std::size_t close = line.find("}}", open + 2);
    if (close == std::string_view::npos) return "'{{' without a closing '}}'";
    const std::string_view name = line.substr(open + 2, close - open - 2);
    if (std::find(kPlaceholders.begin(), kPlaceholders.end(), name) == kPlaceholders.end()) {
      return "unknown placeholder {{" + std::string(name) + "}} (known: " +
             joined(kPlaceholders, "{{", "}}") + ")";
    }
    open = close + 2;
  }
  return {};
}

// Parses "Subject: ...", a blank line, then the body. Each problem is
// reported as "FILE:LINE: ..." on the templates_dir setting.
std::optional<TemplateOverride> parse_template(const Field& field, const std::string& file_name,
                                               std::string_view name, const std::string& content) {
  std::vector<std::string> lines;
  std::istringstream in(content);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  bool ok = true;
  auto problem = [&](std::size_t line_number, const std::string& message) {
    field.error(file_name + ":" + std::to_string(line_number) + ": " + message);
    ok = false;
  };

  constexpr std::string_view kSubject = "Subject:";
  TemplateOverride result;
  result.name = std::string(name);
  if (lines.empty() || !lines[0].starts_with(kSubject)) {
    problem(1, "the first line must be 'Subject: ...'");
    return std::nullopt;
  }
  result.subject = lines[0].substr(kSubject.size());
  result.subject.erase(0, result.subject.find_first_not_of(' '));
  if (result.subject.empty()) problem(1, "the subject is empty");
  if (lines.size() < 2 || !lines[1].empty()) problem(2, "the second line must be blank");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (std::string message = placeholder_problem(lines[i]); !message.empty()) problem(i + 1, message);
    if (i >= 2) result.body += lines[i] + "\n";
  }
  if (!ok) return std::nullopt;
  return result;
}

// Reads every NAME.txt of `dir` into `templates`. Other files (a README, an
// editor's backup) are left alone, but a .txt file whose name is not a
// template is an error: it is most likely a misspelt override.
void load_templates(const Field& field, const fs::path& dir, std::vector<TemplateOverride>& templates) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    field.error("not a readable directory: " + dir.string());
    return;
  }
  std::vector<fs::path> files;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    files.push_back(it->path());
  }
  if (ec) {
    field.error("cannot read " + dir.string() + ": " + ec.message());
    return;
  }
  std::sort(files.begin(), files.end());

  for (const fs::path& file : files) {
    if (file.extension() != ".txt") continue;
    const std::string file_name = file.filename().string();
    const std::string name = file.stem().string();
    if (std::find(kTemplateNames.begin(), kTemplateNames.end(), name) == kTemplateNames.end()) {
      field.error(file_name + ": not a template name (expected one of " + joined(kTemplateNames) + ")");
      continue;
    }
    std::string reason;
    auto content = read_whole_file(file, reason);
    if (!content) {
      field.error(file_name + ": " + reason);
      continue;
    }
    if (auto parsed = parse_template(field, file_name, name, *content)) {
      templates.push_back(std::move(*parsed));
    }
  }
}

void read_mail(Section section, Mail& mail, const fs::path& base_dir) {
  section.read("smtp_url", mail.smtp_url, [](const Field& field) {
    return url_with_scheme(field, {"smtp://", "smtps://"}, "a URL starting with smtp:// or smtps://");
  });
  // Only an explicit choice can conflict: the default, opportunistic, simply
  // does not apply to smtps://.
  const bool starttls_set = section.read(
      "starttls", mail.starttls,
      one_of<StartTls>({{"none", StartTls::none},
                        {"opportunistic", StartTls::opportunistic},
                        {"required", StartTls::required}}));
  if (starttls_set && mail.starttls != StartTls::none && starts_with_ignoring_case(mail.smtp_url, "smtps://")) {
    section.error_at("starttls", "STARTTLS is for smtp:// only (smtps:// is TLS from the start); use none");
  }
  section.read("username", mail.username, text);
  read_secret_file(section, "password_file", mail.password_file, mail.password, base_dir);
  section.read_required("from", mail.from, mail_from);
  if (auto field = section.take("templates_dir")) {
    if (auto dir = optional_path_in(base_dir)(*field)) {
      mail.templates_dir = *dir;
      if (!dir->empty()) load_templates(*field, *dir, mail.templates);
    }
  }
  section.read("timeout", mail.timeout, positive_duration);
  section.read("max_attempts", mail.max_attempts, whole_number<unsigned>(1));
  section.read("retry_backoff", mail.retry_backoff, positive_duration);
}

// ---------------------------------------------------------------------------
// security

void read_security(Section section, Security& security) {
  Section lockout = section.section("lockout");
  lockout.read("max_failures", security.lockout.max_failures, whole_number<unsigned>(1));
  lockout.read("window", security.lockout.window, positive_duration);
  lockout.read("duration", security.lockout.duration, positive_duration);
  Section rate_limit = section.section("rate_limit");
  rate_limit.read("requests", security.rate_limit.requests, whole_number<unsigned>(1));
  rate_limit.read("per", security.rate_limit.per, positive_duration);
}

// ---------------------------------------------------------------------------
// The whole file

void read_settings(Section& top, Config& config, const fs::path& base_dir) {
  read_site(top.section("site"), config.site);
  read_server(top.section("server"), config.server, base_dir);
  top.read("state_dir", config.state_dir, path_in(base_dir));
  read_log(top.section("log"), config.log);
  top.read("user_management", config.user_management,
           one_of<UserManagement>({{"internal", UserManagement::internal},
                                   {"external", UserManagement::external}}));
  top.read("membership", config.membership,
           one_of<Membership>({{"aggregate", Membership::aggregate}, {"first", Membership::first}}));
  top.read_required("directories", config.directories, directory_list(base_dir));
  read_accounts(top.section("accounts"), config.accounts);
  read_signup(top.section("signup"), config.signup);
  read_invitations(top.section("invitations"), config.invitations);
  read_password_reset(top.section("password_reset"), config.password_reset);
  read_access_requests(top.section("access_requests"), config.access_requests);
  // Present means configured, even when invalid, so that the rules below do
  // not add "requires mail" to the mail section's own errors.
  if (auto field = top.take("mail")) {
    config.mail.emplace();
    read_mail(Section(*field), *config.mail, base_dir);
  }
  read_security(top.section("security"), config.security);
}

void check_cross_field_rules(const Config& config, Diagnostics& diagnostics) {
  auto error = [&](const std::string& path, const std::string& fallback, std::string_view message) {
    diagnostics.error(diagnostics.where(path, fallback), path, message);
  };
  auto warning = [&](const std::string& path, const std::string& fallback, std::string_view message) {
    diagnostics.warning(diagnostics.where(path, fallback), path, message);
  };
  const bool signup_enabled = config.signup.mode != SignupMode::disabled;

  if (config.signup.mode == SignupMode::restricted) {
    if (!config.mail) {
      error("signup.mode", "", "restricted requires a mail section (addresses are confirmed by email)");
    }
    if (config.signup.domains.empty()) {
      error("signup.domains", "signup.mode", "signup.mode restricted requires at least one domain");
    }
  }
  if (config.access_requests.enabled && !config.mail) {
    error("access_requests.enabled", "", "true requires a mail section (admins are told by email)");
  }
  if (signup_enabled && config.signup.notify_admins && !config.mail) {
    warning("signup.notify_admins", "signup.mode",
            "no mail section, so admins will not be notified of new accounts");
  }
  if (signup_enabled && config.user_management == UserManagement::external) {
    warning("signup.mode", "", "has no effect: user_management is external, so signup is refused");
  }
}

std::optional<Config> parse(std::string_view yaml, Diagnostics& diagnostics, const fs::path& base_dir) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml));
  } catch (const YAML::Exception& e) {
    diagnostics.error(e.mark, "", "syntax error: " + e.msg);
    return std::nullopt;
  }
  if (documents.size() > 1) {
    diagnostics.error(documents[1].Mark(), "", "only one YAML document is allowed");
  }

  Config config;
  {
    Section top = Section::top(diagnostics, documents.empty() ? YAML::Node() : documents[0]);
    read_settings(top, config, base_dir);
  }  // reports the unknown top-level keys
  check_cross_field_rules(config, diagnostics);
  return config;
}

}  // namespace

LoadResult load_config_text(std::string_view yaml, const std::string& display_name,
                            const std::filesystem::path& base_dir) {
  Diagnostics diagnostics(display_name);
  std::optional<Config> config;
  try {
    std::error_code ec;
    fs::path absolute_base = fs::absolute(base_dir.empty() ? fs::path(".") : base_dir, ec);
    if (ec) absolute_base = base_dir;
    config = parse(yaml, diagnostics, absolute_base.lexically_normal());
  } catch (const std::exception& e) {
    // Not expected: yaml-cpp's node accessors are only used on checked kinds.
    diagnostics.file_error(std::string("cannot load: ") + e.what());
  }

  LoadResult result;
  result.errors = diagnostics.errors();
  result.warnings = diagnostics.warnings();
  if (result.errors.empty() && config) {
    config->source = display_name;
    result.config = std::move(config);
  }
  return result;
}

LoadResult load_config_file(const std::filesystem::path& path) {
  std::string reason;
  std::optional<std::string> content;
  try {
    content = read_whole_file(path, reason);
  } catch (const std::exception& e) {
    reason = e.what();
  }
  if (!content) {
    LoadResult result;
    result.errors.push_back(reason);  // names the file already
    return result;
  }
  LoadResult result = load_config_text(*content, path.string(), path.parent_path());
  if (result.config) {
    std::error_code ec;
    // Absolute, so that a reload finds the file after the daemon changes directory.
    const fs::path absolute = fs::absolute(path, ec);
    result.config->source = ec ? path : absolute.lexically_normal();
  }
  return result;
}

}  // namespace dirproxy::config
