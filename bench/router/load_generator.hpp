#pragma once
// A closed-loop HTTP/1.1 load generator: N keep-alive connections on 127.0.0.1, each sending one
// POST after another for a warm-up and then a measured window, recording every request's latency.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace waddle::bench {

struct LoadOptions {
  std::uint16_t port = 0;
  std::string target = "/";
  std::string api_key;  // sent as X-API-Key when not empty
  int connections = 16;
  int threads = 1;
  std::chrono::milliseconds warmup{1000};
  std::chrono::milliseconds duration{5000};
  // The body of request `sequence` on connection `connection`; called on that connection's
  // strand, so it may keep per-connection state keyed by `connection`.
  std::function<std::string(int connection, std::uint64_t sequence)> body;
  // A 200 answer whose body lacks one of these texts counts as an error.
  std::vector<std::string> expect;
};

struct LoadResult {
  std::uint64_t requests = 0;  // answered correctly within the measured window
  std::uint64_t answered = 0;  // answered correctly over the whole run, warm-up included
  std::uint64_t errors = 0;    // wrong status, missing `expect`, I/O failures (whole run)
  std::string first_error;
  double seconds = 0;  // the measured window
  double events_per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double mean_ms = 0;
  double max_ms = 0;
};

// Blocks for warmup + duration (plus connection set-up). Never throws for what the server does:
// failures are counted in `errors`.
LoadResult run_load(const LoadOptions& options);

// Percentile p (0..1) of samples (nanoseconds), in milliseconds; 0 when empty. Reorders samples.
double percentile_ms(std::vector<std::uint64_t>& samples, double p);

}  // namespace waddle::bench
