// dirproxy-argon2: the Argon2id reference for the benchmark.
//
//   dirproxy-argon2 hash   --password P [--opslimit N] [--memlimit BYTES]
//     prints one crypto_pwhash_str hash of P, as dirproxyd stores it, so the
//     bench script can give thousands of internal users that hash without
//     computing thousands of them;
//   dirproxy-argon2 verify --password P [--opslimit N] [--memlimit BYTES] [--rounds R]
//                          [--threads T]
//     times R verifies (one thread, one after the other) and prints the
//     median and mean in milliseconds as JSON: the "one Argon2id verify" of
//     the target "authenticate of internal users >= 90% of cores / verify".
//     With --threads T it then runs T threads of R verifies each at once
//     and adds the verifies per second they reached together: what the
//     machine can really give right now, when it is shared.
//
// The defaults are libsodium's interactive limits, which are dirproxyd's
// defaults (accounts.password_hash).
#include <sodium.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  std::string password;
  std::uint64_t opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
  std::size_t memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
  unsigned rounds = 20;
  unsigned threads = 0;

  CLI::App app{"dirproxy-argon2: Argon2id hashes and verify timing for the benchmark"};
  app.require_subcommand(1);
  auto* hash = app.add_subcommand("hash", "print a hash of the password");
  auto* verify = app.add_subcommand("verify", "time verifies of the password's hash");
  for (auto* command : {hash, verify}) {
    command->add_option("--password", password, "the password")->required();
    command->add_option("--opslimit", opslimit, "Argon2id passes (default: interactive, 2)");
    command->add_option("--memlimit", memlimit, "Argon2id memory in bytes (default: interactive, 64 MiB)");
  }
  verify->add_option("--rounds", rounds, "verifies to time (default 20)")->check(CLI::Range(1u, 10000u));
  verify->add_option("--threads", threads, "also time this many threads verifying at once (default: no)")
      ->check(CLI::Range(0u, 1024u));
  CLI11_PARSE(app, argc, argv);

  if (sodium_init() < 0) {
    std::cerr << "dirproxy-argon2: libsodium could not be initialised\n";
    return 1;
  }
  std::array<char, crypto_pwhash_STRBYTES> encoded{};
  if (crypto_pwhash_str_alg(encoded.data(), password.data(), password.size(), opslimit, memlimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    std::cerr << "dirproxy-argon2: hashing failed (out of memory or invalid limits)\n";
    return 1;
  }
  if (*hash) {
    std::cout << encoded.data() << "\n";
    return 0;
  }

  std::vector<double> times_ms;
  for (unsigned round = 0; round < rounds; ++round) {
    const auto started = std::chrono::steady_clock::now();
    const int rc = crypto_pwhash_str_verify(encoded.data(), password.data(), password.size());
    const auto elapsed = std::chrono::steady_clock::now() - started;
    if (rc != 0) {
      std::cerr << "dirproxy-argon2: a verify of the right password failed\n";
      return 1;
    }
    times_ms.push_back(std::chrono::duration<double, std::milli>(elapsed).count());
  }
  std::vector<double> sorted = times_ms;
  std::sort(sorted.begin(), sorted.end());
  double sum = 0;
  for (double t : times_ms) sum += t;
  nlohmann::json out = {{"opslimit", opslimit},
                        {"memlimit", memlimit},
                        {"rounds", rounds},
                        {"median_ms", sorted[sorted.size() / 2]},
                        {"mean_ms", sum / static_cast<double>(rounds)},
                        {"min_ms", sorted.front()}};
  if (threads > 0) {
    bool failed = false;
    const auto started = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    std::vector<int> results(threads, 0);
    for (unsigned t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        for (unsigned round = 0; round < rounds; ++round) {
          results[t] |= crypto_pwhash_str_verify(encoded.data(), password.data(), password.size());
        }
      });
    }
    for (auto& worker : workers) worker.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    for (int result : results) failed = failed || result != 0;
    if (failed) {
      std::cerr << "dirproxy-argon2: a verify of the right password failed\n";
      return 1;
    }
    out["threads"] = threads;
    out["parallel_verifies_per_s"] = static_cast<double>(threads) * rounds / seconds;
  }
  std::cout << out.dump() << "\n";
  return 0;
}
