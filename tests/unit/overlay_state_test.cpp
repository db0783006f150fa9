// CommunityState: ticker queue ordering, expiry of every source, and the views a late client
// gets (state replay). Time is passed in, so nothing here waits.
#include <catch2/catch.hpp>

#include "overlay/state.hpp"

using namespace waddle;
using overlay::Clock;
using overlay::CommunityState;
using overlay::Source;
using namespace std::chrono_literals;

namespace {

model::TickerAction ticker(std::string text, std::string priority = "normal", int duration = 10) {
  model::TickerAction a;
  a.text = std::move(text);
  a.priority = std::move(priority);
  a.duration = duration;
  return a;
}

std::vector<std::string> queue_texts(const nlohmann::json& view) {
  std::vector<std::string> out;
  for (const auto& item : view["queue"]) out.push_back(item["text"].get<std::string>());
  return out;
}

std::string current_text(const nlohmann::json& view) {
  return view["current"].is_null() ? "" : view["current"]["text"].get<std::string>();
}

}  // namespace

TEST_CASE("the first ticker item shows at once, later ones queue high before normal before low") {
  CommunityState state;
  const auto t0 = Clock::now();
  REQUIRE(state.apply(ticker("first"), t0) == Source::ticker);
  state.apply(ticker("n1"), t0);
  state.apply(ticker("l1", "low"), t0);
  state.apply(ticker("h1", "high"), t0);
  state.apply(ticker("n2"), t0);
  state.apply(ticker("h2", "high"), t0);

  auto view = state.view(Source::ticker, t0);
  CHECK(view["v"] == overlay::kProtocolVersion);
  CHECK(view["type"] == "ticker");
  CHECK(current_text(view) == "first");
  CHECK(queue_texts(view) == std::vector<std::string>{"h1", "h2", "n1", "n2", "l1"});
}

TEST_CASE("each ticker item stays for its duration, then the next one starts where it ended") {
  CommunityState state;
  const auto t0 = Clock::now();
  state.apply(ticker("a", "normal", 10), t0);
  state.apply(ticker("b", "normal", 5), t0);
  state.apply(ticker("c", "high", 3), t0 + 1s);
  REQUIRE(state.next_deadline() == t0 + 10s);

  CHECK(state.advance(t0 + 9s).empty());
  CHECK(current_text(state.view(Source::ticker, t0 + 9s)) == "a");
  CHECK(state.view(Source::ticker, t0 + 9s)["current"]["remaining_ms"] == 1000);

  auto changed = state.advance(t0 + 10s);
  REQUIRE(changed == std::vector<Source>{Source::ticker});
  CHECK(current_text(state.view(Source::ticker, t0 + 10s)) == "c");  // high went ahead of b
  CHECK(state.next_deadline() == t0 + 13s);

  // A late wake-up catches up: c ended at 13 s, b ran 13..18 s, so at 20 s nothing is left.
  state.advance(t0 + 20s);
  auto view = state.view(Source::ticker, t0 + 20s);
  CHECK(view["current"].is_null());
  CHECK(view["queue"].empty());
  CHECK_FALSE(state.next_deadline().has_value());
  CHECK(state.idle());
}

TEST_CASE("the ticker queue is bounded: the lowest-priority, newest item is dropped") {
  CommunityState state;
  const auto t0 = Clock::now();
  state.apply(ticker("showing"), t0);
  for (std::size_t i = 0; i < overlay::kMaxTickerQueue; ++i) {
    state.apply(ticker("low" + std::to_string(i), "low"), t0);
  }
  REQUIRE(state.ticker_queue_size() == overlay::kMaxTickerQueue);
  state.apply(ticker("urgent", "high"), t0);
  CHECK(state.ticker_queue_size() == overlay::kMaxTickerQueue);
  auto texts = queue_texts(state.view(Source::ticker, t0));
  CHECK(texts.front() == "urgent");
  CHECK(texts.back() == "low" + std::to_string(overlay::kMaxTickerQueue - 2));
}

TEST_CASE("media plays until its duration is over or another replaces it, 0 means until replaced") {
  CommunityState state;
  const auto t0 = Clock::now();
  model::MediaAction song;
  song.media_type = "music";
  song.media_url = "https://example.com/song";
  song.title = "Song";
  song.artist = "Artist";
  song.album = "Album";
  song.duration = 180;
  song.thumbnail_url = "https://example.com/art.jpg";
  REQUIRE(state.apply(song, t0) == Source::media);

  // A page that connects 60 s in sees the song 60 s along.
  auto late = state.view(Source::media, t0 + 60s);
  CHECK(late["type"] == "media");
  CHECK(late["now_playing"]["title"] == "Song");
  CHECK(late["now_playing"]["elapsed_ms"] == 60000);
  CHECK(late["now_playing"]["remaining_ms"] == 120000);
  CHECK(late["now_playing"]["thumbnail_url"] == "https://example.com/art.jpg");

  model::MediaAction stream = song;
  stream.title = "Live";
  stream.duration = 0;
  state.apply(stream, t0 + 61s);
  CHECK(state.view(Source::media, t0 + 61s)["now_playing"]["title"] == "Live");
  CHECK(state.view(Source::media, t0 + 61s)["now_playing"]["remaining_ms"].is_null());
  CHECK(state.advance(t0 + 10h).empty());
  CHECK_FALSE(state.next_deadline().has_value());

  song.duration = 5;
  state.apply(song, t0 + 11h);
  CHECK(state.advance(t0 + 11h + 5s) == std::vector<Source>{Source::media});
  CHECK(state.view(Source::media, t0 + 11h + 5s)["now_playing"].is_null());
}

TEST_CASE("general content expires, html becomes a sandboxed document, text stays text") {
  CommunityState state;
  const auto t0 = Clock::now();
  model::GeneralAction html;
  html.content_type = "html";
  html.content = "<b>Welcome</b><script>alert(1)</script>";
  html.duration = 8;
  REQUIRE(state.apply(html, t0) == Source::general);
  auto view = state.view(Source::general, t0 + 3s);
  CHECK(view["content"]["remaining_ms"] == 5000);
  CHECK_FALSE(view["content"].contains("content"));  // the raw markup never goes out as is
  CHECK_FALSE(view["content"].contains("text"));
  const std::string srcdoc = view["content"]["srcdoc"];
  CHECK(srcdoc == overlay::sandboxed_document(html.content));

  CHECK(state.advance(t0 + 8s) == std::vector<Source>{Source::general});
  CHECK(state.view(Source::general, t0 + 8s)["content"].is_null());

  model::GeneralAction text;
  text.content_type = "text";
  text.content = "<b>not markup</b>";
  state.apply(text, t0 + 9s);
  auto text_view = state.view(Source::general, t0 + 9s);
  CHECK(text_view["content"]["text"] == "<b>not markup</b>");
  CHECK_FALSE(text_view["content"].contains("srcdoc"));
}

TEST_CASE("a form is a card for a fixed time, chat and block actions change nothing") {
  CommunityState state;
  const auto t0 = Clock::now();
  model::FormAction form;
  form.title = "Poll";
  form.description = "Pick one";
  form.submit_url = "https://example.com/submit";
  model::FormField field;
  field.name = "choice";
  field.type = "radio";
  field.options = {"a", "b"};
  form.fields.push_back(field);
  REQUIRE(state.apply(form, t0) == Source::form);
  auto view = state.view(Source::form, t0);
  CHECK(view["form"]["title"] == "Poll");
  CHECK(view["form"]["fields"][0]["label"] == "choice");  // the name when there is no label
  CHECK(view["form"]["submit_url"] == "https://example.com/submit");
  CHECK(state.next_deadline() == t0 + overlay::kFormDisplay);

  CHECK_FALSE(state.apply(model::ChatAction{"hi", std::nullopt, false}, t0).has_value());
  CHECK_FALSE(state.apply(model::BlockAction{}, t0).has_value());
  CHECK(state.advance(t0 + overlay::kFormDisplay) == std::vector<Source>{Source::form});
  CHECK(state.idle());
}

TEST_CASE("a late client's replay holds every source's current view") {
  CommunityState state;
  const auto t0 = Clock::now();
  state.apply(ticker("one", "normal", 30), t0);
  state.apply(ticker("two", "normal", 30), t0);
  for (Source s : overlay::kAllSources) {
    auto view = state.view(s, t0 + 1s);
    CHECK(view["v"] == 1);
    CHECK(view["type"] == std::string(overlay::source_name(s)));
  }
  auto ticker_view = state.view(Source::ticker, t0 + 1s);
  CHECK(current_text(ticker_view) == "one");
  CHECK(queue_texts(ticker_view) == std::vector<std::string>{"two"});
  CHECK(state.view(Source::media, t0)["now_playing"].is_null());
}

TEST_CASE("source names round-trip and unknown names are refused") {
  for (Source s : overlay::kAllSources) {
    CHECK(overlay::parse_source(overlay::source_name(s)) == s);
  }
  CHECK_FALSE(overlay::parse_source("chat").has_value());
  CHECK_FALSE(overlay::parse_source("").has_value());
  CHECK(overlay::priority_rank("high") > overlay::priority_rank("normal"));
  CHECK(overlay::priority_rank("normal") > overlay::priority_rank("low"));
}
