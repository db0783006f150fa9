#include "overlay/state.hpp"

#include <algorithm>

namespace waddle::overlay {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::int64_t ms_count(Clock::duration d) {
  return std::max<std::int64_t>(0, duration_cast<milliseconds>(d).count());
}

nlohmann::json envelope(Source source) {
  return {{"v", kProtocolVersion}, {"type", source_name(source)}};
}

}  // namespace

std::string_view source_name(Source source) noexcept {
  switch (source) {
    case Source::ticker: return "ticker";
    case Source::media: return "media";
    case Source::general: return "general";
    case Source::form: return "form";
  }
  return "ticker";
}

std::optional<Source> parse_source(std::string_view name) noexcept {
  for (Source s : kAllSources) {
    if (source_name(s) == name) return s;
  }
  return std::nullopt;
}

std::optional<Source> source_of(const model::Action& action) noexcept {
  if (std::holds_alternative<model::TickerAction>(action)) return Source::ticker;
  if (std::holds_alternative<model::MediaAction>(action)) return Source::media;
  if (std::holds_alternative<model::GeneralAction>(action)) return Source::general;
  if (std::holds_alternative<model::FormAction>(action)) return Source::form;
  return std::nullopt;
}

int priority_rank(std::string_view priority) noexcept {
  if (priority == "high") return 2;
  if (priority == "low") return 0;
  return 1;
}

std::string sandboxed_document(std::string_view html) {
  // The policy comes first in <head>, so it governs everything the content brings along. The
  // iframe's sandbox (no allow-scripts) and the page's own policy stop script independently.
  std::string doc =
      "<!doctype html><html><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "img-src https: data:; font-src https: data:; style-src 'unsafe-inline'\">"
      "<meta name=\"referrer\" content=\"no-referrer\">"
      "<style>html,body{margin:0;background:transparent;color:#fff;"
      "font-family:sans-serif;overflow:hidden}</style></head><body>";
  doc.append(html);
  doc.append("</body></html>");
  return doc;
}

std::optional<Source> CommunityState::apply(const model::Action& action, Clock::time_point now) {
  auto source = source_of(action);
  if (!source) return std::nullopt;
  if (const auto* ticker = std::get_if<model::TickerAction>(&action)) {
    TickerItem item{*ticker, next_seq_++};
    if (!ticker_current_) {
      ticker_current_ = std::move(item);
      ticker_timing_ = {now, std::chrono::seconds(ticker_current_->action.duration)};
      return source;
    }
    const int rank = priority_rank(item.action.priority);
    auto at = std::find_if(ticker_queue_.begin(), ticker_queue_.end(), [&](const TickerItem& t) {
      return priority_rank(t.action.priority) < rank;
    });
    ticker_queue_.insert(at, std::move(item));
    if (ticker_queue_.size() > kMaxTickerQueue) ticker_queue_.pop_back();
  } else if (const auto* media = std::get_if<model::MediaAction>(&action)) {
    media_ = *media;
    media_timing_ = {now, std::chrono::seconds(media->duration)};
  } else if (const auto* general = std::get_if<model::GeneralAction>(&action)) {
    general_ = *general;
    general_timing_ = {now, std::chrono::seconds(general->duration)};
  } else if (const auto* form = std::get_if<model::FormAction>(&action)) {
    form_ = *form;
    form_timing_ = {now, kFormDisplay};
  }
  return source;
}

void CommunityState::start_next_ticker(Clock::time_point at) {
  if (ticker_queue_.empty()) {
    ticker_current_.reset();
    return;
  }
  ticker_current_ = std::move(ticker_queue_.front());
  ticker_queue_.pop_front();
  ticker_timing_ = {at, std::chrono::seconds(ticker_current_->action.duration)};
}

std::vector<Source> CommunityState::advance(Clock::time_point now) {
  std::vector<Source> changed;
  bool ticker_changed = false;
  // Each item gets its full time on screen, counted from when the one before it ended.
  while (ticker_current_ && ticker_timing_.expired(now)) {
    start_next_ticker(ticker_timing_.started + ticker_timing_.duration);
    ticker_changed = true;
  }
  if (ticker_changed) changed.push_back(Source::ticker);
  if (media_ && media_timing_.expired(now)) {
    media_.reset();
    changed.push_back(Source::media);
  }
  if (general_ && general_timing_.expired(now)) {
    general_.reset();
    changed.push_back(Source::general);
  }
  if (form_ && form_timing_.expired(now)) {
    form_.reset();
    changed.push_back(Source::form);
  }
  return changed;
}

std::optional<Clock::time_point> CommunityState::next_deadline() const {
  std::optional<Clock::time_point> earliest;
  auto consider = [&](bool shown, const Timed& t) {
    if (!shown || t.duration.count() == 0) return;
    auto end = t.started + t.duration;
    if (!earliest || end < *earliest) earliest = end;
  };
  consider(ticker_current_.has_value(), ticker_timing_);
  consider(media_.has_value(), media_timing_);
  consider(general_.has_value(), general_timing_);
  consider(form_.has_value(), form_timing_);
  return earliest;
}

bool CommunityState::idle() const {
  return !ticker_current_ && ticker_queue_.empty() && !media_ && !general_ && !form_;
}

nlohmann::json CommunityState::view(Source source, Clock::time_point now) const {
  nlohmann::json out = envelope(source);
  auto remaining = [&](const Timed& t) -> nlohmann::json {
    if (t.duration.count() == 0) return nullptr;
    return ms_count(t.started + t.duration - now);
  };
  switch (source) {
    case Source::ticker: {
      auto item_json = [](const model::TickerAction& a) {
        return nlohmann::json{{"text", a.text},
                              {"duration", a.duration},
                              {"priority", a.priority},
                              {"style", a.style}};
      };
      if (ticker_current_) {
        out["current"] = item_json(ticker_current_->action);
        out["current"]["remaining_ms"] = remaining(ticker_timing_);
      } else {
        out["current"] = nullptr;
      }
      out["queue"] = nlohmann::json::array();
      for (const auto& item : ticker_queue_) out["queue"].push_back(item_json(item.action));
      break;
    }
    case Source::media: {
      if (!media_) {
        out["now_playing"] = nullptr;
        break;
      }
      const auto& m = *media_;
      out["now_playing"] = {{"media_type", m.media_type},
                            {"media_url", m.media_url},
                            {"title", m.title},
                            {"artist", m.artist},
                            {"album", m.album},
                            {"duration", m.duration},
                            {"thumbnail_url", m.thumbnail_url},
                            {"service", m.service},
                            {"elapsed_ms", ms_count(now - media_timing_.started)},
                            {"remaining_ms", remaining(media_timing_)}};
      break;
    }
    case Source::general: {
      if (!general_) {
        out["content"] = nullptr;
        break;
      }
      nlohmann::json content{{"content_type", general_->content_type},
                             {"duration", general_->duration},
                             {"remaining_ms", remaining(general_timing_)}};
      // HTML never reaches the page as markup: it is a sandboxed document for an iframe.
      if (general_->content_type == "html") {
        content["srcdoc"] = sandboxed_document(general_->content);
      } else {
        content["text"] = general_->content;
      }
      out["content"] = std::move(content);
      break;
    }
    case Source::form: {
      if (!form_) {
        out["form"] = nullptr;
        break;
      }
      nlohmann::json fields = nlohmann::json::array();
      for (const auto& f : form_->fields) {
        fields.push_back({{"name", f.name},
                          {"type", f.type},
                          {"label", f.label.empty() ? f.name : f.label},
                          {"required", f.required},
                          {"options", f.options}});
      }
      out["form"] = {{"title", form_->title},
                     {"description", form_->description},
                     {"fields", std::move(fields)},
                     {"submit_url", form_->submit_url},
                     {"submit_method", form_->submit_method},
                     {"remaining_ms", remaining(form_timing_)}};
      break;
    }
  }
  return out;
}

}  // namespace waddle::overlay
