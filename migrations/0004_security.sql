-- API keys, overlay tokens and the admin audit log. Secrets are stored only as SHA-256 hex
-- digests; the short prefix is what people see in listings and logs.

create table api_keys (
  id bigint generated always as identity primary key,
  name text not null unique check (name <> ''),
  key_prefix text not null unique
    constraint api_keys_prefix_shape check (key_prefix ~ '^[A-Za-z0-9_-]{4,16}$'),
  key_hash text not null unique
    constraint api_keys_hash_is_sha256 check (key_hash ~ '^[0-9a-f]{64}$'),
  roles text[] not null
    constraint api_keys_roles_known
      check (cardinality(roles) > 0
             and roles <@ array['admin', 'collector', 'module', 'readonly']::text[]),
  -- null = every community.
  community_id bigint references communities (id) on delete cascade,
  created_by text,
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz
);
create index api_keys_active on api_keys (key_hash) where revoked_at is null;

create table overlay_tokens (
  id bigint generated always as identity primary key,
  community_id bigint not null references communities (id) on delete cascade,
  name text not null default 'default',
  token_prefix text not null unique
    constraint overlay_tokens_prefix_shape check (token_prefix ~ '^[A-Za-z0-9_-]{4,16}$'),
  token_hash text not null unique
    constraint overlay_tokens_hash_is_sha256 check (token_hash ~ '^[0-9a-f]{64}$'),
  sources text[] not null default array['chat', 'media', 'ticker', 'general']::text[]
    constraint overlay_tokens_sources_known
      check (sources <@ array['chat', 'media', 'ticker', 'general', 'form', 'alerts']::text[]),
  created_by text,
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz,
  unique (community_id, name)
);
create index overlay_tokens_active on overlay_tokens (token_hash) where revoked_at is null;

-- Who (OS user) did what to what through `waddle`. Rows are never changed once written.
create table admin_audit_log (
  id bigint generated always as identity primary key,
  actor text not null check (actor <> ''),
  action text not null check (action <> ''),
  target text,
  details jsonb not null default '{}' check (jsonb_typeof(details) = 'object'),
  created_at timestamptz not null default now()
);
create index admin_audit_log_created on admin_audit_log (created_at);
create trigger admin_audit_log_append_only before update on admin_audit_log
  for each row execute function waddle_refuse_update();
