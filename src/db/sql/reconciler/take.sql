-- ${holder} became the reconciler: a new epoch, returned.
UPDATE reconciler SET epoch = epoch + 1, holder = ${holder}, acquired_at = now() WHERE id = 1 RETURNING epoch
