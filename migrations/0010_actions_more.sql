-- The inventory module of waddle-actiond (services/actions/modules/inventory/): a community's
-- items, who has which one checked out, and a log of every change. The labels, reputation and
-- alias modules use the tables of 0002 and 0003.

create table inventory_items (
  id bigint generated always as identity primary key,
  community_id bigint not null references communities (id) on delete cascade,
  name text not null
    constraint inventory_items_name_shape
      check (name ~ '^[^\s@"].{0,63}$' and name !~ '[[:cntrl:]]' and char_length(name) <= 64),
  quantity integer not null check (quantity between 1 and 1000000),
  created_by text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, community_id)
);
create unique index inventory_items_name on inventory_items (community_id, lower(name));
create trigger inventory_items_updated_at before update on inventory_items
  for each row execute function waddle_set_updated_at();

-- One unit of an item per open row; returned rows stay as history.
create table inventory_checkouts (
  id bigint generated always as identity primary key,
  community_id bigint not null,
  item_id bigint not null,
  user_id bigint not null references users (id) on delete cascade,
  holder_name text not null,
  checked_out_by text,
  checked_out_at timestamptz not null default now(),
  returned_at timestamptz,
  returned_by text,
  foreign key (item_id, community_id) references inventory_items (id, community_id)
    on delete cascade
);
-- A user holds at most one unit of an item at a time.
create unique index inventory_checkouts_open on inventory_checkouts (item_id, user_id)
  where returned_at is null;
create index inventory_checkouts_user on inventory_checkouts (community_id, user_id)
  where returned_at is null;

-- Every change, append-only. item_name is kept as it was, so the log outlives a removed item.
create table inventory_activity (
  id bigint generated always as identity primary key,
  community_id bigint not null references communities (id) on delete cascade,
  item_id bigint,
  item_name text not null,
  action text not null check (action in ('add', 'remove', 'checkout', 'return')),
  quantity integer not null check (quantity > 0),
  quantity_after integer not null check (quantity_after >= 0),
  holder_id bigint references users (id) on delete cascade,
  holder_name text,
  actor_id text,
  actor_name text,
  platform waddle_platform,
  created_at timestamptz not null default now(),
  constraint inventory_activity_holder
    check (action not in ('checkout', 'return') or holder_name is not null)
);
create index inventory_activity_community on inventory_activity (community_id, id desc);
create index inventory_activity_item on inventory_activity (community_id, lower(item_name), id desc);
create trigger inventory_activity_append_only before update on inventory_activity
  for each row execute function waddle_refuse_update();
