#include "router/executor.hpp"

#include <algorithm>
#include <ctime>
#include <exception>
#include <initializer_list>
#include <numeric>
#include <string_view>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "crypto/encoding.hpp"
#include "crypto/module_signature.hpp"
#include "crypto/sigv4.hpp"
#include "error/error.hpp"
#include "model/field_reader.hpp"

namespace waddle::router {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kLambdaPathPrefix = "/2015-03-31/functions/";
constexpr std::string_view kOpenWhiskNamespaces = "/api/v1/namespaces/";

bool is_one_of(std::string_view value, std::initializer_list<std::string_view> choices) {
  return std::find(choices.begin(), choices.end(), value) != choices.end();
}

std::string unix_seconds(std::chrono::system_clock::time_point now) {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
}

// YYYYMMDD'T'HHMMSS'Z', the form SigV4 signs.
std::string amz_date(std::chrono::system_clock::time_point now) {
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[20];
  std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &tm);
  return buffer;
}

struct Endpoint {
  std::string scheme_authority;  // "https://lambda.eu-west-1.amazonaws.com"
  std::string authority;         // "lambda.eu-west-1.amazonaws.com", with ":port" when given
};

Endpoint split_endpoint(std::string_view url, std::string_view what) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos ||
      !is_one_of(url.substr(0, scheme_end), {"http", "https"})) {
    throw Error(Errc::invalid_argument,
                std::string(what) + " '" + std::string(url) + "' is not an http(s) URL");
  }
  const auto authority_begin = scheme_end + 3;
  const auto authority_end = url.find_first_of("/?#", authority_begin);
  Endpoint endpoint;
  endpoint.authority = std::string(url.substr(authority_begin, authority_end - authority_begin));
  if (endpoint.authority.empty()) {
    throw Error(Errc::invalid_argument,
                std::string(what) + " '" + std::string(url) + "' has no host");
  }
  endpoint.scheme_authority = std::string(url.substr(0, authority_begin)) + endpoint.authority;
  return endpoint;
}

// "arn:aws:lambda:<region>:<account>:function:<name>[:qualifier]" → region, else empty.
std::string region_from_arn(std::string_view function) {
  if (function.substr(0, 4) != "arn:") return {};
  std::size_t pos = 0;
  for (int colon = 0; colon < 3; ++colon) {
    pos = function.find(':', pos);
    if (pos == std::string_view::npos) return {};
    ++pos;
  }
  const auto end = function.find(':', pos);
  if (end == std::string_view::npos) return {};
  return std::string(function.substr(pos, end - pos));
}

net::ClientRequest signed_module_post(const ModuleTarget& target, std::string body,
                                      std::chrono::system_clock::time_point now) {
  if (target.secret.empty()) {
    throw Error(Errc::invalid_argument, "no signing secret is configured");
  }
  split_endpoint(target.url, "module URL");
  net::ClientRequest request;
  request.method = target.method.empty() ? "POST" : target.method;
  request.url = target.url;
  const std::string timestamp = unix_seconds(now);
  request.headers = {
      {"Content-Type", "application/json"},
      {"Accept", "application/json"},
      {std::string(crypto::kModuleTimestampHeader), timestamp},
      {std::string(crypto::kModuleSignatureHeader),
       crypto::module_signature(target.secret, timestamp, body)},
  };
  request.body = std::move(body);
  return request;
}

net::ClientRequest lambda_invoke(const ModuleTarget& target, std::string body,
                                 std::chrono::system_clock::time_point now,
                                 const std::string& endpoint_override) {
  if (target.url.empty()) {
    throw Error(Errc::invalid_argument, "no Lambda function name or ARN is configured");
  }
  std::string region = target.aws_region.empty() ? region_from_arn(target.url) : target.aws_region;
  if (region.empty()) {
    throw Error(Errc::invalid_argument,
                "no AWS region is configured and the function is not given as an ARN");
  }
  if (target.aws_access_key_id.empty() || target.aws_secret_access_key.empty()) {
    throw Error(Errc::invalid_argument, "no AWS access key is configured");
  }
  const Endpoint endpoint = split_endpoint(
      endpoint_override.empty() ? "https://lambda." + region + ".amazonaws.com" : endpoint_override,
      "Lambda endpoint");
  // ':' in an ARN is percent-encoded on the request line; sigv4_sign encodes the path once more.
  const std::string path =
      std::string(kLambdaPathPrefix) + crypto::sigv4_uri_encode(target.url, false) + "/invocations";

  crypto::SigV4Request to_sign;
  to_sign.method = "POST";
  to_sign.host = endpoint.authority;
  to_sign.path = path;
  to_sign.headers = {
      {"Host", endpoint.authority},
      {"Content-Type", "application/json"},
      {"X-Amz-Invocation-Type", "RequestResponse"},
  };
  to_sign.body = body;
  const crypto::SigV4Credentials credentials{target.aws_access_key_id, target.aws_secret_access_key,
                                             target.aws_session_token};
  const auto signature = crypto::sigv4_sign(to_sign, credentials, region, "lambda", amz_date(now));

  net::ClientRequest request;
  request.method = "POST";
  request.url = endpoint.scheme_authority + path;
  request.headers = to_sign.headers;
  request.headers.insert(request.headers.end(), signature.begin(), signature.end());
  request.body = std::move(body);
  return request;
}

net::ClientRequest openwhisk_invoke(const ModuleTarget& target, std::string body) {
  if (target.openwhisk_auth.find(':') == std::string::npos) {
    throw Error(Errc::invalid_argument, "the OpenWhisk auth must be \"user:password\"");
  }
  std::string url = target.url;
  if (const auto query = url.find('?'); query != std::string::npos) url.resize(query);
  if (url.find(kOpenWhiskNamespaces) == std::string::npos) {
    const Endpoint host = split_endpoint(url, "OpenWhisk API host");
    const std::string& action =
        target.openwhisk_action.empty() ? target.name : target.openwhisk_action;
    if (action.empty()) throw Error(Errc::invalid_argument, "no OpenWhisk action is configured");
    const std::string& ns =
        target.openwhisk_namespace.empty() ? std::string("_") : target.openwhisk_namespace;
    // A packaged action ("pkg/action") keeps its slash.
    url = host.scheme_authority + std::string(kOpenWhiskNamespaces) +
          crypto::sigv4_uri_encode(ns, false) + "/actions/" +
          crypto::sigv4_uri_encode(action, true);
  } else {
    split_endpoint(url, "OpenWhisk action URL");
  }
  net::ClientRequest request;
  request.method = "POST";
  request.url = url + "?blocking=true&result=true";
  request.headers = {
      {"Content-Type", "application/json"},
      {"Accept", "application/json"},
      {"Authorization", "Basic " + crypto::base64_encode(target.openwhisk_auth)},
  };
  request.body = std::move(body);
  return request;
}

// A JSON error body's message: {"errorMessage": …} (Lambda), {"error": …} (OpenWhisk),
// {"message"|"Message": …} (AWS API errors), else the start of the raw body.
std::string error_detail(const json& answer, const std::string& body) {
  if (answer.is_object()) {
    for (const char* key : {"errorMessage", "error", "message", "Message"}) {
      if (auto it = answer.find(key); it != answer.end()) {
        if (it->is_string()) return it->get<std::string>();
        if (it->is_object()) return error_detail(*it, it->dump());
        return it->dump();
      }
    }
  }
  constexpr std::size_t kMaxDetail = 200;
  if (body.size() > kMaxDetail) return body.substr(0, kMaxDetail) + "…";
  return body;
}

// The module's 200 answer: empty, or {"actions": [...]} (other keys are the module's own).
void read_module_answer(const std::string& body, ModuleResult& result) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
    result.status = "success";
    return;
  }
  if (!result.response_json.is_object()) {
    result.status = "failed";
    result.error = result.response_json.is_discarded()
                       ? "answer is not valid JSON"
                       : "answer must be a JSON object with \"actions\"";
    return;
  }
  if (auto it = result.response_json.find("actions"); it != result.response_json.end()) {
    try {
      result.actions = model::parse_actions(*it, "actions");
    } catch (const model::FieldError& e) {
      result.status = "failed";
      result.error = std::string("invalid answer: ") + e.what();
      return;
    }
  }
  result.status = "success";
}

void interpret_response(const ModuleTarget& target, const net::ClientResponse& response,
                        ModuleResult& result) {
  result.http_status = response.status;
  result.response_json = json::parse(response.body, nullptr, false);
  const bool is_json = !result.response_json.is_discarded();
  if (target.type == "lambda") {
    if (auto kind = response.header("X-Amz-Function-Error"); kind && response.status == 200) {
      result.status = "failed";
      result.error = "Lambda function error (" + std::string(*kind) +
                     "): " + error_detail(result.response_json, response.body);
    } else if (response.status == 200) {
      read_module_answer(response.body, result);
    } else {
      result.status = "failed";
      result.error = "Lambda Invoke answered HTTP " + std::to_string(response.status) + ": " +
                     error_detail(result.response_json, response.body);
    }
  } else if (response.status == 202) {
    result.status = "accepted";
  } else if (response.status == 204) {
    result.status = "success";
  } else if (response.status >= 200 && response.status < 300) {
    read_module_answer(response.body, result);
  } else {
    result.status = "failed";
    result.error = "answered HTTP " + std::to_string(response.status);
    const std::string detail = error_detail(result.response_json, response.body);
    if (!detail.empty()) result.error += ": " + detail;
  }
  if (!is_json) result.response_json = nullptr;
}

}  // namespace

json build_module_request(const ModuleRequestContext& c) {
  if (!is_one_of(c.trigger, {"command", "event", "rule"})) {
    throw Error(Errc::invalid_argument,
                "trigger: must be command, event or rule, got '" + c.trigger + "'");
  }
  if (!c.config.is_object()) {
    throw Error(Errc::invalid_argument, "config: must be a JSON object");
  }
  const model::Event& e = c.event;
  return json{
      {"session_id", c.session_id},
      {"execution_id", c.execution_id},
      {"entity_id", e.entity_id},
      {"community", {{"id", c.community_id}, {"name", c.community_name}}},
      {"platform", e.platform},
      {"user",
       {{"id", e.user.id},
        {"name", e.user.name},
        {"display_name", e.user.display_name.empty() ? e.user.name : e.user.display_name},
        {"roles", e.user.roles},
        {"community_role", c.community_role},
        {"reputation", c.reputation}}},
      {"trigger", c.trigger},
      {"prefix", c.prefix},
      {"command", c.command},
      {"args", c.args},
      {"raw_args", c.raw_args},
      {"message", e.message},
      {"message_type", e.message_type},
      {"event", model::to_json(e)},
      {"config", c.config},
  };
}

net::ClientRequest make_module_http_request(const ModuleTarget& target, std::string body,
                                            std::chrono::system_clock::time_point now,
                                            const std::string& lambda_endpoint) {
  if (target.type == "container" || target.type == "webhook") {
    return signed_module_post(target, std::move(body), now);
  }
  if (target.type == "lambda") return lambda_invoke(target, std::move(body), now, lambda_endpoint);
  if (target.type == "openwhisk") return openwhisk_invoke(target, std::move(body));
  throw Error(Errc::invalid_argument, "unknown module type '" + target.type +
                                          "' (container, webhook, lambda or openwhisk)");
}

Executor::Executor(asio::any_io_executor executor, net::HttpClient& client, ExecutorOptions options)
    : executor_(std::move(executor)), client_(client), options_(std::move(options)) {
  if (!options_.now) options_.now = [] { return std::chrono::system_clock::now(); };
}

asio::awaitable<ModuleResult> Executor::call(const ModuleTarget& target, const json& request_body) {
  ModuleResult result;
  result.command_id = target.command_id;
  if (auto it = request_body.find("execution_id"); it != request_body.end() && it->is_string()) {
    result.execution_id = it->get<std::string>();
  }
  const auto started = SteadyClock::now();
  const std::string who = "module '" + target.name + "' (" + target.type + "): ";
  try {
    if (target.timeout <= std::chrono::milliseconds::zero()) {
      throw Error(Errc::invalid_argument, "timeout must be positive");
    }
    net::ClientRequest request = make_module_http_request(
        target, request_body.dump(-1, ' ', false, json::error_handler_t::replace), options_.now(),
        options_.lambda_endpoint);
    request.timeout = target.timeout;
    request.retry_safe = false;
    const net::ClientResponse response = co_await client_.request(std::move(request));
    interpret_response(target, response, result);
  } catch (const Error& e) {
    result.status = e.code() == Errc::timeout ? "timeout" : "failed";
    result.error = e.what();
  } catch (const std::exception& e) {
    result.status = "failed";
    result.error = e.what();
  }
  if (!result.error.empty()) result.error = who + result.error;
  result.elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started);
  co_return result;
}

asio::awaitable<ModuleResult> Executor::call_owned(ModuleTarget target, json body) {
  co_return co_await call(target, body);
}

asio::awaitable<std::vector<ModuleResult>> Executor::run_sequence(std::vector<ModuleTarget> targets,
                                                                  std::vector<json> bodies) {
  std::vector<ModuleResult> results;
  results.reserve(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    results.push_back(co_await call_owned(std::move(targets[i]), std::move(bodies[i])));
  }
  co_return results;
}

asio::awaitable<std::vector<ModuleResult>> Executor::run_all(std::vector<ModuleTarget> targets,
                                                             RequestBuilder build_request) {
  std::stable_sort(targets.begin(), targets.end(), [](const auto& a, const auto& b) {
    return a.priority != b.priority ? a.priority < b.priority : a.command_id < b.command_id;
  });

  std::vector<ModuleResult> results(targets.size());
  // Per branch: the positions (in `targets`) it runs, in order. Branch 0 is the sequential chain.
  std::vector<std::vector<std::size_t>> branches(1);
  std::vector<std::vector<json>> branch_bodies(1);
  for (std::size_t i = 0; i < targets.size(); ++i) {
    json body;
    try {
      if (!build_request) throw Error(Errc::internal, "no request builder");
      body = build_request(targets[i]);
    } catch (const std::exception& e) {
      results[i].command_id = targets[i].command_id;
      results[i].status = "failed";
      results[i].error = "module '" + targets[i].name + "': cannot build the request: " + e.what();
      continue;
    }
    if (targets[i].execution_mode == kExecutionParallel) {
      branches.push_back({i});
      branch_bodies.push_back({});
      branch_bodies.back().push_back(std::move(body));
    } else {
      branches[0].push_back(i);
      branch_bodies[0].push_back(std::move(body));
    }
  }

  using Op = decltype(asio::co_spawn(
      executor_, run_sequence(std::vector<ModuleTarget>{}, std::vector<json>{}), asio::deferred));
  std::vector<Op> ops;
  std::vector<std::size_t> op_branch;
  for (std::size_t b = 0; b < branches.size(); ++b) {
    if (branches[b].empty()) continue;
    std::vector<ModuleTarget> branch_targets;
    for (std::size_t i : branches[b]) branch_targets.push_back(targets[i]);
    ops.push_back(asio::co_spawn(
        executor_, run_sequence(std::move(branch_targets), std::move(branch_bodies[b])),
        asio::deferred));
    op_branch.push_back(b);
  }
  if (ops.empty()) co_return results;

  auto group = asio::experimental::make_parallel_group(std::move(ops));
  auto [order, exceptions, branch_results] =
      co_await group.async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  (void)order;
  for (std::size_t k = 0; k < op_branch.size(); ++k) {
    const auto& positions = branches[op_branch[k]];
    for (std::size_t j = 0; j < positions.size(); ++j) {
      ModuleResult& slot = results[positions[j]];
      if (j < branch_results[k].size() && !exceptions[k]) {
        slot = std::move(branch_results[k][j]);
      } else {
        // call() never throws; this is an allocation failure or a cancelled run.
        slot.command_id = targets[positions[j]].command_id;
        slot.status = "failed";
        slot.error = "module '" + targets[positions[j]].name + "': the call did not complete";
      }
    }
  }
  co_return results;
}

}  // namespace waddle::router
