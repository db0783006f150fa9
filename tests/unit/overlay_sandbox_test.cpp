// HTML sandboxing, checked on what the daemon actually serves: general content only ever reaches
// a page as the srcdoc of an iframe whose sandbox forbids script, behind a policy that allows no
// script, on pages whose own policy allows only the daemon's script. The browser test
// (tests/integration/overlay_browser_test.cpp) checks the same in Chromium.
#include <cstdlib>
#include <regex>

#include <catch2/catch.hpp>

#include "error/error.hpp"
#include "overlay/service.hpp"
#include "overlay/state.hpp"

using namespace waddle;

namespace {

std::string web_dir() {
  const char* source = std::getenv("WADDLE_SOURCE_DIR");
  REQUIRE(source != nullptr);
  return std::string(source) + "/services/overlay/web";
}

// The value of `directive` in a policy ("script-src 'self'" -> "'self'").
std::string directive(const std::string& policy, const std::string& name) {
  std::smatch m;
  std::regex re("(^|;)\\s*" + name + "\\s+([^;]*)");
  if (!std::regex_search(policy, m, re)) return "";
  return m[2].str();
}

}  // namespace

TEST_CASE("the general content document starts with a policy that allows no script") {
  const std::string doc = overlay::sandboxed_document("<script>parent.x=1</script><b>hi</b>");
  std::smatch m;
  REQUIRE(std::regex_search(doc, m,
                            std::regex("http-equiv=\"Content-Security-Policy\" "
                                       "content=\"([^\"]*)\"")));
  const std::string policy = m[1].str();
  CHECK(directive(policy, "default-src") == "'none'");
  CHECK(directive(policy, "script-src").empty());  // so default-src 'none' governs script
  CHECK(policy.find("unsafe-eval") == std::string::npos);
  // The policy is in <head> before the content, so it applies to all of it.
  CHECK(doc.find("Content-Security-Policy") < doc.find("<script>"));
  CHECK(doc.find("<body>") < doc.find("<script>"));
}

TEST_CASE("every page's policy allows only the daemon's own script") {
  const std::string policy = overlay::kPagePolicy;
  CHECK(directive(policy, "default-src") == "'none'");
  CHECK(directive(policy, "script-src") == "'self'");
  CHECK(directive(policy, "connect-src") == "'self'");
  CHECK(directive(policy, "base-uri") == "'none'");
}

TEST_CASE("the pages put general content only into an iframe sandboxed without scripts") {
  auto files = overlay::load_web_dir(web_dir());
  for (const char* page : {"general.html", "all.html"}) {
    INFO(page);
    const std::string& html = files.at(page).body;
    std::smatch m;
    REQUIRE(std::regex_search(html, m, std::regex("<iframe[^>]*>")));
    const std::string iframe = m.str();
    CHECK(iframe.find("sandbox=\"\"") != std::string::npos);
    CHECK(iframe.find("allow-") == std::string::npos);
    CHECK(iframe.find("src=") == std::string::npos);  // only srcdoc, set by the script
  }
  for (const char* page : {"ticker.html", "media.html", "general.html", "all.html"}) {
    INFO(page);
    const std::string& html = files.at(page).body;
    // No inline script: the page's policy would block it anyway; the script is a file.
    CHECK(std::regex_search(html, std::regex("<script src=\"../static/overlay.js\"")));
    CHECK_FALSE(std::regex_search(html, std::regex("<script>")));
    CHECK(html.find("http://") == std::string::npos);
    CHECK(html.find("https://") == std::string::npos);
  }
  const std::string& js = files.at("overlay.js").body;
  CHECK(js.find("innerHTML") == std::string::npos);
  CHECK(js.find("insertAdjacentHTML") == std::string::npos);
  CHECK(js.find("document.write") == std::string::npos);
  CHECK(js.find("eval(") == std::string::npos);
  CHECK(js.find("setAttribute('sandbox', '')") != std::string::npos);
}

TEST_CASE("a web_dir without the pages is refused, naming the file") {
  try {
    overlay::load_web_dir("/nonexistent/overlay-web");
    FAIL("loaded a directory that does not exist");
  } catch (const Error& e) {
    CHECK(e.code() == Errc::invalid_argument);
    CHECK_THAT(e.what(), Catch::Contains("overlay.web_dir") &&
                             Catch::Contains("/nonexistent/overlay-web/ticker.html"));
  }
}
