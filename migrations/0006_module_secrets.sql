-- The key each module's requests are signed with (DESIGN.md §2.3: X-Waddle-Signature is the
-- HMAC-SHA256 of timestamp "." body). Unlike API keys it cannot be stored as a digest: the router
-- needs the key itself to sign, and the module (waddle-actiond, or a third party given the key by
-- `waddle module secret`) to verify. One key per module_name; rotating replaces it.
create table module_secrets (
  module_name text primary key check (module_name <> ''),
  secret text not null
    constraint module_secrets_secret_shape check (secret ~ '^[0-9a-f]{64}$'),
  created_by text,
  created_at timestamptz not null default now(),
  rotated_at timestamptz
);

-- The router caches the keys; tell it when one changes.
create trigger module_secrets_notify after insert or update or delete on module_secrets
  for each row execute function waddle_notify_change();
create trigger module_secrets_notify_truncate after truncate on module_secrets
  for each statement execute function waddle_notify_change();
