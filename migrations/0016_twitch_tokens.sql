-- Platform user tokens the collectors act with (issue 7: the Twitch bot account's user access
-- token and its refresh token). Both are sealed with AES-256-GCM by the application (key in
-- twitch.token_key_file, services/twitch/tokens.hpp): the database never sees a usable token.
-- A refresh replaces the pair in one UPDATE that compares refresh_token_enc with the value read,
-- so two collector instances refreshing at once cannot overwrite the newer refresh token.
create table platform_tokens (
  platform text not null check (platform in ('twitch', 'discord', 'slack')),
  account text not null check (account <> ''),
  access_token_enc bytea not null check (length(access_token_enc) > 28),
  refresh_token_enc bytea check (refresh_token_enc is null or length(refresh_token_enc) > 28),
  scopes text[] not null default '{}',
  user_id text,
  expires_at timestamptz,
  updated_at timestamptz not null default now(),
  primary key (platform, account)
);
