// metrics::Registry: families by name, series by label values, and the text
// exposition format exactly as Prometheus reads it.
#include "core/metrics_registry.hpp"

#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace dirproxy::metrics {
namespace {

using namespace std::chrono_literals;

TEST(MetricsRegistry, RendersACounterWithItsHelpTypeAndLabels) {
  Registry registry;
  auto& requests = registry.counter("test_requests_total", "Requests answered.", {"operation", "result"});
  requests.with({"get_user", "ok"}).increment(3);
  requests.with({"get_user", "not_found"}).increment();

  EXPECT_EQ(registry.render(),
            "# HELP test_requests_total Requests answered.\n"
            "# TYPE test_requests_total counter\n"
            "test_requests_total{operation=\"get_user\",result=\"not_found\"} 1\n"
            "test_requests_total{operation=\"get_user\",result=\"ok\"} 3\n");
}

TEST(MetricsRegistry, RendersASeriesWithoutLabelsWithoutBraces) {
  Registry registry;
  registry.counter("test_lockouts_total", "Locks begun.").with({}).increment();

  EXPECT_EQ(registry.render(),
            "# HELP test_lockouts_total Locks begun.\n"
            "# TYPE test_lockouts_total counter\n"
            "test_lockouts_total 1\n");
}

TEST(MetricsRegistry, EscapesLabelValuesAndHelpAsTheFormatRequires) {
  Registry registry;
  registry.gauge("test_value", "A \\ help\nline.", {"name"}).with({"a\\b\"c\nd"}).set(1);

  EXPECT_EQ(registry.render(),
            "# HELP test_value A \\\\ help\\nline.\n"
            "# TYPE test_value gauge\n"
            "test_value{name=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(MetricsRegistry, RendersGaugesAsFloats) {
  Registry registry;
  auto& gauge = registry.gauge("test_ratio", "A ratio.", {"kind"});
  gauge.with({"half"}).set(0.5);
  gauge.with({"whole"}).add(2);
  gauge.with({"whole"}).add(-1);

  EXPECT_EQ(registry.render(),
            "# HELP test_ratio A ratio.\n"
            "# TYPE test_ratio gauge\n"
            "test_ratio{kind=\"half\"} 0.5\n"
            "test_ratio{kind=\"whole\"} 1\n");
}

TEST(MetricsRegistry, RendersAHistogramCumulativelyWithSumAndCount) {
  Registry registry;
  const std::vector<double> bounds = {0.001, 0.01};
  auto& latency = registry.histogram("test_duration_seconds", "How long.", {"operation"}, bounds);
  auto& histogram = latency.with({"ping"});
  histogram.observe(500us);
  histogram.observe(1ms);  // a bound is inclusive
  histogram.observe(5ms);
  histogram.observe(2s);

  EXPECT_EQ(registry.render(),
            "# HELP test_duration_seconds How long.\n"
            "# TYPE test_duration_seconds histogram\n"
            "test_duration_seconds_bucket{operation=\"ping\",le=\"0.001\"} 2\n"
            "test_duration_seconds_bucket{operation=\"ping\",le=\"0.01\"} 3\n"
            "test_duration_seconds_bucket{operation=\"ping\",le=\"+Inf\"} 4\n"
            "test_duration_seconds_sum{operation=\"ping\"} 2.0065\n"
            "test_duration_seconds_count{operation=\"ping\"} 4\n");
}

TEST(MetricsRegistry, AHistogramWithoutLabelsHasOnlyLeOnItsBuckets) {
  Registry registry;
  const std::vector<double> bounds = {1};
  registry.histogram("test_wait_seconds", "Waits.", {}, bounds).with({}).observe(-5ms);

  EXPECT_EQ(registry.render(),
            "# HELP test_wait_seconds Waits.\n"
            "# TYPE test_wait_seconds histogram\n"
            "test_wait_seconds_bucket{le=\"1\"} 1\n"
            "test_wait_seconds_bucket{le=\"+Inf\"} 1\n"
            "test_wait_seconds_sum 0\n"
            "test_wait_seconds_count 1\n");
}

TEST(MetricsRegistry, RendersFamiliesSortedByName) {
  Registry registry;
  registry.gauge("test_b", "B.").with({}).set(2);
  registry.gauge("test_a", "A.").with({}).set(1);

  EXPECT_EQ(registry.render(),
            "# HELP test_a A.\n# TYPE test_a gauge\ntest_a 1\n"
            "# HELP test_b B.\n# TYPE test_b gauge\ntest_b 2\n");
}

TEST(MetricsRegistry, TheSameNameGivesTheSameFamilyAndSeries) {
  Registry registry;
  auto& first = registry.counter("test_total", "Help.", {"kind"});
  auto& again = registry.counter("test_total", "Help.", {"kind"});
  first.with({"x"}).increment();
  again.with({"x"}).increment();

  EXPECT_EQ(&first, &again);
  EXPECT_EQ(&first.with({"x"}), &again.with({"x"}));
  EXPECT_EQ(first.with({"x"}).value(), 2u);
}

TEST(MetricsRegistry, TheSameNameWithAnotherTypeOrOtherLabelsIsABug) {
  Registry registry;
  registry.counter("test_total", "Help.", {"kind"});

  EXPECT_THROW(registry.gauge("test_total", "Help.", {"kind"}), std::logic_error);
  EXPECT_THROW(registry.counter("test_total", "Help.", {"other"}), std::logic_error);
}

TEST(MetricsRegistry, RefusesNamesTheDataModelDoesNotAllow) {
  Registry registry;

  EXPECT_THROW(registry.counter("9lives_total", "Help."), std::logic_error);
  EXPECT_THROW(registry.counter("has-dash_total", "Help."), std::logic_error);
  EXPECT_THROW(registry.counter("test_total", "Help.", {"__reserved"}), std::logic_error);
  EXPECT_THROW(registry.counter("test_total", "Help.", {"bad-label"}), std::logic_error);
  EXPECT_THROW(registry.histogram("test_seconds", "Help.", {"le"}), std::logic_error);
}

TEST(MetricsRegistry, ASeriesNeedsOneValuePerLabel) {
  Registry registry;
  auto& family = registry.counter("test_total", "Help.", {"a", "b"});

  EXPECT_THROW(family.with({"only one"}), std::logic_error);
}

TEST(MetricsRegistry, ScrapeHooksSetValuesBeforeTheRendering) {
  Registry registry;
  auto& queued = registry.gauge("test_queued", "Queued.");
  double rows = 7;
  auto hook = registry.on_scrape([&] { queued.with({}).set(rows); });

  EXPECT_NE(registry.render().find("test_queued 7\n"), std::string::npos);
  rows = 8;
  EXPECT_NE(registry.render().find("test_queued 8\n"), std::string::npos);
}

TEST(MetricsRegistry, AHookNoLongerRunsOnceDestroyed) {
  Registry registry;
  int runs = 0;
  {
    auto hook = registry.on_scrape([&] { ++runs; });
    (void)registry.render();
  }
  (void)registry.render();

  EXPECT_EQ(runs, 1);
}

TEST(MetricsRegistry, ClearLeavesNoStaleSeries) {
  Registry registry;
  auto& up = registry.gauge("test_up", "Up.", {"directory"});
  up.with({"removed"}).set(1);
  auto hook = registry.on_scrape([&] {
    up.clear();
    up.with({"kept"}).set(1);
  });

  EXPECT_EQ(registry.render(), "# HELP test_up Up.\n# TYPE test_up gauge\ntest_up{directory=\"kept\"} 1\n");
}

TEST(MetricsRegistry, CountsEveryIncrementFromManyThreads) {
  Registry registry;
  auto& counter = registry.counter("test_total", "Help.").with({});
  auto& histogram = registry.histogram("test_seconds", "Help.").with({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        counter.increment();
        histogram.observe(1us);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(counter.value(), 40000u);
  EXPECT_EQ(histogram.snapshot().cumulative_counts.back(), 40000u);
}

}  // namespace
}  // namespace dirproxy::metrics
