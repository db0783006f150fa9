-- Routers cache each community's row (name, state, config such as command_prefixes): tell them
-- when one changes, as for the other cached tables (0005). The payload's "id" is the community.
create trigger communities_notify after insert or update or delete on communities
  for each row execute function waddle_notify_change();
