-- Relays across server replicas (README: Replicas): which replica holds each agent's control
-- socket, and the key replicas sign their internal relay requests with.
ALTER TABLE agents ADD COLUMN replica_url text;

CREATE TABLE relay_key (
  id  integer PRIMARY KEY CHECK (id = 1),
  key bytea NOT NULL
);
