-- Change notifications for the tables whose rows the router caches. Channel `waddle_changes`,
-- payload JSON {"table", "op", "id", "community_id" (when the table has one), "key" (the cache key
-- the row is looked up by, when there is one), "old_key" (when an UPDATE changed the key)}.
-- NOTIFY is transactional: listeners hear nothing of a rolled-back change.

create function waddle_cache_key(tbl text, r jsonb) returns text
language sql immutable as $$
  select case tbl
    when 'commands' then (r ->> 'prefix') || (r ->> 'command')
    when 'aliases' then r ->> 'alias'
    when 'entities' then r ->> 'entity_id'
    else null
  end
$$;

create function waddle_notify_change() returns trigger
language plpgsql as $$
declare
  r jsonb;
  payload jsonb;
  k text;
  old_k text;
begin
  if tg_op = 'TRUNCATE' then
    perform pg_notify('waddle_changes',
                      jsonb_build_object('table', tg_table_name, 'op', tg_op)::text);
    return null;
  end if;
  if tg_op = 'DELETE' then r := to_jsonb(old); else r := to_jsonb(new); end if;
  -- Usage counters change on every execution or match; they are not cached, so bumping them
  -- must not make every router flush its caches.
  if tg_op = 'UPDATE' and (to_jsonb(old) - array['usage_count', 'last_used', 'match_count',
                                                  'last_matched', 'updated_at'])
                          = (r - array['usage_count', 'last_used', 'match_count', 'last_matched',
                                       'updated_at']) then
    return null;
  end if;
  payload := jsonb_build_object('table', tg_table_name, 'op', tg_op, 'id', r -> 'id');
  if r ? 'community_id' then
    payload := payload || jsonb_build_object('community_id', r -> 'community_id');
  end if;
  k := waddle_cache_key(tg_table_name, r);
  if k is not null then
    payload := payload || jsonb_build_object('key', k);
  end if;
  if tg_op = 'UPDATE' then
    old_k := waddle_cache_key(tg_table_name, to_jsonb(old));
    if old_k is distinct from k then
      payload := payload || jsonb_build_object('old_key', old_k);
    end if;
    if (to_jsonb(old) -> 'community_id') is distinct from (r -> 'community_id') then
      payload := payload || jsonb_build_object('old_community_id', to_jsonb(old) -> 'community_id');
    end if;
  end if;
  perform pg_notify('waddle_changes', payload::text);
  return null;
end;
$$;

create trigger commands_notify after insert or update or delete on commands
  for each row execute function waddle_notify_change();
create trigger commands_notify_truncate after truncate on commands
  for each statement execute function waddle_notify_change();

create trigger command_permissions_notify after insert or update or delete on command_permissions
  for each row execute function waddle_notify_change();
create trigger command_permissions_notify_truncate after truncate on command_permissions
  for each statement execute function waddle_notify_change();

create trigger aliases_notify after insert or update or delete on aliases
  for each row execute function waddle_notify_change();
create trigger aliases_notify_truncate after truncate on aliases
  for each statement execute function waddle_notify_change();

create trigger string_rules_notify after insert or update or delete on string_rules
  for each row execute function waddle_notify_change();
create trigger string_rules_notify_truncate after truncate on string_rules
  for each statement execute function waddle_notify_change();

create trigger entities_notify after insert or update or delete on entities
  for each row execute function waddle_notify_change();
create trigger entities_notify_truncate after truncate on entities
  for each statement execute function waddle_notify_change();
