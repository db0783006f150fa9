#pragma once
// Items in `scheduled_messages` (migrations/0012_scheduler.sql): what a module wants said in a
// channel at a later time. Modules add and cancel them in their own transactions; the scheduler
// (scheduler.hpp) claims due ones with FOR UPDATE SKIP LOCKED, asks the owning module's on_due()
// what to say, and delivers it through the router (Outbox).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/transaction>

#include "model/action.hpp"

namespace waddle::actions {

using SystemTime = std::chrono::system_clock::time_point;

struct NewScheduledItem {
  std::int64_t community_id = 0;
  std::string entity_id;               // the channel it is said in
  std::string module_name;             // whose on_due() runs when it fires
  std::string kind;                    // the module's own word: "reminder", "timer", "event"
  std::optional<std::int64_t> ref_id;  // the module's row (a timer, a calendar event)
  SystemTime due_at;
  std::vector<model::Action> actions;  // what to deliver unless on_due() says otherwise
  std::string created_by_id;           // platform user id; may be empty
  std::string created_by_name;
};

struct ScheduledItem : NewScheduledItem {
  std::int64_t id = 0;
  int attempts = 0;  // earlier failed deliveries
};

// Inserts one pending item in the caller's transaction (a trigger wakes the schedulers when it
// commits). Returns its id.
std::int64_t schedule_item(pqxx::work& tx, const NewScheduledItem& item);

// Cancels the pending items of one module row (a timer removed, an event cancelled or moved).
// Returns how many.
std::size_t cancel_scheduled(pqxx::work& tx, std::string_view module_name, std::string_view kind,
                             std::int64_t ref_id);

}  // namespace waddle::actions
