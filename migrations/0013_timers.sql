-- The timers module of waddle-actiond (services/actions/modules/timers/): a message posted in a
-- channel every N minutes, but only when at least min_chat_lines chat lines were said there since
-- its last post (entity_activity.chat_lines, 0012). Each enabled timer has one pending
-- scheduled_messages row (module_name 'timers', kind 'timer', ref_id = timers.id).

create table timers (
  id bigint generated always as identity primary key,
  community_id bigint not null references communities (id) on delete cascade,
  -- The channel it was added in, and posts in.
  entity_id text not null
    constraint timers_entity_id_shape check (entity_id ~ '^(twitch|discord|slack|console):[^:]+:[^:]+$'),
  name text not null check (name ~ '^[a-z0-9][a-z0-9_-]{0,31}$'),
  interval_minutes integer not null check (interval_minutes between 5 and 1440),
  text text not null check (char_length(text) between 1 and 400),
  min_chat_lines integer not null default 5 check (min_chat_lines between 0 and 100000),
  enabled boolean not null default true,
  created_by text,
  created_at timestamptz not null default now(),
  last_posted_at timestamptz,
  -- entity_activity.chat_lines when it last posted (or was added, enabled): the lines said since
  -- are the difference.
  chat_lines_at_last_post bigint not null default 0 check (chat_lines_at_last_post >= 0),
  post_count bigint not null default 0 check (post_count >= 0),
  skip_count bigint not null default 0 check (skip_count >= 0),
  constraint timers_name_unique unique (community_id, name)
);
create index timers_entity on timers (entity_id);
