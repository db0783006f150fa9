#pragma once
// What one community's overlay shows right now: the ticker (the item on screen and the queue
// behind it), the media now playing, the general content and the form card. Pure logic with the
// time passed in, so that ordering, expiry and replay are tested without clocks or sockets.

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/action.hpp"

namespace waddle::overlay {

using Clock = std::chrono::steady_clock;

// Every message to a page carries {"v": kProtocolVersion, "type": …}.
inline constexpr int kProtocolVersion = 1;
// More queued ticker items than this: the lowest-priority, newest one is dropped.
inline constexpr std::size_t kMaxTickerQueue = 100;
// A form has no duration of its own; its card stays this long unless replaced.
inline constexpr std::chrono::seconds kFormDisplay{60};

// What a page shows; one WebSocket client subscribes to one or several.
enum class Source { ticker, media, general, form };
inline constexpr Source kAllSources[] = {Source::ticker, Source::media, Source::general,
                                         Source::form};

std::string_view source_name(Source source) noexcept;
std::optional<Source> parse_source(std::string_view name) noexcept;
// The source that shows an action; nullopt for chat and block, which are not overlay actions.
std::optional<Source> source_of(const model::Action& action) noexcept;

// "high" 2, "normal" 1, "low" 0.
int priority_rank(std::string_view priority) noexcept;

// The document a general action's HTML is shown as: an iframe `srcdoc` behind a policy that
// allows no script, no network but images and fonts over https, and inline styles.
std::string sandboxed_document(std::string_view html);

class CommunityState {
 public:
  // Takes an overlay action; returns the source whose view changed, nullopt when the action is
  // not an overlay action (chat, block) and nothing changed.
  std::optional<Source> apply(const model::Action& action, Clock::time_point now);

  // Moves past everything that expired by `now`; returns the sources whose view changed.
  std::vector<Source> advance(Clock::time_point now);

  // The earliest moment at which something expires; nullopt when nothing will.
  std::optional<Clock::time_point> next_deadline() const;

  // The message that brings a page showing `source` up to date (state at `now`).
  nlohmann::json view(Source source, Clock::time_point now) const;

  std::size_t ticker_queue_size() const { return ticker_queue_.size(); }
  bool idle() const;  // nothing shown and nothing queued

 private:
  struct TickerItem {
    model::TickerAction action;
    std::uint64_t seq = 0;
  };
  struct Timed {
    Clock::time_point started;
    std::chrono::milliseconds duration{0};  // 0 = until replaced
    bool expired(Clock::time_point now) const {
      return duration.count() > 0 && now >= started + duration;
    }
  };

  void start_next_ticker(Clock::time_point at);

  std::optional<TickerItem> ticker_current_;
  Timed ticker_timing_;
  std::deque<TickerItem> ticker_queue_;  // high before normal before low, FIFO within a rank
  std::uint64_t next_seq_ = 0;

  std::optional<model::MediaAction> media_;
  Timed media_timing_;
  std::optional<model::GeneralAction> general_;
  Timed general_timing_;
  std::optional<model::FormAction> form_;
  Timed form_timing_;
};

}  // namespace waddle::overlay
