-- Exactly one runner reconciles at a time. It holds a session advisory lock; on taking it, it bumps
-- the epoch here, and every apply it makes checks that the epoch is still its own (a fencing token):
-- a runner that lost its lock without noticing (a stalled process, a dropped connection) cannot
-- write, so it can never apply an older commit over a newer one.
CREATE TABLE reconciler (
  id          integer PRIMARY KEY CHECK (id = 1),
  epoch       bigint NOT NULL,
  holder      text NOT NULL,
  acquired_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO reconciler (id, epoch, holder) VALUES (1, 0, '');
