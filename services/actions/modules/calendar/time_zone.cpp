#include "actions/modules/calendar/time_zone.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>

namespace waddle::actions {
namespace {

namespace chr = std::chrono;

constexpr std::int64_t kDay = 86400;
// A tzfile is a few KB; anything larger is not one.
constexpr std::size_t kMaxTzifBytes = 1 << 20;
constexpr std::size_t kMaxCachedZones = 1000;

std::int64_t days_from_civil(int year, int month, int day) {
  return chr::sys_days{chr::year{year} / chr::month{static_cast<unsigned>(month)} /
                       chr::day{static_cast<unsigned>(day)}}
      .time_since_epoch()
      .count();
}

bool is_leap(int year) {
  return chr::year{year}.is_leap();
}

// Reads a POSIX TZ string piece by piece.
class RuleReader {
 public:
  explicit RuleReader(std::string_view text) : text_(text) {}
  bool done() const { return pos_ == text_.size(); }
  bool eat(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  // "<+0530>" or 3+ letters.
  bool name() {
    if (eat('<')) {
      const auto close = text_.find('>', pos_);
      if (close == std::string_view::npos || close == pos_) return false;
      pos_ = close + 1;
      return true;
    }
    const std::size_t begin = pos_;
    while (pos_ < text_.size() && ((text_[pos_] >= 'A' && text_[pos_] <= 'Z') ||
                                   (text_[pos_] >= 'a' && text_[pos_] <= 'z')))
      ++pos_;
    return pos_ - begin >= 3;
  }

  std::optional<int> number(int max_digits) {
    int value = 0;
    int digits = 0;
    while (digits < max_digits && pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      value = value * 10 + (text_[pos_++] - '0');
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    return value;
  }

  // [+-]hh[:mm[:ss]] in seconds: hours up to 24 for offsets, 167 for rule times (TZif v3).
  std::optional<std::int32_t> duration(int max_hours) {
    int sign = 1;
    if (eat('-')) {
      sign = -1;
    } else {
      eat('+');
    }
    auto hours = number(3);
    if (!hours || *hours > max_hours) return std::nullopt;
    std::int32_t seconds = *hours * 3600;
    if (eat(':')) {
      auto minutes = number(2);
      if (!minutes || *minutes > 59) return std::nullopt;
      seconds += *minutes * 60;
      if (eat(':')) {
        auto secs = number(2);
        if (!secs || *secs > 59) return std::nullopt;
        seconds += *secs;
      }
    }
    return sign * seconds;
  }

  std::optional<PosixRule::Change> change() {
    PosixRule::Change out;
    using Kind = PosixRule::Change::Kind;
    if (eat('J')) {
      auto n = number(3);
      if (!n || *n < 1 || *n > 365) return std::nullopt;
      out.kind = Kind::julian_no_leap;
      out.day = *n;
    } else if (eat('M')) {
      auto m = number(2);
      if (!m || *m < 1 || *m > 12 || !eat('.')) return std::nullopt;
      auto w = number(1);
      if (!w || *w < 1 || *w > 5 || !eat('.')) return std::nullopt;
      auto d = number(1);
      if (!d || *d > 6) return std::nullopt;
      out.kind = Kind::month_week_day;
      out.month = *m;
      out.week = *w;
      out.day = *d;
    } else {
      auto n = number(3);
      if (!n || *n > 365) return std::nullopt;
      out.kind = Kind::julian_zero;
      out.day = *n;
    }
    if (eat('/')) {
      auto time = duration(167);
      if (!time) return std::nullopt;
      out.time = *time;
    }
    return out;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

// The unix day on which `change` happens in `year`.
std::int64_t change_day(const PosixRule::Change& change, int year) {
  using Kind = PosixRule::Change::Kind;
  const std::int64_t jan1 = days_from_civil(year, 1, 1);
  switch (change.kind) {
    case Kind::julian_no_leap:
      return jan1 + change.day - 1 + (is_leap(year) && change.day >= 60 ? 1 : 0);
    case Kind::julian_zero: return jan1 + change.day;
    case Kind::month_week_day: break;
  }
  const chr::year_month ym{chr::year{year}, chr::month{static_cast<unsigned>(change.month)}};
  const chr::weekday wd{static_cast<unsigned>(change.day)};
  const chr::sys_days day =
      change.week == 5
          ? chr::sys_days{ym / chr::weekday_last{wd}}
          : chr::sys_days{ym / chr::weekday_indexed{wd, static_cast<unsigned>(change.week)}};
  return day.time_since_epoch().count();
}

int utc_year(std::int64_t unix_seconds) {
  const auto day = chr::sys_days{
      chr::days{unix_seconds >= 0 ? unix_seconds / kDay : (unix_seconds - kDay + 1) / kDay}};
  return static_cast<int>(chr::year_month_day{day}.year());
}

std::int32_t rule_offset(const PosixRule& rule, std::int64_t t) {
  if (!rule.has_dst) return rule.std_offset;
  const int year = utc_year(t);
  // The latest change at or before t among the neighbouring years' (southern rules wrap).
  std::int64_t best_time = INT64_MIN;
  std::int32_t best = rule.std_offset;
  for (int y = year - 1; y <= year + 1; ++y) {
    const std::int64_t start = change_day(rule.start, y) * kDay + rule.start.time - rule.std_offset;
    const std::int64_t end = change_day(rule.end, y) * kDay + rule.end.time - rule.dst_offset;
    if (start <= t && start > best_time) {
      best_time = start;
      best = rule.dst_offset;
    }
    if (end <= t && end > best_time) {
      best_time = end;
      best = rule.std_offset;
    }
  }
  return best;
}

class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}
  bool has(std::size_t n) const { return bytes_.size() - pos_ >= n; }
  std::int64_t be(std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(bytes_[pos_ + i]);
    pos_ += n;
    if (n == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    return static_cast<std::int64_t>(v);
  }
  void skip(std::size_t n) { pos_ += n; }
  std::size_t pos() const { return pos_; }
  std::string_view rest() const { return bytes_.substr(pos_); }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

struct TzifCounts {
  std::size_t isut = 0, isstd = 0, leap = 0, time = 0, type = 0, chars = 0;
};

std::optional<TzifCounts> read_header(ByteReader& in, char* version) {
  if (!in.has(44)) return std::nullopt;
  const std::string_view magic = in.rest().substr(0, 4);
  if (magic != "TZif") return std::nullopt;
  *version = in.rest()[4];
  in.skip(20);
  TzifCounts c;
  c.isut = static_cast<std::size_t>(in.be(4));
  c.isstd = static_cast<std::size_t>(in.be(4));
  c.leap = static_cast<std::size_t>(in.be(4));
  c.time = static_cast<std::size_t>(in.be(4));
  c.type = static_cast<std::size_t>(in.be(4));
  c.chars = static_cast<std::size_t>(in.be(4));
  if (c.type == 0 || c.type > 256 || c.time > 100000 || c.leap > 10000 || c.chars > 100000 ||
      c.isut > 256 || c.isstd > 256)
    return std::nullopt;
  return c;
}

std::size_t block_size(const TzifCounts& c, std::size_t time_size) {
  return c.time * time_size + c.time + c.type * 6 + c.chars + c.leap * (time_size + 4) + c.isstd +
         c.isut;
}

}  // namespace

int days_in_month(int year, int month) {
  constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  return month == 2 && is_leap(year) ? 29 : kDays[static_cast<std::size_t>(month - 1)];
}

bool is_valid_date(int year, int month, int day) {
  return year >= 1 && year <= 9999 && day >= 1 && day <= days_in_month(year, month);
}

std::optional<PosixRule> parse_posix_rule(std::string_view text) {
  RuleReader in(text);
  PosixRule rule;
  if (!in.name()) return std::nullopt;
  auto std_west = in.duration(24);
  if (!std_west) return std::nullopt;
  rule.std_offset = -*std_west;
  if (in.done()) return rule;
  if (!in.name()) return std::nullopt;
  rule.has_dst = true;
  rule.dst_offset = rule.std_offset + 3600;
  if (in.peek() != ',' && !in.done()) {
    auto dst_west = in.duration(24);
    if (!dst_west) return std::nullopt;
    rule.dst_offset = -*dst_west;
  }
  if (in.done()) {
    // POSIX leaves the default to the implementation; glibc and tzcode use the US rules.
    rule.start = {PosixRule::Change::Kind::month_week_day, 0, 3, 2, 7200};
    rule.end = {PosixRule::Change::Kind::month_week_day, 0, 11, 1, 7200};
    return rule;
  }
  if (!in.eat(',')) return std::nullopt;
  auto start = in.change();
  if (!start || !in.eat(',')) return std::nullopt;
  auto end = in.change();
  if (!end || !in.done()) return std::nullopt;
  rule.start = *start;
  rule.end = *end;
  return rule;
}

bool is_time_zone_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/') return false;
  char previous = '/';
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '+' || c == '-' || c == '/';
    if (!ok || (c == '/' && previous == '/')) return false;
    previous = c;
  }
  return true;
}

TimeZone TimeZone::utc() {
  auto data = std::make_shared<Data>();
  data->name = "UTC";
  return TimeZone(std::move(data));
}

std::optional<TimeZone> TimeZone::from_posix(std::string name, std::string_view rule) {
  auto parsed = parse_posix_rule(rule);
  if (!parsed) return std::nullopt;
  auto data = std::make_shared<Data>();
  data->name = std::move(name);
  data->rule = *parsed;
  data->initial_offset = parsed->std_offset;
  return TimeZone(std::move(data));
}

std::optional<TimeZone> TimeZone::from_tzif(std::string name, std::string_view bytes) {
  ByteReader in(bytes);
  char version = 0;
  auto counts = read_header(in, &version);
  if (!counts) return std::nullopt;
  std::size_t time_size = 4;
  if (version >= '2') {
    // Skip the 32-bit block for the 64-bit one that follows it.
    const std::size_t v1 = block_size(*counts, 4);
    if (!in.has(v1)) return std::nullopt;
    in.skip(v1);
    counts = read_header(in, &version);
    if (!counts) return std::nullopt;
    time_size = 8;
  }
  if (!in.has(block_size(*counts, time_size))) return std::nullopt;
  auto data = std::make_shared<Data>();
  data->name = std::move(name);
  std::vector<std::int64_t> times(counts->time);
  for (auto& t : times) t = in.be(time_size);
  std::vector<std::size_t> indices(counts->time);
  for (auto& i : indices) i = static_cast<std::size_t>(in.be(1));
  std::vector<std::int32_t> type_offsets(counts->type);
  for (auto& offset : type_offsets) {
    offset = static_cast<std::int32_t>(in.be(4));
    in.skip(2);  // isdst, abbreviation index
    if (offset < -26 * 3600 || offset > 26 * 3600) return std::nullopt;
  }
  for (std::size_t i = 0; i < times.size(); ++i) {
    if (indices[i] >= type_offsets.size() || (i > 0 && times[i] <= times[i - 1]))
      return std::nullopt;
  }
  in.skip(counts->chars + counts->leap * (time_size + 4) + counts->isstd + counts->isut);
  data->transitions = std::move(times);
  for (auto i : indices) data->offsets.push_back(type_offsets[i]);
  data->initial_offset = type_offsets[0];
  if (time_size == 8) {
    const std::string_view footer = in.rest();
    if (footer.size() >= 2 && footer.front() == '\n') {
      const auto newline = footer.find('\n', 1);
      const std::string_view rule = footer.substr(
          1, newline == std::string_view::npos ? std::string_view::npos : newline - 1);
      // An empty footer means "no rule": the last transition's offset holds forever.
      if (!rule.empty()) {
        data->rule = parse_posix_rule(rule);
        if (!data->rule) return std::nullopt;
      }
    }
  }
  return TimeZone(std::move(data));
}

std::optional<TimeZone> TimeZone::load(std::string_view name) {
  if (!is_time_zone_name(name)) return std::nullopt;
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const Data>, std::less<>> cache;
  {
    std::lock_guard lock(mutex);
    if (auto it = cache.find(name); it != cache.end()) return TimeZone(it->second);
  }
  const char* dir = std::getenv("TZDIR");
  const std::string path =
      std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + std::string(name);
  std::optional<TimeZone> zone;
  std::ifstream file(path, std::ios::binary);
  if (file) {
    std::string bytes;
    bytes.resize(kMaxTzifBytes + 1);
    file.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    bytes.resize(static_cast<std::size_t>(file.gcount()));
    if (bytes.size() <= kMaxTzifBytes) zone = from_tzif(std::string(name), bytes);
  }
  if (!zone && (name == "UTC" || name == "Etc/UTC")) zone = utc();
  if (!zone) return std::nullopt;
  std::lock_guard lock(mutex);
  if (cache.size() < kMaxCachedZones) cache.emplace(std::string(name), zone->data_);
  return zone;
}

std::int32_t TimeZone::offset_at(std::int64_t t) const {
  const auto& d = *data_;
  if (d.transitions.empty()) return d.rule ? rule_offset(*d.rule, t) : d.initial_offset;
  if (t < d.transitions.front()) return d.initial_offset;
  const auto it = std::upper_bound(d.transitions.begin(), d.transitions.end(), t);
  const auto index = static_cast<std::size_t>(std::distance(d.transitions.begin(), it)) - 1;
  if (it == d.transitions.end() && d.rule) return rule_offset(*d.rule, t);
  return d.offsets[index];
}

LocalDateTime TimeZone::to_local(SystemTime t) const {
  const std::int64_t unix_seconds = chr::floor<chr::seconds>(t.time_since_epoch()).count();
  const std::int64_t local = unix_seconds + offset_at(unix_seconds);
  const std::int64_t days = local >= 0 ? local / kDay : (local - kDay + 1) / kDay;
  const std::int64_t second_of_day = local - days * kDay;
  const chr::sys_days day{chr::days{days}};
  const chr::year_month_day ymd{day};
  return {.year = static_cast<int>(ymd.year()),
          .month = static_cast<int>(static_cast<unsigned>(ymd.month())),
          .day = static_cast<int>(static_cast<unsigned>(ymd.day())),
          .hour = static_cast<int>(second_of_day / 3600),
          .minute = static_cast<int>(second_of_day % 3600 / 60),
          .second = static_cast<int>(second_of_day % 60),
          .weekday = static_cast<int>(chr::weekday{day}.c_encoding())};
}

SystemTime TimeZone::from_local(const LocalDateTime& local) const {
  const std::int64_t wall = days_from_civil(local.year, local.month, local.day) * kDay +
                            local.hour * 3600 + local.minute * 60 + local.second;
  // Offsets differ around the wall time only near a transition: try the one before and after.
  const std::int32_t before = offset_at(wall - kDay);
  const std::int32_t after = offset_at(wall + kDay);
  const std::int64_t t1 = wall - before;
  const std::int64_t t2 = wall - after;
  const bool ok1 = offset_at(t1) == before;
  const bool ok2 = offset_at(t2) == after;
  std::int64_t t = wall - before;  // in a gap: read with the offset before it
  if (ok1 && ok2) {
    t = std::min(t1, t2);
  } else if (ok2) {
    t = t2;
  }
  return SystemTime{chr::seconds{t}};
}

}  // namespace waddle::actions
