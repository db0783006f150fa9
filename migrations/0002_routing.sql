-- What the router needs to route: entities, the collectors' servers and registrations,
-- commands, per-community permissions, aliases, string rules, executions, module responses and
-- the coordination table.

-- <platform>:<server>:<channel> -> community. The string itself is the key everybody passes
-- around (the original compared it with an integer foreign key and never matched).
create table entities (
  id bigint generated always as identity primary key,
  entity_id text not null unique
    constraint entities_entity_id_shape
      check (entity_id ~ '^(twitch|discord|slack|console):[^:]+:[^:]+$'),
  platform waddle_platform not null,
  server_id text not null,
  channel_id text not null,
  community_id bigint not null references communities (id) on delete cascade,
  owner text,
  is_active boolean not null default true,
  config jsonb not null default '{}' check (jsonb_typeof(config) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint entities_parts_match
    check (entity_id = platform || ':' || server_id || ':' || channel_id)
);
create index entities_community on entities (community_id);
create trigger entities_updated_at before update on entities
  for each row execute function waddle_set_updated_at();

-- The channels each collector monitors (the seeds' shared `servers` table).
create table servers (
  id bigint generated always as identity primary key,
  owner text,
  platform waddle_platform not null,
  channel text not null check (channel <> ''),
  server_id text not null check (server_id <> ''),
  community_id bigint references communities (id) on delete set null,
  is_active boolean not null default true,
  webhook_url http_url,
  config jsonb not null default '{}' check (jsonb_typeof(config) = 'object'),
  last_activity timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (platform, server_id, channel)
);
create index servers_active on servers (platform) where is_active;
create index servers_community on servers (community_id);
create trigger servers_updated_at before update on servers
  for each row execute function waddle_set_updated_at();

create table collector_modules (
  id bigint generated always as identity primary key,
  module_name text not null unique check (module_name <> ''),
  module_version text not null default '0.0.0',
  platform waddle_platform not null,
  endpoint_url http_url not null,
  health_check_url http_url,
  status text not null default 'active'
    check (status in ('active', 'inactive', 'error', 'maintenance')),
  last_heartbeat timestamptz,
  config jsonb not null default '{}' check (jsonb_typeof(config) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create trigger collector_modules_updated_at before update on collector_modules
  for each row execute function waddle_set_updated_at();

-- Every column of the seeds' `commands` table, plus module_name (the unit that per-community
-- permissions can switch on and off as a whole).
create table commands (
  id bigint generated always as identity primary key,
  command text not null
    constraint commands_command_shape check (command ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
  prefix text not null check (prefix in ('!', '#')),
  description text not null default '',
  location_url http_url not null,
  location text not null check (location in ('internal', 'community')),
  type text not null default 'container'
    check (type in ('container', 'webhook', 'lambda', 'openwhisk')),
  method text not null default 'POST' check (method in ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')),
  timeout integer not null default 30 check (timeout between 1 and 300),
  headers jsonb not null default '{}' check (jsonb_typeof(headers) = 'object'),
  auth_required boolean not null default false,
  rate_limit integer not null default 0 check (rate_limit >= 0),
  is_active boolean not null default true,
  module_type text not null default 'action' check (module_type in ('trigger', 'action', 'core')),
  module_id text,
  module_name text not null check (module_name <> ''),
  version text not null default '1.0.0',
  trigger_type text not null default 'command' check (trigger_type in ('command', 'event', 'both')),
  event_types jsonb not null default '[]' check (jsonb_typeof(event_types) = 'array'),
  priority integer not null default 100,
  execution_mode text not null default 'sequential'
    check (execution_mode in ('sequential', 'parallel')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- `!` runs local (internal) modules, `#` community modules, which are never local containers.
  constraint commands_prefix_location check ((prefix = '!') = (location = 'internal')),
  constraint commands_community_not_container check (prefix <> '#' or type <> 'container'),
  unique (prefix, command)
);
create index commands_active_lookup on commands (prefix, command) where is_active;
create index commands_event_triggers on commands (priority)
  where is_active and trigger_type in ('event', 'both');
create index commands_module on commands (module_name);
create trigger commands_updated_at before update on commands
  for each row execute function waddle_set_updated_at();

-- Per-community switch for one command or one whole module (exactly one of the two is set).
create table command_permissions (
  id bigint generated always as identity primary key,
  community_id bigint not null references communities (id) on delete cascade,
  command_id bigint references commands (id) on delete cascade,
  module_name text check (module_name <> ''),
  is_enabled boolean not null default true,
  config jsonb not null default '{}' check (jsonb_typeof(config) = 'object'),
  min_role waddle_role not null default 'member',
  permissions jsonb not null default '{}' check (jsonb_typeof(permissions) = 'object'),
  usage_count bigint not null default 0 check (usage_count >= 0),
  last_used timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint command_permissions_one_target check (num_nonnulls(command_id, module_name) = 1)
);
create unique index command_permissions_command on command_permissions (community_id, command_id)
  where command_id is not null;
create unique index command_permissions_module on command_permissions (community_id, module_name)
  where module_name is not null;
create index command_permissions_command_id on command_permissions (command_id);
create trigger command_permissions_updated_at before update on command_permissions
  for each row execute function waddle_set_updated_at();

-- `!<alias> args` in a community expands to `expansion` ({user}, {arg1}.., {all_args}).
create table aliases (
  id bigint generated always as identity primary key,
  community_id bigint not null references communities (id) on delete cascade,
  alias text not null constraint aliases_alias_shape check (alias ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
  expansion text not null constraint aliases_expansion_shape check (expansion ~ '^[!#][^\s]'),
  description text not null default '',
  is_active boolean not null default true,
  created_by text,
  usage_count bigint not null default 0 check (usage_count >= 0),
  last_used timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint aliases_unique unique (community_id, alias)
);
create trigger aliases_updated_at before update on aliases
  for each row execute function waddle_set_updated_at();

-- The seeds' `stringmatch` columns, scoped to a community. enabled_entity_ids empty = every
-- entity of the community. The pattern `*` (or match_type `*`) matches every message.
create table string_rules (
  id bigint generated always as identity primary key,
  community_id bigint not null references communities (id) on delete cascade,
  string text not null check (string <> ''),
  match_type text not null default 'contains'
    check (match_type in ('exact', 'contains', 'word', 'regex', '*')),
  case_sensitive boolean not null default false,
  enabled_entity_ids jsonb not null default '[]'
    check (jsonb_typeof(enabled_entity_ids) = 'array'),
  action text not null check (action in ('warn', 'block', 'command', 'webhook')),
  command_to_execute text,
  command_parameters jsonb not null default '[]' check (jsonb_typeof(command_parameters) = 'array'),
  webhook_url http_url,
  warning_message text,
  block_message text,
  priority integer not null default 100,
  is_active boolean not null default true,
  match_count bigint not null default 0 check (match_count >= 0),
  last_matched timestamptz,
  created_by text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint string_rules_command_target
    check (action <> 'command' or coalesce(command_to_execute, '') <> ''),
  constraint string_rules_webhook_target check (action <> 'webhook' or webhook_url is not null)
);
create index string_rules_active on string_rules (community_id, priority) where is_active;
create trigger string_rules_updated_at before update on string_rules
  for each row execute function waddle_set_updated_at();

-- One row per module execution (command, event trigger or rule). entity_id is the string, kept
-- without a foreign key: the history outlives the entity mapping.
create table command_executions (
  id bigint generated always as identity primary key,
  execution_id text not null unique check (execution_id <> ''),
  session_id text,
  community_id bigint not null references communities (id) on delete cascade,
  command_id bigint references commands (id) on delete set null,
  entity_id text not null,
  trigger text not null default 'command' check (trigger in ('command', 'event', 'rule')),
  user_id text,
  user_name text,
  message_content text,
  parameters jsonb not null default '[]',
  location_url text,
  request_payload jsonb,
  response_status integer,
  response_data jsonb,
  execution_time_ms integer check (execution_time_ms >= 0),
  error_message text,
  retry_count integer not null default 0 check (retry_count >= 0),
  status text not null default 'pending'
    check (status in ('pending', 'success', 'failed', 'timeout')),
  created_at timestamptz not null default now(),
  completed_at timestamptz
);
create index command_executions_created on command_executions (created_at);
create index command_executions_community on command_executions (community_id, created_at);
create index command_executions_command on command_executions (command_id);

create table module_responses (
  id bigint generated always as identity primary key,
  execution_id text not null references command_executions (execution_id) on delete cascade,
  community_id bigint not null references communities (id) on delete cascade,
  session_id text,
  module_name text not null,
  success boolean not null,
  response_action text not null
    check (response_action in ('chat', 'media', 'ticker', 'form', 'general')),
  response_data jsonb not null default '{}',
  media_type text,
  media_url http_url,
  ticker_text text,
  ticker_duration integer check (ticker_duration > 0),
  chat_message text,
  error_message text,
  processing_time_ms integer check (processing_time_ms >= 0),
  created_at timestamptz not null default now()
);
create index module_responses_execution on module_responses (execution_id);
create index module_responses_community on module_responses (community_id, created_at);

-- Which collector instance serves which channel (claims with expiry, heartbeats, live status).
create table coordination (
  id bigint generated always as identity primary key,
  platform waddle_platform not null,
  server_id text not null,
  channel_id text not null,
  entity_id text not null unique
    constraint coordination_entity_id_shape
      check (entity_id ~ '^(twitch|discord|slack|console):[^:]+:[^:]+$'),
  claimed_by text,
  claimed_at timestamptz,
  status text not null default 'available'
    check (status in ('available', 'claimed', 'live', 'offline', 'error')),
  is_live boolean not null default false,
  live_since timestamptz,
  viewer_count integer not null default 0 check (viewer_count >= 0),
  last_activity timestamptz,
  last_check timestamptz,
  last_checkin timestamptz,
  claim_expires timestamptz,
  heartbeat_interval integer not null default 300 check (heartbeat_interval > 0),
  error_count integer not null default 0 check (error_count >= 0),
  metadata jsonb not null default '{}',
  priority integer not null default 100,
  max_containers integer not null default 1 check (max_containers > 0),
  config jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (platform, server_id, channel_id),
  constraint coordination_claim_consistent check ((claimed_by is null) = (claimed_at is null))
);
create index coordination_available on coordination (platform, status, priority);
create index coordination_claims on coordination (claimed_by, claim_expires);
create trigger coordination_updated_at before update on coordination
  for each row execute function waddle_set_updated_at();
