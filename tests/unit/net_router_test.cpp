// Router: pattern matching, parameters, 404 / 405, and how handler exceptions become responses.

#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include "net/router.hpp"

namespace asio = boost::asio;
using waddle::Errc;
using waddle::Error;
using waddle::net::Request;
using waddle::net::Response;
using waddle::net::RouteMatch;
using waddle::net::Router;

namespace {

waddle::net::Handler answer(std::string text) {
  return [text](Request&) -> asio::awaitable<Response> {
    co_return waddle::net::json_response(200, {{"route", text}});
  };
}

// Runs router.dispatch on a fresh io_context and returns the response.
Response dispatch(const Router& router, std::string method, std::string target,
                  Request* seen = nullptr) {
  asio::io_context io;
  Request request = waddle::net::make_request(std::move(method), std::move(target));
  auto future = asio::co_spawn(io, router.dispatch(request), asio::use_future);
  io.run();
  Response response = future.get();
  if (seen) *seen = request;
  return response;
}

nlohmann::json body_of(const Response& response) {
  return nlohmann::json::parse(response.body);
}

}  // namespace

TEST_CASE("literal segments beat parameter segments") {
  Router router;
  router.add("GET", "/router/responses/{execution_id}", answer("by-id"));
  router.add("GET", "/router/responses/recent", answer("recent"));
  router.add("GET", "/router/responses", answer("list"));

  CHECK(body_of(dispatch(router, "GET", "/router/responses/recent"))["route"] == "recent");
  CHECK(body_of(dispatch(router, "GET", "/router/responses/abc"))["route"] == "by-id");
  CHECK(body_of(dispatch(router, "GET", "/router/responses"))["route"] == "list");
  CHECK(dispatch(router, "GET", "/router/responses/").status == 404);
  CHECK(dispatch(router, "GET", "/router/responses/a/b").status == 404);
}

TEST_CASE("the first differing segment decides between two parameter routes") {
  Router router;
  router.add("GET", "/a/{x}/c", answer("param-first"));
  router.add("GET", "/a/b/{y}", answer("literal-first"));
  CHECK(body_of(dispatch(router, "GET", "/a/b/c"))["route"] == "literal-first");
  CHECK(body_of(dispatch(router, "GET", "/a/z/c"))["route"] == "param-first");
}

TEST_CASE("parameters are percent-decoded and handed to the handler") {
  Router router;
  router.add("GET", "/entities/{entity_id}/commands/{name}", answer("x"));
  Request seen;
  Response response =
      dispatch(router, "GET", "/entities/twitch%3Achannel%2Fx/commands/so?a=1", &seen);
  REQUIRE(response.status == 200);
  CHECK(seen.params.at("entity_id") == "twitch:channel/x");
  CHECK(seen.param("name") == "so");
  CHECK(seen.param("missing").empty());
  CHECK(seen.query.at("a") == "1");

  RouteMatch match = router.match("GET", "/entities/e1/commands/c1");
  REQUIRE(match.outcome == RouteMatch::Outcome::found);
  CHECK(match.params.size() == 2);
  CHECK(match.params.at("entity_id") == "e1");
}

TEST_CASE("an empty segment does not match a parameter") {
  Router router;
  router.add("GET", "/users/{id}", answer("user"));
  CHECK(router.match("GET", "/users/").outcome == RouteMatch::Outcome::not_found);
  CHECK(router.match("GET", "/users/7").outcome == RouteMatch::Outcome::found);
}

TEST_CASE("unknown path is a 404 JSON error") {
  Router router;
  router.add("GET", "/healthz", answer("ok"));
  Response response = dispatch(router, "GET", "/nope");
  CHECK(response.status == 404);
  CHECK(response.content_type == "application/json");
  CHECK(body_of(response)["error"]["code"] == "not_found");
  CHECK(body_of(response)["error"]["message"].get<std::string>().find("/nope") !=
        std::string::npos);
}

TEST_CASE("known path with the wrong method is a 405 with Allow") {
  Router router;
  router.add("GET", "/router/commands", answer("get"));
  router.add("POST", "/router/commands", answer("post"));
  Response response = dispatch(router, "DELETE", "/router/commands");
  CHECK(response.status == 405);
  CHECK(body_of(response)["error"]["code"] == "unsupported");
  REQUIRE(response.headers.size() == 1);
  CHECK(response.headers[0].first == "Allow");
  CHECK(response.headers[0].second == "GET, POST, HEAD");
}

TEST_CASE("a method routed only on a parameter pattern still matches a literal path") {
  Router router;
  router.add("GET", "/items/recent", answer("recent"));
  router.add("DELETE", "/items/{id}", answer("delete"));
  CHECK(body_of(dispatch(router, "DELETE", "/items/recent"))["route"] == "delete");
  Response response = dispatch(router, "POST", "/items/recent");
  CHECK(response.status == 405);
  CHECK(response.headers.at(0).second == "GET, DELETE, HEAD");
}

TEST_CASE("HEAD falls back to the GET route") {
  Router router;
  router.add("GET", "/healthz", answer("ok"));
  CHECK(router.match("HEAD", "/healthz").outcome == RouteMatch::Outcome::found);
  CHECK(router.match("POST", "/healthz").outcome == RouteMatch::Outcome::method_not_allowed);
}

TEST_CASE("route options travel with the match") {
  Router router;
  router.add("POST", "/small", answer("s"), {.body_limit = 10});
  CHECK(router.match("POST", "/small").options.body_limit == 10);
  CHECK(router.match("POST", "/other").options.body_limit == 1024 * 1024);
}

TEST_CASE("a waddle::Error from a handler becomes its error response") {
  Router router;
  router.add("POST", "/x", [](Request&) -> asio::awaitable<Response> {
    throw Error(Errc::conflict, "command 'so' already exists");
    co_return Response{};
  });
  Response response = dispatch(router, "POST", "/x");
  CHECK(response.status == 409);
  CHECK(body_of(response)["error"]["code"] == "conflict");
  CHECK(body_of(response)["error"]["message"] == "command 'so' already exists");
}

TEST_CASE("any other exception becomes a generic 500 without the detail") {
  Router router;
  router.add("GET", "/boom", [](Request&) -> asio::awaitable<Response> {
    throw std::runtime_error("password=hunter2 at db.internal");
    co_return Response{};
  });
  Response response = dispatch(router, "GET", "/boom");
  CHECK(response.status == 500);
  CHECK(body_of(response)["error"]["code"] == "internal");
  CHECK(response.body.find("hunter2") == std::string::npos);
  CHECK(response.body.find("db.internal") == std::string::npos);
}

TEST_CASE("malformed or duplicate routes are rejected when added") {
  Router router;
  router.add("GET", "/a/{id}", answer("a"));
  CHECK_THROWS_AS(router.add("GET", "/a/{other}", answer("b")), Error);
  CHECK_THROWS_AS(router.add("GET", "no-slash", answer("b")), Error);
  CHECK_THROWS_AS(router.add("GET", "/a/{}", answer("b")), Error);
  CHECK_THROWS_AS(router.add("GET", "/a/x{id}", answer("b")), Error);
  CHECK_THROWS_AS(router.add("GET", "/b/{id}/{id}", answer("b")), Error);
  CHECK_THROWS_AS(router.add("G ET", "/c", answer("b")), Error);
  CHECK_THROWS_AS(router.add("GET", "/c", nullptr), Error);
  router.add("POST", "/a/{other}", answer("post"));  // another method is fine
  CHECK(router.size() == 2);
}

TEST_CASE("make_request splits and decodes the target") {
  Request request =
      waddle::net::make_request("GET", "/a%20b/c?x=1&y=hello+world&z=%C3%A9&flag&x=2");
  CHECK(request.path == "/a b/c");
  CHECK(request.query.at("x") == "1");
  CHECK(request.query.at("y") == "hello world");
  CHECK(request.query.at("z") == "\xC3\xA9");
  CHECK(request.query.at("flag").empty());

  Request absolute = waddle::net::make_request("GET", "http://example.com/p?q=1");
  CHECK(absolute.path == "/p");
  CHECK(absolute.query.at("q") == "1");

  CHECK_THROWS_AS(waddle::net::make_request("GET", "relative"), Error);
  CHECK_THROWS_AS(waddle::net::make_request("GET", "/bad%zz"), Error);
  CHECK_THROWS_AS(waddle::net::make_request("GET", "/ok?k=%4"), Error);
}

TEST_CASE("header lookup is case-insensitive") {
  Request request;
  request.headers = {{"Content-Type", "application/json"}, {"X-Waddle-Signature", "sha256=ab"}};
  CHECK(request.header("content-type") == "application/json");
  CHECK(request.header("X-WADDLE-SIGNATURE") == "sha256=ab");
  CHECK_FALSE(request.header("x-missing"));
}

TEST_CASE("parse_json_body reports line and column") {
  Request request;
  request.body = "{\n  \"a\": 1,\n  \"b\": tru\n}";
  try {
    waddle::net::parse_json_body(request);
    FAIL("no exception");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::invalid_argument);
    std::string message = e.what();
    CHECK(message.rfind("invalid JSON at line 3, column ", 0) == 0);
  }
  request.body = "[1, 2,";
  CHECK_THROWS_WITH(waddle::net::parse_json_body(request),
                    Catch::Matchers::StartsWith("invalid JSON at line 1, column 7:"));
  request.body = R"({"ok": true})";
  CHECK(waddle::net::parse_json_body(request)["ok"] == true);
}

TEST_CASE("error_response has the documented shape") {
  Response response = waddle::net::error_response(Errc::invalid_argument, "bad", "user.id");
  CHECK(response.status == 400);
  auto body = body_of(response);
  CHECK(body["error"]["code"] == "invalid_argument");
  CHECK(body["error"]["message"] == "bad");
  CHECK(body["error"]["field"] == "user.id");
  CHECK_FALSE(
      body_of(waddle::net::error_response(Errc::not_found, "x"))["error"].contains("field"));
  // Invalid UTF-8 in a message must not throw.
  CHECK(waddle::net::error_response(Errc::not_found, "bad \xff byte").status == 404);
}
