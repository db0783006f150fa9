-- Labels and reputation.

create table labels (
  id bigint generated always as identity primary key,
  community_id bigint not null references communities (id) on delete cascade,
  name text not null constraint labels_name_shape check (name ~ '^[^\s].{0,62}$'),
  description text not null default '',
  color text check (color ~ '^#[0-9a-fA-F]{6}$'),
  created_by text,
  created_at timestamptz not null default now(),
  unique (id, community_id)
);
create unique index labels_name_per_community on labels (community_id, lower(name));

create table label_assignments (
  id bigint generated always as identity primary key,
  community_id bigint not null references communities (id) on delete cascade,
  label_id bigint not null,
  user_id bigint not null references users (id) on delete cascade,
  assigned_by text,
  created_at timestamptz not null default now(),
  -- The label must belong to the same community as the assignment.
  foreign key (label_id, community_id) references labels (id, community_id) on delete cascade,
  unique (label_id, user_id)
);
create index label_assignments_user on label_assignments (community_id, user_id);

-- At most 5 labels per community and 5 per user per community. The counted parent row is locked
-- first, so two concurrent inserts cannot both see 4 and both succeed.
create function waddle_limit_labels() returns trigger
language plpgsql as $$
declare
  n integer;
begin
  if tg_op = 'UPDATE' and new.community_id = old.community_id then
    return new;
  end if;
  perform 1 from communities where id = new.community_id for no key update;
  select count(*) into n from labels where community_id = new.community_id;
  if n >= 5 then
    raise exception 'community % already has 5 labels, the limit', new.community_id
      using errcode = 'WD001';
  end if;
  return new;
end;
$$;
create trigger labels_limit before insert or update of community_id on labels
  for each row execute function waddle_limit_labels();

create function waddle_limit_label_assignments() returns trigger
language plpgsql as $$
declare
  n integer;
begin
  if tg_op = 'UPDATE' and new.community_id = old.community_id and new.user_id = old.user_id then
    return new;
  end if;
  perform 1 from users where id = new.user_id for no key update;
  select count(*) into n from label_assignments
   where community_id = new.community_id and user_id = new.user_id;
  if n >= 5 then
    raise exception 'user % already has 5 labels in community %, the limit',
      new.user_id, new.community_id
      using errcode = 'WD001';
  end if;
  return new;
end;
$$;
create trigger label_assignments_limit
  before insert or update of community_id, user_id on label_assignments
  for each row execute function waddle_limit_label_assignments();

-- Points per event type. community_id null = the default for every community; a row with a
-- community_id overrides it there. platform null = every platform. When per_amount is set, the
-- points are awarded per per_amount units of the event's amount (bits, minutes).
create table reputation_event_points (
  id bigint generated always as identity primary key,
  community_id bigint references communities (id) on delete cascade,
  event_type text not null check (event_type <> ''),
  platform waddle_platform,
  points integer not null,
  per_amount integer check (per_amount > 0),
  created_at timestamptz not null default now()
);
create unique index reputation_event_points_key
  on reputation_event_points (coalesce(community_id, 0), event_type, coalesce(platform, ''));

-- The seeds' default point values; event types are the router's message_type names.
insert into reputation_event_points (event_type, platform, points, per_amount) values
  ('chatMessage', null, 5, null),
  ('follow', null, 10, null),
  ('subscription', null, 50, null),
  ('resub', null, 30, null),
  ('subgift', null, 60, null),
  ('raid', null, 30, null),
  ('cheer', null, 1, 100),
  ('ban', null, -10, null),
  ('reaction', null, 2, null),
  ('reaction', 'slack', 3, null),
  ('member_join', null, 10, null),
  ('voice_join', null, 8, null),
  ('voice_time', null, 1, 1),
  ('boost', null, 100, null),
  ('file_share', null, 15, null),
  ('app_mention', null, 8, null);

-- The ledger: append-only, corrections are new rows with negative points.
create table reputation_events (
  id bigint generated always as identity primary key,
  community_id bigint not null references communities (id) on delete cascade,
  user_id bigint not null references users (id) on delete cascade,
  event_type text not null check (event_type <> ''),
  points integer not null,
  reason text,
  created_at timestamptz not null default now()
);
create index reputation_events_user on reputation_events (community_id, user_id);
create index reputation_events_created on reputation_events (created_at);

create table reputation_totals (
  community_id bigint not null references communities (id) on delete cascade,
  user_id bigint not null references users (id) on delete cascade,
  points bigint not null default 0,
  event_count bigint not null default 0,
  last_event_at timestamptz,
  primary key (community_id, user_id)
);
create index reputation_totals_leaderboard on reputation_totals (community_id, points desc);

create function waddle_refuse_update() returns trigger
language plpgsql as $$
begin
  raise exception '% is append-only: rows cannot be updated', tg_table_name
    using errcode = 'WD003';
end;
$$;
create trigger reputation_events_append_only before update on reputation_events
  for each row execute function waddle_refuse_update();

-- Totals follow the ledger, one upsert per (community, user) per statement, so batched inserts
-- from the router cost one round of upserts, not one per event. Earning reputation in a community
-- makes the user a member there.
create function waddle_add_reputation_totals() returns trigger
language plpgsql as $$
begin
  insert into community_members (community_id, user_id)
  select distinct community_id, user_id from new_events
  on conflict (community_id, user_id) do nothing;
  insert into reputation_totals as t (community_id, user_id, points, event_count, last_event_at)
  select community_id, user_id, sum(points), count(*), max(created_at)
    from new_events group by community_id, user_id
  on conflict (community_id, user_id) do update
    set points = t.points + excluded.points,
        event_count = t.event_count + excluded.event_count,
        last_event_at = greatest(t.last_event_at, excluded.last_event_at);
  return null;
end;
$$;
create trigger reputation_events_totals after insert on reputation_events
  referencing new table as new_events
  for each statement execute function waddle_add_reputation_totals();

-- A member's reputation in a community (0 when nothing was earned yet).
create view community_member_reputation as
select m.community_id, m.user_id, m.role,
       coalesce(t.points, 0) as reputation,
       coalesce(t.event_count, 0) as event_count,
       t.last_event_at
  from community_members m
  left join reputation_totals t on t.community_id = m.community_id and t.user_id = m.user_id;
