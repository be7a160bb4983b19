"""Pure rules, as plain functions that tests call without a database: the case workflow, deadlines,
routing, the tallies' arithmetic and who may see what. May import minqing's pure modules and schemas/;
no storage, no I/O."""
