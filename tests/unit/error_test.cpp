#include <catch2/catch.hpp>

#include "error/error.hpp"
#include "error/peer_status.hpp"

using waddle::Errc;

TEST_CASE("every error code maps to a 4xx or 5xx status, a ctl result and an exit code") {
  for (int i = 1; i <= static_cast<int>(Errc::internal); ++i) {
    auto code = static_cast<Errc>(i);
    INFO(waddle::errc_name(code));
    CHECK(waddle::http_status(code) >= 400);
    CHECK(waddle::http_status(code) < 600);
    CHECK(waddle::ctl_result(code) != 0);
    CHECK(waddle::exit_code(code) != 0);
    if (code != Errc::internal) CHECK(waddle::errc_name(code) != "internal");
  }
}

TEST_CASE("bad input is HTTP 400, admin result 1 and CLI exit 2") {
  CHECK(waddle::http_status(Errc::invalid_argument) == 400);
  CHECK(waddle::ctl_result(Errc::invalid_argument) == 1);
  CHECK(waddle::exit_code(Errc::invalid_argument) == 2);
  CHECK(waddle::ctl_result(Errc::unsupported) == 2);
  CHECK(waddle::ctl_result(Errc::conflict) == 4);
  CHECK(waddle::http_status(Errc::headers_too_large) == 431);
}

TEST_CASE("Error carries its code and message") {
  waddle::Error e(Errc::not_found, "community 'x' not found");
  CHECK(e.code() == Errc::not_found);
  CHECK(std::string(e.what()) == "community 'x' not found");
}

TEST_CASE("a peer's HTTP status maps back to the code that would have sent it") {
  using waddle::Errc;
  for (Errc code : {Errc::invalid_argument, Errc::unauthenticated, Errc::forbidden, Errc::not_found,
                    Errc::conflict, Errc::payload_too_large, Errc::headers_too_large,
                    Errc::rate_limited, Errc::unsupported, Errc::unavailable, Errc::timeout}) {
    INFO(waddle::errc_name(code));
    CHECK(waddle::errc_for_http_status(waddle::http_status(code)) == code);
  }
  // Helix answers 422 for a well-formed request it will not carry out.
  CHECK(waddle::errc_for_http_status(422) == Errc::invalid_argument);
  CHECK(waddle::errc_for_http_status(418) == Errc::invalid_argument);
  CHECK(waddle::errc_for_http_status(500) == Errc::unavailable);  // the peer's fault: retry
  CHECK(waddle::errc_for_http_status(502) == Errc::unavailable);
  CHECK(waddle::errc_for_http_status(302) == Errc::internal);  // not an answer we asked for
  CHECK(waddle::errc_for_http_status(-1) == Errc::internal);
}
