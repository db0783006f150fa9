-- The calendar module of waddle-actiond (services/actions/modules/calendar/): community events,
-- approved by moderators when members add them, who is going, and their recurrence. Reminders
-- are scheduled_messages rows (0012) with module_name 'calendar', kind 'event', ref_id = the event.

create table calendar_events (
  id bigint generated always as identity primary key,
  community_id bigint not null references communities (id) on delete cascade,
  -- The channel it was added in; its reminders are said there.
  entity_id text not null
    constraint calendar_events_entity_id_shape
      check (entity_id ~ '^(twitch|discord|slack|console):[^:]+:[^:]+$'),
  title text not null
    constraint calendar_events_title_shape
      check (char_length(title) between 1 and 200 and title !~ '[[:cntrl:]]'),
  -- The first occurrence. Later ones keep its wall-clock time in time_zone (an IANA name).
  starts_at timestamptz not null,
  time_zone text not null
    constraint calendar_events_time_zone_shape
      check (time_zone ~ '^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$' and char_length(time_zone) <= 64),
  recurrence text not null default 'none' check (recurrence in ('none', 'weekly', 'monthly')),
  status text not null default 'pending'
    check (status in ('pending', 'approved', 'rejected', 'cancelled')),
  created_by_id text not null,
  created_by_platform waddle_platform,
  created_by_name text not null,
  approved_by text,
  approved_at timestamptz,
  cancelled_by text,
  cancelled_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint calendar_events_approved check ((status = 'approved') <= (approved_at is not null))
);
create index calendar_events_upcoming on calendar_events (community_id, status, starts_at);
create index calendar_events_pending_by on calendar_events (community_id, created_by_id)
  where status = 'pending';
create trigger calendar_events_updated_at before update on calendar_events
  for each row execute function waddle_set_updated_at();

create table calendar_attendees (
  id bigint generated always as identity primary key,
  event_id bigint not null references calendar_events (id) on delete cascade,
  platform waddle_platform not null,
  user_id text not null,
  user_name text not null,
  joined_at timestamptz not null default now(),
  unique (event_id, platform, user_id)
);
