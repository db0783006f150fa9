-- Communities, users, their platform identities and community membership.
-- Enum-like values are CHECKed text (domains), not Postgres enums, so that a later migration can
-- widen them with a plain ALTER DOMAIN.

create domain waddle_platform as text
  check (value in ('twitch', 'discord', 'slack', 'console'));

create domain waddle_role as text
  check (value in ('owner', 'admin', 'moderator', 'member'));

create domain http_url as text
  check (value ~ '^https?://[^\s/?#]+[^\s]*$');

-- Keeps updated_at honest without every writer having to remember it.
create function waddle_set_updated_at() returns trigger
language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

create table communities (
  id bigint generated always as identity primary key,
  name text not null unique
    constraint communities_name_shape check (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  display_name text not null default '',
  description text not null default '',
  is_global boolean not null default false,
  is_active boolean not null default true,
  config jsonb not null default '{}'
    constraint communities_config_object check (jsonb_typeof(config) = 'object'),
  created_by text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- Exactly one community can be the global one.
create unique index communities_one_global on communities (is_global) where is_global;
create trigger communities_updated_at before update on communities
  for each row execute function waddle_set_updated_at();

insert into communities (name, display_name, description, is_global, created_by)
values ('waddlebot-global', 'WaddleBot Global',
        'Every user is a member; members are never removed.', true, 'migration');

-- The global community is permanent: it cannot be deleted, renamed or demoted.
create function waddle_protect_global_community() returns trigger
language plpgsql as $$
begin
  if tg_op = 'DELETE' then
    if old.is_global then
      raise exception 'the global community % cannot be deleted', old.name
        using errcode = 'WD002';
    end if;
    return old;
  end if;
  if old.is_global and (new.name <> old.name or not new.is_global) then
    raise exception 'the global community % cannot be renamed or demoted', old.name
      using errcode = 'WD002';
  end if;
  if new.is_global and not old.is_global then
    raise exception 'community % cannot become the global community', old.name
      using errcode = 'WD002';
  end if;
  return new;
end;
$$;
create trigger communities_protect_global before update or delete on communities
  for each row execute function waddle_protect_global_community();

create table users (
  id bigint generated always as identity primary key,
  display_name text not null,
  primary_platform waddle_platform,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create trigger users_updated_at before update on users
  for each row execute function waddle_set_updated_at();

create table platform_identities (
  id bigint generated always as identity primary key,
  user_id bigint not null references users (id) on delete cascade,
  platform waddle_platform not null,
  platform_user_id text not null check (platform_user_id <> ''),
  username text not null check (username <> ''),
  display_name text,
  verified_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (platform, platform_user_id)
);
create index platform_identities_user on platform_identities (user_id);
create index platform_identities_username on platform_identities (platform, lower(username));
create trigger platform_identities_updated_at before update on platform_identities
  for each row execute function waddle_set_updated_at();

-- Codes for linking an identity: 6 characters A-Z0-9, short-lived, at most 5 attempts.
create table verification_codes (
  id bigint generated always as identity primary key,
  user_id bigint not null references users (id) on delete cascade,
  platform waddle_platform not null,
  platform_username text not null check (platform_username <> ''),
  code text not null check (code ~ '^[A-Z0-9]{6}$'),
  attempts integer not null default 0 check (attempts between 0 and 5),
  expires_at timestamptz not null default now() + interval '10 minutes',
  verified_at timestamptz,
  created_at timestamptz not null default now()
);
create index verification_codes_pending on verification_codes (platform, lower(platform_username))
  where verified_at is null;
create index verification_codes_user on verification_codes (user_id);

create table community_members (
  id bigint generated always as identity primary key,
  community_id bigint not null references communities (id) on delete cascade,
  user_id bigint not null references users (id) on delete cascade,
  role waddle_role not null default 'member',
  joined_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (community_id, user_id)
);
create index community_members_user on community_members (user_id);
create trigger community_members_updated_at before update on community_members
  for each row execute function waddle_set_updated_at();

-- Every user belongs to the global community from the moment it exists.
create function waddle_join_global_community() returns trigger
language plpgsql as $$
begin
  insert into community_members (community_id, user_id, role)
  select c.id, new.id, 'member' from communities c where c.is_global
  on conflict (community_id, user_id) do nothing;
  return null;
end;
$$;
create trigger users_join_global after insert on users
  for each row execute function waddle_join_global_community();

-- Members of the global community are never removed or moved out of it. The only way out is
-- deleting the user itself (its memberships cascade away), which this trigger lets through.
create function waddle_protect_global_members() returns trigger
language plpgsql as $$
declare
  global_id bigint;
begin
  select id into global_id from communities where is_global;
  if tg_op = 'DELETE' then
    if old.community_id = global_id and exists (select 1 from users where id = old.user_id) then
      raise exception 'user % cannot be removed from the global community', old.user_id
        using errcode = 'WD002',
              hint = 'members of waddlebot-global are permanent; delete the user instead';
    end if;
    return old;
  end if;
  if old.community_id = global_id
     and (new.community_id <> old.community_id or new.user_id <> old.user_id) then
    raise exception 'user % cannot be moved out of the global community', old.user_id
      using errcode = 'WD002';
  end if;
  return new;
end;
$$;
create trigger community_members_protect_global before update or delete on community_members
  for each row execute function waddle_protect_global_members();
