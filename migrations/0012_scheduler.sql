-- waddle-actiond's scheduler (services/actions/scheduler.*): messages due at a time (reminders,
-- timers, calendar reminders), claimed by one worker at a time with FOR UPDATE SKIP LOCKED and
-- delivered through the router's POST /router/messages. And the per-channel chat line counts the
-- router keeps, which timers read ("post only if N lines were said since the last one").

create table scheduled_messages (
  id bigint generated always as identity primary key,
  community_id bigint not null references communities (id) on delete cascade,
  entity_id text not null
    constraint scheduled_messages_entity_id_shape
      check (entity_id ~ '^(twitch|discord|slack|console):[^:]+:[^:]+$'),
  -- The module whose on_due() runs when the item fires, and its own word for the item.
  module_name text not null check (module_name ~ '^[a-z][a-z0-9_-]{0,63}$'),
  kind text not null check (kind ~ '^[a-z][a-z0-9_]{0,31}$'),
  -- The module's row the item belongs to (a timer, a calendar event); null for one-off items.
  ref_id bigint,
  due_at timestamptz not null,
  -- The actions to deliver (a JSON array of DESIGN.md §2.2 actions); on_due() may replace them.
  actions jsonb not null default '[]' check (jsonb_typeof(actions) = 'array'),
  -- Who made it (platform user id and name), for listings and "your reminders".
  created_by_id text,
  created_by_name text,
  -- A worker's claim: another worker skips the row until claimed_until has passed.
  claimed_by text,
  claimed_until timestamptz,
  attempts integer not null default 0 check (attempts >= 0),
  last_error text,
  -- Set once delivered (or given up after too many attempts: state 'failed').
  state text not null default 'pending' check (state in ('pending', 'delivered', 'failed', 'cancelled')),
  finished_at timestamptz,
  created_at timestamptz not null default now(),
  constraint scheduled_messages_claim_consistent check ((claimed_by is null) = (claimed_until is null)),
  constraint scheduled_messages_finished check ((state = 'pending') = (finished_at is null))
);
create index scheduled_messages_due on scheduled_messages (due_at) where state = 'pending';
create index scheduled_messages_ref on scheduled_messages (module_name, kind, ref_id)
  where state = 'pending';
create index scheduled_messages_community on scheduled_messages (community_id, created_at);

-- Wakes the schedulers when something new is due (payload: the due time, RFC 3339).
create function waddle_scheduled_notify() returns trigger
language plpgsql as $$
begin
  perform pg_notify('waddle_scheduler', to_char(new.due_at at time zone 'UTC',
                                                'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
  return new;
end;
$$;
create trigger scheduled_messages_notify after insert on scheduled_messages
  for each row execute function waddle_scheduled_notify();

-- Chat lines seen per channel, added up by the router in batches (plain chat makes no database
-- round trip of its own).
create table entity_activity (
  entity_id text primary key
    constraint entity_activity_entity_id_shape
      check (entity_id ~ '^(twitch|discord|slack|console):[^:]+:[^:]+$'),
  chat_lines bigint not null default 0 check (chat_lines >= 0),
  last_chat_at timestamptz
);
