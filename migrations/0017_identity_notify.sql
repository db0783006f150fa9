-- Routers cache which user a platform account is (for reputation credits) and that user's
-- community role. Linking an identity to another user (`!verify`, which moves the row) and
-- unlinking it (which deletes it) must reach them at once. A new identity (every new chatter)
-- needs no notice: nothing cached it yet.
create trigger platform_identities_notify after update of user_id or delete on platform_identities
  for each row execute function waddle_notify_change();
