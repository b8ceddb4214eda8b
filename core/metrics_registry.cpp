#include "core/metrics_registry.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

namespace dirproxy::metrics {
namespace {

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

// [a-zA-Z_:][a-zA-Z0-9_:]* (the data model's metric names).
bool is_metric_name(std::string_view name) {
  if (name.empty() || !(is_name_start(name.front()) || name.front() == ':')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return is_name_char(c) || c == ':'; });
}

// [a-zA-Z_][a-zA-Z0-9_]*, and not __*, which Prometheus keeps for itself.
bool is_label_name(std::string_view name) {
  if (name.empty() || !is_name_start(name.front()) || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(), is_name_char);
}

std::string_view type_name(MetricType type) {
  switch (type) {
    case MetricType::counter: return "counter";
    case MetricType::gauge: return "gauge";
    case MetricType::histogram: return "histogram";
  }
  return "untyped";
}

// HELP text escapes backslash and line feed only.
std::string escape_help(std::string_view help) {
  std::string escaped;
  escaped.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

// A float as the format spells it: the shortest text that reads back the
// same, and +Inf, -Inf, NaN.
std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

// {name="value",...} of one series, with `extra` (le="…") appended; nothing
// when there are no labels at all.
void append_labels(std::string& out, const std::vector<std::string>& names, const std::vector<std::string>& values,
                   std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

void append_sample(std::string& out, std::string_view name, const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, std::string_view value,
                   std::string_view extra_name = {}, std::string_view extra_value = {}) {
  out += name;
  append_labels(out, label_names, label_values, extra_name, extra_value);
  out += ' ';
  out += value;
  out += '\n';
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': escaped += "\\\\"; break;
      case '"': escaped += "\\\""; break;
      case '\n': escaped += "\\n"; break;
      default: escaped += c;
    }
  }
  return escaped;
}

// ---- FamilyBase ----

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {
  if (!is_metric_name(name_)) throw std::logic_error("not a metric name: '" + name_ + "'");
  for (const auto& label : label_names_) {
    if (!is_label_name(label) || (type_ == MetricType::histogram && label == "le")) {
      throw std::logic_error("metric " + name_ + ": not a label name: '" + label + "'");
    }
  }
}

void FamilyBase::render(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  out += escape_help(help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += type_name(type_);
  out += '\n';
  std::lock_guard lock(mutex_);
  render_series(out);
}

// ---- Family ----

template <typename Metric>
Metric& Family<Metric>::with(std::span<const std::string_view> label_values) {
  if (label_values.size() != label_names().size()) {
    throw std::logic_error("metric " + name() + ": " + std::to_string(label_values.size()) + " label values for " +
                           std::to_string(label_names().size()) + " labels");
  }
  std::vector<std::string> key(label_values.begin(), label_values.end());
  std::lock_guard lock(mutex_);
  auto found = series_.find(key);
  if (found != series_.end()) return *found->second;
  std::unique_ptr<Metric> made;
  if constexpr (std::is_same_v<Metric, Histogram>) {
    made = std::make_unique<Histogram>(upper_bounds_);
  } else {
    made = std::make_unique<Metric>();
  }
  return *series_.emplace(std::move(key), std::move(made)).first->second;
}

template <>
void Family<Counter>::render_series(std::string& out) const {
  for (const auto& [values, counter] : series_) {
    append_sample(out, name(), label_names(), values, std::to_string(counter->value()));
  }
}

template <>
void Family<Gauge>::render_series(std::string& out) const {
  for (const auto& [values, gauge] : series_) {
    append_sample(out, name(), label_names(), values, format_value(gauge->value()));
  }
}

template <>
void Family<Histogram>::render_series(std::string& out) const {
  const std::string bucket = name() + "_bucket";
  for (const auto& [values, histogram] : series_) {
    const Histogram::Snapshot snapshot = histogram->snapshot();
    const auto& bounds = histogram->upper_bounds();
    for (std::size_t i = 0; i < bounds.size(); ++i) {
      append_sample(out, bucket, label_names(), values, std::to_string(snapshot.cumulative_counts[i]), "le",
                    format_value(bounds[i]));
    }
    const std::string count = std::to_string(snapshot.cumulative_counts.back());
    append_sample(out, bucket, label_names(), values, count, "le", "+Inf");
    append_sample(out, name() + "_sum", label_names(), values, format_value(snapshot.sum_seconds));
    append_sample(out, name() + "_count", label_names(), values, count);
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---- Registry ----

template <typename Metric>
Family<Metric>& Registry::family(const std::string& name, const std::string& help, MetricType type,
                                 std::vector<std::string> label_names, std::vector<double> upper_bounds) {
  std::lock_guard lock(mutex_);
  auto found = families_.find(name);
  if (found != families_.end()) {
    auto* existing = dynamic_cast<Family<Metric>*>(found->second.get());
    if (existing == nullptr || existing->type() != type || existing->label_names() != label_names) {
      throw std::logic_error("metric " + name + " is already registered with another type or other labels");
    }
    return *existing;
  }
  auto made = std::make_unique<Family<Metric>>(name, help, type, std::move(label_names), std::move(upper_bounds));
  auto& family = *made;
  families_.emplace(name, std::move(made));
  return family;
}

Family<Counter>& Registry::counter(const std::string& name, const std::string& help,
                                   std::vector<std::string> label_names) {
  return family<Counter>(name, help, MetricType::counter, std::move(label_names), {});
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names) {
  return family<Gauge>(name, help, MetricType::gauge, std::move(label_names), {});
}

Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       std::vector<std::string> label_names, std::span<const double> upper_bounds) {
  if (!std::is_sorted(upper_bounds.begin(), upper_bounds.end()) ||
      std::adjacent_find(upper_bounds.begin(), upper_bounds.end()) != upper_bounds.end()) {
    throw std::logic_error("metric " + name + ": bucket bounds must ascend");
  }
  return family<Histogram>(name, help, MetricType::histogram, std::move(label_names),
                           std::vector<double>(upper_bounds.begin(), upper_bounds.end()));
}

Registry::Hook::Hook(Hook&& other) noexcept
    : registry_(std::exchange(other.registry_, nullptr)), id_(std::exchange(other.id_, 0)) {}

Registry::Hook& Registry::Hook::operator=(Hook&& other) noexcept {
  if (this != &other) {
    Hook gone(std::move(*this));
    registry_ = std::exchange(other.registry_, nullptr);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

Registry::Hook::~Hook() {
  if (registry_ == nullptr) return;
  // Not while a scrape runs: it may be running this very hook.
  std::lock_guard scrape(registry_->scrape_mutex_);
  std::lock_guard lock(registry_->mutex_);
  registry_->hooks_.erase(id_);
}

Registry::Hook Registry::on_scrape(std::function<void()> update) {
  std::lock_guard lock(mutex_);
  const std::uint64_t id = next_hook_++;
  hooks_.emplace(id, std::move(update));
  return Hook(this, id);
}

std::string Registry::render() {
  // Held while the hooks run, so that no hook is unregistered (and its
  // captures destroyed) meanwhile.
  std::lock_guard scrape(scrape_mutex_);
  // The hooks run without mutex_: they make and find families.
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, hook] : hooks_) hooks.push_back(hook);
  }
  for (const auto& hook : hooks) hook();
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, family] : families_) family->render(out);
  return out;
}

}  // namespace dirproxy::metrics
