-- The TCP ports agent ${id} sees listening inside its workspace ([{port, address}]).
UPDATE agents SET listening_ports = ${ports:json}::jsonb WHERE id = ${id}
