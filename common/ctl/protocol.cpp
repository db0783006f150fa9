#include "ctl/protocol.hpp"

#include <utility>

namespace waddle::ctl {

namespace {

using nlohmann::json;

// Counts bracket nesting outside strings without parsing, so the parser never sees a line that
// could recurse too deeply.
bool nesting_within(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > max_depth) return false;
        break;
      case ']':
      case '}': --depth; break;
      default: break;
    }
  }
  return true;
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; people need the rest.
std::string parse_error_text(const json::exception& e) {
  std::string_view what = e.what();
  if (auto end = what.find("] "); !what.empty() && what.front() == '[' && end != what.npos) {
    what.remove_prefix(end + 2);
  }
  return std::string(what);
}

Parsed<json> parse_object(std::string_view line, std::string_view what) {
  Parsed<json> out;
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
    out.error = std::string(what) + " is empty; expected a JSON object";
    return out;
  }
  if (!nesting_within(line, kMaxDepth)) {
    out.error = std::string(what) + " nests arrays or objects deeper than " +
                std::to_string(kMaxDepth) + " levels";
    return out;
  }
  json value;
  try {
    value = json::parse(line);
  } catch (const json::exception& e) {
    out.error = std::string(what) + " is not valid JSON: " + parse_error_text(e);
    return out;
  }
  if (!value.is_object()) {
    out.error = std::string(what) + " must be a JSON object, got " + value.type_name();
    return out;
  }
  out.value = std::move(value);
  return out;
}

}  // namespace

Result result_for(Errc code) noexcept {
  return static_cast<Result>(ctl_result(code));
}

std::string_view result_name(int result) noexcept {
  switch (result) {
    case 0: return "success";
    case 1: return "error";
    case 2: return "unsupported";
    case 3: return "empty";
    case 4: return "conflict";
    default: return "unknown";
  }
}

Reply Reply::ok(std::string text, nlohmann::json arguments) {
  return Reply{static_cast<int>(Result::success), std::move(text), std::move(arguments)};
}

Reply Reply::error(Errc code, std::string text) {
  // A thrown or reported error is never a success, even when someone passes Errc::ok.
  int result = code == Errc::ok ? static_cast<int>(Result::error) : ctl_result(code);
  return Reply{result, std::move(text), nullptr};
}

Reply Reply::empty(std::string text, nlohmann::json arguments) {
  return Reply{static_cast<int>(Result::empty), std::move(text), std::move(arguments)};
}

Parsed<Request> parse_request(std::string_view line) {
  Parsed<Request> out;
  auto object = parse_object(line, "request");
  if (!object) {
    out.error = std::move(object.error);
    return out;
  }
  json& value = *object.value;
  for (const auto& [key, member] : value.items()) {
    if (key != "command" && key != "arguments") {
      out.error = "unknown request member \"" + key + "\"; expected \"command\" and \"arguments\"";
      return out;
    }
  }
  auto command = value.find("command");
  if (command == value.end()) {
    out.error = "request has no \"command\" member";
    return out;
  }
  if (!command->is_string()) {
    out.error = std::string("\"command\" must be a string, got ") + command->type_name();
    return out;
  }
  Request request;
  request.command = command->get<std::string>();
  if (request.command.empty()) {
    out.error = "\"command\" must not be empty";
    return out;
  }
  if (auto arguments = value.find("arguments"); arguments != value.end()) {
    if (!arguments->is_object()) {
      out.error = std::string("\"arguments\" must be a JSON object, got ") + arguments->type_name();
      return out;
    }
    request.arguments = std::move(*arguments);
  }
  out.value = std::move(request);
  return out;
}

std::string encode_request(std::string_view command, const nlohmann::json& arguments) {
  if (!arguments.is_null() && !arguments.is_object()) {
    throw Error(Errc::invalid_argument, "arguments for command '" + std::string(command) +
                                            "' must be a JSON object, got " +
                                            arguments.type_name());
  }
  json request = {{"command", command}};
  if (!arguments.is_null()) request["arguments"] = arguments;
  return request.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string encode_reply(const Reply& reply) {
  json out = {{"result", reply.result}, {"text", reply.text}};
  if (!reply.arguments.is_null()) out["arguments"] = reply.arguments;
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

Parsed<Reply> parse_reply(std::string_view line) {
  Parsed<Reply> out;
  auto object = parse_object(line, "reply");
  if (!object) {
    out.error = std::move(object.error);
    return out;
  }
  json& value = *object.value;
  Reply reply;
  auto result = value.find("result");
  if (result == value.end() || !result->is_number_integer()) {
    out.error = "reply has no integer \"result\" member";
    return out;
  }
  reply.result = result->get<int>();
  if (auto text = value.find("text"); text != value.end()) {
    if (!text->is_string()) {
      out.error = std::string("reply \"text\" must be a string, got ") + text->type_name();
      return out;
    }
    reply.text = text->get<std::string>();
  }
  if (auto arguments = value.find("arguments"); arguments != value.end()) {
    if (!arguments->is_object() && !arguments->is_null()) {
      out.error =
          std::string("reply \"arguments\" must be a JSON object, got ") + arguments->type_name();
      return out;
    }
    reply.arguments = std::move(*arguments);
  }
  out.value = std::move(reply);
  return out;
}

std::string format_size(std::size_t bytes) {
  constexpr std::size_t kKiB = 1024;
  constexpr std::size_t kMiB = 1024 * kKiB;
  if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  if (bytes >= kKiB && bytes % kKiB == 0) return std::to_string(bytes / kKiB) + " KiB";
  return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
}

}  // namespace waddle::ctl
