// The machinery for reading a YAML settings file strictly, with no knowledge
// of which settings exist: config_loader.cpp describes dirproxy's settings
// with it. A `Section` hands out the value of each key at most once and
// reports, when it goes out of scope, every key nobody asked for as unknown
// (with a "did you mean" hint) and every duplicate key. Typed parsers turn a
// `Field` into a value or report through it, so that every message has the
// form "file:line:column: key.path: what is wrong". `Diagnostics` collects
// all of them, in file order, rather than stopping at the first.
//
// Internal to the config module: only the loader's .cpp files include it, so
// yaml-cpp stays a private dependency.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace dirproxy::config {

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
  void file_error(std::string_view message);

  // Where the value of `path` sits, so that the cross-field rules, which run
  // after parsing, can point at the keys they are about.
  void remember(const std::string& path, const YAML::Mark& mark) { marks_.emplace(path, mark); }
  std::optional<YAML::Mark> find(const std::string& path) const;
  // The value of `path`, else that of `fallback`, else the top of the file.
  YAML::Mark where(const std::string& path, const std::string& fallback = {}) const;

  std::vector<std::string> errors() const { return sorted(errors_); }
  std::vector<std::string> warnings() const { return sorted(warnings_); }

 private:
  struct Message {
    int line;
    int column;
    std::string text;
  };

  void add(std::vector<Message>& to, const YAML::Mark& mark, std::string_view path, std::string_view message);
  static std::vector<std::string> sorted(std::vector<Message> messages);

  std::string file_;
  std::vector<Message> errors_;
  std::vector<Message> warnings_;
  std::map<std::string, YAML::Mark> marks_;
};

// How deeply mappings and lists may nest, the top-level mapping being level
// 1 (dirproxy's own settings go 5 deep). The parse stops at the first deeper
// collection, at its position, so yaml-cpp never recurses far on a file's
// depth; and nothing here walks a node tree: a reader only descends into the
// keys it knows.
inline constexpr std::size_t kMaxNesting = 32;

// The single YAML document in `yaml`: an empty node for an empty file,
// nullopt after a syntax error or nesting deeper than kMaxNesting. yaml-cpp's
// exceptions stop here.
std::optional<YAML::Node> parse_document(std::string_view yaml, Diagnostics& diagnostics);

// "a list", "a mapping", ...: what a message says was found instead.
std::string_view kind_of(const YAML::Node& node);

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

// The text of a single value; `expected` names what the setting wants. Every
// value is text a person typed, so whatever the setting, it must be valid
// UTF-8 without control characters (C0, DEL, C1), and carry no YAML tag but
// !!str: a NUL in a path or a !!binary the reader would ignore can only be a
// mistake, and no later message can then print raw bytes from the file.
std::optional<std::string> scalar(const Field& field, std::string_view expected);

std::optional<std::string> text(const Field& field);
std::optional<std::string> non_empty_text(const Field& field);

// YAML 1.2's spellings only: "yes", "on" and friends are YAML 1.1 and a
// common source of surprises ("no" as a country code), so they are refused.
std::optional<bool> boolean(const Field& field);

template <class T>
auto whole_number(T min, T max = std::numeric_limits<T>::max()) {
  return [min, max](const Field& field) -> std::optional<T> {
    auto value = scalar(field, "a whole number");
    if (!value) return std::nullopt;
    const bool digits_only =
        !value->empty() && std::all_of(value->begin(), value->end(), [](char c) { return c >= '0' && c <= '9'; });
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

// A duration as duration.hpp spells it; positive_duration refuses 0.
std::optional<std::chrono::milliseconds> any_duration(const Field& field);
std::optional<std::chrono::milliseconds> positive_duration(const Field& field);

// Exactly the words listed; the message lists them all.
template <class E>
auto one_of(std::initializer_list<std::pair<std::string_view, E>> words) {
  return [choices = std::vector<std::pair<std::string_view, E>>(words)](const Field& field) -> std::optional<E> {
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
// Paths: parsers for settings that name a file or directory

// Where a path written in the file points. Relative paths are relative to the
// file's own directory, not to the working directory (systemd runs the daemon
// in /); "$CREDENTIALS_DIRECTORY/" is where systemd puts LoadCredential= files.
std::optional<std::filesystem::path> parse_path(const Field& field, const std::filesystem::path& base_dir);

// Like parse_path, for settings where "" means "none".
std::optional<std::string> parse_optional_path(const Field& field, const std::filesystem::path& base_dir);

// Like parse_optional_path, for files the daemon will read later: checked
// now (a regular file that opens), so that a misspelt path fails
// --check-config instead of the first TLS handshake.
std::optional<std::string> parse_optional_readable_file(const Field& field, const std::filesystem::path& base_dir);

// Like parse_path, for a file the daemon will read later and that must be
// there: checked now as parse_optional_readable_file does.
std::optional<std::string> parse_readable_file(const Field& field, const std::filesystem::path& base_dir);

// The four above as parsers for Section::read.
inline auto path_in(const std::filesystem::path& base_dir) {
  return [base_dir](const Field& field) { return parse_path(field, base_dir); };
}
inline auto optional_path_in(const std::filesystem::path& base_dir) {
  return [base_dir](const Field& field) { return parse_optional_path(field, base_dir); };
}
inline auto optional_readable_file_in(const std::filesystem::path& base_dir) {
  return [base_dir](const Field& field) { return parse_optional_readable_file(field, base_dir); };
}
inline auto readable_file_in(const std::filesystem::path& base_dir) {
  return [base_dir](const Field& field) { return parse_readable_file(field, base_dir); };
}

// ---------------------------------------------------------------------------
// Sections

// A YAML mapping being read. Every key is handed out at most once; when the
// Section is destroyed, keys that no reader asked for are reported as unknown.
// Reporting from the destructor (rather than from a finish() call) means a
// reader cannot forget it, and an ignored typo is the one failure the
// configuration must never have.
class Section {
 public:
  // A section over the mapping in `field`; anything else is reported.
  explicit Section(const Field& field);

  // The top level: an empty document reads as an empty mapping. A missing
  // top-level key is reported at 1:1, the start of the file.
  static Section top(Diagnostics& diagnostics, const YAML::Node& document);

  Section(Section&& other) noexcept;
  Section(const Section&) = delete;
  Section& operator=(const Section&) = delete;
  Section& operator=(Section&&) = delete;

  ~Section();

  std::string child_path(std::string_view key) const;

  bool has(std::string_view key) const;

  // The value under `key`, which is then consumed; nullopt when absent (or
  // refused: see refuse_every_key; or tagged, see scalar).
  std::optional<Field> take(std::string_view key);

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
  Section section(std::string_view key);

  // An error about `key` found after it was read, by a rule between keys;
  // placed at the key's value, or at the section when the key is absent.
  void error_at(std::string_view key, std::string_view message);

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

  void load(const YAML::Node& map);
  void missing(std::string_view key);
  std::optional<std::string> closest_known(const std::string& key) const;

  Diagnostics* diagnostics_;
  std::string path_;
  YAML::Mark mark_;
  std::vector<Entry> entries_;                             // in file order
  std::map<std::string, std::size_t, std::less<>> index_;  // key -> entries_
  std::vector<std::string> asked_;                         // every key some reader looked for
  std::optional<std::string> refusal_;
  bool broken_ = false;
  bool report_unread_ = true;
};

// Reads the *_password_file setting `key` into `file` and the secret it holds
// into `secret`. Secrets are never inline in the YAML, so that the file can be
// world-readable and the secret cannot end up in a message. The secret file
// must be a regular file of at most kMaxSecretFileBytes (text_file.hpp).
void read_secret_file(Section& section, std::string_view key, std::string& file, std::string& secret,
                      const std::filesystem::path& base_dir);

}  // namespace dirproxy::config
