-- Inside an apply's transaction: the row is locked until commit, and the epoch must be ${epoch}.
SELECT epoch = ${epoch} AS ok FROM reconciler WHERE id = 1 FOR UPDATE
