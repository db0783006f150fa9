-- The identity module's link requests, labels mapped to platform roles, and quote reactions
-- (services/actions/modules/identity, labels, memories).

-- Where a link request came from: the community whose channel sent the code, and the platform
-- the requesting user spoke on. The per-user rate limit counts a user's recent rows.
alter table verification_codes
  add column community_id bigint references communities (id) on delete cascade,
  add column requested_platform waddle_platform;
create index verification_codes_recent on verification_codes (user_id, created_at);

-- A user row absorbed by an identity link (!verify) is kept as a tombstone pointing at the user
-- it was merged into, because writers may still hold its id: the router caches users.id per
-- platform identity in memory and credits the ledger with it. Ledger rows written for a
-- tombstone land on the user it was merged into.
alter table users add column merged_into bigint references users (id) on delete set null;
create index users_merged_into on users (merged_into) where merged_into is not null;

create function waddle_redirect_merged_user() returns trigger
language plpgsql as $$
declare
  target bigint;
  hops integer := 0;
begin
  -- FOR SHARE waits for a merge in progress (its first statement updates this row) and then
  -- reads the merged_into it committed.
  select merged_into into target from users where id = new.user_id for share;
  while target is not null and hops < 16 loop
    new.user_id := target;
    select merged_into into target from users where id = new.user_id for share;
    hops := hops + 1;
  end loop;
  return new;
end;
$$;
create trigger reputation_events_merged_user before insert on reputation_events
  for each row execute function waddle_redirect_merged_user();

-- A label can grant a platform role: a Twitch "vip" or "moderator", a Discord role id, a Slack
-- user group. One role per label per platform; the module emits `role` actions when the label
-- is given or taken.
create table label_roles (
  id bigint generated always as identity primary key,
  community_id bigint not null references communities (id) on delete cascade,
  label_id bigint not null,
  platform waddle_platform not null,
  role text not null
    constraint label_roles_role_shape check (role ~ '^[^[:space:][:cntrl:]]{1,100}$'),
  created_by text,
  created_at timestamptz not null default now(),
  foreign key (label_id, community_id) references labels (id, community_id) on delete cascade,
  unique (label_id, platform)
);
create index label_roles_community on label_roles (community_id);

-- Reactions to quotes (the seeds' memory_reactions): one per user per quote per reaction; a
-- reaction is an emoji or a word of at most 16 characters. user_key is '<platform>:<platform
-- user id>', so reactions need no users row.
create table memory_reactions (
  id bigint generated always as identity primary key,
  community_id bigint not null references communities (id) on delete cascade,
  memory_id bigint not null references memories (id) on delete cascade,
  reaction text not null
    constraint memory_reactions_reaction_shape
      check (char_length(reaction) between 1 and 16 and reaction !~ '[[:space:][:cntrl:]]'),
  user_key text not null check (user_key <> ''),
  user_name text,
  created_at timestamptz not null default now(),
  unique (memory_id, reaction, user_key)
);
create index memory_reactions_community on memory_reactions (community_id);
