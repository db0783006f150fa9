#include "router/load_generator.hpp"

#include <algorithm>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace waddle::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

struct Connection {
  std::vector<std::uint64_t> latencies;  // ns, requests inside the measured window
  std::uint64_t errors = 0;
  std::uint64_t answered = 0;
  std::string first_error;

  void fail(std::string what) {
    if (errors++ == 0) first_error = std::move(what);
  }
};

asio::awaitable<void> drive(const LoadOptions& options, int index, Connection& state,
                            Clock::time_point measure_from, Clock::time_point until) {
  const auto executor = co_await asio::this_coro::executor;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), options.port);
  std::unique_ptr<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  asio::steady_timer backoff(executor);
  http::request<http::string_body> request{http::verb::post, options.target, 11};
  request.set(http::field::host, "127.0.0.1");
  request.set(http::field::content_type, "application/json");
  if (!options.api_key.empty()) request.set("X-API-Key", options.api_key);
  request.keep_alive(true);
  for (std::uint64_t sequence = 0;; ++sequence) {
    if (Clock::now() >= until) break;
    if (!stream) {
      stream = std::make_unique<beast::tcp_stream>(executor);
      stream->expires_after(std::chrono::seconds(10));
      auto [ec] = co_await stream->async_connect(endpoint, kTuple);
      if (ec) {
        state.fail("connect: " + ec.message());
        stream.reset();
        backoff.expires_after(std::chrono::milliseconds(20));  // no busy loop on a dead server
        co_await backoff.async_wait(kTuple);
        continue;
      }
      stream->socket().set_option(tcp::no_delay(true));
      buffer.clear();
    }
    request.body() = options.body(index, sequence);
    request.prepare_payload();
    const auto start = Clock::now();
    stream->expires_after(std::chrono::seconds(30));
    auto [wec, wn] = co_await http::async_write(*stream, request, kTuple);
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 22);
    beast::error_code ec = wec;
    if (!ec) {
      auto [rec, rn] = co_await http::async_read(*stream, buffer, parser, kTuple);
      ec = rec;
    }
    const auto done = Clock::now();
    if (ec) {
      state.fail("HTTP exchange: " + ec.message());
      stream.reset();
      continue;
    }
    const auto& response = parser.get();
    const std::string* missing = nullptr;
    for (const auto& text : options.expect) {
      if (response.body().find(text) == std::string::npos) missing = &text;
    }
    if (response.result_int() != 200) {
      state.fail("HTTP " + std::to_string(response.result_int()) + ": " + response.body());
    } else if (missing) {
      state.fail("answer without '" + *missing + "': " + response.body());
    } else {
      ++state.answered;
      if (start >= measure_from && done <= until) {
        state.latencies.push_back(
            std::chrono::duration_cast<std::chrono::nanoseconds>(done - start).count());
      }
    }
    if (!response.keep_alive()) stream.reset();
  }
  if (stream) {
    beast::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
  }
}

}  // namespace

double percentile_ms(std::vector<std::uint64_t>& samples, double p) {
  if (samples.empty()) return 0;
  auto index = static_cast<std::size_t>(p * static_cast<double>(samples.size()));
  index = std::min(index, samples.size() - 1);
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(index),
                   samples.end());
  return static_cast<double>(samples[index]) / 1e6;
}

LoadResult run_load(const LoadOptions& options) {
  asio::io_context io(std::max(1, options.threads));
  std::vector<Connection> connections(static_cast<std::size_t>(std::max(1, options.connections)));
  const auto measure_from = Clock::now() + options.warmup;
  const auto until = measure_from + options.duration;
  for (std::size_t i = 0; i < connections.size(); ++i) {
    asio::co_spawn(asio::make_strand(io),
                   drive(options, static_cast<int>(i), connections[i], measure_from, until),
                   [&connection = connections[i]](std::exception_ptr error) {
                     if (!error) return;
                     try {
                       std::rethrow_exception(error);
                     } catch (const std::exception& e) {
                       connection.fail(std::string("connection stopped: ") + e.what());
                     }
                   });
  }
  std::vector<std::thread> threads;
  for (int i = 1; i < std::max(1, options.threads); ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& thread : threads) thread.join();

  LoadResult result;
  std::vector<std::uint64_t> all;
  for (auto& connection : connections) {
    all.insert(all.end(), connection.latencies.begin(), connection.latencies.end());
    if (connection.errors && result.errors == 0) result.first_error = connection.first_error;
    result.errors += connection.errors;
    result.answered += connection.answered;
  }
  result.requests = all.size();
  result.seconds = std::chrono::duration<double>(options.duration).count();
  result.events_per_second =
      result.seconds > 0 ? static_cast<double>(all.size()) / result.seconds : 0;
  if (!all.empty()) {
    double sum = 0;
    std::uint64_t max = 0;
    for (auto v : all) {
      sum += static_cast<double>(v);
      max = std::max(max, v);
    }
    result.mean_ms = sum / static_cast<double>(all.size()) / 1e6;
    result.max_ms = static_cast<double>(max) / 1e6;
  }
  result.p50_ms = percentile_ms(all, 0.50);
  result.p99_ms = percentile_ms(all, 0.99);
  return result;
}

}  // namespace waddle::bench
