-- Tables of the built-in action modules that waddle-actiond hosts (services/actions/modules/).
-- Every row belongs to one community; the request's community.id scopes every query.

-- Custom commands (`!command add !name <text>`). Each name is also a row of `commands`
-- (module_name 'custom_commands') so that the router sends `!name` to waddle-actiond; that row
-- is shared by every community with a command of that name.
create table custom_commands (
  id bigint generated always as identity primary key,
  community_id bigint not null references communities (id) on delete cascade,
  name text not null
    constraint custom_commands_name_shape check (name ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
  response text not null check (char_length(response) between 1 and 500),
  min_role waddle_role not null default 'member',
  cooldown_seconds integer not null default 0 check (cooldown_seconds between 0 and 86400),
  use_count bigint not null default 0 check (use_count >= 0),
  last_used_at timestamptz,
  created_by text,
  updated_by text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint custom_commands_unique unique (community_id, name)
);
create index custom_commands_name on custom_commands (name);
create trigger custom_commands_updated_at before update on custom_commands
  for each row execute function waddle_set_updated_at();

-- The seeds' memories (quotes, links; notes later), with their categories. Quotes are numbered
-- per community; a removed number is never handed out again (memory_counters).
create table memories (
  id bigint generated always as identity primary key,
  community_id bigint not null references communities (id) on delete cascade,
  memory_type text not null check (memory_type in ('quote', 'link', 'note')),
  number integer check (number > 0),
  name text constraint memories_name_shape check (name ~ '^[a-z0-9][a-z0-9_-]{0,31}$'),
  content text not null check (char_length(content) between 1 and 500),
  url http_url check (char_length(url) <= 2000),
  category text not null default 'general'
    constraint memories_category_shape check (category ~ '^[a-z0-9][a-z0-9_-]{0,31}$'),
  platform waddle_platform,
  created_by_id text,
  created_by_name text,
  created_at timestamptz not null default now(),
  constraint memories_quote_numbered check (memory_type <> 'quote' or number is not null),
  constraint memories_link_named check (memory_type <> 'link' or (name is not null and url is not null))
);
create unique index memories_number on memories (community_id, memory_type, number)
  where number is not null;
create unique index memories_link_name on memories (community_id, name) where memory_type = 'link';
create index memories_community on memories (community_id, memory_type, created_at);

create table memory_counters (
  community_id bigint not null references communities (id) on delete cascade,
  memory_type text not null check (memory_type in ('quote', 'link', 'note')),
  last_number integer not null default 0 check (last_number >= 0),
  primary key (community_id, memory_type)
);
