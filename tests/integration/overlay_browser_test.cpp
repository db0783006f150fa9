// The overlay pages in a real browser: headless Chromium (Debian's `chromium`, installed by
// scripts/install-deps) loads each page from the daemon after an action was published on Redis,
// and the DOM it renders must show the action. Screenshots go into the working directory
// (overlay-ticker.png, overlay-media.png, overlay-general.png; docs/overlay/ holds copies).
// Without Chromium the test fails.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "overlay_support.hpp"
#include "redis/client.hpp"
#include "support/process.hpp"

using namespace waddle;
using namespace waddle::test::overlay_support;
using namespace std::chrono_literals;

namespace {

constexpr const char* kChromium = "/usr/bin/chromium";

std::vector<std::string> chromium_argv(const test::TempDir& profile) {
  return {kChromium, "--headless", "--no-sandbox", "--disable-gpu",
          // Nothing but the page itself goes over the network.
          "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
          "--disable-extensions", "--disable-sync", "--disable-domain-reliability",
          "--disable-client-side-phishing-detection", "--disable-breakpad",
          "--disable-features=Translate,OptimizationHints,MediaRouter,"
          "DialMediaRouteProvider,InterestFeedContentSuggestions",
          "--metrics-recording-only", "--no-first-run", "--no-default-browser-check",
          "--safebrowsing-disable-auto-update", "--password-store=basic", "--use-mock-keychain",
          "--hide-scrollbars", "--user-data-dir=" + profile.path(),
          // Lets the page's WebSocket deliver the replay before the DOM is dumped.
          "--virtual-time-budget=3000"};
}

void require_chromium() {
  INFO("Chromium is required for the overlay browser test: run scripts/install-deps");
  REQUIRE(::access(kChromium, X_OK) == 0);
}

// Renders `url` and returns its DOM once it contains `expected`, with a screenshot of that
// rendering saved as `png` in the working directory when `png` is set. Chromium is run again (at
// most 5 times) when a slow start rendered the page before its WebSocket delivered.
std::string render(const std::string& url, const std::string& expected, const std::string& png = "",
                   const std::string& size = "800,600") {
  std::string dom;
  const std::string path = png.empty() ? "" : std::filesystem::current_path().string() + "/" + png;
  for (int attempt = 0; attempt < 5; ++attempt) {
    test::TempDir profile;
    auto argv = chromium_argv(profile);
    argv.push_back("--dump-dom");
    if (!path.empty()) {
      std::filesystem::remove(path);
      argv.push_back("--window-size=" + size);
      argv.push_back("--screenshot=" + path);
    }
    argv.push_back(url);
    auto result = test::run_process(argv, {{"HOME", profile.path()}}, "", 90s);
    INFO("chromium stderr: " << result.err);
    REQUIRE(result.status == 0);
    dom = result.out;
    if (dom.find(expected) != std::string::npos) break;
  }
  if (!path.empty()) {
    REQUIRE(std::filesystem::exists(path));
    std::ifstream file(path, std::ios::binary);
    char magic[8] = {};
    file.read(magic, 8);
    CHECK(std::string(magic + 1, 3) == "PNG");
  }
  return dom;
}

void publish(std::int64_t community_id, const nlohmann::json& action) {
  boost::asio::io_context io;
  test::run_bounded(io, [&]() -> boost::asio::awaitable<void> {
    redis::Options options;
    options.url = test::redis_url();
    redis::Client client(io.get_executor(), options);
    co_await client.connect();
    auto reply = co_await client.command("PUBLISH", channel_of(community_id),
                                         published(community_id, action));
    REQUIRE(reply.integer >= 1);
    client.close();
  }());
}

// Waits (bounded) until the hub has applied what was published, so the page's replay holds it.
void wait_for_published(RunningOverlay& overlay, int count) {
  for (int i = 0; i < 500; ++i) {
    if (overlay.service().stats()["actions_published"].get<int>() >= count) return;
    std::this_thread::sleep_for(20ms);
  }
  FAIL("the overlay never applied action " << count);
}

}  // namespace

TEST_CASE(
    "Chromium shows a published ticker item, the song playing, and general content without "
    "running its script") {
  require_chromium();
  OverlayDatabase db;
  auto demo = db.add_community("demo");
  RunningOverlay overlay(settings_for(db.url(), true));
  overlay.wait_for_feed();
  const std::string base = overlay.base() + "/overlay/" + demo.token + "/";

  publish(demo.id, {{"type", "ticker"},
                    {"text", "Welcome to the stream, Alice!"},
                    {"priority", "high"},
                    {"duration", 600}});
  publish(demo.id, {{"type", "media"},
                    {"media_type", "music"},
                    {"media_url", "https://example.com/track"},
                    {"title", "Penguin Waltz"},
                    {"artist", "The Waddlers"},
                    {"album", "Ice Floe"},
                    {"duration", 600},
                    {"service", "spotify"}});
  // Three ways the content could run script: an inline script, an event handler, and a
  // javascript: URL. Each would post a marker the page would show in #frame-report.
  publish(demo.id,
          {{"type", "general"},
           {"content_type", "html"},
           {"duration", 600},
           {"content",
            "<h1 style=\"color:#ffd54f\">general-ok: Raid incoming!</h1>"
            "<script>parent.postMessage('SCRIPT-' + 'RAN-' + (6 * 7), '*');"
            "document.body.append('SCRIPT-' + 'INSIDE-' + (6 * 7));</script>"
            "<img src=\"missing.png\" alt=\"\" "
            "onerror=\"parent.postMessage('ONERROR-' + 'RAN-' + 7, '*')\" "
            "onload=\"parent.postMessage('ONLOAD-' + 'RAN-' + 7, '*')\">"
            "<a id=\"x\" href=\"javascript:parent.postMessage('HREF-' + 'RAN', '*')\">link</a>"}});
  wait_for_published(overlay, 3);

  SECTION("ticker") {
    auto dom =
        render(base + "ticker", "Welcome to the stream, Alice!", "overlay-ticker.png", "1280,240");
    CHECK_THAT(dom, Catch::Contains("Welcome to the stream, Alice!"));
    CHECK_THAT(dom, Catch::Contains("data-connection=\"open\""));
    CHECK_THAT(dom, Catch::Contains("data-priority=\"high\""));
    CHECK_THAT(dom, !Catch::Contains("<section id=\"ticker\" class=\"ticker\" hidden"));
  }
  SECTION("media") {
    auto dom = render(base + "media", "Penguin Waltz", "overlay-media.png", "640,300");
    CHECK_THAT(dom, Catch::Contains("Penguin Waltz"));
    CHECK_THAT(dom, Catch::Contains("The Waddlers"));
    CHECK_THAT(dom, Catch::Contains("Ice Floe"));
  }
  SECTION("general content is shown in the sandboxed frame and its script never runs") {
    auto dom = render(base + "general", "general-ok", "overlay-general.png", "800,400");
    CHECK_THAT(dom, Catch::Contains("general-ok: Raid incoming!"));  // in the frame's srcdoc
    CHECK_THAT(dom, Catch::Contains("sandbox=\"\""));
    for (const char* marker :
         {"SCRIPT-RAN-42", "SCRIPT-INSIDE-42", "ONERROR-RAN-7", "ONLOAD-RAN-7", "HREF-RAN"}) {
      INFO(marker);
      CHECK(dom.find(marker) == std::string::npos);
    }
    CHECK_THAT(dom, Catch::Contains("<output id=\"frame-report\" class=\"frame-report\" "
                                    "hidden=\"\"></output>"));
  }
  SECTION("a bad token gets no page") {
    auto dom = render(overlay.base() + "/overlay/" + std::string(43, 'Z') + "/ticker", "");
    CHECK_THAT(dom, Catch::Contains("not_found"));
    CHECK_THAT(dom, !Catch::Contains("demo"));
  }
}
