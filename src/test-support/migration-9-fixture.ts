// The data both backends' tests of migration 9 (changed messages) start from, at version 8: a
// plain message, and messages edited, recalled or reacted to (several times). The same SQL runs
// on SQLite and PostgreSQL; CHANGED_STAMPS is what migration 9 must stamp, in seq order.
export const CHANGED_SEED_SQL = `
  INSERT INTO users (id, username, created_at_ms) VALUES ('u1', 'ann', 1);
  INSERT INTO conversations (id, kind, created_at_ms) VALUES ('c1', 'group', 1);
  INSERT INTO messages (conversation_id, seq, id, sender_id, device, ref, body, at_us,
                        edited_at_us, recalled_at_us)
  VALUES ('c1', 1, 'm1', 'u1', 'd', 'r1', '{}', 100, NULL, NULL),
         ('c1', 2, 'm2', 'u1', 'd', 'r2', '{}', 200, 250, NULL),
         ('c1', 3, 'm3', 'u1', 'd', 'r3', '{}', 300, 310, 320),
         ('c1', 4, 'm4', 'u1', 'd', 'r4', '{}', 400, 450, NULL),
         ('c1', 5, 'm5', 'u1', 'd', 'r5', '{}', 500, NULL, NULL);
  INSERT INTO reactions (conversation_id, seq, user_id, emoji, at_us)
  VALUES ('c1', 4, 'u1', 'a', 430), ('c1', 4, 'u1', 'b', 470), ('c1', 1, 'u1', 'a', 150);
`;

/** The latest of each message's edit, recall and reactions; null for the plain one. */
export const CHANGED_STAMPS: readonly (number | null)[] = [150, 250, 320, 470, null];
