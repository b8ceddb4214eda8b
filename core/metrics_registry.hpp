// The metrics of one daemon, by name, and their rendering in Prometheus' text
// exposition format (version 0.0.4), which any front end can serve: the
// metrics listener (metrics.listen) does, and so can a later web front end.
//
// A metric is a family: a name, a help text, label names, and one series
// (a Counter, Gauge or Histogram of metrics.hpp) per combination of label
// values, made at its first use. Finding a series takes a lock, so code that
// counts often finds its series once and keeps the reference; references stay
// valid as long as the registry lives. Values known only at the moment of a
// scrape (rows in the state database, a connection pool's state) are set by
// scrape hooks, which render() runs first.
//
// Names and label names are checked when a family is made; a bad one is a
// bug in the daemon and throws std::logic_error. Label values are escaped as
// the format requires.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/metrics.hpp"

namespace dirproxy::metrics {

enum class MetricType { counter, gauge, histogram };

// What every family has, whatever its instruments.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type, std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Appends the family's HELP and TYPE lines and its series to `out`.
  void render(std::string& out) const;

 protected:
  // Appends the sample lines of every series, under the family's lock.
  virtual void render_series(std::string& out) const = 0;

  mutable std::mutex mutex_;

 private:
  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};

template <typename Metric>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
         std::vector<double> upper_bounds = {})
      : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)),
        upper_bounds_(std::move(upper_bounds)) {}

  // The series with these label values (one per label name, in order), made
  // at its first use. std::logic_error when the number of values is wrong.
  Metric& with(std::initializer_list<std::string_view> label_values) {
    return with(std::span<const std::string_view>(label_values.begin(), label_values.size()));
  }
  Metric& with(std::span<const std::string_view> label_values);

  // Forgets every series, for a family that a scrape hook fills anew at each
  // scrape (so that a directory removed by a reload leaves no stale series).
  // References to its series become invalid: only the hook may hold any.
  void clear() {
    std::lock_guard lock(mutex_);
    series_.clear();
  }

 private:
  void render_series(std::string& out) const override;

  const std::vector<double> upper_bounds_;                                           // histograms only
  std::map<std::vector<std::string>, std::unique_ptr<Metric>, std::less<>> series_;  // guarded by mutex_
};

class Registry final {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The family named `name`, made at the first call. A later call with the
  // same name returns it and must ask for the same type and label names
  // (std::logic_error otherwise).
  Family<Counter>& counter(const std::string& name, const std::string& help, std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names = {},
                               std::span<const double> upper_bounds = kLatencyBuckets);

  // A scrape hook registered by on_scrape(): unregistered when destroyed,
  // which must happen before the registry is destroyed.
  class Hook final {
   public:
    Hook() = default;
    Hook(Hook&& other) noexcept;
    Hook& operator=(Hook&& other) noexcept;
    ~Hook();

   private:
    friend class Registry;
    Hook(Registry* registry, std::uint64_t id) : registry_(registry), id_(id) {}
    Registry* registry_ = nullptr;
    std::uint64_t id_ = 0;
  };

  // Runs `update` at every scrape, before anything is rendered, to set the
  // values known only then. It may block (a query of the state database), so
  // render() may too.
  [[nodiscard]] Hook on_scrape(std::function<void()> update);

  // Every family, sorted by name, after the scrape hooks have run. Scrapes
  // are one at a time. Blocks as long as the hooks do: not on an io thread.
  std::string render();

  // The Content-Type of render()'s text.
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  template <typename Metric>
  Family<Metric>& family(const std::string& name, const std::string& help, MetricType type,
                         std::vector<std::string> label_names, std::vector<double> upper_bounds);

  std::mutex scrape_mutex_;  // one scrape at a time: the hooks' clear() and set() must not interleave
  std::mutex mutex_;         // guards the two maps
  std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_;
  std::map<std::uint64_t, std::function<void()>> hooks_;
  std::uint64_t next_hook_ = 1;
};

// `value` as the exposition format quotes a label value: backslash, double
// quote and line feed escaped.
std::string escape_label_value(std::string_view value);

}  // namespace dirproxy::metrics
