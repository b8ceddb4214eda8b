#include "config/yaml_reader.hpp"

#include <yaml-cpp/eventhandler.h>

#include <cstdlib>
#include <sstream>
#include <tuple>
#include <vector>

#include "config/duration.hpp"
#include "config/text_file.hpp"
#include "core/unicode_text.hpp"

namespace dirproxy::config {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// Messages

namespace {

// A message is one line on a terminal and in the log whatever the file
// holds: a control character that yaml-cpp quotes from the file ("unknown
// escape character: <LF>") or that the file's name holds is written as an
// escape, the way fmt's "{:?}" (logging::quoted) writes it. (Keys and values
// with control characters are refused by text_problem before any message
// names them.)
std::string one_line(std::string text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += {'\\', 'x', kHex[byte >> 4], kHex[byte & 0xf]};
    }
  }
  return out;
}

}  // namespace

void Diagnostics::file_error(std::string_view message) {
  errors_.push_back({0, 0, one_line(file_ + ": " + std::string(message))});
}

std::optional<YAML::Mark> Diagnostics::find(const std::string& path) const {
  if (auto it = marks_.find(path); it != marks_.end()) return it->second;
  return std::nullopt;
}

YAML::Mark Diagnostics::where(const std::string& path, const std::string& fallback) const {
  return find(path).value_or(find(fallback).value_or(YAML::Mark()));
}

void Diagnostics::add(std::vector<Message>& to, const YAML::Mark& mark, std::string_view path,
                      std::string_view message) {
  // yaml-cpp counts from 0 (and uses -1 for "no position"); editors count from 1.
  const int line = mark.line < 0 ? 1 : mark.line + 1;
  const int column = mark.column < 0 ? 1 : mark.column + 1;
  std::string text = file_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  if (!path.empty()) text += std::string(path) + ": ";
  text += message;
  to.push_back({line, column, one_line(std::move(text))});
}

// In file order, which is how an administrator fixes them.
std::vector<std::string> Diagnostics::sorted(std::vector<Message> messages) {
  std::stable_sort(messages.begin(), messages.end(), [](const Message& a, const Message& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  std::vector<std::string> out;
  for (Message& m : messages) out.push_back(std::move(m.text));
  return out;
}

namespace {

// Follows the depth of the collections while yaml-cpp parses, and stops the
// parse at the first one deeper than kMaxNesting. yaml-cpp's own guard stops
// only at about a thousand levels, with "bad file" and the position its
// scanner had reached (the end of a flow collection, often the end of the
// file); the event of the collection has the position of its first
// character. Also keeps where each document starts.
class NestingLimit final : public YAML::EventHandler {
 public:
  struct Exceeded {
    YAML::Mark mark;
  };

  void OnDocumentStart(const YAML::Mark& mark) override {
    depth_ = 0;
    document_ = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    enter(mark);
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    enter(mark);
  }
  void OnMapEnd() override { --depth_; }

  // Where the last document handled starts.
  const YAML::Mark& document() const { return document_; }

 private:
  void enter(const YAML::Mark& mark) {
    if (++depth_ > kMaxNesting) throw Exceeded{mark};
  }

  std::size_t depth_ = 0;
  YAML::Mark document_;
};

// A first pass over the events, before any node is built: throws
// NestingLimit::Exceeded, or YAML::Exception on a syntax error. Returns
// where the second document starts, if there is one.
//
// yaml-cpp 0.7 (upstream issue 1040, fixed in 0.8) stops at a ',' outside a
// flow collection (a file that is just ",", say) without taking it: every
// further document is an empty one at the same place, so YAML::LoadAll never
// returns and its list of documents grows until memory runs out. A document
// that starts where the one before it started is that ',' and is a syntax
// error; and as only one document is allowed, no more than the start of the
// second is needed.
std::optional<YAML::Mark> check_documents(std::string_view yaml) {
  std::istringstream in{std::string(yaml)};
  YAML::Parser parser(in);
  NestingLimit limit;
  std::vector<YAML::Mark> starts;
  while (starts.size() < 3 && parser.HandleNextDocument(limit)) {
    const YAML::Mark start = limit.document();
    if (!starts.empty() && start.pos == starts.back().pos) {
      const auto at = static_cast<std::size_t>(start.pos);
      const bool printable = at < yaml.size() && yaml[at] > ' ' && yaml[at] < '\x7f';
      throw YAML::ParserException(
          start, printable ? "unexpected '" + std::string(1, yaml[at]) + "'" : std::string("unexpected character"));
    }
    starts.push_back(start);
  }
  if (starts.size() < 2) return std::nullopt;
  return starts[1];
}

}  // namespace

std::optional<YAML::Node> parse_document(std::string_view yaml, Diagnostics& diagnostics) {
  YAML::Node document;
  try {
    if (const auto second = check_documents(yaml)) {
      diagnostics.error(*second, "", "only one YAML document is allowed");
    }
    // The first document only (YAML::LoadAll would meet the ',' above).
    document = YAML::Load(std::string(yaml));
  } catch (const NestingLimit::Exceeded& e) {
    diagnostics.error(e.mark, "", "nested more than " + std::to_string(kMaxNesting) + " levels deep");
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    diagnostics.error(e.mark, "", "syntax error: " + e.msg);
    return std::nullopt;
  }
  return document;
}

std::string_view kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Scalar: return "a single value";
    default: return "nothing";
  }
}

// ---------------------------------------------------------------------------
// What any value or key may hold

namespace {

// "?" is yaml-cpp's tag for an untagged plain scalar or collection, "!" for
// an untagged quoted scalar, "" for an empty value. !!str only says what every
// value is read as.
bool is_accepted_tag(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  return tag.empty() || tag == "?" || tag == "!" || (node.IsScalar() && tag == "tag:yaml.org,2002:str");
}

// A tag as it is written in the file: yaml-cpp expands !!x to the full
// tag:yaml.org,2002:x and drops the !<...> around a verbatim tag. Its
// scanner admits only printable ASCII in tags, so the text is safe to show.
std::string written_tag(const std::string& tag) {
  constexpr std::string_view kCoreSchema = "tag:yaml.org,2002:";
  if (tag.starts_with(kCoreSchema)) return "!!" + tag.substr(kCoreSchema.size());
  if (tag.starts_with('!')) return tag;
  return "!<" + tag + ">";
}

std::string unsupported_tag(const YAML::Node& node) {
  return "unsupported YAML tag " + written_tag(node.Tag()) + " (only !!str is accepted)";
}

// What is wrong with `text` as a value or key, or nullopt. Decoding and the
// control characters are core/unicode_text.hpp's, as for the daemon's
// readable-text rule.
std::optional<std::string> text_problem(std::string_view text) {
  bool control = false;
  for (std::size_t offset = 0; offset < text.size();) {
    const auto character = decode_utf8(text.substr(offset));
    if (!character) return "must be valid UTF-8 (invalid byte sequence at offset " + std::to_string(offset) + ")";
    if (hazard_of(character->code_point) == TextHazard::control) control = true;
    offset += character->bytes;
  }
  if (control) return "must not contain control characters or line breaks";
  return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------------------------
// Typed parsers

std::optional<std::string> scalar(const Field& field, std::string_view expected) {
  if (!field.node.IsScalar()) {
    field.error("expected " + std::string(expected) + ", got " + std::string(kind_of(field.node)));
    return std::nullopt;
  }
  if (!is_accepted_tag(field.node)) {
    field.error(unsupported_tag(field.node));
    return std::nullopt;
  }
  if (auto problem = text_problem(field.node.Scalar())) {
    field.error(*problem);
    return std::nullopt;
  }
  return field.node.Scalar();
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

std::optional<bool> boolean(const Field& field) {
  auto value = scalar(field, "true or false");
  if (!value) return std::nullopt;
  if (*value == "true" || *value == "True" || *value == "TRUE") return true;
  if (*value == "false" || *value == "False" || *value == "FALSE") return false;
  field.error("expected true or false, got '" + *value + "'");
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> any_duration(const Field& field) {
  auto value = scalar(field, "a duration like 5s");
  if (!value) return std::nullopt;
  auto duration = parse_duration(*value);
  if (!duration) field.error("expected a duration like 5s");
  return duration;
}

std::optional<std::chrono::milliseconds> positive_duration(const Field& field) {
  auto duration = any_duration(field);
  if (duration && duration->count() == 0) {
    field.error("must be greater than 0");
    return std::nullopt;
  }
  return duration;
}

// ---------------------------------------------------------------------------
// Paths

namespace {

constexpr std::string_view kCredentialsPrefix = "$CREDENTIALS_DIRECTORY/";

}  // namespace

std::optional<fs::path> parse_path(const Field& field, const fs::path& base_dir) {
  auto value = non_empty_text(field);
  if (!value) return std::nullopt;
  if (value->starts_with(kCredentialsPrefix)) {
    const char* credentials = std::getenv("CREDENTIALS_DIRECTORY");
    if (credentials == nullptr || *credentials == '\0') {
      field.error(
          "starts with $CREDENTIALS_DIRECTORY/ but CREDENTIALS_DIRECTORY is not set "
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
}

std::optional<std::string> parse_optional_path(const Field& field, const fs::path& base_dir) {
  auto value = text(field);
  if (!value) return std::nullopt;
  if (value->empty()) return std::string();
  auto path = parse_path(field, base_dir);
  if (!path) return std::nullopt;
  return path->string();
}

namespace {

// `path` when it is a file that can be read now; the reason otherwise.
std::optional<std::string> readable(const Field& field, std::string path) {
  std::string reason;
  if (!check_readable_file(path, reason)) {
    field.error(reason);
    return std::nullopt;
  }
  return path;
}

}  // namespace

std::optional<std::string> parse_optional_readable_file(const Field& field, const fs::path& base_dir) {
  auto path = parse_optional_path(field, base_dir);
  if (!path || path->empty()) return path;
  return readable(field, std::move(*path));
}

std::optional<std::string> parse_readable_file(const Field& field, const fs::path& base_dir) {
  auto path = parse_path(field, base_dir);
  if (!path) return std::nullopt;
  return readable(field, path->string());
}

// ---------------------------------------------------------------------------
// Sections

namespace {

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

}  // namespace

Section::Section(const Field& field) : Section(field.diagnostics, field.path, field.mark) {
  if (!field.node.IsMap()) {
    field.error("expected a mapping, got " + std::string(kind_of(field.node)));
    broken_ = true;
  } else if (!is_accepted_tag(field.node)) {  // a list item; take() checks the rest
    field.error(unsupported_tag(field.node));
    broken_ = true;
  } else {
    load(field.node);
  }
}

Section Section::top(Diagnostics& diagnostics, const YAML::Node& document) {
  Section section(&diagnostics, "", YAML::Mark());
  if (!is_accepted_tag(document)) {
    diagnostics.error(document.Mark(), "", unsupported_tag(document));
    section.broken_ = true;
  } else if (document.IsMap()) {
    section.load(document);
  } else if (document.IsDefined() && !document.IsNull()) {
    diagnostics.error(document.Mark(), "",
                      "expected a mapping of settings at the top level, got " + std::string(kind_of(document)));
    section.broken_ = true;
  }
  return section;
}

Section::Section(Section&& other) noexcept
    : diagnostics_(other.diagnostics_),
      path_(std::move(other.path_)),
      mark_(other.mark_),
      entries_(std::move(other.entries_)),
      index_(std::move(other.index_)),
      asked_(std::move(other.asked_)),
      refusal_(std::move(other.refusal_)),
      broken_(other.broken_),
      report_unread_(other.report_unread_) {
  other.report_unread_ = false;
}

Section::~Section() {
  if (!report_unread_) return;
  for (const Entry& entry : entries_) {
    if (entry.taken) continue;
    std::string message = "unknown key '" + entry.key + "'";
    if (auto suggestion = closest_known(entry.key)) message += " (did you mean '" + *suggestion + "'?)";
    diagnostics_->error(entry.key_mark, child_path(entry.key), message);
  }
}

std::string Section::child_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool Section::has(std::string_view key) const { return index_.find(key) != index_.end(); }

std::optional<Field> Section::take(std::string_view key) {
  asked_.emplace_back(key);
  const auto found = index_.find(key);
  if (found == index_.end()) return std::nullopt;
  Entry& entry = entries_[found->second];
  entry.taken = true;
  if (refusal_) {
    diagnostics_->error(entry.key_mark, child_path(key), *refusal_);
    return std::nullopt;
  }
  // A key with nothing after it has no position of its own worth showing.
  const YAML::Mark mark = entry.value.IsNull() ? entry.key_mark : entry.value.Mark();
  diagnostics_->remember(child_path(key), mark);
  // Checked here for every kind of value, scalars again in scalar() for the
  // items of a list.
  if (!is_accepted_tag(entry.value)) {
    diagnostics_->error(mark, child_path(key), unsupported_tag(entry.value));
    return std::nullopt;
  }
  return Field{entry.value, child_path(key), mark, diagnostics_};
}

Section Section::section(std::string_view key) {
  if (auto field = take(key)) return Section(*field);
  Section empty(diagnostics_, child_path(key), mark_);
  empty.refusal_ = refusal_;
  empty.broken_ = broken_;
  return empty;
}

void Section::error_at(std::string_view key, std::string_view message) {
  diagnostics_->error(diagnostics_->find(child_path(key)).value_or(mark_), child_path(key), message);
}

void Section::load(const YAML::Node& map) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    // A copy: the iterator hands out a temporary proxy, so a reference to
    // it->first would dangle (g++ -O2 warns, rightly).
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      diagnostics_->error(key.Mark(), path_, "expected a plain key, got " + std::string(kind_of(key)));
      continue;
    }
    // Refused here, before any message quotes the key.
    if (!is_accepted_tag(key)) {
      diagnostics_->error(key.Mark(), path_, "a key must not have a YAML tag (found " + written_tag(key.Tag()) + ")");
      continue;
    }
    if (auto problem = text_problem(key.Scalar())) {
      diagnostics_->error(key.Mark(), path_, "a key " + *problem);
      continue;
    }
    // An index, not a search of the entries so far: a file of many keys
    // must not cost their square.
    const auto [first, added] = index_.try_emplace(key.Scalar(), entries_.size());
    if (!added) {
      const YAML::Mark& first_mark = entries_[first->second].key_mark;
      diagnostics_->error(
          key.Mark(), child_path(key.Scalar()),
          "duplicate key '" + key.Scalar() + "' (first at line " + std::to_string(first_mark.line + 1) + ")");
      continue;
    }
    entries_.push_back({key.Scalar(), key.Mark(), it->second});
  }
}

void Section::missing(std::string_view key) {
  if (broken_ || refusal_) return;  // the cause has been reported already
  diagnostics_->error(mark_, child_path(key), "required but missing");
}

std::optional<std::string> Section::closest_known(const std::string& key) const {
  std::optional<std::string> best;
  std::size_t best_distance = 3;  // two edits at most, or the hint misleads
  for (const std::string& known : asked_) {
    // The distance is at least the difference in length: a key that cannot
    // come close enough costs nothing, so many (or long) unknown keys stay
    // cheap.
    const std::size_t length_difference =
        key.size() > known.size() ? key.size() - known.size() : known.size() - key.size();
    if (length_difference >= best_distance) continue;
    const std::size_t distance = edit_distance(key, known);
    if (distance < best_distance && distance < known.size()) {
      best = known;
      best_distance = distance;
    }
  }
  return best;
}

void read_secret_file(Section& section, std::string_view key, std::string& file, std::string& secret,
                      const fs::path& base_dir) {
  auto field = section.take(key);
  if (!field) return;
  auto path = parse_optional_path(*field, base_dir);
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

}  // namespace dirproxy::config
